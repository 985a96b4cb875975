#pragma once

// The report segment shared by arena_kill_test and arena_stress_child: counters
// and a mailbox through which children hand references to the parent.

#include <atomic>
#include <cstdint>

namespace parallax::stress {

inline constexpr std::uint32_t mailbox_entries = 64;

// A mailbox entry: 0 when empty, else state | slot << 8 | pid << 32.
inline constexpr std::uint64_t entry_pending = 1; // claimed; the credit may or may not have happened
inline constexpr std::uint64_t entry_ready = 2;   // the parent holds one credited reference
inline constexpr std::uint64_t make_entry(std::uint64_t state, std::uint32_t slot, std::uint32_t pid) {
    return state | (std::uint64_t{slot & 0xFFFFFFU} << 8U) | (std::uint64_t{pid} << 32U);
}
inline constexpr std::uint64_t entry_state(std::uint64_t e) {
    return e & 0xFFU;
}
inline constexpr std::uint32_t entry_slot(std::uint64_t e) {
    return static_cast<std::uint32_t>((e >> 8U) & 0xFFFFFFU);
}
inline constexpr std::uint32_t entry_pid(std::uint64_t e) {
    return static_cast<std::uint32_t>(e >> 32U);
}

struct Stamp {
    std::uint32_t pid;
    std::uint32_t pad;
    std::uint64_t nonce;
};

struct Report {
    std::atomic<std::uint64_t> violations;
    std::atomic<std::uint64_t> acquisitions;
    std::atomic<std::uint64_t> started;
    std::atomic<std::uint64_t> shared;
    std::atomic<std::uint64_t> parent_handle; // index | incarnation << 32, 0 until set
    std::atomic<std::uint64_t> mailbox[mailbox_entries];
    std::atomic<std::uint64_t> mailbox_nonce[mailbox_entries];
};

} // namespace parallax::stress
