#include <parallax/element/pad_template.hpp>

#include <fmt/format.h>

#include <cctype>

namespace parallax {

std::string_view to_string(PadDirection d) noexcept {
    return d == PadDirection::src ? "src" : "sink";
}

std::string_view to_string(PadPresence p) noexcept {
    switch (p) {
    case PadPresence::always:
        return "always";
    case PadPresence::sometimes:
        return "sometimes";
    case PadPresence::request:
        return "request";
    }
    return "unknown";
}

namespace {
// Position of the %u/%d/%s conversion in a template name, or npos.
std::size_t pattern_pos(std::string_view name) noexcept {
    for (std::size_t i = 0; i + 1 < name.size(); ++i) {
        if (name[i] == '%' && (name[i + 1] == 'u' || name[i + 1] == 'd' || name[i + 1] == 's')) {
            return i;
        }
    }
    return std::string_view::npos;
}
} // namespace

bool PadTemplate::is_pattern() const noexcept {
    return pattern_pos(name) != std::string_view::npos;
}

bool PadTemplate::matches(std::string_view pad_name) const noexcept {
    const auto pos = pattern_pos(name);
    if (pos == std::string_view::npos || pad_name == name) {
        return pad_name == name;
    }
    const std::string_view prefix = std::string_view(name).substr(0, pos);
    const std::string_view suffix = std::string_view(name).substr(pos + 2);
    if (pad_name.size() <= prefix.size() + suffix.size() || !pad_name.starts_with(prefix) ||
        !pad_name.ends_with(suffix)) {
        return false;
    }
    const std::string_view middle = pad_name.substr(prefix.size(), pad_name.size() - prefix.size() - suffix.size());
    const char kind = name[pos + 1];
    if (kind == 's') {
        return true;
    }
    std::size_t i = 0;
    if (kind == 'd' && middle[0] == '-') {
        i = 1;
    }
    if (i >= middle.size()) {
        return false;
    }
    for (; i < middle.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(middle[i])) == 0) {
            return false;
        }
    }
    return true;
}

std::string PadTemplate::pad_name(unsigned index) const {
    const auto pos = pattern_pos(name);
    if (pos == std::string_view::npos) {
        return name;
    }
    return name.substr(0, pos) + std::to_string(index) + name.substr(pos + 2);
}

} // namespace parallax
