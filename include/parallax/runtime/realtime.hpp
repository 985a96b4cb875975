#pragma once

/// \file
/// Real-time streaming threads, seen from outside the executor: a hook that
/// tells code whether it runs on the thread of a real-time element, so that
/// a test can check that the hot path there does not allocate. Which
/// elements are real-time is real_time_choice() in
/// `parallax/element/execution_hints.hpp`.

#include <parallax/base/export.hpp>

namespace parallax {

/// True on a streaming thread that runs a real-time element (its queue's
/// thread, or a real-time source's own), whether or not the system granted
/// SCHED_FIFO. Meant for tests: a replacement `operator new` may count the
/// allocations made where this is true. Reads a thread_local: wait-free,
/// allocation-free. Called from: any thread.
[[nodiscard]] PARALLAX_API bool on_real_time_thread() noexcept;

} // namespace parallax
