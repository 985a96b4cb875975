#include <parallax/caps/structure.hpp>

#include "caps/caps_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace parallax {

namespace {

[[noreturn]] void abort_with(std::string_view what, std::string_view name) {
    fmt::print(stderr, "parallax: invalid caps {} '{}'\n", what, name);
    std::abort();
}

} // namespace

Structure::Structure(std::string_view name) : name_(name) {
    if (!is_valid_name(name)) {
        abort_with("structure name", name);
    }
}

bool Structure::is_valid_name(std::string_view name) noexcept {
    // The caps keywords are not names, so that printed caps read back the same.
    if (name == "ANY" || name == "EMPTY" || name == "NONE") {
        return false;
    }
    return !name.empty() && detail::is_alpha(name.front()) && detail::is_simple_string(name);
}

bool Structure::is_valid_field_name(std::string_view name) noexcept {
    return detail::is_simple_string(name);
}

Structure& Structure::set(std::string_view field, CapsValue value) {
    if (!is_valid_field_name(field)) {
        abort_with("field name", field);
    }
    auto it = std::find_if(fields_.begin(), fields_.end(), [&](const StructureField& f) { return f.name == field; });
    if (it != fields_.end()) {
        it->value = std::move(value);
    } else {
        fields_.push_back(StructureField{std::string(field), std::move(value)});
    }
    return *this;
}

const CapsValue* Structure::get(std::string_view field) const noexcept {
    for (const StructureField& f : fields_) {
        if (f.name == field) {
            return &f.value;
        }
    }
    return nullptr;
}

namespace {

template <typename T>
std::optional<T> typed(const CapsValue* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (const T* p = v->get_if<T>()) {
        return *p;
    }
    return std::nullopt;
}

} // namespace

std::optional<std::int32_t> Structure::get_int(std::string_view field) const noexcept {
    return typed<std::int32_t>(get(field));
}

std::optional<double> Structure::get_double(std::string_view field) const noexcept {
    return typed<double>(get(field));
}

std::optional<bool> Structure::get_bool(std::string_view field) const noexcept {
    return typed<bool>(get(field));
}

std::optional<std::string_view> Structure::get_string(std::string_view field) const noexcept {
    const CapsValue* v = get(field);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (const auto* s = v->get_if<std::string>()) {
        return std::string_view(*s);
    }
    return std::nullopt;
}

std::optional<Fraction> Structure::get_fraction(std::string_view field) const noexcept {
    return typed<Fraction>(get(field));
}

bool Structure::remove(std::string_view field) {
    auto it = std::find_if(fields_.begin(), fields_.end(), [&](const StructureField& f) { return f.name == field; });
    if (it == fields_.end()) {
        return false;
    }
    fields_.erase(it);
    return true;
}

bool Structure::is_fixed() const noexcept {
    return std::all_of(fields_.begin(), fields_.end(), [](const StructureField& f) { return f.value.is_fixed(); });
}

std::string Structure::to_string() const {
    std::string out = name_;
    for (const StructureField& f : fields_) {
        out += ", ";
        out += f.name;
        out += '=';
        out += f.value.to_string();
    }
    return out;
}

} // namespace parallax
