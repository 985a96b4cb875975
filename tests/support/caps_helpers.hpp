#pragma once

// Shorthands for caps tests: values and caps known to be valid in the test.

#include <parallax/caps/caps.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>

namespace parallax::check {

inline Fraction frac(std::int64_t num, std::int64_t den) {
    return Fraction::make(num, den).value();
}

// Parses `text`, failing the test (and returning EMPTY) when it does not parse.
inline Caps parsed(std::string_view text) {
    auto caps = Caps::parse(text);
    EXPECT_TRUE(caps) << text << ": " << (caps ? "" : caps.error().to_string());
    return caps ? *caps : Caps();
}

} // namespace parallax::check
