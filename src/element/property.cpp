#include <parallax/element/element.hpp>
#include <parallax/element/property.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <exception>
#include <limits>

namespace parallax {

std::string to_string(const PropertyValue& value) {
    return std::visit(
        [](const auto& v) -> std::string {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, bool>) {
                return v ? "true" : "false";
            } else if constexpr (std::is_same_v<V, double>) {
                return detail::format_double(v);
            } else if constexpr (std::is_same_v<V, std::string>) {
                return v;
            } else if constexpr (std::is_same_v<V, Fraction>) {
                return v.to_string();
            } else if constexpr (std::is_same_v<V, Caps>) {
                return v.to_string();
            } else {
                return std::to_string(v);
            }
        },
        value);
}

PropertyBase::PropertyBase(Element* owner, std::string_view name, std::string_view description, Mutability mutability)
    : owner_(owner), name_(name), description_(description), mutability_(mutability) {
    owner_->properties_.push_back(this);
}

Result<void> PropertyBase::check_mutable() const {
    const State s = owner_->state();
    if (mutability_ == Mutability::idle && (s == State::running || s == State::paused)) {
        return fail(error(Errc::state, fmt::format("cannot change while the element is {} (it may change only "
                                                   "while suspended or idle)",
                                                   to_string(s))));
    }
    return {};
}

Result<void> PropertyBase::check_settable() const {
    if (mutability_ == Mutability::read_only) {
        return fail(error(Errc::invalid_argument, "is read-only: the element sets it, users only read it"));
    }
    return check_mutable();
}

Result<void> PropertyBase::set_from_string(std::string_view text) {
    if (auto ok = check_settable(); !ok) {
        return ok;
    }
    const PropertyValue previous = value();
    if (auto ok = parse_and_store(text); !ok) {
        return ok;
    }
    return commit_change(previous);
}

Result<void> PropertyBase::set_value(const PropertyValue& value) {
    if (auto ok = check_settable(); !ok) {
        return ok;
    }
    const PropertyValue previous = this->value();
    if (auto ok = store_value(value); !ok) {
        return ok;
    }
    return commit_change(previous);
}

Result<void> PropertyBase::commit_change(const PropertyValue& previous) {
    Result<void> vetted;
    try {
        vetted = owner_->check_property(*this);
    } catch (const std::exception& e) {
        vetted = fail(error(Errc::exception, e.what()));
    }
    if (!vetted) {
        // The previous value was valid, so storing it again cannot fail.
        static_cast<void>(store_value(previous));
        return vetted;
    }
    notify_changed();
    return {};
}

Result<void> PropertyBase::store_as_text(const PropertyValue& value, std::string_view expected) {
    if (const auto* s = std::get_if<std::string>(&value)) {
        return parse_and_store(*s);
    }
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
        return parse_and_store(std::to_string(*i));
    }
    if (const auto* u = std::get_if<std::uint64_t>(&value)) {
        return parse_and_store(std::to_string(*u));
    }
    return fail(error(Errc::invalid_argument, expected));
}

void PropertyBase::reset() {
    store_default();
}

void PropertyBase::notify_changed() {
    owner_->property_changed(*this);
}

Error PropertyBase::error(Errc code, std::string_view message) const {
    return Error(code, fmt::format("property \"{}\" of {}: {}", name_, owner_->name().empty() ? "element" : owner_->name(),
                                   message))
        .at_element(owner_->name());
}

namespace detail {

Result<bool> parse_bool(std::string_view t) {
    if (t == "true" || t == "TRUE" || t == "True" || t == "yes" || t == "1" || t == "on") {
        return true;
    }
    if (t == "false" || t == "FALSE" || t == "False" || t == "no" || t == "0" || t == "off") {
        return false;
    }
    return fail(Errc::invalid_argument, fmt::format("\"{}\" is not a boolean (true/false, yes/no, 1/0, on/off)", t));
}

namespace {
template <class T>
Result<T> parse_integer(std::string_view text, std::string_view what) {
    std::string_view t = text;
    bool negative = false;
    if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
        negative = t[0] == '-';
        t.remove_prefix(1);
    }
    int base = 10;
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
        base = 16;
        t.remove_prefix(2);
    }
    std::uint64_t magnitude = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), magnitude, base);
    if (t.empty() || ec == std::errc::invalid_argument || end != t.data() + t.size()) {
        return fail(Errc::invalid_argument, fmt::format("\"{}\" is not {}", text, what));
    }
    if (ec == std::errc::result_out_of_range) {
        return fail(Errc::out_of_range, fmt::format("{} is too large", text));
    }
    if constexpr (std::is_signed_v<T>) {
        constexpr auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        if (magnitude > limit + (negative ? 1 : 0)) {
            return fail(Errc::out_of_range, fmt::format("{} is out of range for a 64-bit integer", text));
        }
        if (negative) {
            return magnitude == limit + 1 ? std::numeric_limits<std::int64_t>::min()
                                          : -static_cast<std::int64_t>(magnitude);
        }
        return static_cast<std::int64_t>(magnitude);
    } else {
        if (negative && magnitude != 0) {
            return fail(Errc::out_of_range, fmt::format("{} is negative", text));
        }
        return magnitude;
    }
}
} // namespace

Result<std::int64_t> parse_int64(std::string_view text) {
    return parse_integer<std::int64_t>(text, "an integer");
}

Result<std::uint64_t> parse_uint64(std::string_view text) {
    return parse_integer<std::uint64_t>(text, "an unsigned integer");
}

Result<double> parse_double(std::string_view text) {
    double v = 0;
    std::string_view t = text;
    if (!t.empty() && t[0] == '+') {
        t.remove_prefix(1);
    }
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v)) {
        return fail(Errc::invalid_argument, fmt::format("\"{}\" is not a number", text));
    }
    return v;
}

Result<Fraction> parse_fraction(std::string_view text) {
    const auto slash = text.find('/');
    auto num = parse_int64(text.substr(0, slash));
    std::int64_t den = 1;
    if (slash != std::string_view::npos) {
        auto d = parse_int64(text.substr(slash + 1));
        if (!d) {
            return fail(Errc::invalid_argument, fmt::format("\"{}\" is not a fraction (like 30/1)", text));
        }
        den = *d;
    }
    if (!num) {
        return fail(Errc::invalid_argument, fmt::format("\"{}\" is not a fraction (like 30/1)", text));
    }
    auto f = Fraction::make(*num, den);
    if (!f) {
        return fail(Errc::invalid_argument, fmt::format("\"{}\" is not a valid fraction: {}", text, f.error().message()));
    }
    return *f;
}

std::string format_double(double v) {
    return fmt::format("{}", v);
}

Result<int> parse_enum(std::string_view text, std::span<const EnumValue> values) {
    for (const auto& v : values) {
        if (v.nick == text) {
            return v.value;
        }
    }
    if (auto n = parse_int64(text)) {
        for (const auto& v : values) {
            if (v.value == *n) {
                return v.value;
            }
        }
    }
    std::string nicks;
    for (const auto& v : values) {
        nicks += nicks.empty() ? "" : ", ";
        nicks += fmt::format("{} ({})", v.nick, v.value);
    }
    return fail(Errc::invalid_argument, fmt::format("\"{}\" is not one of: {}", text, nicks));
}

std::string_view enum_nick(int value, std::span<const EnumValue> values) noexcept {
    for (const auto& v : values) {
        if (v.value == value) {
            return v.nick;
        }
    }
    return {};
}

std::string format_range(std::int64_t lo, std::int64_t hi) {
    return fmt::format("[{}, {}]", lo, hi);
}

std::string format_range(std::uint64_t lo, std::uint64_t hi) {
    return fmt::format("[{}, {}]", lo, hi);
}

std::string out_of_range_message(std::string_view value, std::string_view range) {
    return fmt::format("value {} is out of range {}", value, range);
}

std::string not_an_enum_value_message(int value) {
    return fmt::format("value {} is not one of its values", value);
}

} // namespace detail

// bool

Result<void> Property<bool>::set(bool v) {
    if (auto ok = check_mutable(); !ok) {
        return ok;
    }
    value_.store(v, std::memory_order_relaxed);
    notify_changed();
    return {};
}

Result<void> Property<bool>::parse_and_store(std::string_view text) {
    auto v = detail::parse_bool(text);
    if (!v) {
        return fail(error(Errc::invalid_argument, v.error().message()));
    }
    value_.store(*v, std::memory_order_relaxed);
    return {};
}

Result<void> Property<bool>::store_value(const PropertyValue& v) {
    if (const auto* b = std::get_if<bool>(&v)) {
        value_.store(*b, std::memory_order_relaxed);
        return {};
    }
    if (const auto* s = std::get_if<std::string>(&v)) {
        return parse_and_store(*s);
    }
    return fail(error(Errc::invalid_argument, "expected a boolean"));
}

// double

Result<void> Property<double>::check_range(double v) const {
    if (!std::isfinite(v) || v < range_.min || v > range_.max) {
        return fail(error(Errc::out_of_range, fmt::format("value {} is out of range {}", v, range_string())));
    }
    return {};
}

Result<void> Property<double>::set(double v) {
    if (auto ok = check_mutable(); !ok) {
        return ok;
    }
    if (auto ok = check_range(v); !ok) {
        return ok;
    }
    value_.store(v, std::memory_order_relaxed);
    notify_changed();
    return {};
}

std::string Property<double>::range_string() const {
    return fmt::format("[{}, {}]", range_.min, range_.max);
}

Result<void> Property<double>::parse_and_store(std::string_view text) {
    auto v = detail::parse_double(text);
    if (!v) {
        return fail(error(Errc::invalid_argument, v.error().message()));
    }
    if (auto ok = check_range(*v); !ok) {
        return ok;
    }
    value_.store(*v, std::memory_order_relaxed);
    return {};
}

Result<void> Property<double>::store_value(const PropertyValue& v) {
    double d = 0;
    if (const auto* x = std::get_if<double>(&v)) {
        d = *x;
    } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
        d = static_cast<double>(*i);
    } else if (const auto* u = std::get_if<std::uint64_t>(&v)) {
        d = static_cast<double>(*u);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
        return parse_and_store(*s);
    } else {
        return fail(error(Errc::invalid_argument, "expected a number"));
    }
    if (auto ok = check_range(d); !ok) {
        return ok;
    }
    value_.store(d, std::memory_order_relaxed);
    return {};
}

// string

Result<void> Property<std::string>::set(std::string v) {
    if (auto ok = check_mutable(); !ok) {
        return ok;
    }
    {
        std::lock_guard lock(mutex_);
        value_ = std::move(v);
    }
    notify_changed();
    return {};
}

Result<void> Property<std::string>::parse_and_store(std::string_view text) {
    std::lock_guard lock(mutex_);
    value_ = std::string(text);
    return {};
}

Result<void> Property<std::string>::store_value(const PropertyValue& v) {
    if (const auto* s = std::get_if<std::string>(&v)) {
        return parse_and_store(*s);
    }
    return parse_and_store(to_string(v));
}

void Property<std::string>::store_default() {
    std::lock_guard lock(mutex_);
    value_ = default_;
}

// Fraction

Result<void> Property<Fraction>::set(Fraction v) {
    if (auto ok = check_mutable(); !ok) {
        return ok;
    }
    value_.store({v}, std::memory_order_relaxed);
    notify_changed();
    return {};
}

std::string Property<Fraction>::value_string() const {
    return get().to_string();
}

std::string Property<Fraction>::default_string() const {
    return default_.to_string();
}

Result<void> Property<Fraction>::parse_and_store(std::string_view text) {
    auto f = detail::parse_fraction(text);
    if (!f) {
        return fail(error(Errc::invalid_argument, f.error().message()));
    }
    value_.store({*f}, std::memory_order_relaxed);
    return {};
}

Result<void> Property<Fraction>::store_value(const PropertyValue& v) {
    if (const auto* f = std::get_if<Fraction>(&v)) {
        value_.store({*f}, std::memory_order_relaxed);
        return {};
    }
    if (const auto* s = std::get_if<std::string>(&v)) {
        return parse_and_store(*s);
    }
    return fail(error(Errc::invalid_argument, "expected a fraction"));
}

// Caps

Result<void> Property<Caps>::set(Caps v) {
    if (auto ok = check_mutable(); !ok) {
        return ok;
    }
    {
        std::lock_guard lock(mutex_);
        value_ = std::move(v);
    }
    notify_changed();
    return {};
}

Result<void> Property<Caps>::parse_and_store(std::string_view text) {
    auto c = Caps::parse(text);
    if (!c) {
        Error e = error(Errc::invalid_argument, c.error().message());
        if (c.error().position() != Error::no_position) {
            e.at_position(c.error().position());
        }
        return fail(std::move(e));
    }
    std::lock_guard lock(mutex_);
    value_ = std::move(*c);
    return {};
}

Result<void> Property<Caps>::store_value(const PropertyValue& v) {
    if (const auto* c = std::get_if<Caps>(&v)) {
        std::lock_guard lock(mutex_);
        value_ = *c;
        return {};
    }
    if (const auto* s = std::get_if<std::string>(&v)) {
        return parse_and_store(*s);
    }
    return fail(error(Errc::invalid_argument, "expected caps"));
}

void Property<Caps>::store_default() {
    std::lock_guard lock(mutex_);
    value_ = default_;
}

} // namespace parallax
