#include <parallax/caps/value.hpp>

#include "caps/caps_text.hpp"

#include <fmt/format.h>

#include <limits>
#include <numeric>

namespace parallax {

namespace detail {

void append_string(std::string& out, std::string_view s) {
    if (is_simple_string(s)) {
        out += s;
        return;
    }
    out += '"';
    for (char c : s) {
        const auto byte = static_cast<unsigned char>(c);
        if (is_simple_char(c)) {
            out += c;
        } else if (byte < 0x20 || byte >= 0x7f) {
            fmt::format_to(std::back_inserter(out), "\\{:03o}", byte);
        } else {
            out += '\\';
            out += c;
        }
    }
    out += '"';
}

} // namespace detail

namespace {

void append_scalar(std::string& out, const CapsValue& v) {
    if (const auto* i = v.get_if<std::int32_t>()) {
        fmt::format_to(std::back_inserter(out), "{}", *i);
    } else if (const auto* d = v.get_if<double>()) {
        // Shortest form that reads back as the same double.
        fmt::format_to(std::back_inserter(out), "{}", *d);
    } else if (const auto* b = v.get_if<bool>()) {
        out += *b ? "true" : "false";
    } else if (const auto* s = v.get_if<std::string>()) {
        detail::append_string(out, *s);
    } else if (const auto* f = v.get_if<Fraction>()) {
        out += f->to_string();
    } else if (const auto* m = v.get_if<Bitmask>()) {
        fmt::format_to(std::back_inserter(out), "0x{:016x}", m->bits);
    } else if (const auto* bytes = v.get_if<Bytes>()) {
        if (bytes->data.empty()) {
            out += "\"\""; // no digits: quoted, so that it reads back
        }
        for (const std::uint8_t byte : bytes->data) {
            fmt::format_to(std::back_inserter(out), "{:02x}", byte);
        }
    }
}

template <typename T>
void append_range(std::string& out, const Range<T>& r) {
    out += "[ ";
    append_scalar(out, CapsValue(r.min()));
    out += ", ";
    append_scalar(out, CapsValue(r.max()));
    out += " ]";
}

std::string_view type_prefix_name(std::string_view type_name) {
    if (type_name == "int_range") {
        return "int";
    }
    if (type_name == "double_range") {
        return "double";
    }
    if (type_name == "fraction_range") {
        return "fraction";
    }
    return type_name;
}

} // namespace

Result<Fraction> Fraction::make(std::int64_t num, std::int64_t den) {
    if (den == 0) {
        return fail(Errc::invalid_argument, "a fraction's denominator must not be zero");
    }
    constexpr std::int64_t limit = std::numeric_limits<std::int32_t>::max();
    constexpr std::int64_t low = std::numeric_limits<std::int32_t>::min();
    // Values beyond 32 bits cannot reduce into range in a way worth the risk
    // of overflowing the arithmetic below; 64-bit inputs within 2^62 are safe.
    constexpr std::int64_t guard = std::int64_t{1} << 62;
    if (num > guard || num < -guard || den > guard || den < -guard) {
        return fail(Errc::out_of_range, "a fraction's numerator and denominator must fit in 32 bits");
    }
    if (den < 0) {
        num = -num;
        den = -den;
    }
    const std::int64_t g = std::gcd(num, den);
    num /= g;
    den /= g;
    if (num > limit || num < low || den > limit) {
        return fail(Errc::out_of_range, "a fraction's numerator and denominator must fit in 32 bits");
    }
    return Fraction(static_cast<std::int32_t>(num), static_cast<std::int32_t>(den));
}

std::string Fraction::to_string() const {
    return fmt::format("{}/{}", num_, den_);
}

Result<CapsValue> CapsValue::list(List items) {
    if (items.empty()) {
        return fail(Errc::invalid_argument, "a list holds at least one value");
    }
    for (const CapsValue& item : items) {
        if (!item.is_fixed()) {
            return fail(Errc::invalid_argument, "a list holds no lists and no ranges");
        }
        if (item.value_.index() != items.front().value_.index()) {
            return fail(Errc::invalid_argument, fmt::format("a list's values must all have the same type: {} and {}",
                                                            items.front().type_name(), item.type_name()));
        }
    }
    return CapsValue(std::move(items));
}

std::string_view CapsValue::type_name() const noexcept {
    static constexpr std::string_view names[] = {"int",     "double",    "boolean",      "string",         "fraction",
                                                 "bitmask", "int_range", "double_range", "fraction_range", "buffer",
                                                 "list"};
    static_assert(std::size(names) == std::variant_size_v<decltype(value_)>);
    return names[value_.index()];
}

bool CapsValue::is_fixed() const noexcept {
    return !holds<IntRange>() && !holds<DoubleRange>() && !holds<FractionRange>() && !holds<List>();
}

std::span<const CapsValue> CapsValue::list_items() const noexcept {
    if (const auto* items = get_if<List>()) {
        return *items;
    }
    return {};
}

std::string CapsValue::to_string() const {
    std::string out;
    if (const auto* items = get_if<List>()) {
        // A list is homogeneous: one prefix for all, as GStreamer prints it.
        fmt::format_to(std::back_inserter(out), "({}){{ ", items->front().type_name());
        bool first = true;
        for (const CapsValue& item : *items) {
            if (!first) {
                out += ", ";
            }
            first = false;
            append_scalar(out, item);
        }
        out += " }";
        return out;
    }
    fmt::format_to(std::back_inserter(out), "({})", type_prefix_name(type_name()));
    if (const auto* r = get_if<IntRange>()) {
        append_range(out, *r);
    } else if (const auto* dr = get_if<DoubleRange>()) {
        append_range(out, *dr);
    } else if (const auto* fr = get_if<FractionRange>()) {
        append_range(out, *fr);
    } else {
        append_scalar(out, *this);
    }
    return out;
}

} // namespace parallax
