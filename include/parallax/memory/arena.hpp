#pragma once

/// \file
/// Arena: a memfd of equal-sized slots whose reference counts live in the
/// shared memory itself, so that every process that maps the arena counts the
/// same references with plain atomics. See docs/design/memory.md.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/base/unique_fd.hpp>
#include <parallax/memory/segment.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parallax {

namespace detail {
struct ArenaHeader;
struct ParticipantRecord;
} // namespace detail

/// 128 random bits naming an arena, unique across processes and reboots.
struct ArenaId {
    std::array<std::uint8_t, 16> bytes{};

    /// 32 lowercase hex digits.
    [[nodiscard]] PARALLAX_API std::string to_string() const;
    friend bool operator==(const ArenaId&, const ArenaId&) = default;
};

/// Index of a slot in its arena.
using SlotIndex = std::uint32_t;

/// Index of a participant (a process that maps the arena) in its arena.
using ParticipantIndex = std::uint32_t;

/// A participant as another process names it when it credits a reference to
/// it (Arena::share): the index and the incarnation of the record, so that a
/// reference is never credited to a successor that reuses the index.
struct ParticipantHandle {
    ParticipantIndex index = 0;
    std::uint32_t incarnation = 0;
};

/// The shape of a new arena.
struct ArenaConfig {
    /// Usable bytes per slot; rounded up to `alignment`.
    std::size_t slot_size = 4096;
    /// Number of slots, 1 … 262144.
    std::uint32_t slot_count = 64;
    /// Alignment of every slot's data: a power of two, 64 … 2 MiB.
    std::uint32_t alignment = 64;
    /// How many processes may map the arena at once, 1 … 64.
    std::uint32_t max_participants = 16;
    /// Page size preference of the memfd (falls back to normal pages).
    PageSize page_size = PageSize::normal;
    /// memfd name, visible in /proc/<pid>/maps.
    std::string name = "parallax-arena";
};

/// What reclaim_dead() found and did.
struct ReclaimReport {
    /// Participants found dead and released (their pids).
    std::vector<std::uint32_t> dead_pids;
    /// References the dead participants held, summed over slots.
    std::uint64_t references_dropped = 0;
    /// Slots returned to the free set, including slots orphaned by a process
    /// that died in the middle of acquiring or releasing.
    std::uint32_t slots_freed = 0;
};

/// One registered participant, as seen by participants().
struct ParticipantInfo {
    ParticipantIndex index = 0;
    std::uint32_t pid = 0; ///< In the pid namespace of the participant.
    std::uint32_t incarnation = 0;
    std::uint64_t references = 0; ///< References held, summed over slots.
    bool reclaiming = false;      ///< Found dead; its references are being dropped.
};

/// A point-in-time view of an arena, for tools and tests.
struct ArenaStats {
    std::uint32_t slot_count = 0;
    std::uint32_t free_slots = 0;
    std::uint32_t held_slots = 0;
    std::uint32_t participants = 0;
};

/// A shared-memory arena of reference-counted slots.
///
/// Acquire and release are lock-free and O(1) and may be called by any
/// participant from any thread. Copying a reference is one atomic increment
/// on the calling participant's count of the slot.
///
/// **Ownership:** an Arena is held through std::shared_ptr; every Buffer and
/// BufferPool of this process that uses it keeps a raw pointer and must not
/// outlive it (BufferPool holds the shared_ptr). Destroying an Arena
/// unregisters this process as a participant; the creator's destruction does
/// not invalidate other processes' mappings.
class PARALLAX_API Arena {
public:
    /// Creates a new arena in a fresh memfd (sealed against shrinking and
    /// growing) and registers this process as its first participant.
    static Result<std::shared_ptr<Arena>> create(const ArenaConfig& config = {});

    /// Maps an arena received as an fd and registers this process as a
    /// participant. Every field of the header is validated against the file:
    /// an Error names the first check that failed.
    static Result<std::shared_ptr<Arena>> attach(UniqueFd fd);

    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;
    ~Arena();

    /// Takes a free slot with one reference held by this participant.
    /// When no slot is free, reclaims the slots of dead participants and
    /// tries once more; Errc::exhausted when the arena is truly full.
    Result<SlotIndex> acquire();

    /// Like acquire(), but returns nothing at once when no slot is free,
    /// without reclaiming (the hot path of pools).
    std::optional<SlotIndex> try_acquire() noexcept {
        // Inline, so that the optional lives in registers: returned from an
        // out-of-line call it goes through memory and stalls the load.
        const SlotIndex slot = take_slot();
        return slot == no_slot ? std::nullopt : std::optional<SlotIndex>(slot);
    }

    /// Adds a reference held by this participant. The caller must already
    /// hold one on `slot`. One atomic increment.
    void retain(SlotIndex slot) noexcept { count_word(slot, participant_)->fetch_add(1, std::memory_order_relaxed); }

    /// Drops a reference held by this participant. The last reference over
    /// all participants returns the slot to the free set at once (or keeps
    /// it for this thread's next acquire: see docs/design/memory.md).
    void release(SlotIndex slot) noexcept;

    /// Credits one reference on `slot` to another participant, for a buffer
    /// that is being handed to that process. The caller must hold a reference.
    /// The receiver takes ownership of the credited reference (it releases it
    /// when done); if it dies first, reclaim_dead() drops it. Fails when the
    /// handle names a participant that is gone or was replaced.
    Result<void> share(SlotIndex slot, ParticipantHandle to);

    /// Moves one of this process's references on `slot` to another
    /// participant: share(), then this process's reference dropped without
    /// looking for the last one (release() looks at every participant's
    /// count, a cache line another core is writing). Only for a reference
    /// the receiver cannot drop before this returns: one it learns of from a
    /// message sent afterwards. The caller gives up the reference (see
    /// Buffer::release_reference()). To this process itself: nothing moves.
    Result<void> hand_over(SlotIndex slot, ParticipantHandle to);

    /// Returns every slot referenced only by dead participants. Safe to run
    /// from several processes at once; each dead participant is reclaimed
    /// exactly once.
    ReclaimReport reclaim_dead();

    /// Drops every reference counted to participant `who` and frees the
    /// slots nobody else holds, for a participant whose process the caller
    /// knows to be dead (it reaped it) but that reclaim_dead() cannot judge:
    /// a worker in a pid namespace of its own, whose pid means nothing
    /// here. Nothing happens when `who` was reclaimed already (its
    /// incarnation moved on). Errc::invalid_argument for this process's own
    /// handle or an index out of range.
    Result<ReclaimReport> reclaim(ParticipantHandle who);

    /// Counts this thread as a waiter, looks for a free slot once more, and
    /// if there is none sleeps until any participant frees a slot, wake_waiters()
    /// is called, `*cancel` is set (checked before sleeping), or `timeout`
    /// passes; then looks again. Nothing when it found no slot.
    /// The building block of BufferPool::acquire().
    std::optional<SlotIndex> try_acquire_or_wait(std::chrono::nanoseconds timeout,
                                                 const std::atomic<bool>* cancel = nullptr) noexcept;

    /// Wakes every thread of every process in try_acquire_or_wait().
    void wake_waiters() noexcept;

    [[nodiscard]] std::byte* slot_data(SlotIndex slot) const noexcept {
        return data_ + static_cast<std::size_t>(slot) * slot_stride_;
    }
    [[nodiscard]] std::size_t slot_size() const noexcept { return slot_size_; }
    [[nodiscard]] std::uint32_t slot_count() const noexcept { return slot_count_; }
    [[nodiscard]] std::uint32_t alignment() const noexcept { return alignment_; }
    [[nodiscard]] std::uint32_t max_participants() const noexcept { return max_participants_; }
    [[nodiscard]] const ArenaId& id() const noexcept { return id_; }
    [[nodiscard]] ParticipantIndex participant() const noexcept { return participant_; }
    [[nodiscard]] ParticipantHandle handle() const noexcept;
    [[nodiscard]] bool is_creator() const noexcept { return creator_; }
    [[nodiscard]] PageSize page_size() const noexcept { return segment_.page_size(); }
    [[nodiscard]] int fd() const noexcept { return segment_.fd(); }
    /// A duplicate of the arena's fd, for sending to another process.
    [[nodiscard]] Result<UniqueFd> dup_fd() const { return segment_.dup_fd(); }

    /// References on `slot` over all participants.
    [[nodiscard]] std::uint32_t ref_count(SlotIndex slot) const noexcept;
    /// References on `slot` held by participant `who`.
    [[nodiscard]] std::uint32_t held_by(SlotIndex slot, ParticipantIndex who) const noexcept;
    /// Participants holding at least one reference on `slot`.
    [[nodiscard]] std::vector<ParticipantIndex> holders(SlotIndex slot) const;
    /// True when this participant holds the only reference on `slot`.
    [[nodiscard]] bool is_sole_reference(SlotIndex slot) const noexcept;
    /// True when this process holds references on any slot.
    [[nodiscard]] bool holds_references() const noexcept;
    /// True when `slot` is held by someone.
    [[nodiscard]] bool is_held(SlotIndex slot) const noexcept;
    [[nodiscard]] ArenaStats stats() const noexcept;
    /// Every registered participant (O(slots × participants): for tools).
    [[nodiscard]] std::vector<ParticipantInfo> participants() const;

private:
    struct Layout;
    Arena(Segment segment, bool creator);
    Result<void> register_participant();
    void unregister_participant() noexcept;

    std::atomic<std::uint32_t>* count_word(SlotIndex slot, ParticipantIndex who) const noexcept {
        return reinterpret_cast<std::atomic<std::uint32_t>*>(slot_headers_ +
                                                             static_cast<std::size_t>(slot) * slot_header_stride_ + 16 +
                                                             static_cast<std::size_t>(who) * 4);
    }
    std::atomic<std::uint64_t>* state_word(SlotIndex slot) const noexcept {
        return reinterpret_cast<std::atomic<std::uint64_t>*>(slot_headers_ +
                                                             static_cast<std::size_t>(slot) * slot_header_stride_);
    }
    static constexpr SlotIndex no_slot = ~SlotIndex{0};
    SlotIndex take_slot() noexcept;
    // Takes the lowest hinted slot; with `capacity` > 0, also clears the
    // hints of up to that many more free slots of its leaf and stores them
    // in extra[taken++] for the caller's next acquires.
    SlotIndex take_hinted_slot(SlotIndex* extra, std::size_t capacity, std::uint32_t& taken) noexcept;
    SlotIndex take_parked_slot() noexcept;
    SlotIndex take_any_idle_slot() noexcept;
    bool try_claim(SlotIndex slot, std::uint64_t expected) noexcept;
    void release_last(SlotIndex slot) noexcept;
    // Frees, or parks for this thread, an owned slot whose last reference
    // this process just dropped.
    void retire_owned(SlotIndex slot, std::uint64_t state) noexcept;
    bool all_counts_zero(SlotIndex slot) const noexcept;
    bool try_free(SlotIndex slot, std::uint64_t held_state) noexcept;
    void publish_free(SlotIndex slot) noexcept;
    bool owner_live(std::uint64_t state) const noexcept;
    bool try_take(SlotIndex slot) noexcept;
    void hint_set(SlotIndex slot) noexcept;
    std::uint32_t sweep_orphans() noexcept;
    // Drops every count of `who`, whose owner word this process set to
    // `claimed` (reclaiming, naming this process), then frees the record.
    bool reclaim_participant(ParticipantIndex who, std::uint64_t claimed, ReclaimReport& report) noexcept;
    detail::ParticipantRecord* record(ParticipantIndex who) const noexcept;

    Segment segment_;
    detail::ArenaHeader* header_ = nullptr;
    std::byte* participants_ = nullptr;
    std::atomic<std::uint64_t>* top_ = nullptr;
    std::atomic<std::uint64_t>* summary_ = nullptr;
    std::atomic<std::uint64_t>* leaves_ = nullptr;
    std::atomic<std::uint8_t>* parked_map_ = nullptr;
    std::byte* slot_headers_ = nullptr;
    std::byte* data_ = nullptr;
    // Geometry, copied once and validated: never re-read from shared memory.
    std::size_t slot_size_ = 0;
    std::size_t slot_stride_ = 0;
    std::size_t slot_header_stride_ = 0;
    std::uint32_t slot_count_ = 0;
    std::uint32_t alignment_ = 0;
    std::uint32_t max_participants_ = 0;
    std::uint32_t leaf_words_ = 0;
    std::uint32_t summary_words_ = 0;
    ArenaId id_;
    ParticipantIndex participant_ = 0;
    std::uint32_t incarnation_ = 0;
    // The low 32 bits of the state word of a slot this process owns
    // (phase, participant index, incarnation tag).
    std::uint32_t owned_bits_ = ~std::uint32_t{0};
    // Unique among this process's arenas, ever: names the arena in the
    // threads' parking spots, which may outlive it.
    std::uint64_t serial_ = 0;
    // Whether released slots may be parked for the releasing thread.
    bool parking_ = false;
    bool creator_ = false;
    bool registered_ = false;
};

} // namespace parallax
