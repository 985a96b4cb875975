#pragma once

/// \file
/// Structure: a media type name and its ordered, named fields
/// (GstStructure), e.g. `video/x-raw, format=(string)I420, width=(int)640`.

#include <parallax/base/export.hpp>
#include <parallax/caps/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parallax {

/// One field of a Structure.
struct StructureField {
    std::string name;
    CapsValue value;

    friend bool operator==(const StructureField&, const StructureField&) = default;
};

/// A media type name (`video/x-raw`) and its fields, in the order they were
/// first set. A field name appears at most once. A small value type.
///
/// Names given in code must be valid (see is_valid_name and
/// is_valid_field_name): an invalid one is a programming error that aborts
/// with a message. Names from outside arrive through Caps::parse, which
/// reports them as errors.
class PARALLAX_API Structure {
public:
    /// A structure named `name` without fields. Aborts when `name` is not
    /// valid.
    explicit Structure(std::string_view name);

    /// A letter, then letters, digits and `/-_.:+` (GStreamer's rule), but
    /// not the caps keywords ANY, EMPTY and NONE.
    [[nodiscard]] static bool is_valid_name(std::string_view name) noexcept;
    /// One or more letters, digits and `/-_.:+`.
    [[nodiscard]] static bool is_valid_field_name(std::string_view name) noexcept;

    [[nodiscard]] const std::string& name() const noexcept { return name_; }

    /// Sets field `field` to `value`: replaces the value in place when the
    /// field exists, appends the field otherwise. Aborts when `field` is not
    /// a valid field name. Returns *this, so that calls chain.
    Structure& set(std::string_view field, CapsValue value);

    /// The value of `field`, or nullptr when there is none. Valid until the
    /// structure is next changed.
    [[nodiscard]] const CapsValue* get(std::string_view field) const noexcept;

    /// The value of `field` when it exists and is of that type; nullopt
    /// otherwise. get_string's view is valid until the structure is next
    /// changed.
    [[nodiscard]] std::optional<std::int32_t> get_int(std::string_view field) const noexcept;
    [[nodiscard]] std::optional<double> get_double(std::string_view field) const noexcept;
    [[nodiscard]] std::optional<bool> get_bool(std::string_view field) const noexcept;
    [[nodiscard]] std::optional<std::string_view> get_string(std::string_view field) const noexcept;
    [[nodiscard]] std::optional<Fraction> get_fraction(std::string_view field) const noexcept;

    /// True when the structure has field `field`.
    [[nodiscard]] bool has(std::string_view field) const noexcept { return get(field) != nullptr; }

    /// Removes field `field`; false when there was none.
    bool remove(std::string_view field);

    /// The number of fields.
    [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
    [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }

    /// The fields, in order.
    [[nodiscard]] std::span<const StructureField> fields() const noexcept { return fields_; }
    [[nodiscard]] auto begin() const noexcept { return fields_.begin(); }
    [[nodiscard]] auto end() const noexcept { return fields_.end(); }

    /// True when every field's value is fixed (no ranges, no lists).
    [[nodiscard]] bool is_fixed() const noexcept;

    /// GStreamer's form: `video/x-raw, format=(string)I420, width=(int)640`.
    [[nodiscard]] std::string to_string() const;

    /// Same name and the same fields in the same order.
    friend bool operator==(const Structure&, const Structure&) = default;

private:
    std::string name_;
    std::vector<StructureField> fields_;
};

} // namespace parallax
