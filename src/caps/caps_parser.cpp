// Caps::parse: GStreamer's caps strings (gst_caps_from_string, the common
// subset), with a PEGTL grammar. The grammar checks the shape; the actions
// build the values and check what the shape cannot say (types, ranges).
// Every failure becomes a SyntaxError carrying the byte offset of the
// offending character; it never leaves this file.

#include <parallax/caps/caps.hpp>

#include "caps/caps_text.hpp"

#include <fmt/format.h>
#include <tao/pegtl.hpp>

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace parallax {

namespace {

struct SyntaxError {
    std::string message;
    std::size_t position;
};

// --- Grammar -----------------------------------------------------------------

namespace grammar {

namespace pg = tao::pegtl;

struct ws : pg::star<pg::space> {};
struct simple_char : pg::sor<pg::alnum, pg::one<'_', '-', '+', '/', ':', '.'>> {};

struct open_quote : pg::one<'"'> {};
struct close_quote : pg::one<'"'> {};
struct escaped : pg::seq<pg::one<'\\'>, pg::any> {};
struct quoted : pg::if_must<open_quote, pg::star<pg::sor<escaped, pg::not_one<'"', '\\'>>>, close_quote> {};
struct simple : pg::plus<simple_char> {};
struct token : pg::sor<quoted, simple> {};

// A token in each place it can appear, so that each has its own action.
struct value_token : token {};
struct min_token : token {};
struct max_token : token {};
struct item_token : token {};

struct type_name : pg::plus<simple_char> {};
struct type_close : pg::one<')'> {};
struct type_prefix : pg::if_must<pg::one<'('>, ws, type_name, ws, type_close> {};
struct value_type : type_prefix {};
struct item_type : type_prefix {};

struct range_comma : pg::one<','> {};
struct range_close : pg::one<']'> {};
struct range : pg::if_must<pg::one<'['>, ws, min_token, ws, range_comma, ws, max_token, ws, range_close> {};

struct list_item : pg::seq<pg::opt<item_type, ws>, item_token> {};
struct list_close : pg::one<'}'> {};
struct list
    : pg::if_must<pg::one<'{'>, ws, list_item, ws, pg::star<pg::one<','>, ws, pg::must<list_item>, ws>, list_close> {};

struct value_body : pg::sor<range, list, value_token> {};
struct value : pg::seq<pg::opt<value_type, ws>, pg::must<value_body>> {};

struct field_name : pg::plus<simple_char> {};
struct equals : pg::one<'='> {};
struct field : pg::seq<field_name, ws, pg::must<equals>, ws, value> {};

struct structure_name : pg::seq<pg::alpha, pg::star<simple_char>> {};
struct feature : pg::plus<simple_char> {};
struct features_close : pg::one<')'> {};
struct features
    : pg::if_must<pg::one<'('>, ws, feature, ws, pg::star<pg::one<','>, ws, pg::must<feature>, ws>, features_close> {};
struct structure : pg::seq<structure_name, pg::opt<features>, ws, pg::star<pg::one<','>, ws, pg::must<field>, ws>> {};

struct end : pg::eof {};
struct caps
    : pg::seq<ws, pg::sor<end, pg::seq<pg::must<structure>,
                                       pg::star<pg::one<';'>, ws, pg::sor<end, pg::must<structure>>>, pg::must<end>>>> {
};

} // namespace grammar

// --- Errors of the grammar -----------------------------------------------------

template <typename Rule>
constexpr const char* error_message = "syntax error";
template <>
constexpr const char* error_message<grammar::structure> = "expected a media type name such as video/x-raw";
template <>
constexpr const char* error_message<grammar::feature> = "expected a caps feature such as memory:SystemMemory";
template <>
constexpr const char* error_message<grammar::features_close> = "expected ',' or ')' after a caps feature";
template <>
constexpr const char* error_message<grammar::field> = "expected a field name";
template <>
constexpr const char* error_message<grammar::equals> = "expected '=' after the field name";
template <>
constexpr const char* error_message<grammar::value_body> = "expected a value";
template <>
constexpr const char* error_message<grammar::type_name> = "expected a type name such as int or string";
template <>
constexpr const char* error_message<grammar::type_close> = "expected ')' after the type name";
template <>
constexpr const char* error_message<grammar::min_token> = "expected the range minimum";
template <>
constexpr const char* error_message<grammar::range_comma> = "expected ',' and the range maximum";
template <>
constexpr const char* error_message<grammar::max_token> = "expected the range maximum";
template <>
constexpr const char* error_message<grammar::range_close> = "expected ']' after the range maximum";
template <>
constexpr const char* error_message<grammar::list_item> = "expected a list value";
template <>
constexpr const char* error_message<grammar::list_close> = "expected ',' or '}' in the list";
template <>
constexpr const char* error_message<grammar::end> = "expected ',', ';' or the end of the caps";

// --- Values ------------------------------------------------------------------

enum class Kind { integer, real, boolean, string, fraction, bitmask, buffer };

std::string_view kind_article(Kind kind) {
    switch (kind) {
    case Kind::integer:
        return "an int";
    case Kind::real:
        return "a double";
    case Kind::boolean:
        return "a boolean";
    case Kind::string:
        return "a string";
    case Kind::fraction:
        return "a fraction";
    case Kind::bitmask:
        return "a bitmask";
    case Kind::buffer:
        return "a buffer";
    }
    return "a value";
}

std::optional<Kind> kind_of(std::string_view name) {
    struct Alias {
        std::string_view name;
        Kind kind;
    };
    // GStreamer's short names, long names and GType names.
    static constexpr Alias aliases[] = {
        {"int", Kind::integer},
        {"i", Kind::integer},
        {"gint", Kind::integer},
        {"double", Kind::real},
        {"d", Kind::real},
        {"gdouble", Kind::real},
        {"float", Kind::real},
        {"f", Kind::real},
        {"gfloat", Kind::real},
        {"boolean", Kind::boolean},
        {"bool", Kind::boolean},
        {"b", Kind::boolean},
        {"gboolean", Kind::boolean},
        {"string", Kind::string},
        {"str", Kind::string},
        {"s", Kind::string},
        {"gchararray", Kind::string},
        {"fraction", Kind::fraction},
        {"GstFraction", Kind::fraction},
        {"bitmask", Kind::bitmask},
        {"GstBitmask", Kind::bitmask},
        {"buffer", Kind::buffer},
        {"GstBuffer", Kind::buffer},
    };
    for (const Alias& alias : aliases) {
        if (alias.name == name) {
            return alias.kind;
        }
    }
    return std::nullopt;
}

enum class NumberStatus { not_a_number, overflow, ok };

// `[+-]?(0x[0-9a-f]+|[0-9]+)` into 64 bits.
// `0x[0-9a-f]+` or `[0-9]+` into 64 unsigned bits.
NumberStatus parse_unsigned(std::string_view s, std::uint64_t& out) {
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    }
    if (s.empty() || s.front() == '+' || s.front() == '-') {
        return NumberStatus::not_a_number;
    }
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    if (end != s.data() + s.size()) {
        return NumberStatus::not_a_number;
    }
    return ec == std::errc::result_out_of_range ? NumberStatus::overflow : NumberStatus::ok;
}

NumberStatus parse_integer(std::string_view s, std::int64_t& out) {
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    std::uint64_t magnitude = 0;
    if (const NumberStatus status = parse_unsigned(s, magnitude); status != NumberStatus::ok) {
        return status;
    }
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (negative) {
        if (magnitude > max + 1) {
            return NumberStatus::overflow;
        }
        out = magnitude == max + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(magnitude);
    } else {
        if (magnitude > max) {
            return NumberStatus::overflow;
        }
        out = static_cast<std::int64_t>(magnitude);
    }
    return NumberStatus::ok;
}

bool is_decimal_digit(char c) {
    return c >= '0' && c <= '9';
}

// `[+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?`: decimal only (no inf, nan or hex).
NumberStatus parse_decimal(std::string_view s, double& out) {
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        ++i;
    }
    std::size_t digits = 0;
    while (i < s.size() && is_decimal_digit(s[i])) {
        ++i;
        ++digits;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_decimal_digit(s[i])) {
            ++i;
            ++digits;
        }
    }
    if (digits == 0) {
        return NumberStatus::not_a_number;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
            ++i;
        }
        std::size_t exponent_digits = 0;
        while (i < s.size() && is_decimal_digit(s[i])) {
            ++i;
            ++exponent_digits;
        }
        if (exponent_digits == 0) {
            return NumberStatus::not_a_number;
        }
    }
    if (i != s.size()) {
        return NumberStatus::not_a_number;
    }
    if (s.front() == '+') {
        s.remove_prefix(1); // from_chars takes no '+'
    }
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc::result_out_of_range || end != s.data() + s.size()) {
        return NumberStatus::overflow;
    }
    return NumberStatus::ok;
}

std::optional<bool> parse_boolean(std::string_view s) {
    auto equals = [s](std::string_view word) {
        if (s.size() != word.size()) {
            return false;
        }
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char c = (s[i] >= 'A' && s[i] <= 'Z') ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
            if (c != word[i]) {
                return false;
            }
        }
        return true;
    };
    for (std::string_view word : {"true", "yes", "t", "1"}) {
        if (equals(word)) {
            return true;
        }
    }
    for (std::string_view word : {"false", "no", "f", "0"}) {
        if (equals(word)) {
            return false;
        }
    }
    return std::nullopt;
}

std::int32_t to_int32(std::string_view s, std::size_t pos) {
    std::int64_t v = 0;
    const NumberStatus status = parse_integer(s, v);
    if (status == NumberStatus::not_a_number) {
        throw SyntaxError{"expected an int", pos};
    }
    if (status == NumberStatus::overflow || v < std::numeric_limits<std::int32_t>::min() ||
        v > std::numeric_limits<std::int32_t>::max()) {
        throw SyntaxError{"int out of range: an int has 32 bits", pos};
    }
    return static_cast<std::int32_t>(v);
}

Fraction to_fraction(std::string_view s, std::size_t pos) {
    const std::size_t slash = s.find('/');
    const std::int32_t num = to_int32(s.substr(0, slash), pos);
    std::int32_t den = 1;
    if (slash != std::string_view::npos) {
        den = to_int32(s.substr(slash + 1), pos + slash + 1);
        if (den == 0) {
            throw SyntaxError{"a fraction's denominator must not be zero", pos + slash + 1};
        }
    }
    auto fraction = Fraction::make(num, den);
    if (!fraction) {
        throw SyntaxError{fraction.error().message(), pos};
    }
    return *fraction;
}

bool is_fraction_syntax(std::string_view s) {
    const std::size_t slash = s.find('/');
    std::int64_t ignored = 0;
    return slash != std::string_view::npos &&
           parse_integer(s.substr(0, slash), ignored) != NumberStatus::not_a_number &&
           parse_integer(s.substr(slash + 1), ignored) != NumberStatus::not_a_number;
}

// The text of a quoted token (quotes included), unescaped: `\ooo` (the first
// digit 0-3) is a byte, a backslash before any other character keeps it.
std::string unescape(std::string_view raw, std::size_t pos) {
    std::string out;
    const std::size_t last = raw.size() - 1; // the closing quote
    for (std::size_t i = 1; i < last; ++i) {
        if (raw[i] != '\\') {
            out += raw[i];
            continue;
        }
        const char c = raw[i + 1];
        if (c >= '0' && c <= '3') {
            auto is_octal = [&](std::size_t j) { return j < last && raw[j] >= '0' && raw[j] <= '7'; };
            if (!is_octal(i + 2) || !is_octal(i + 3)) {
                throw SyntaxError{"expected three octal digits after '\\'", pos + i};
            }
            out += static_cast<char>((c - '0') * 64 + (raw[i + 2] - '0') * 8 + (raw[i + 3] - '0'));
            i += 3;
        } else {
            out += c;
            i += 1;
        }
    }
    return out;
}

// `(buffer)` text: two hexadecimal digits per byte.
Bytes to_bytes(std::string_view raw, std::size_t pos) {
    if (raw.size() % 2 != 0) {
        throw SyntaxError{"expected a buffer: an even number of hexadecimal digits", pos};
    }
    Bytes bytes;
    bytes.data.reserve(raw.size() / 2);
    for (std::size_t i = 0; i < raw.size(); i += 2) {
        std::uint8_t byte = 0;
        auto [end, ec] = std::from_chars(raw.data() + i, raw.data() + i + 2, byte, 16);
        if (ec != std::errc() || end != raw.data() + i + 2) {
            throw SyntaxError{"expected a buffer: hexadecimal digits only", pos + i};
        }
        bytes.data.push_back(byte);
    }
    return bytes;
}

// A token's value: of type `kind` when the caps say so, otherwise inferred
// as GStreamer does (int, double, fraction, boolean, string, in that order).
CapsValue to_value(std::string_view raw, std::size_t pos, std::optional<Kind> kind) {
    if (raw == "\"\"" && kind == Kind::buffer) {
        return CapsValue(Bytes{});
    }
    if (raw.front() == '"') {
        if (kind && *kind != Kind::string) {
            throw SyntaxError{fmt::format("expected {}: only strings are quoted", kind_article(*kind)), pos};
        }
        return CapsValue(unescape(raw, pos));
    }
    if (!kind) {
        std::int64_t i = 0;
        double d = 0;
        if (parse_integer(raw, i) != NumberStatus::not_a_number) {
            return CapsValue(to_int32(raw, pos));
        }
        if (const NumberStatus status = parse_decimal(raw, d); status != NumberStatus::not_a_number) {
            if (status == NumberStatus::overflow) {
                throw SyntaxError{"double out of range", pos};
            }
            return CapsValue(d);
        }
        if (is_fraction_syntax(raw)) {
            return CapsValue(to_fraction(raw, pos));
        }
        if (auto b = parse_boolean(raw)) {
            return CapsValue(*b);
        }
        return CapsValue(raw);
    }
    switch (*kind) {
    case Kind::integer:
        return CapsValue(to_int32(raw, pos));
    case Kind::real: {
        // Decimal first, so that "-0" keeps its sign; then hexadecimal ints.
        double d = 0;
        const NumberStatus status = parse_decimal(raw, d);
        if (status == NumberStatus::not_a_number) {
            std::int64_t i = 0;
            if (parse_integer(raw, i) == NumberStatus::ok) {
                return CapsValue(static_cast<double>(i));
            }
            throw SyntaxError{"expected a double", pos};
        }
        if (status == NumberStatus::overflow) {
            throw SyntaxError{"double out of range", pos};
        }
        return CapsValue(d);
    }
    case Kind::boolean:
        if (auto b = parse_boolean(raw)) {
            return CapsValue(*b);
        }
        throw SyntaxError{"expected a boolean (true, false, yes, no, t, f, 1 or 0)", pos};
    case Kind::string:
        return CapsValue(raw);
    case Kind::fraction:
        return CapsValue(to_fraction(raw, pos));
    case Kind::bitmask: {
        std::uint64_t bits = 0;
        const NumberStatus status = parse_unsigned(raw, bits);
        if (status == NumberStatus::not_a_number) {
            throw SyntaxError{"expected a bitmask", pos};
        }
        if (status == NumberStatus::overflow) {
            throw SyntaxError{"bitmask out of range: a bitmask has 64 bits", pos};
        }
        return CapsValue(Bitmask{bits});
    }
    case Kind::buffer:
        return CapsValue(to_bytes(raw, pos));
    }
    throw SyntaxError{"expected a value", pos};
}

// --- Actions -----------------------------------------------------------------

struct Located {
    CapsValue value;
    std::size_t position;
};

struct CapsParseState {
    Caps caps;
    std::optional<Structure> structure;
    CapsFeatures features;
    std::string field;
    std::optional<Kind> pending_type; // the last type prefix read
    std::optional<Kind> value_type;   // the field's type prefix
    std::optional<Kind> item_type;    // the current list item's type prefix
    std::optional<CapsValue> value;   // the field's value, once read
    std::optional<Located> range_min;
    std::optional<Located> range_max;
    std::vector<Located> items;
    std::size_t quote_position = 0; // of the last opening quote
};

template <typename Input>
std::size_t position_of(const Input& in) {
    return in.position().byte;
}

template <typename Rule>
struct action : grammar::pg::nothing<Rule> {};

template <>
struct action<grammar::structure_name> {
    template <typename Input>
    static void apply(const Input& in, CapsParseState& st) {
        if (!Structure::is_valid_name(in.string())) {
            // The only names the grammar lets through that are invalid.
            throw SyntaxError{"ANY, EMPTY and NONE stand alone: they are not media type names", position_of(in)};
        }
        st.structure.emplace(in.string());
        st.features.clear();
    }
};

template <>
struct action<grammar::feature> {
    template <typename Input>
    static void apply(const Input& in, CapsParseState& st) {
        st.features.push_back(in.string());
    }
};

template <>
struct action<grammar::field_name> {
    template <typename Input>
    static void apply(const Input& in, CapsParseState& st) {
        st.field = in.string();
        st.value_type.reset();
        st.item_type.reset();
    }
};

template <>
struct action<grammar::type_name> {
    template <typename Input>
    static void apply(const Input& in, CapsParseState& st) {
        st.pending_type = kind_of(in.string());
        if (!st.pending_type) {
            throw SyntaxError{fmt::format("unknown type '{}': expected int, double, float, boolean, string, "
                                          "fraction or bitmask",
                                          in.string()),
                              position_of(in)};
        }
    }
};

template <>
struct action<grammar::value_type> {
    static void apply0(CapsParseState& st) { st.value_type = st.pending_type; }
};

template <>
struct action<grammar::item_type> {
    static void apply0(CapsParseState& st) { st.item_type = st.pending_type; }
};

template <>
struct action<grammar::open_quote> {
    template <typename Input>
    static void apply(const Input& in, CapsParseState& st) {
        st.quote_position = position_of(in);
    }
};

template <>
struct action<grammar::value_token> {
    template <typename Input>
    static void apply(const Input& in, CapsParseState& st) {
        st.value = to_value(in.string(), position_of(in), st.value_type);
    }
};

template <>
struct action<grammar::min_token> {
    template <typename Input>
    static void apply(const Input& in, CapsParseState& st) {
        st.range_min = Located{to_value(in.string(), position_of(in), st.value_type), position_of(in)};
    }
};

template <>
struct action<grammar::max_token> {
    template <typename Input>
    static void apply(const Input& in, CapsParseState& st) {
        st.range_max = Located{to_value(in.string(), position_of(in), st.value_type), position_of(in)};
    }
};

template <typename T>
CapsValue make_range(const Located& lo, const Located& hi) {
    auto range = Range<T>::make(*lo.value.get_if<T>(), *hi.value.get_if<T>());
    if (!range) {
        throw SyntaxError{"a range's minimum must be less than its maximum", hi.position};
    }
    return CapsValue(*range);
}

template <>
struct action<grammar::range> {
    static void apply0(CapsParseState& st) {
        const Located& lo = *st.range_min;
        const Located& hi = *st.range_max;
        if (lo.value.type_name() != hi.value.type_name()) {
            throw SyntaxError{fmt::format("a range's bounds must have the same type, not {} and {}",
                                          lo.value.type_name(), hi.value.type_name()),
                              hi.position};
        }
        if (lo.value.holds<std::int32_t>()) {
            st.value = make_range<std::int32_t>(lo, hi);
        } else if (lo.value.holds<double>()) {
            st.value = make_range<double>(lo, hi);
        } else if (lo.value.holds<Fraction>()) {
            st.value = make_range<Fraction>(lo, hi);
        } else {
            throw SyntaxError{fmt::format("a range holds ints, doubles or fractions, not a {}", lo.value.type_name()),
                              lo.position};
        }
    }
};

template <>
struct action<grammar::item_token> {
    template <typename Input>
    static void apply(const Input& in, CapsParseState& st) {
        const std::optional<Kind> kind = st.item_type ? st.item_type : st.value_type;
        st.items.push_back(Located{to_value(in.string(), position_of(in), kind), position_of(in)});
        st.item_type.reset();
    }
};

template <>
struct action<grammar::list_item> {
    // An item's position is where it starts, its type prefix included.
    template <typename Input>
    static void apply(const Input& in, CapsParseState& st) {
        st.items.back().position = position_of(in);
    }
};

template <>
struct action<grammar::list> {
    static void apply0(CapsParseState& st) {
        CapsValue::List values;
        for (const Located& item : st.items) {
            if (item.value.type_name() != st.items.front().value.type_name()) {
                throw SyntaxError{fmt::format("a list's values must all have the same type: expected {}, found {}",
                                              st.items.front().value.type_name(), item.value.type_name()),
                                  item.position};
            }
            values.push_back(item.value);
        }
        st.items.clear();
        // Homogeneous, non-empty scalars: cannot fail.
        st.value = std::move(CapsValue::list(std::move(values)).value());
    }
};

template <>
struct action<grammar::field> {
    static void apply0(CapsParseState& st) {
        st.structure->set(st.field, std::move(*st.value));
        st.value.reset();
    }
};

template <>
struct action<grammar::structure> {
    static void apply0(CapsParseState& st) {
        st.caps.append(std::move(*st.structure), std::move(st.features));
        st.structure.reset();
        st.features = {};
    }
};

template <typename Rule>
struct control : grammar::pg::normal<Rule> {
    template <typename Input>
    [[noreturn]] static void raise(const Input& in, CapsParseState& st) {
        if constexpr (std::is_same_v<Rule, grammar::close_quote>) {
            // Point at the quote that was never closed, not at the end.
            throw SyntaxError{"unterminated quoted string: expected a closing '\"'", st.quote_position};
        } else {
            throw SyntaxError{error_message<Rule>, position_of(in)};
        }
    }
};

std::string_view trim(std::string_view s) {
    constexpr std::string_view spaces = " \t\n\r\f\v";
    const std::size_t first = s.find_first_not_of(spaces);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(spaces) - first + 1);
}

} // namespace

Result<Caps> Caps::parse(std::string_view text) {
    const std::string_view trimmed = trim(text);
    if (trimmed == "ANY") {
        return Caps::any();
    }
    if (trimmed == "EMPTY" || trimmed == "NONE") {
        return Caps::empty();
    }
    CapsParseState st;
    grammar::pg::memory_input<> in(text.data(), text.size(), "caps");
    try {
        if (!grammar::pg::parse<grammar::caps, action, control>(in, st)) {
            return fail(Error(Errc::invalid_argument, "expected caps").at_position(0));
        }
    } catch (const SyntaxError& e) {
        return fail(Error(Errc::invalid_argument, e.message).at_position(e.position));
    }
    return std::move(st.caps);
}

} // namespace parallax
