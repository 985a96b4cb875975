#pragma once

/// \file
/// Property<T>: an element property declared once, with its name, default,
/// range and description. The pipeline parser, plx-inspect and the docs all
/// read that one declaration.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/caps/value.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace parallax {

class Element;

/// When a property may change.
enum class Mutability : std::uint8_t {
    idle,    ///< Only while the element is not running (the default).
    running, ///< At any time, also while data flows.
    /// Users read it; only the element itself changes it (a counter, a
    /// status), through the typed set(). Setting it from pipeline text,
    /// set_property() or set_value() is an error.
    read_only,
};

/// One value of an enum property: its number, its nick (what users type) and
/// what it means.
struct EnumValue {
    int value;
    std::string_view nick;
    std::string_view description;
};

/// A property value as C++ code passes it around (for set_property / get).
using PropertyValue = std::variant<bool, std::int64_t, std::uint64_t, double, std::string, Fraction, Caps>;

/// "true", "42", "0.5", "text", "30/1", caps text.
PARALLAX_API std::string to_string(const PropertyValue& value);

/// The type-independent face of a property: what tools, the parser and the
/// pipeline see.
class PARALLAX_API PropertyBase {
public:
    PropertyBase(const PropertyBase&) = delete;
    PropertyBase& operator=(const PropertyBase&) = delete;
    virtual ~PropertyBase() = default;

    /// The kebab-case name users type (`max-size-buffers`).
    [[nodiscard]] std::string_view name() const noexcept { return name_; }
    [[nodiscard]] std::string_view description() const noexcept { return description_; }
    [[nodiscard]] Mutability mutability() const noexcept { return mutability_; }
    [[nodiscard]] Element& owner() const noexcept { return *owner_; }

    /// "Boolean", "Integer", "Unsigned Integer", "Integer64", "Unsigned
    /// Integer64", "Double", "String", "Enum", "Fraction", "Caps".
    [[nodiscard]] virtual std::string_view type_name() const noexcept = 0;
    /// The current value, in the form set_from_string() reads.
    [[nodiscard]] virtual std::string value_string() const = 0;
    [[nodiscard]] virtual std::string default_string() const = 0;
    /// The allowed values: "[0, 4294967295]", "" when anything of the type
    /// goes. Enums list their nicks through enum_values().
    [[nodiscard]] virtual std::string range_string() const = 0;
    /// The values of an enum property; empty for other types.
    [[nodiscard]] virtual std::span<const EnumValue> enum_values() const noexcept { return {}; }
    [[nodiscard]] virtual PropertyValue value() const = 0;

    /// Parses `text` (pipeline text, a command line) and sets the value.
    /// An ill-typed or out-of-range value, or a change that the element's
    /// state does not allow, is an Error naming the property and the element.
    Result<void> set_from_string(std::string_view text);
    /// Sets from a C++ value of a compatible type (integers convert when in
    /// range, a string is parsed).
    Result<void> set_value(const PropertyValue& value);
    /// Back to the default.
    void reset();

protected:
    PropertyBase(Element* owner, std::string_view name, std::string_view description, Mutability mutability);

    /// Checks and parses; writes nothing.
    virtual Result<void> parse_and_store(std::string_view text) = 0;
    virtual Result<void> store_value(const PropertyValue& value) = 0;
    virtual void store_default() = 0;
    /// Checks that the owner's state allows a change now (the typed set()
    /// of a read-only property always may: it is the owner's).
    [[nodiscard]] Result<void> check_mutable() const;
    /// Tells the owner (Element::property_changed).
    void notify_changed();
    /// Asks the owner to vet the value just stored (Element::check_property):
    /// on refusal restores `previous` and returns the error; else notifies.
    Result<void> commit_change(const PropertyValue& previous);
    /// Makes an error "property 'name' of element 'x': message".
    [[nodiscard]] Error error(Errc code, std::string_view message) const;
    /// store_value() of properties read from integers or text (integers,
    /// enums): a string or an integer goes through parse_and_store(), so
    /// that C++ values get the same checks as pipeline text; any other
    /// type is an error saying `expected`.
    Result<void> store_as_text(const PropertyValue& value, std::string_view expected);

private:
    /// check_mutable(), and refuses read-only properties: the checks of
    /// the untyped setters users reach.
    [[nodiscard]] Result<void> check_settable() const;

    Element* owner_;
    std::string_view name_;
    std::string_view description_;
    Mutability mutability_;
};

namespace detail {
// Text conversions shared by the Property specialisations (src/element/property.cpp).
PARALLAX_API Result<bool> parse_bool(std::string_view text);
PARALLAX_API Result<std::int64_t> parse_int64(std::string_view text);
PARALLAX_API Result<std::uint64_t> parse_uint64(std::string_view text);
PARALLAX_API Result<double> parse_double(std::string_view text);
PARALLAX_API Result<Fraction> parse_fraction(std::string_view text);
PARALLAX_API std::string format_double(double v);
PARALLAX_API Result<int> parse_enum(std::string_view text, std::span<const EnumValue> values);
PARALLAX_API std::string_view enum_nick(int value, std::span<const EnumValue> values) noexcept;
PARALLAX_API std::string format_range(std::int64_t lo, std::int64_t hi);
PARALLAX_API std::string format_range(std::uint64_t lo, std::uint64_t hi);
PARALLAX_API std::string out_of_range_message(std::string_view value, std::string_view range);
PARALLAX_API std::string not_an_enum_value_message(int value);

template <class T>
concept PropertyInteger = std::is_integral_v<T> && !std::is_same_v<T, bool> && sizeof(T) <= 8;
} // namespace detail

/// A typed property. Declare one as a member of the element:
///
///     Property<std::int32_t> num_buffers_{this, "num-buffers", -1, "Buffers to send (-1 = unlimited)",
///                                         {-1, std::numeric_limits<std::int32_t>::max()}};
///
/// Reading (get()) is wait-free for bool, integers, doubles, enums and
/// fractions, and may happen on the streaming thread while the control thread
/// sets the property; strings and caps are copied under a short lock.
template <class T>
class Property;

/// A range of allowed values for numeric properties (inclusive).
template <class T>
struct PropertyRange {
    /// Every value of T.
    constexpr PropertyRange() noexcept : min(std::numeric_limits<T>::lowest()), max(std::numeric_limits<T>::max()) {}
    constexpr PropertyRange(T lo, T hi) noexcept : min(lo), max(hi) {}
    T min;
    T max;
};

/// bool.
template <>
class PARALLAX_API Property<bool> final : public PropertyBase {
public:
    Property(Element* owner, std::string_view name, bool def, std::string_view description,
             Mutability mutability = Mutability::idle)
        : PropertyBase(owner, name, description, mutability), default_(def), value_(def) {}

    [[nodiscard]] bool get() const noexcept { return value_.load(std::memory_order_relaxed); }
    /// Sets from C++ (always in range; fails only when the state forbids it).
    Result<void> set(bool v);

    [[nodiscard]] std::string_view type_name() const noexcept override { return "Boolean"; }
    [[nodiscard]] std::string value_string() const override { return get() ? "true" : "false"; }
    [[nodiscard]] std::string default_string() const override { return default_ ? "true" : "false"; }
    [[nodiscard]] std::string range_string() const override { return {}; }
    [[nodiscard]] PropertyValue value() const override { return get(); }

private:
    Result<void> parse_and_store(std::string_view text) override;
    Result<void> store_value(const PropertyValue& v) override;
    void store_default() override { value_.store(default_, std::memory_order_relaxed); }

    bool default_;
    std::atomic<bool> value_;
};

/// Signed and unsigned integers of 8 to 64 bits, with a range.
template <detail::PropertyInteger T>
class Property<T> final : public PropertyBase {
public:
    Property(Element* owner, std::string_view name, T def, std::string_view description,
             PropertyRange<T> range = {}, Mutability mutability = Mutability::idle)
        : PropertyBase(owner, name, description, mutability), default_(def), range_(range), value_(def) {}

    [[nodiscard]] T get() const noexcept { return value_.load(std::memory_order_relaxed); }
    /// Sets from C++; a value outside the range is an error.
    Result<void> set(T v) {
        if (auto ok = check_mutable(); !ok) {
            return ok;
        }
        if (v < range_.min || v > range_.max) {
            return fail(out_of_range(std::to_string(v)));
        }
        value_.store(v, std::memory_order_relaxed);
        notify_changed();
        return {};
    }
    [[nodiscard]] PropertyRange<T> range() const noexcept { return range_; }

    [[nodiscard]] std::string_view type_name() const noexcept override {
        if constexpr (std::is_signed_v<T>) {
            return sizeof(T) > 4 ? "Integer64" : "Integer";
        } else {
            return sizeof(T) > 4 ? "Unsigned Integer64" : "Unsigned Integer";
        }
    }
    [[nodiscard]] std::string value_string() const override { return std::to_string(get()); }
    [[nodiscard]] std::string default_string() const override { return std::to_string(default_); }
    [[nodiscard]] std::string range_string() const override {
        if constexpr (std::is_signed_v<T>) {
            return detail::format_range(std::int64_t{range_.min}, std::int64_t{range_.max});
        } else {
            return detail::format_range(std::uint64_t{range_.min}, std::uint64_t{range_.max});
        }
    }
    [[nodiscard]] PropertyValue value() const override {
        if constexpr (std::is_signed_v<T>) {
            return static_cast<std::int64_t>(get());
        } else {
            return static_cast<std::uint64_t>(get());
        }
    }

private:
    Error out_of_range(std::string_view v) const {
        return error(Errc::out_of_range, detail::out_of_range_message(v, range_string()));
    }
    Result<void> parse_and_store(std::string_view text) override {
        if constexpr (std::is_signed_v<T>) {
            auto v = detail::parse_int64(text);
            if (!v) {
                return fail(error(Errc::invalid_argument, v.error().message()));
            }
            if (*v < static_cast<std::int64_t>(range_.min) || *v > static_cast<std::int64_t>(range_.max)) {
                return fail(out_of_range(text));
            }
            value_.store(static_cast<T>(*v), std::memory_order_relaxed);
        } else {
            auto v = detail::parse_uint64(text);
            if (!v) {
                return fail(error(Errc::invalid_argument, v.error().message()));
            }
            if (*v < static_cast<std::uint64_t>(range_.min) || *v > static_cast<std::uint64_t>(range_.max)) {
                return fail(out_of_range(text));
            }
            value_.store(static_cast<T>(*v), std::memory_order_relaxed);
        }
        return {};
    }
    Result<void> store_value(const PropertyValue& v) override { return store_as_text(v, "expected an integer"); }
    void store_default() override { value_.store(default_, std::memory_order_relaxed); }

    T default_;
    PropertyRange<T> range_;
    std::atomic<T> value_;
};

/// double, with a range.
template <>
class PARALLAX_API Property<double> final : public PropertyBase {
public:
    Property(Element* owner, std::string_view name, double def, std::string_view description,
             PropertyRange<double> range = {}, Mutability mutability = Mutability::idle)
        : PropertyBase(owner, name, description, mutability), default_(def), range_(range), value_(def) {}

    [[nodiscard]] double get() const noexcept { return value_.load(std::memory_order_relaxed); }
    Result<void> set(double v);
    [[nodiscard]] PropertyRange<double> range() const noexcept { return range_; }

    [[nodiscard]] std::string_view type_name() const noexcept override { return "Double"; }
    [[nodiscard]] std::string value_string() const override { return detail::format_double(get()); }
    [[nodiscard]] std::string default_string() const override { return detail::format_double(default_); }
    [[nodiscard]] std::string range_string() const override;
    [[nodiscard]] PropertyValue value() const override { return get(); }

private:
    Result<void> parse_and_store(std::string_view text) override;
    Result<void> store_value(const PropertyValue& v) override;
    void store_default() override { value_.store(default_, std::memory_order_relaxed); }
    Result<void> check_range(double v) const;

    double default_;
    PropertyRange<double> range_;
    std::atomic<double> value_;
};

/// std::string.
template <>
class PARALLAX_API Property<std::string> final : public PropertyBase {
public:
    Property(Element* owner, std::string_view name, std::string def, std::string_view description,
             Mutability mutability = Mutability::idle)
        : PropertyBase(owner, name, description, mutability), default_(def), value_(std::move(def)) {}

    /// A copy of the current value.
    [[nodiscard]] std::string get() const {
        std::lock_guard lock(mutex_);
        return value_;
    }
    Result<void> set(std::string v);

    [[nodiscard]] std::string_view type_name() const noexcept override { return "String"; }
    [[nodiscard]] std::string value_string() const override { return get(); }
    [[nodiscard]] std::string default_string() const override { return default_; }
    [[nodiscard]] std::string range_string() const override { return {}; }
    [[nodiscard]] PropertyValue value() const override { return get(); }

private:
    Result<void> parse_and_store(std::string_view text) override;
    Result<void> store_value(const PropertyValue& v) override;
    void store_default() override;

    std::string default_;
    mutable std::mutex mutex_;
    std::string value_;
};

/// Fraction (`30/1`).
template <>
class PARALLAX_API Property<Fraction> final : public PropertyBase {
public:
    Property(Element* owner, std::string_view name, Fraction def, std::string_view description,
             Mutability mutability = Mutability::idle)
        : PropertyBase(owner, name, description, mutability), default_(def), value_(Stored{def}) {}

    [[nodiscard]] Fraction get() const noexcept { return value_.load(std::memory_order_relaxed).value; }
    Result<void> set(Fraction v);

    [[nodiscard]] std::string_view type_name() const noexcept override { return "Fraction"; }
    [[nodiscard]] std::string value_string() const override;
    [[nodiscard]] std::string default_string() const override;
    [[nodiscard]] std::string range_string() const override { return {}; }
    [[nodiscard]] PropertyValue value() const override { return get(); }

private:
    Result<void> parse_and_store(std::string_view text) override;
    Result<void> store_value(const PropertyValue& v) override;
    void store_default() override { value_.store({default_}, std::memory_order_relaxed); }

    // Fraction is two 32-bit integers, 4-byte aligned. clang inlines atomic
    // access to an 8-byte object only when its type is 8-byte aligned, and
    // calls libatomic for std::atomic<Fraction> otherwise.
    struct alignas(8) Stored {
        Fraction value;
    };
    Fraction default_;
    std::atomic<Stored> value_;
};

/// Caps (a caps string in pipeline text).
template <>
class PARALLAX_API Property<Caps> final : public PropertyBase {
public:
    Property(Element* owner, std::string_view name, Caps def, std::string_view description,
             Mutability mutability = Mutability::idle)
        : PropertyBase(owner, name, description, mutability), default_(def), value_(std::move(def)) {}

    [[nodiscard]] Caps get() const {
        std::lock_guard lock(mutex_);
        return value_;
    }
    Result<void> set(Caps v);

    [[nodiscard]] std::string_view type_name() const noexcept override { return "Caps"; }
    [[nodiscard]] std::string value_string() const override { return get().to_string(); }
    [[nodiscard]] std::string default_string() const override { return default_.to_string(); }
    [[nodiscard]] std::string range_string() const override { return {}; }
    [[nodiscard]] PropertyValue value() const override { return get(); }

private:
    Result<void> parse_and_store(std::string_view text) override;
    Result<void> store_value(const PropertyValue& v) override;
    void store_default() override;

    Caps default_;
    mutable std::mutex mutex_;
    Caps value_;
};

/// An enum, set by nick (`leaky=downstream`) or by number (`leaky=2`).
template <class E>
    requires std::is_enum_v<E>
class Property<E> final : public PropertyBase {
public:
    Property(Element* owner, std::string_view name, E def, std::string_view description,
             std::span<const EnumValue> values, Mutability mutability = Mutability::idle)
        : PropertyBase(owner, name, description, mutability), default_(def), values_(values), value_(def) {}

    [[nodiscard]] E get() const noexcept { return value_.load(std::memory_order_relaxed); }
    Result<void> set(E v) {
        if (auto ok = check_mutable(); !ok) {
            return ok;
        }
        if (detail::enum_nick(static_cast<int>(v), values_).empty()) {
            return fail(error(Errc::out_of_range, detail::not_an_enum_value_message(static_cast<int>(v))));
        }
        value_.store(v, std::memory_order_relaxed);
        notify_changed();
        return {};
    }

    [[nodiscard]] std::string_view type_name() const noexcept override { return "Enum"; }
    [[nodiscard]] std::string value_string() const override {
        return std::string(detail::enum_nick(static_cast<int>(get()), values_));
    }
    [[nodiscard]] std::string default_string() const override {
        return std::string(detail::enum_nick(static_cast<int>(default_), values_));
    }
    [[nodiscard]] std::string range_string() const override { return {}; }
    [[nodiscard]] std::span<const EnumValue> enum_values() const noexcept override { return values_; }
    [[nodiscard]] PropertyValue value() const override {
        return std::string(detail::enum_nick(static_cast<int>(get()), values_));
    }

private:
    Result<void> parse_and_store(std::string_view text) override {
        auto v = detail::parse_enum(text, values_);
        if (!v) {
            return fail(error(Errc::invalid_argument, v.error().message()));
        }
        value_.store(static_cast<E>(*v), std::memory_order_relaxed);
        return {};
    }
    Result<void> store_value(const PropertyValue& v) override {
        return store_as_text(v, "expected one of its nicks or numbers");
    }
    void store_default() override { value_.store(default_, std::memory_order_relaxed); }

    E default_;
    std::span<const EnumValue> values_;
    std::atomic<E> value_;
};

} // namespace parallax
