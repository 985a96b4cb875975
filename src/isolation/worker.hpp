#pragma once

// The body of plx-worker: runs one element for an isolated element's proxy.

#include <parallax/base/export.hpp>

namespace parallax::detail {

/// Reads the setup frame from the control socket `control_fd` (its
/// ownership passes), creates the element, enters the sandbox, then feeds
/// the element from the "in" ring and writes what it produces to the "out"
/// ring until the proxy closes its end. Returns the process exit status.
PARALLAX_API int run_worker(int control_fd);

} // namespace parallax::detail
