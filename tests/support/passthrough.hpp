#pragma once

// passes_same_buffer(): for element tests, whether a started harness lets a
// buffer through untouched (the very buffer pushed comes out, not a copy).

#include <parallax/check/harness.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <utility>

namespace parallax::check {

/// Pushes `buffer` (as Harness::make_buffer() returns it) into the started
/// harness `h`, pulls what comes out, and succeeds when that is the buffer
/// pushed: the same slot of the same arena. `out`, when not null, receives
/// the buffer pulled (nullopt when none came).
///
///     EXPECT_TRUE(check::passes_same_buffer(*h, h->make_buffer(64)));
inline ::testing::AssertionResult passes_same_buffer(Harness& h, Result<Buffer> buffer,
                                                     std::optional<Buffer>* out = nullptr) {
    if (!buffer) {
        return ::testing::AssertionFailure() << "no buffer to push: " << buffer.error().to_string();
    }
    const auto slot = buffer->slot();
    const auto* arena = buffer->arena();
    if (const Flow f = h.push(std::move(*buffer)); f != Flow::ok) {
        return ::testing::AssertionFailure() << "the push returned " << to_string(f);
    }
    std::optional<Buffer> pulled = h.pull();
    if (!pulled) {
        return ::testing::AssertionFailure() << "nothing came out";
    }
    const bool same = pulled->slot() == slot && pulled->arena() == arena;
    if (out != nullptr) {
        *out = std::move(pulled);
    }
    if (!same) {
        return ::testing::AssertionFailure() << "a different buffer came out";
    }
    return ::testing::AssertionSuccess();
}

} // namespace parallax::check
