#pragma once

/// \file
/// PadTemplate: the pads an element can have, declared as data.

#include <parallax/base/export.hpp>
#include <parallax/caps/caps.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace parallax {

/// Which way data flows through a pad.
enum class PadDirection : std::uint8_t { src, sink };

/// When a pad exists.
enum class PadPresence : std::uint8_t {
    always,    ///< From creation.
    sometimes, ///< Added by the element while running (a demuxer's streams).
    request,   ///< Made on request (a tee's src_%u, a funnel's sink_%u).
};

PARALLAX_API std::string_view to_string(PadDirection d) noexcept;
PARALLAX_API std::string_view to_string(PadPresence p) noexcept;

/// A pad template: a name (for request and sometimes pads a pattern with one
/// `%u`, `%d` or `%s`), a direction, a presence, and the caps its pads can
/// handle.
struct PARALLAX_API PadTemplate {
    std::string name;
    PadDirection direction = PadDirection::src;
    PadPresence presence = PadPresence::always;
    Caps caps = Caps::any();

    /// True when `pad_name` fits this template's name (`src_3` fits
    /// `src_%u`; a pattern also fits itself).
    [[nodiscard]] bool matches(std::string_view pad_name) const noexcept;
    /// True when the name contains a `%u`, `%d` or `%s` pattern.
    [[nodiscard]] bool is_pattern() const noexcept;
    /// The pad name for `index` (`src_%u` and 2 give `src_2`).
    [[nodiscard]] std::string pad_name(unsigned index) const;
};

} // namespace parallax
