#pragma once

/// \file
/// Caps: what a pad can produce or accept (GstCaps). ANY, EMPTY, or a list of
/// Structures, each with optional caps features. Parsed from and printed to
/// GStreamer's caps strings.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/caps/structure.hpp>
#include <parallax/caps/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace parallax {

/// The caps features of one structure, e.g. `memory:SystemMemory`, in the
/// order given. No features means plain system memory, as in GStreamer;
/// unlike GStreamer, an explicit `memory:SystemMemory` is kept (and printed).
using CapsFeatures = std::vector<std::string>;

/// Media capabilities: ANY (anything), EMPTY (nothing), or one or more
/// structures, each with its features. A small value type.
///
/// Equality is strict (GStreamer's gst_caps_is_strictly_equal): the same
/// structures with the same features in the same order.
class PARALLAX_API Caps {
public:
    /// EMPTY.
    Caps() = default;

    /// Caps that accept anything.
    [[nodiscard]] static Caps any();
    /// Caps that accept nothing.
    [[nodiscard]] static Caps empty();

    /// Parses a GStreamer caps string: `ANY`, `EMPTY`, `NONE` (= EMPTY), an
    /// empty string (= EMPTY), or structures separated by `;` such as
    /// `video/x-raw(memory:SystemMemory), format=I420, framerate=30/1`.
    /// See docs/guide/caps.md for the syntax. On malformed input the Error
    /// (Errc::invalid_argument) says what was expected and its position() is
    /// the byte offset of the offending character.
    [[nodiscard]] static Result<Caps> parse(std::string_view text);

    /// Parses caps known to be valid: string literals in code only, such as
    /// an element's pad template caps. Malformed text is a programming error:
    /// it prints the parse error to stderr and aborts. Use parse() for
    /// anything from outside.
    [[nodiscard]] static Caps parse_static(std::string_view text);

    [[nodiscard]] bool is_any() const noexcept { return any_; }
    /// True for EMPTY (not ANY, no structures).
    [[nodiscard]] bool is_empty() const noexcept { return !any_ && entries_.empty(); }
    /// True when there is exactly one structure and all its fields are fixed.
    [[nodiscard]] bool is_fixed() const noexcept;

    /// The number of structures (0 for ANY and EMPTY).
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    /// Structure `i`; `i` must be less than size().
    [[nodiscard]] const Structure& structure(std::size_t i) const;
    /// The features of structure `i`; `i` must be less than size().
    [[nodiscard]] const CapsFeatures& features(std::size_t i) const;

    /// Appends a structure with its features. Appending to ANY leaves ANY
    /// (anything already includes it), as in GStreamer. Aborts when a feature
    /// is not a valid name (letters, digits and `/-_.:+`).
    void append(Structure structure, CapsFeatures features = {});

    /// GStreamer's canonical form: `ANY`, `EMPTY`, or the structures joined
    /// by `; `, e.g. `video/x-raw(memory:SystemMemory), width=(int)640;
    /// audio/x-raw`. parse(to_string()) gives back equal caps.
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const Caps&, const Caps&) = default;

private:
    struct Entry {
        Structure structure;
        CapsFeatures features;

        friend bool operator==(const Entry&, const Entry&) = default;
    };

    std::vector<Entry> entries_;
    bool any_ = false;
};

} // namespace parallax
