#pragma once

// The spin half of spin-then-sleep waiting, shared by ThreadLink (threads of
// one process) and ShmRing (two processes).

#include "runtime/futex.hpp"

#include <chrono>
#include <cstdint>
#include <sched.h>

namespace parallax::detail {

/// Nanoseconds of the steady clock.
inline std::int64_t steady_now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Pause instructions between looks at the clock while spinning, and looks
/// at the clock between yields of the CPU to other runnable threads.
inline constexpr int pauses_per_clock_check = 16;
inline constexpr int clock_checks_per_yield = 16;

/// Whether a spin offers the CPU to other runnable threads.
enum class SpinYield : std::uint8_t {
    /// Every few microseconds: a thread waiting here must not keep the one
    /// it waits for off a shared CPU.
    every_few_us,
    /// Never: for a short window where the data is expected any moment. On
    /// a VM a sched_yield() there delayed a record from the other process
    /// by about 8 µs at the median (benches/RESULTS.md).
    never,
};

/// How often a spin looks whether it is ready.
enum class SpinLook : std::uint8_t {
    /// After every pause instruction.
    every_pause,
    /// Once per look at the clock (a few hundred ns): for a look that reads
    /// a line another core writes at every step, each read of which makes
    /// that core's next write wait for the line to come back.
    every_clock_check,
};
/// Spins until `ready()` or `budget_ns` has passed: pause instructions, a
/// look at the clock every few, and (unless `yield` says never) the CPU
/// offered to other runnable threads every few microseconds. True when
/// ready.
template <typename Ready>
bool spin_until(Ready&& ready, std::int64_t budget_ns, SpinYield yield = SpinYield::every_few_us,
                SpinLook look = SpinLook::every_pause) {
    const std::int64_t start = steady_now_ns();
    for (int checks = 1;; ++checks) {
        for (int i = 0; i < pauses_per_clock_check; ++i) {
            if ((look == SpinLook::every_pause || i == 0) && ready()) {
                return true;
            }
            cpu_relax();
        }
        if (steady_now_ns() - start >= budget_ns) {
            return ready();
        }
        if (yield == SpinYield::every_few_us && checks % clock_checks_per_yield == 0) {
            sched_yield();
        }
    }
}

} // namespace parallax::detail
