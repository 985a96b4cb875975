#pragma once

/// \file
/// CapsValue: the value of one caps field (an int, a double, a boolean, a
/// string, a fraction, a bitmask, a range of ints, doubles or fractions, or a
/// list of values), with its satellites Fraction, Bitmask and Range.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace parallax {

/// A fraction such as a frame rate (GstFraction). Always normalized: reduced
/// by the greatest common divisor, the denominator positive, zero is 0/1.
/// Numerator and denominator are 32-bit, as in GStreamer.
class PARALLAX_API Fraction {
public:
    /// 0/1.
    constexpr Fraction() noexcept = default;

    /// num/den, normalized. Fails when `den` is zero or when the normalized
    /// numerator or denominator does not fit in 32 bits.
    static Result<Fraction> make(std::int64_t num, std::int64_t den);

    [[nodiscard]] constexpr std::int32_t num() const noexcept { return num_; }
    [[nodiscard]] constexpr std::int32_t den() const noexcept { return den_; }

    /// "num/den", e.g. "30/1".
    [[nodiscard]] std::string to_string() const;

    friend constexpr bool operator==(Fraction, Fraction) noexcept = default;
    /// Orders by value: 1/2 < 2/3.
    friend constexpr std::strong_ordering operator<=>(Fraction a, Fraction b) noexcept {
        return static_cast<std::int64_t>(a.num_) * b.den_ <=> static_cast<std::int64_t>(b.num_) * a.den_;
    }

private:
    constexpr Fraction(std::int32_t num, std::int32_t den) noexcept : num_(num), den_(den) {}

    std::int32_t num_ = 0;
    std::int32_t den_ = 1;
};

/// A 64-bit mask (GstBitmask), e.g. an audio channel-mask. Printed in
/// hexadecimal as GStreamer prints it: `0x0000000000000003`.
struct Bitmask {
    std::uint64_t bits = 0;

    friend constexpr bool operator==(Bitmask, Bitmask) noexcept = default;
};

/// An inclusive range [min, max] of ints, doubles or fractions, with
/// min < max (as GStreamer requires). Ranges have no step.
template <typename T>
class Range {
public:
    /// [min, max]. Fails unless min < max (so never with a NaN bound).
    static Result<Range> make(T min, T max) {
        if (!(min < max)) {
            return fail(Errc::invalid_argument, "a range's minimum must be less than its maximum");
        }
        return Range(min, max);
    }

    [[nodiscard]] T min() const noexcept { return min_; }
    [[nodiscard]] T max() const noexcept { return max_; }

    friend bool operator==(const Range&, const Range&) noexcept = default;

private:
    Range(T min, T max) noexcept : min_(min), max_(max) {}

    T min_;
    T max_;
};

using IntRange = Range<std::int32_t>;  ///< GstIntRange, printed `(int)[ 1, 100 ]`.
using DoubleRange = Range<double>;     ///< GstDoubleRange, printed `(double)[ 0.5, 2 ]`.
using FractionRange = Range<Fraction>; ///< GstFractionRange, printed `(fraction)[ 0/1, 30/1 ]`.

/// Binary data in a caps field, such as a codec's `codec_data` (GStreamer's
/// `(buffer)` values, written as hexadecimal: `(buffer)0a0b0c`).
struct Bytes {
    std::vector<std::uint8_t> data;

    friend bool operator==(const Bytes&, const Bytes&) = default;
};

/// The value of a caps field. A small value type; copies are independent.
///
/// Ints are 32-bit, like GStreamer's `(int)` (gint); there is no separate
/// 64-bit int, float or unsigned type: `(float)` values are read as doubles,
/// and 64-bit masks use Bitmask. A list holds at least one value, all of the
/// same type, and none of them a list or a range (GStreamer's `{ a, b }`).
class PARALLAX_API CapsValue {
public:
    /// The items of a list value.
    using List = std::vector<CapsValue>;

    // Implicit, so that `structure.set("width", 640)` reads as it would in a
    // caps string.

    CapsValue(std::int32_t v) : value_(v) {}                  // NOLINT(google-explicit-constructor)
    CapsValue(double v) : value_(v) {}                        // NOLINT(google-explicit-constructor)
    CapsValue(bool v) : value_(v) {}                          // NOLINT(google-explicit-constructor)
    CapsValue(std::string v) : value_(std::move(v)) {}        // NOLINT(google-explicit-constructor)
    CapsValue(std::string_view v) : value_(std::string(v)) {} // NOLINT(google-explicit-constructor)
    /// A string (not a boolean, which a pointer would otherwise convert to).
    CapsValue(const char* v) : value_(std::string(v)) {} // NOLINT(google-explicit-constructor)
    CapsValue(Fraction v) : value_(v) {}                 // NOLINT(google-explicit-constructor)
    CapsValue(Bitmask v) : value_(v) {}                  // NOLINT(google-explicit-constructor)
    CapsValue(IntRange v) : value_(v) {}                 // NOLINT(google-explicit-constructor)
    CapsValue(DoubleRange v) : value_(v) {}              // NOLINT(google-explicit-constructor)
    CapsValue(FractionRange v) : value_(v) {}            // NOLINT(google-explicit-constructor)
    CapsValue(Bytes v) : value_(std::move(v)) {}         // NOLINT(google-explicit-constructor)

    /// A list value. Fails when `items` is empty, when its items do not all
    /// have the same type, or when one of them is a list or a range.
    static Result<CapsValue> list(List items);

    /// "int", "double", "boolean", "string", "fraction", "bitmask",
    /// "int_range", "double_range", "fraction_range", "buffer" or "list".
    [[nodiscard]] std::string_view type_name() const noexcept;

    /// True unless the value is a range or a list (a single, exact value).
    [[nodiscard]] bool is_fixed() const noexcept;

    /// True when the value is a T: std::int32_t, double, bool, std::string,
    /// Fraction, Bitmask, IntRange, DoubleRange, FractionRange, Bytes or List.
    template <typename T>
    [[nodiscard]] bool holds() const noexcept {
        return std::holds_alternative<T>(value_);
    }

    /// The value as a T, or nullptr when it is not a T. Valid while this
    /// CapsValue lives and is not assigned to.
    template <typename T>
    [[nodiscard]] const T* get_if() const noexcept {
        return std::get_if<T>(&value_);
    }

    /// The items of a list value; empty for any other value.
    [[nodiscard]] std::span<const CapsValue> list_items() const noexcept;

    /// GStreamer's serialized form with its type: `(int)640`,
    /// `(string)"a\ b"`, `(fraction)[ 0/1, 30/1 ]`, `(string){ I420, NV12 }`.
    [[nodiscard]] std::string to_string() const;

    /// Same type and same value (doubles compare with ==).
    friend bool operator==(const CapsValue&, const CapsValue&) = default;

private:
    explicit CapsValue(List items) : value_(std::move(items)) {}

    std::variant<std::int32_t, double, bool, std::string, Fraction, Bitmask, IntRange, DoubleRange, FractionRange, Bytes,
                 List>
        value_;
};

} // namespace parallax
