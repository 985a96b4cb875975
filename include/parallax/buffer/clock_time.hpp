#pragma once

/// \file
/// ClockTime: a point or span of time in nanoseconds, with an explicit "none".

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace parallax {

/// A time in nanoseconds, the same representation as GStreamer's GstClockTime:
/// an unsigned 64-bit count where all ones means "none" (no time, unknown).
///
/// Arithmetic saturates instead of wrapping and propagates none: none + x is
/// none, a - b is zero when b > a, and a result too large to represent
/// becomes `max()` (never none). Comparison is on the raw count, so none
/// orders after every valid time, as GST_CLOCK_TIME_NONE does.
///
/// A default-constructed ClockTime is none: "not set" is the safe default for
/// timestamps.
class PARALLAX_API ClockTime {
public:
    using rep = std::uint64_t;

    static constexpr rep none_ns = std::numeric_limits<rep>::max();
    static constexpr rep ns_per_us = 1'000;
    static constexpr rep ns_per_ms = 1'000'000;
    static constexpr rep ns_per_s = 1'000'000'000;

    /// None.
    constexpr ClockTime() noexcept = default;
    /// `ns` nanoseconds; all ones is none.
    explicit constexpr ClockTime(rep ns) noexcept : ns_(ns) {}

    /// The time that means "no time" (GST_CLOCK_TIME_NONE).
    [[nodiscard]] static constexpr ClockTime none() noexcept { return ClockTime(); }
    /// Zero nanoseconds.
    [[nodiscard]] static constexpr ClockTime zero() noexcept { return ClockTime(rep{0}); }
    /// The largest valid time, one nanosecond below none.
    [[nodiscard]] static constexpr ClockTime max() noexcept { return ClockTime(none_ns - 1); }

    /// `ns` nanoseconds; all ones is none.
    [[nodiscard]] static constexpr ClockTime from_ns(rep ns) noexcept { return ClockTime(ns); }
    /// `us` microseconds, saturating at `max()`.
    [[nodiscard]] static constexpr ClockTime from_us(rep us) noexcept { return scaled(us, ns_per_us); }
    /// `ms` milliseconds, saturating at `max()`.
    [[nodiscard]] static constexpr ClockTime from_ms(rep ms) noexcept { return scaled(ms, ns_per_ms); }
    /// `s` seconds, saturating at `max()`.
    [[nodiscard]] static constexpr ClockTime from_s(rep s) noexcept { return scaled(s, ns_per_s); }

    [[nodiscard]] constexpr bool is_none() const noexcept { return ns_ == none_ns; }
    [[nodiscard]] constexpr bool is_valid() const noexcept { return ns_ != none_ns; }

    /// The raw count: nanoseconds, or all ones for none.
    [[nodiscard]] constexpr rep ns() const noexcept { return ns_; }
    /// Whole microseconds (truncated); all ones for none.
    [[nodiscard]] constexpr rep us() const noexcept { return is_none() ? none_ns : ns_ / ns_per_us; }
    /// Whole milliseconds (truncated); all ones for none.
    [[nodiscard]] constexpr rep ms() const noexcept { return is_none() ? none_ns : ns_ / ns_per_ms; }
    /// Whole seconds (truncated); all ones for none.
    [[nodiscard]] constexpr rep s() const noexcept { return is_none() ? none_ns : ns_ / ns_per_s; }

    friend constexpr bool operator==(ClockTime a, ClockTime b) noexcept = default;
    friend constexpr std::strong_ordering operator<=>(ClockTime a, ClockTime b) noexcept = default;

    /// none if either is none; otherwise the sum, saturating at `max()`.
    friend constexpr ClockTime operator+(ClockTime a, ClockTime b) noexcept {
        if (a.is_none() || b.is_none()) {
            return none();
        }
        if (a.ns_ > max().ns_ - b.ns_) {
            return max();
        }
        return ClockTime(a.ns_ + b.ns_);
    }

    /// none if either is none; otherwise the difference, saturating at zero.
    friend constexpr ClockTime operator-(ClockTime a, ClockTime b) noexcept {
        if (a.is_none() || b.is_none()) {
            return none();
        }
        return a.ns_ > b.ns_ ? ClockTime(a.ns_ - b.ns_) : zero();
    }

    /// none if `a` is none; otherwise the product, saturating at `max()`.
    friend constexpr ClockTime operator*(ClockTime a, rep factor) noexcept {
        if (a.is_none()) {
            return none();
        }
        return scaled(a.ns_, factor);
    }
    friend constexpr ClockTime operator*(rep factor, ClockTime a) noexcept { return a * factor; }

    /// none if `a` is none or `divisor` is zero (the quotient is unknown);
    /// otherwise the truncated quotient.
    friend constexpr ClockTime operator/(ClockTime a, rep divisor) noexcept {
        if (a.is_none() || divisor == 0) {
            return none();
        }
        return ClockTime(a.ns_ / divisor);
    }

    constexpr ClockTime& operator+=(ClockTime other) noexcept { return *this = *this + other; }
    constexpr ClockTime& operator-=(ClockTime other) noexcept { return *this = *this - other; }
    constexpr ClockTime& operator*=(rep factor) noexcept { return *this = *this * factor; }
    constexpr ClockTime& operator/=(rep divisor) noexcept { return *this = *this / divisor; }

    /// Formats as GStreamer's GST_TIME_FORMAT does: `h:mm:ss.nnnnnnnnn`
    /// (hours unpadded, e.g. "0:00:01.500000000"); none is
    /// "99:99:99.999999999".
    [[nodiscard]] std::string to_string() const;

    /// Parses the form that `to_string()` prints: one or more digits of hours,
    /// two of minutes (00-59), two of seconds (00-59), a dot and exactly nine
    /// digits of nanoseconds. "99:99:99.999999999" parses as none. Anything
    /// else, or a time past `max()`, is an Error that names the character
    /// where parsing stopped (Error::position()).
    [[nodiscard]] static Result<ClockTime> parse(std::string_view text);

private:
    static constexpr ClockTime scaled(rep value, rep factor) noexcept {
        if (factor != 0 && value > max().ns_ / factor) {
            return max();
        }
        return ClockTime(value * factor);
    }

    rep ns_ = none_ns;
};

static_assert(sizeof(ClockTime) == 8);
static_assert(std::is_trivially_copyable_v<ClockTime>);

} // namespace parallax
