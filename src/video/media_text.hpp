#pragma once

// Private helpers of the raw media formats (src/video and src/audio): the
// closest known name to a mistyped one, strict decimal numbers, and the
// wording of caps field errors.

#include <parallax/base/result.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/caps/structure.hpp>
#include <parallax/caps/value.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parallax::detail {

// Edit distance between `a` and `b`, letters compared without case.
std::size_t name_distance(std::string_view a, std::string_view b);

// True when `name` starts with `prefix`, letters compared without case.
bool is_prefix_ignoring_case(std::string_view prefix, std::string_view name);

// The name among `names` (a range of string_view) closest to `typed`, or ""
// when none is close enough to be a likely typo.
template <typename Names>
std::string_view closest_name(std::string_view typed, const Names& names) {
    std::string_view best;
    std::size_t best_distance = 0;
    for (std::string_view name : names) {
        std::size_t d = name_distance(typed, name);
        // A name cut short ("P010" for "P010_10LE") is as likely as a typo.
        if (typed.size() >= 3 && is_prefix_ignoring_case(typed, name)) {
            d = std::min<std::size_t>(d, 1);
        }
        if (best.empty() || d < best_distance) {
            best = name;
            best_distance = d;
        }
    }
    // A third of the name may be wrong (at least one character).
    const std::size_t limit = std::max<std::size_t>(1, best.size() / 3);
    return best_distance <= limit ? best : std::string_view{};
}

// A decimal number of at most 9 digits without sign or spaces; nullopt for
// anything else.
std::optional<std::uint32_t> parse_small_decimal(std::string_view text);

// The type of `value` with its article: "an int", "a string", "a list".
std::string_view describe_type(const CapsValue& value);

// `value` as it reads in caps, without the type: 320, I420, 30/1, 0x3.
std::string describe_value(const CapsValue& value);

// The error for field `field` of a `media`-type structure: "video/x-raw
// field 'width' is 0: <why>".
Error field_error(Errc code, std::string_view media, std::string_view field, const CapsValue& value,
                  std::string_view why);

// Reads field `field` as an int, a string or a fraction. Missing (when
// required) or of another type: an Errc::invalid_argument error naming the
// field. Optional fields that are absent give nullopt.
Result<std::optional<std::int32_t>> int_field(const Structure& s, std::string_view field, bool required);
Result<std::optional<std::string_view>> string_field(const Structure& s, std::string_view field, bool required);
Result<std::optional<Fraction>> fraction_field(const Structure& s, std::string_view field, bool required);

// Fails unless `caps` is exactly one fixed structure named `media` in system
// memory; returns that structure.
Result<const Structure*> single_fixed_structure(const Caps& caps, std::string_view media);

// Fails unless every field of `s` is fixed and its name is `media`.
Result<void> check_fixed_structure(const Structure& s, std::string_view media);

} // namespace parallax::detail
