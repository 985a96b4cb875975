#include <parallax/buffer/clock_time.hpp>

#include <fmt/format.h>

namespace parallax {
namespace {

constexpr std::string_view none_text = "99:99:99.999999999";
constexpr ClockTime::rep ns_per_minute = 60 * ClockTime::ns_per_s;
constexpr ClockTime::rep ns_per_hour = 60 * ns_per_minute;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

Error parse_error(Errc code, std::string_view text, std::size_t position, std::string_view what) {
    return Error(code, fmt::format("clock time \"{}\": {} at character {}", text, what, position))
        .at_position(position);
}

// Reads exactly `count` digits at `pos` into `value`; false if any is missing.
bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, ClockTime::rep& value) {
    value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (pos >= text.size() || !is_digit(text[pos])) {
            return false;
        }
        value = value * 10 + static_cast<ClockTime::rep>(text[pos] - '0');
        ++pos;
    }
    return true;
}

} // namespace

std::string ClockTime::to_string() const {
    if (is_none()) {
        return std::string(none_text);
    }
    // The same fields as GST_TIME_ARGS: hours are not wrapped.
    return fmt::format("{}:{:02}:{:02}.{:09}", ns_ / ns_per_hour, (ns_ / ns_per_minute) % 60, (ns_ / ns_per_s) % 60,
                       ns_ % ns_per_s);
}

Result<ClockTime> ClockTime::parse(std::string_view text) {
    if (text == none_text) {
        return none();
    }
    std::size_t pos = 0;
    rep hours = 0;
    if (text.empty() || !is_digit(text[0])) {
        return fail(parse_error(Errc::invalid_argument, text, 0, "expected digits of hours"));
    }
    while (pos < text.size() && is_digit(text[pos])) {
        const auto digit = static_cast<rep>(text[pos] - '0');
        if (hours > (max().ns_ / ns_per_hour - digit) / 10) {
            return fail(parse_error(Errc::out_of_range, text, pos, "hours past the largest clock time"));
        }
        hours = hours * 10 + digit;
        ++pos;
    }
    if (pos >= text.size() || text[pos] != ':') {
        return fail(parse_error(Errc::invalid_argument, text, pos, "expected ':' after the hours"));
    }
    ++pos;
    const std::size_t minutes_pos = pos;
    rep minutes = 0;
    if (!read_digits(text, pos, 2, minutes)) {
        return fail(parse_error(Errc::invalid_argument, text, pos, "expected two digits of minutes"));
    }
    if (minutes > 59) {
        return fail(parse_error(Errc::invalid_argument, text, minutes_pos, "minutes past 59"));
    }
    if (pos >= text.size() || text[pos] != ':') {
        return fail(parse_error(Errc::invalid_argument, text, pos, "expected ':' after the minutes"));
    }
    ++pos;
    const std::size_t seconds_pos = pos;
    rep seconds = 0;
    if (!read_digits(text, pos, 2, seconds)) {
        return fail(parse_error(Errc::invalid_argument, text, pos, "expected two digits of seconds"));
    }
    if (seconds > 59) {
        return fail(parse_error(Errc::invalid_argument, text, seconds_pos, "seconds past 59"));
    }
    if (pos >= text.size() || text[pos] != '.') {
        return fail(parse_error(Errc::invalid_argument, text, pos, "expected '.' after the seconds"));
    }
    ++pos;
    rep nanoseconds = 0;
    if (!read_digits(text, pos, 9, nanoseconds)) {
        return fail(parse_error(Errc::invalid_argument, text, pos, "expected nine digits of nanoseconds"));
    }
    if (pos != text.size()) {
        return fail(parse_error(Errc::invalid_argument, text, pos, "unexpected text after the nanoseconds"));
    }
    // hours * ns_per_hour fits (checked above); the rest can still pass max().
    const rep whole_hours = hours * ns_per_hour;
    const rep rest = minutes * ns_per_minute + seconds * ns_per_s + nanoseconds;
    if (whole_hours > max().ns_ - rest) {
        return fail(parse_error(Errc::out_of_range, text, 0, "time past the largest clock time"));
    }
    return ClockTime(whole_hours + rest);
}

} // namespace parallax
