#pragma once

/// \file
/// Set operations on caps, with GStreamer's semantics: intersection, subset,
/// equality, fixation, normalization and simplification of CapsValue,
/// Structure and Caps. Free functions, overloaded on the three types.
///
/// A value, structure or caps stands for the set of fixed values, fixed
/// structures or fixed (structure, features) pairs it allows. Ints, doubles
/// and fractions never convert into one another (as in GStreamer): `(int)1`
/// and `(double)1` do not intersect.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/caps/structure.hpp>
#include <parallax/caps/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace parallax {

// ---------------------------------------------------------------------------
// CapsValue

/// The values both `a` and `b` allow (gst_value_intersect), or nullopt when
/// there are none:
/// - two fixed values: the value when they are equal;
/// - a value and a range of its type: the value when it lies in the range
///   (bounds included);
/// - two ranges of one type: their overlap, a fixed value when the overlap is
///   a single point;
/// - a list and anything: the list's items that intersect it, in the list's
///   order and without repeats (the first list's order when both are lists);
///   a single item is returned as that item, not as a one-item list;
/// - two bitmasks: as GStreamer, `a & b`, which always succeeds (possibly
///   with no bits set);
/// - values of different types: nullopt.
[[nodiscard]] PARALLAX_API std::optional<CapsValue> intersect(const CapsValue& a, const CapsValue& b);

/// True when every value `a` allows, `b` allows too (equal values are
/// subsets of each other). A list is a subset when each item is; an int
/// range is a subset of a list that holds each of its ints; a double or
/// fraction range is never a subset of a list or a fixed value. As in
/// GStreamer, bitmask `a` is a subset of bitmask `b` when `a` sets no bit
/// that `b` does not set.
[[nodiscard]] PARALLAX_API bool is_subset(const CapsValue& a, const CapsValue& b);

/// The value made fixed as GStreamer's gst_value_fixate does: a range gives
/// its minimum, a list its first item; a fixed value is returned unchanged.
[[nodiscard]] PARALLAX_API CapsValue fixate(const CapsValue& value);

// ---------------------------------------------------------------------------
// Structure

/// The intersection of two structures (gst_structure_intersect), or nullopt
/// when their names differ or a field they share has no common value. A
/// shared field holds the intersection of both values; a field of only one
/// structure is kept as it is. Fields come in `a`'s order, then `b`'s
/// remaining fields in `b`'s order.
[[nodiscard]] PARALLAX_API std::optional<Structure> intersect(const Structure& a, const Structure& b);

/// True when `a` is a subset of `b` (gst_structure_is_subset): the same name,
/// and every field of `b` is in `a` with a value that is a subset of `b`'s.
/// `a` may have more fields: `video/x-raw, width=640` is a subset of
/// `video/x-raw`, a field that `b` does not name being unconstrained.
[[nodiscard]] PARALLAX_API bool is_subset(const Structure& a, const Structure& b);

/// The structure with every field fixated as by fixate(const CapsValue&)
/// (gst_structure_fixate): ranges give their minimum, lists their first item.
[[nodiscard]] PARALLAX_API Structure fixate(const Structure& structure);

/// Fixates int field `field` to the value nearest `target`
/// (gst_structure_fixate_field_nearest_int): an int range gives `target`
/// clamped to the range, a list of ints its item nearest `target` (the first
/// such on a tie). Returns true when it changed the field; false when there
/// is no such field, it is already a fixed value, or it holds no ints.
PARALLAX_API bool fixate_field_nearest_int(Structure& structure, std::string_view field, std::int32_t target);

/// Fixates fraction field `field` to the value nearest `target`
/// (gst_structure_fixate_field_nearest_fraction): a fraction range gives
/// `target` clamped to the range, a list of fractions its item nearest
/// `target` (the first such on a tie). Returns true when it changed the
/// field; false when there is no such field, it is already a fixed value, or
/// it holds no fractions.
PARALLAX_API bool fixate_field_nearest_fraction(Structure& structure, std::string_view field, Fraction target);

/// Fixates string field `field` (gst_structure_fixate_field_string): a list
/// of strings gives `target` when it is one of its items, its first item
/// otherwise. Returns true when it changed the field; false when there is no
/// such field, it is already a fixed value, or it holds no strings.
PARALLAX_API bool fixate_field_string(Structure& structure, std::string_view field, std::string_view target);

// ---------------------------------------------------------------------------
// Caps
//
// Two structures only meet when their caps features are equal: features
// compare as sets, and no features equals `memory:SystemMemory` (as in
// GStreamer). The `ANY` caps feature has no special meaning here.

/// The caps both `a` and `b` allow (gst_caps_intersect_full with
/// GST_CAPS_INTERSECT_FIRST): EMPTY when either is EMPTY; the other when one
/// is ANY; otherwise, for each structure of `a` in order, its intersection
/// with each structure of `b` in order that has equal features, so the
/// result keeps `a`'s order of preference. A result structure carries `a`'s
/// features and is left out when it is a subset of one already in the
/// result. EMPTY when nothing intersects.
[[nodiscard]] PARALLAX_API Caps intersect(const Caps& a, const Caps& b);

/// True when intersect(a, b) is not EMPTY, without building it
/// (gst_caps_can_intersect).
[[nodiscard]] PARALLAX_API bool can_intersect(const Caps& a, const Caps& b);

/// True when every structure `a` allows, `b` allows (gst_caps_is_subset):
/// EMPTY is a subset of anything, anything is a subset of ANY, ANY is a
/// subset of ANY only, nothing but EMPTY is a subset of EMPTY. Otherwise each
/// structure of `a` must be a subset of one structure of `b` with equal
/// features. As in GStreamer, a structure covered only by the union of
/// several structures of `b` does not count.
[[nodiscard]] PARALLAX_API bool is_subset(const Caps& a, const Caps& b);

/// True when `a` and `b` allow the same structures: each is a subset of the
/// other (gst_caps_is_equal). Unlike `==`, which is strict, it ignores order
/// and how the sets are written: `width={ 1, 2 }` equals `width=[ 1, 2 ]`.
[[nodiscard]] PARALLAX_API bool is_equal(const Caps& a, const Caps& b);

/// The first structure of `caps`, fixated as by fixate(const Structure&),
/// with its features (gst_caps_fixate). Fails with Errc::state on ANY and
/// EMPTY, which have no structure to choose.
[[nodiscard]] PARALLAX_API Result<Caps> fixate(const Caps& caps);

/// The caps with every list expanded into separate structures
/// (gst_caps_normalize): a structure with lists `f={ a, b }` and
/// `g={ 1, 2 }` becomes four, one per combination, in the order (a,1),
/// (a,2), (b,1), (b,2): the earlier field varies slowest. Ranges stay. ANY
/// and EMPTY are returned unchanged.
[[nodiscard]] PARALLAX_API Caps normalize(const Caps& caps);

/// The caps without the structures that are subsets of another structure
/// with equal features (of two equal ones, the first stays). The others keep
/// their order. Unlike gst_caps_simplify, structures are not merged (two
/// structures differing in one field stay two) and not reordered. ANY and
/// EMPTY are returned unchanged.
[[nodiscard]] PARALLAX_API Caps simplify(const Caps& caps);

/// The caps with fields `fields` removed from every structure, so that they
/// allow any value there (what a converter does to the fields it can change,
/// as GStreamer's videoconvert removes format and colorimetry in its
/// transform_caps). Structures that become equal are kept once. ANY and
/// EMPTY are returned unchanged.
[[nodiscard]] PARALLAX_API Caps without_fields(const Caps& caps, std::initializer_list<std::string_view> fields);

} // namespace parallax
