#pragma once

/// \file
/// Flow: what a per-buffer call returns.

#include <parallax/base/export.hpp>

#include <cstdint>
#include <string_view>

namespace parallax {

/// The result of pushing, producing or consuming one buffer. Per-buffer calls
/// return a Flow, never a Result: a failure has already been posted to the
/// bus (once, naming the element) by the time Flow::error travels upstream.
enum class Flow : std::int8_t {
    ok = 0,              ///< Carry on.
    dropped = 1,         ///< Success, but the buffer was consumed without output (a filter dropped it).
    not_linked = -1,     ///< The pad has no peer.
    flushing = -2,       ///< The pad is flushing or the pipeline is stopping: stop quietly.
    eos = -3,            ///< Downstream is at end of stream and takes no more data.
    not_negotiated = -4, ///< No format was agreed for this link.
    error = -5,          ///< A fatal error; already posted to the bus.
};

/// True for ok and dropped.
constexpr bool is_success(Flow f) noexcept {
    return static_cast<std::int8_t>(f) >= 0;
}

/// "ok", "dropped", "not-linked", "flushing", "eos", "not-negotiated", "error".
PARALLAX_API std::string_view to_string(Flow f) noexcept;

} // namespace parallax
