#pragma once

/// \file
/// What a pipeline's caps negotiation may do on its own, and what it did.

#include <parallax/base/export.hpp>
#include <parallax/caps/caps.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parallax {

/// Whether negotiation may insert converters where two linked elements cannot
/// agree on a format.
enum class ConverterPolicy : std::uint8_t {
    allow, ///< Insert the cheapest chain (the default).
    warn,  ///< Insert it, and post a warning on the bus naming what it inserted.
    deny,  ///< Never insert: fail, and say which converters would have done it.
};

PARALLAX_API std::string_view to_string(ConverterPolicy policy) noexcept;

/// A converter that negotiation inserted.
struct InsertedConverter {
    std::string name;     ///< `auto-videoconvert0`
    std::string factory;  ///< `videoconvert`
    std::string upstream; ///< The pad it was inserted after (`videotestsrc0:src`).
    std::string downstream; ///< The pad it was inserted before (`sink:sink`).
};

/// The outcome of a negotiation: the converters inserted (none when every
/// link agreed), and each link's fixed caps as "src-pad -> sink-pad: caps".
struct NegotiationReport {
    std::vector<InsertedConverter> inserted;
    std::vector<std::string> links;
};

} // namespace parallax
