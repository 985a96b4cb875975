#pragma once

// Character classes and value printing shared by the caps printer and parser.

#include <string>
#include <string_view>

namespace parallax::detail {

/// GStreamer's unquoted-string characters (GST_ASCII_IS_STRING).
constexpr bool is_simple_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '+' || c == '/' || c == ':' || c == '.';
}

constexpr bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// Non-empty and only simple characters.
constexpr bool is_simple_string(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!is_simple_char(c)) {
            return false;
        }
    }
    return true;
}

/// Appends `s` as GStreamer serializes a string: as is when it is simple,
/// otherwise in double quotes with control and non-ASCII bytes as `\ooo`
/// and other non-simple characters behind a backslash.
void append_string(std::string& out, std::string_view s);

} // namespace parallax::detail
