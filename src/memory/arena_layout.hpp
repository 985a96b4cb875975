#pragma once

// The byte layout of an arena memfd. Everything here is shared between
// processes (possibly built by different versions of libparallax, possibly
// hostile), so it holds only fixed-width integers and lock-free atomics at
// pinned offsets. docs/design/memory.md describes the same layout in prose.

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace parallax::detail {

inline constexpr std::uint64_t arena_magic = 0x414E455241584C50ULL; // "PLXARENA" little-endian
inline constexpr std::uint32_t arena_layout_version = 3;
inline constexpr std::size_t cache_line = 64;

inline constexpr std::uint32_t max_participants_limit = 64;
inline constexpr std::uint32_t max_slot_count = 64U * 64U * 64U; // three levels of 64-bit hint words
inline constexpr std::uint32_t max_alignment = 1U << 21U;        // 2 MiB

// A reference-count word of one participant on one slot: the low 24 bits
// count references, the high 8 bits carry the participant record's
// incarnation, so that a reference credited to a participant that has died
// and been replaced is refused instead of landing on its successor.
inline constexpr std::uint32_t count_bits = 24;
inline constexpr std::uint32_t count_mask = (1U << count_bits) - 1U;
inline constexpr std::uint32_t tag_of(std::uint32_t word) {
    return word >> count_bits;
}
inline constexpr std::uint32_t make_count_word(std::uint32_t tag, std::uint32_t count) {
    return (tag << count_bits) | (count & count_mask);
}

// A slot's state word: the phase in bits 0-1; for an owned slot, the owning
// participant's index in bits 8-15 and the low 8 bits of its incarnation in
// bits 16-23; a generation in the high 32 bits that advances every time the
// slot is freed (so a stale compare-and-swap fails).
//   free   -> owned    acquire (one CAS): only the owner's process holds it
//   owned  -> shared   share() credits another participant (one CAS)
//   owned  -> free     the owner's last reference went (a plain store: nobody
//                      else can hold or free an owned slot of a live owner)
//   owned  -> parked   the same, but the releasing thread keeps the slot for
//                      its next acquire (a store; the owner bits stay)
//   parked -> owned    that thread's next acquire, or any acquirer of any
//                      participant that finds no free slot (one CAS)
//   shared -> free     the last reference of all participants went (one CAS)
// An owned or parked slot of an owner that is gone, and a shared slot without
// references, are orphans of a process that died mid-operation: reclaim
// frees them.
inline constexpr std::uint64_t slot_free = 0;
inline constexpr std::uint64_t slot_shared = 1;
inline constexpr std::uint64_t slot_parked = 2;
inline constexpr std::uint64_t slot_owned = 3;
inline constexpr std::uint64_t slot_phase(std::uint64_t state) {
    return state & 3U;
}
inline constexpr std::uint32_t slot_generation(std::uint64_t state) {
    return static_cast<std::uint32_t>(state >> 32U);
}
inline constexpr std::uint32_t slot_owner(std::uint64_t state) {
    return static_cast<std::uint32_t>((state >> 8U) & 0xFFU);
}
inline constexpr std::uint32_t slot_owner_tag(std::uint64_t state) {
    return static_cast<std::uint32_t>((state >> 16U) & 0xFFU);
}
inline constexpr std::uint64_t make_slot_state(std::uint32_t generation, std::uint64_t phase) {
    return (std::uint64_t{generation} << 32U) | phase;
}
inline constexpr std::uint64_t make_held_state(std::uint32_t generation, std::uint32_t participant,
                                               std::uint32_t tag, std::uint64_t phase) {
    return (std::uint64_t{generation} << 32U) | (std::uint64_t{tag & 0xFFU} << 16U) |
           (std::uint64_t{participant & 0xFFU} << 8U) | phase;
}
inline constexpr std::uint64_t make_owned_state(std::uint32_t generation, std::uint32_t participant,
                                                std::uint32_t tag) {
    return make_held_state(generation, participant, tag, slot_owned);
}
inline constexpr std::uint64_t make_parked_state(std::uint32_t generation, std::uint32_t participant,
                                                 std::uint32_t tag) {
    return make_held_state(generation, participant, tag, slot_parked);
}

// Participant record states. The owner word names, atomically with the
// state, the process that put it there: its pid (bits 32-63) and a 16-bit tag
// of its pid namespace (bits 16-31), so that a process in another namespace
// does not judge that pid; bits 8-15 carry the low 8 bits of the record's
// incarnation, so that a CAS on the word fails once the index was reclaimed
// and registered again. While reclaiming, the process named is the
// reclaimer, not the participant being reclaimed.
enum class ParticipantState : std::uint8_t { free = 0, claiming = 1, active = 2, reclaiming = 3 };
inline constexpr std::uint64_t make_owner(ParticipantState state, std::uint32_t pid, std::uint32_t namespace_tag,
                                          std::uint32_t incarnation_tag) {
    return (std::uint64_t{pid} << 32U) | (std::uint64_t{namespace_tag & 0xFFFFU} << 16U) |
           (std::uint64_t{incarnation_tag & 0xFFU} << 8U) | static_cast<std::uint8_t>(state);
}
inline constexpr ParticipantState owner_state(std::uint64_t owner) {
    return static_cast<ParticipantState>(owner & 0xFFU);
}
inline constexpr std::uint32_t owner_pid(std::uint64_t owner) {
    return static_cast<std::uint32_t>(owner >> 32U);
}
inline constexpr std::uint32_t owner_namespace_tag(std::uint64_t owner) {
    return static_cast<std::uint32_t>((owner >> 16U) & 0xFFFFU);
}
inline constexpr std::uint32_t owner_incarnation_tag(std::uint64_t owner) {
    return static_cast<std::uint32_t>((owner >> 8U) & 0xFFU);
}
inline constexpr std::uint32_t namespace_tag(std::uint64_t pid_namespace) {
    return static_cast<std::uint32_t>(pid_namespace & 0xFFFFU);
}
// The owner word of a record that `pid` (namespace tag `ns`) takes over for
// reclaiming, keeping the record's incarnation tag.
inline constexpr std::uint64_t reclaiming_owner(std::uint64_t owner, std::uint32_t pid, std::uint32_t ns) {
    return make_owner(ParticipantState::reclaiming, pid, ns, owner_incarnation_tag(owner));
}

// Never constructed: it is a view of bytes in the memfd.
struct alignas(cache_line) ArenaHeader { // NOLINT(cppcoreguidelines-pro-type-member-init)
    // Immutable after creation. Readers copy these once, validate them, and
    // never read them again (a hostile writer could change them later).
    std::uint64_t magic;
    std::uint32_t layout_version;
    std::uint32_t header_size;
    std::uint64_t total_size;
    std::uint64_t slot_size;   // usable bytes per slot
    std::uint64_t slot_stride; // distance between two slots' data
    std::uint32_t slot_count;
    std::uint32_t alignment;
    std::uint32_t max_participants;
    std::uint32_t slot_header_stride;
    std::uint8_t arena_id[16]; // random, unique across processes and reboots
    std::uint64_t participants_offset;
    std::uint64_t hints_offset; // top word, then summary words, then leaf words
    std::uint64_t slot_headers_offset;
    std::uint64_t data_offset;
    std::uint32_t creator_pid;
    std::uint32_t reserved0;
    std::uint8_t reserved1[16];
    // Mutable, on lines of their own.
    alignas(cache_line) std::atomic<std::uint32_t> release_epoch; // futex word: bumped whenever a slot is freed
    std::atomic<std::uint32_t> waiters;                           // processes' threads sleeping on release_epoch
    std::uint8_t reserved2[56];
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(sizeof(ArenaHeader) == 192);
static_assert(offsetof(ArenaHeader, magic) == 0);
static_assert(offsetof(ArenaHeader, layout_version) == 8);
static_assert(offsetof(ArenaHeader, header_size) == 12);
static_assert(offsetof(ArenaHeader, total_size) == 16);
static_assert(offsetof(ArenaHeader, slot_size) == 24);
static_assert(offsetof(ArenaHeader, slot_stride) == 32);
static_assert(offsetof(ArenaHeader, slot_count) == 40);
static_assert(offsetof(ArenaHeader, alignment) == 44);
static_assert(offsetof(ArenaHeader, max_participants) == 48);
static_assert(offsetof(ArenaHeader, slot_header_stride) == 52);
static_assert(offsetof(ArenaHeader, arena_id) == 56);
static_assert(offsetof(ArenaHeader, participants_offset) == 72);
static_assert(offsetof(ArenaHeader, hints_offset) == 80);
static_assert(offsetof(ArenaHeader, slot_headers_offset) == 88);
static_assert(offsetof(ArenaHeader, data_offset) == 96);
static_assert(offsetof(ArenaHeader, creator_pid) == 104);
static_assert(offsetof(ArenaHeader, release_epoch) == 128);
static_assert(offsetof(ArenaHeader, waiters) == 132);

struct alignas(cache_line) ParticipantRecord {
    std::atomic<std::uint64_t> owner;       // make_owner(state, pid, namespace tag, incarnation tag)
    std::atomic<std::uint32_t> incarnation; // advances at every registration; low 8 bits tag count words
    std::atomic<std::uint32_t> reclaimed_pid; // while reclaiming: the pid of the participant being reclaimed
    std::atomic<std::uint64_t> start_time;    // /proc/<pid>/stat field 22, clock ticks since boot
    std::atomic<std::uint64_t> boot_id;       // hash of /proc/sys/kernel/random/boot_id
    std::atomic<std::uint64_t> pid_namespace; // inode of /proc/self/ns/pid
    std::uint8_t reserved[24];
};
static_assert(sizeof(ParticipantRecord) == 64);
static_assert(offsetof(ParticipantRecord, owner) == 0);
static_assert(offsetof(ParticipantRecord, incarnation) == 8);
static_assert(offsetof(ParticipantRecord, reclaimed_pid) == 12);
static_assert(offsetof(ParticipantRecord, start_time) == 16);
static_assert(offsetof(ParticipantRecord, boot_id) == 24);
static_assert(offsetof(ParticipantRecord, pid_namespace) == 32);

// Per-slot header: the state word, then max_participants count words.
struct SlotHeader {
    std::atomic<std::uint64_t> state;
    std::uint64_t reserved;
    std::atomic<std::uint32_t> counts[1]; // really max_participants entries
};
static_assert(offsetof(SlotHeader, state) == 0);
static_assert(offsetof(SlotHeader, counts) == 16);
inline constexpr std::size_t slot_counts_offset = 16;

// The geometry from which every offset is derived; creator and readers
// compute it the same way, and a reader refuses a header that disagrees.
struct ArenaGeometry {
    std::uint64_t slot_size = 0;
    std::uint64_t slot_stride = 0;
    std::uint32_t slot_count = 0;
    std::uint32_t alignment = 0;
    std::uint32_t max_participants = 0;
    std::uint32_t slot_header_stride = 0;
    std::uint32_t leaf_words = 0;
    std::uint32_t summary_words = 0;
    std::uint64_t participants_offset = 0;
    std::uint64_t hints_offset = 0;
    std::uint64_t parked_map_offset = 0; // derived only: not in the header
    std::uint64_t slot_headers_offset = 0;
    std::uint64_t data_offset = 0;
    std::uint64_t total_size = 0;
};

} // namespace parallax::detail
