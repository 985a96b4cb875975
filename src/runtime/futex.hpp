#pragma once

// Futex waits and wakes on a 32-bit atomic, private to this process.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace parallax::detail {

/// Sleeps while `*word == expected`, at most `timeout` (negative: forever).
/// Returns early on a wake, a signal or a spurious wake-up.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1)) noexcept;
/// Wakes every thread sleeping on `word`.
void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept;

/// Asymmetric barriers, for a Dekker-style handshake whose one side runs
/// often (a producer publishing an item, then looking whether the consumer
/// sleeps) and the other rarely (a consumer about to sleep). The frequent
/// side calls light_barrier(), which then costs no instruction; the rare
/// side calls heavy_barrier(), which makes every other running thread of
/// the process execute a full barrier (membarrier(2), private expedited).
/// Where membarrier is unavailable both are full fences. Either way, a
/// store before one side's barrier is seen by the other side's loads after
/// its barrier, or the other way round.
///
/// enable_asymmetric_barriers() registers with the kernel; it is called once
/// before the first handshake (ThreadLink's constructor does) and is cheap
/// afterwards.
void enable_asymmetric_barriers() noexcept;
extern std::atomic<bool> asymmetric_barriers_enabled;

inline void light_barrier() noexcept {
    if (asymmetric_barriers_enabled.load(std::memory_order_relaxed)) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
}

void heavy_barrier() noexcept;

/// A pause instruction for spin loops.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

} // namespace parallax::detail
