#include "video/media_text.hpp"

#include <fmt/format.h>

#include <cctype>
#include <vector>

namespace parallax::detail {

namespace {

char lower(char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

} // namespace

std::size_t name_distance(std::string_view a, std::string_view b) {
    // Edit distance where swapping two neighbours is one edit ("S16EL" is one
    // from "S16LE"): the optimal string alignment distance, over a full table
    // (names are short).
    const std::size_t columns = b.size() + 1;
    std::vector<std::size_t> d((a.size() + 1) * columns);
    auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * columns + j]; };
    for (std::size_t i = 0; i <= a.size(); ++i) {
        at(i, 0) = i;
    }
    for (std::size_t j = 0; j <= b.size(); ++j) {
        at(0, j) = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
                at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
            }
        }
    }
    return at(a.size(), b.size());
}

bool is_prefix_ignoring_case(std::string_view prefix, std::string_view name) {
    if (prefix.size() > name.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (lower(prefix[i]) != lower(name[i])) {
            return false;
        }
    }
    return true;
}

std::optional<std::uint32_t> parse_small_decimal(std::string_view text) {
    if (text.empty() || text.size() > 9) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    return value;
}

std::string describe_value(const CapsValue& value) {
    if (const auto* s = value.get_if<std::string>()) {
        return fmt::format("'{}'", *s);
    }
    std::string text = value.to_string();
    // Drop GStreamer's "(type)" prefix: the message names the type apart.
    if (!text.empty() && text.front() == '(') {
        if (auto close = text.find(')'); close != std::string::npos) {
            text.erase(0, close + 1);
        }
    }
    return text;
}

Error field_error(Errc code, std::string_view media, std::string_view field, const CapsValue& value,
                  std::string_view why) {
    return {code, fmt::format("{} field '{}' is {}: {}", media, field, describe_value(value), why)};
}

std::string_view describe_type(const CapsValue& value) {
    const std::string_view type = value.type_name();
    if (type == "int") {
        return "an int";
    }
    if (type == "int_range") {
        return "an int range";
    }
    if (type == "list") {
        return "a list";
    }
    if (type == "double") {
        return "a double";
    }
    if (type == "double_range") {
        return "a double range";
    }
    if (type == "boolean") {
        return "a boolean";
    }
    if (type == "string") {
        return "a string";
    }
    if (type == "fraction") {
        return "a fraction";
    }
    if (type == "fraction_range") {
        return "a fraction range";
    }
    if (type == "bitmask") {
        return "a bitmask";
    }
    return type;
}

namespace {

template <typename T>
Result<std::optional<T>> typed_field(const Structure& s, std::string_view field, bool required,
                                     std::string_view expected) {
    const CapsValue* value = s.get(field);
    if (value == nullptr) {
        if (required) {
            return fail(Errc::invalid_argument, fmt::format("{} caps lack the field '{}'", s.name(), field));
        }
        return std::optional<T>{};
    }
    if (const T* v = value->get_if<T>()) {
        return std::optional<T>{*v};
    }
    return fail(Errc::invalid_argument, fmt::format("{} field '{}' is {} ({}); expected {}", s.name(), field,
                                                    describe_type(*value), describe_value(*value), expected));
}

} // namespace

Result<std::optional<std::int32_t>> int_field(const Structure& s, std::string_view field, bool required) {
    return typed_field<std::int32_t>(s, field, required, "an int");
}

Result<std::optional<std::string_view>> string_field(const Structure& s, std::string_view field, bool required) {
    auto text = typed_field<std::string>(s, field, required, "a string");
    if (!text) {
        return fail(std::move(text.error()));
    }
    if (!*text) {
        return std::optional<std::string_view>{};
    }
    // Point into the structure, not into the copy.
    return std::optional<std::string_view>{*s.get(field)->get_if<std::string>()};
}

Result<std::optional<Fraction>> fraction_field(const Structure& s, std::string_view field, bool required) {
    return typed_field<Fraction>(s, field, required, "a fraction");
}

Result<void> check_fixed_structure(const Structure& s, std::string_view media) {
    if (s.name() != media) {
        return fail(Errc::invalid_argument, fmt::format("expected {} caps, got {}", media, s.name()));
    }
    for (const StructureField& f : s) {
        if (!f.value.is_fixed()) {
            return fail(Errc::invalid_argument, fmt::format("{} caps are not fixed: field '{}' is {} ({})", media,
                                                            f.name, describe_type(f.value), describe_value(f.value)));
        }
    }
    return {};
}

Result<const Structure*> single_fixed_structure(const Caps& caps, std::string_view media) {
    if (caps.is_any() || caps.is_empty()) {
        return fail(Errc::invalid_argument,
                    fmt::format("expected fixed {} caps, got {}", media, caps.is_any() ? "ANY" : "EMPTY"));
    }
    if (caps.size() != 1) {
        return fail(Errc::invalid_argument,
                    fmt::format("expected fixed {} caps with one structure, got {}", media, caps.size()));
    }
    const CapsFeatures& features = caps.features(0);
    for (const std::string& feature : features) {
        if (feature != "memory:SystemMemory") {
            return fail(
                Errc::unsupported,
                fmt::format("{} caps with the feature '{}' are not supported: only system memory is", media, feature));
        }
    }
    const Structure& s = caps.structure(0);
    if (auto ok = check_fixed_structure(s, media); !ok) {
        return fail(std::move(ok.error()));
    }
    return &s;
}

} // namespace parallax::detail
