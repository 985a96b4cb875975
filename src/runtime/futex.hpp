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

/// A pause instruction for spin loops.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

} // namespace parallax::detail
