#pragma once

/// \file
/// State: the life cycle of elements and pipelines.

#include <parallax/base/export.hpp>

#include <cstdint>
#include <string_view>

namespace parallax {

/// The states of an element or pipeline, in order. GStreamer's NULL, READY,
/// PAUSED and PLAYING map onto them as described in docs/guide/pipelines.md:
///
/// - suspended (NULL): created and configured; holds no resources.
/// - idle (READY): resources opened, links checked, the plan made; no data.
/// - paused (PAUSED): streaming threads exist but wait; data in queues stays
///   where it is and flow resumes exactly there.
/// - running (PLAYING): data flows.
enum class State : std::uint8_t { suspended, idle, paused, running };

/// "suspended", "idle", "paused", "running".
PARALLAX_API std::string_view to_string(State s) noexcept;

} // namespace parallax
