#include <parallax/base/log.hpp>
#include <parallax/memory/arena.hpp>

#include "memory/arena_layout.hpp"
#include "memory/process_identity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <linux/futex.h>
#include <mutex>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace parallax {

using detail::ArenaGeometry;
using detail::ArenaHeader;
using detail::ParticipantRecord;
using detail::ParticipantState;

namespace {

LogCategory arena_log("arena", "shared-memory arenas: participants, reclaim");

constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t to) {
    return (value + to - 1) / to * to;
}

constexpr std::uint64_t bit(std::uint32_t index) {
    return std::uint64_t{1} << (index % 64U);
}

// The incarnation of the record an arena's creator claims: tag (low 8 bits)
// 0, the tag of every count word of a fresh memfd.
constexpr std::uint32_t creator_incarnation = 0x100;

// Arenas whose slots may be parked (see ThreadParking): at least this many
// slots, and at most so many that a look through all of them stays short.
constexpr std::uint32_t parking_min_slots = 8;
constexpr std::uint32_t parking_max_slots = 4096;
// An acquirer takes several hinted slots at once only from a leaf with at
// least this many: the few slots it keeps aside then never leave others a
// leaf that looks empty.
constexpr int batch_min_hinted = 16;

// Derives every offset from the four numbers that define an arena. Creator
// and readers both call this; a reader accepts a header only if it matches.
Result<ArenaGeometry> compute_geometry(std::uint64_t slot_size, std::uint32_t slot_count, std::uint32_t alignment,
                                       std::uint32_t max_participants) {
    if (slot_size == 0) {
        return fail(Errc::invalid_argument, "slot size must be at least 1 byte");
    }
    if (slot_size > (std::uint64_t{1} << 40U)) {
        return fail(Errc::invalid_argument, fmt::format("slot size {} exceeds 1 TiB", slot_size));
    }
    if (slot_count == 0 || slot_count > detail::max_slot_count) {
        return fail(Errc::invalid_argument,
                    fmt::format("slot count {} is outside 1 … {}", slot_count, detail::max_slot_count));
    }
    if (!std::has_single_bit(alignment) || alignment < detail::cache_line || alignment > detail::max_alignment) {
        return fail(Errc::invalid_argument,
                    fmt::format("alignment {} is not a power of two in 64 … {}", alignment, detail::max_alignment));
    }
    if (max_participants == 0 || max_participants > detail::max_participants_limit) {
        return fail(Errc::invalid_argument, fmt::format("max participants {} is outside 1 … {}", max_participants,
                                                        detail::max_participants_limit));
    }
    ArenaGeometry g;
    g.slot_size = align_up(slot_size, alignment);
    g.slot_stride = g.slot_size;
    g.slot_count = slot_count;
    g.alignment = alignment;
    g.max_participants = max_participants;
    g.slot_header_stride = static_cast<std::uint32_t>(
        align_up(detail::slot_counts_offset + std::uint64_t{4} * max_participants, detail::cache_line));
    g.leaf_words = (slot_count + 63U) / 64U;
    g.summary_words = (g.leaf_words + 63U) / 64U;
    g.participants_offset = sizeof(ArenaHeader);
    g.hints_offset = g.participants_offset + std::uint64_t{sizeof(ParticipantRecord)} * max_participants;
    const std::uint64_t hint_words = 1 + g.summary_words + g.leaf_words;
    g.parked_map_offset = align_up(g.hints_offset + 8 * hint_words, detail::cache_line);
    g.slot_headers_offset = align_up(g.parked_map_offset + slot_count, detail::cache_line);
    g.data_offset = align_up(g.slot_headers_offset + std::uint64_t{g.slot_header_stride} * slot_count, alignment);
    g.total_size = g.data_offset + g.slot_stride * slot_count;
    return g;
}

long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value, const timespec* timeout) {
    // Not FUTEX_PRIVATE: waiters and wakers are in different processes.
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, timeout, nullptr, 0);
}

} // namespace

std::string ArenaId::to_string() const {
    std::string out;
    out.reserve(32);
    for (auto b : bytes) {
        out += fmt::format("{:02x}", b);
    }
    return out;
}

namespace {

std::atomic<std::uint64_t> next_arena_serial{1};

// Slots a thread parked: the last references it dropped to slots of arenas
// it acquires from, kept for its next acquire from the same arena. A spot
// names its arena by serial, never by pointer: the arena may be gone.
struct ParkingSpot {
    std::uint64_t serial = 0;
    std::uint32_t count = 0;
    std::array<SlotIndex, 2> slots{};
    std::array<std::uint64_t, 2> states{}; // each slot's parked state word
    // Free slots whose hint bits this thread cleared together with the
    // one it took (see take_hinted_slot), tried first by its next acquires:
    // hinted[next] up to hinted[end].
    std::array<SlotIndex, 8> hinted{};
    std::uint32_t next = 0;
    std::uint32_t end = 0;
};

struct ThreadParking {
    std::array<ParkingSpot, 4> spots{};
    std::uint32_t next_victim = 0;

    ParkingSpot* find(std::uint64_t serial) noexcept {
        for (ParkingSpot& spot : spots) {
            if (spot.serial == serial) {
                return &spot;
            }
        }
        return nullptr;
    }

    // The spot of `serial`, taking an empty one or, when every spot holds
    // slots, the oldest claimed: what that one parked stays parked, for any
    // acquirer that finds its arena otherwise full.
    ParkingSpot& claim(std::uint64_t serial) noexcept {
        if (ParkingSpot* spot = find(serial)) {
            return *spot;
        }
        ParkingSpot* chosen = nullptr;
        for (ParkingSpot& spot : spots) {
            if (spot.count == 0) {
                chosen = &spot;
                break;
            }
        }
        if (chosen == nullptr) {
            chosen = &spots[next_victim];
            next_victim = (next_victim + 1) % spots.size();
        }
        chosen->serial = serial;
        chosen->count = 0;
        chosen->next = 0;
        chosen->end = 0;
        return *chosen;
    }
};

// Trivially constructible and destructible: no guard on access, nothing to
// run at thread exit (slots parked by a thread that ends stay parked until an
// acquirer takes them or the arena goes).
thread_local ThreadParking thread_parking;

} // namespace

Arena::Arena(Segment segment, bool creator)
    : segment_(std::move(segment)), serial_(next_arena_serial.fetch_add(1, std::memory_order_relaxed)),
      creator_(creator) {}

Arena::~Arena() {
    unregister_participant();
}

detail::ParticipantRecord* Arena::record(ParticipantIndex who) const noexcept {
    return reinterpret_cast<ParticipantRecord*>(participants_ + std::size_t{sizeof(ParticipantRecord)} * who);
}

namespace {

// Process-local deleter: an Arena whose process still holds references is
// never unmapped, so that a Buffer that outlives every owner of the Arena
// stays valid instead of touching unmapped memory.
struct ArenaDeleter {
    void operator()(Arena* arena) const noexcept;
};

} // namespace

struct Arena::Layout {
    // Fills the pointers and the local copy of the geometry.
    static void bind(Arena& arena, const ArenaGeometry& g) {
        std::byte* base = arena.segment_.data();
        arena.header_ = reinterpret_cast<ArenaHeader*>(base);
        arena.participants_ = base + g.participants_offset;
        auto* hints = reinterpret_cast<std::atomic<std::uint64_t>*>(base + g.hints_offset);
        arena.top_ = hints;
        arena.summary_ = hints + 1;
        arena.leaves_ = hints + 1 + g.summary_words;
        arena.parked_map_ = reinterpret_cast<std::atomic<std::uint8_t>*>(base + g.parked_map_offset);
        arena.slot_headers_ = base + g.slot_headers_offset;
        arena.data_ = base + g.data_offset;
        arena.slot_size_ = g.slot_size;
        arena.slot_stride_ = g.slot_stride;
        arena.slot_header_stride_ = g.slot_header_stride;
        arena.slot_count_ = g.slot_count;
        arena.alignment_ = g.alignment;
        arena.max_participants_ = g.max_participants;
        arena.leaf_words_ = g.leaf_words;
        arena.summary_words_ = g.summary_words;
        // An acquirer that finds no free slot looks through the parked map,
        // and a waiter through every state word: parking stays off where
        // that look would be long, and where slots are so few that two
        // parked per thread would crowd out other threads.
        arena.parking_ = g.slot_count >= parking_min_slots && g.slot_count <= parking_max_slots;
    }

    // Calls fn(first, last) for each run of slots [first, last) whose headers
    // lie on pages the memfd holds. A page nobody has touched is a hole that
    // reads as zeros: every count on it is 0 and every state free, so a walk
    // for references or for slots to free skips it, and does not fault in
    // (allocate and clear) the header pages of slots never used. Where the
    // file cannot tell holes apart (hugetlbfs calls everything data), every
    // slot is visited.
    template <typename Fn>
    static void for_each_present_run(const Arena& arena, Fn&& fn) {
        const auto begin = static_cast<off_t>(arena.slot_headers_ - arena.segment_.data());
        const auto stride = static_cast<off_t>(arena.slot_header_stride_);
        const auto end = begin + static_cast<off_t>(arena.slot_count_) * stride;
        const int fd = arena.segment_.fd();
        off_t pos = begin;
        while (pos < end) {
            off_t data = fd < 0 ? -1 : ::lseek(fd, pos, SEEK_DATA);
            off_t hole = end;
            if (data < 0) {
                if (fd >= 0 && errno == ENXIO) {
                    return; // holes from pos to the end of the file
                }
                data = pos;
            } else if (data >= end) {
                return;
            } else if (const off_t h = ::lseek(fd, data, SEEK_HOLE); h >= 0) {
                hole = std::min(h, end);
            }
            const auto first = static_cast<SlotIndex>((data - begin) / stride);
            const auto last = static_cast<SlotIndex>(
                std::min<off_t>((hole - begin + stride - 1) / stride, static_cast<off_t>(arena.slot_count_)));
            fn(first, last);
            pos = std::max(hole, pos + 1);
        }
    }

    // Marks a record this process reclaimed (`claimed`, its owner word) free,
    // keeping the incarnation's tag. Fails only if another reclaimer took
    // over, judging this one dead.
    static bool free_record(ParticipantRecord& rec, std::uint64_t claimed) noexcept {
        return rec.owner.compare_exchange_strong(
            claimed, detail::make_owner(ParticipantState::free, 0, 0, detail::owner_incarnation_tag(claimed)),
            std::memory_order_seq_cst);
    }

    // Whether any participant record other than this process's own has ever
    // been claimed: a record nobody claimed is free with incarnation 0.
    static bool others_joined(const Arena& arena) noexcept {
        for (ParticipantIndex p = 0; p < arena.max_participants_; ++p) {
            const ParticipantRecord* rec = arena.record(p);
            if (p != arena.participant_ &&
                (rec->incarnation.load(std::memory_order_acquire) != 0 ||
                 detail::owner_state(rec->owner.load(std::memory_order_acquire)) != ParticipantState::free)) {
                return true;
            }
        }
        return false;
    }

    // Drops who's references on slots [first, last), retagging its count
    // words with retired_tag, and frees what that leaves without an owner.
    static void reclaim_slots(Arena& arena, ParticipantIndex who, std::uint32_t retired_tag, SlotIndex first,
                              SlotIndex last, ReclaimReport& report) noexcept {
        for (SlotIndex s = first; s < last; ++s) {
            // exchange: each reference is dropped by exactly one reclaimer.
            const std::uint32_t old =
                arena.count_word(s, who)->exchange(detail::make_count_word(retired_tag, 0), std::memory_order_seq_cst);
            const std::uint32_t refs = old & detail::count_mask;
            report.references_dropped += refs;
            const std::uint64_t state = arena.state_word(s)->load(std::memory_order_seq_cst);
            const std::uint64_t phase = detail::slot_phase(state);
            const bool its_own =
                (phase == detail::slot_owned || phase == detail::slot_parked) && detail::slot_owner(state) == who;
            // A slot it parked holds no reference but is marked as its own.
            const bool orphaned =
                phase == detail::slot_parked
                    ? its_own
                    : refs != 0 && (phase == detail::slot_shared || its_own) && arena.all_counts_zero(s);
            if (orphaned && arena.try_free(s, state)) {
                ++report.slots_freed;
            }
        }
    }
};

namespace {

// Arenas dropped while this process still held references. They stay mapped
// for the life of the process, reachable from here: a Buffer may still be in
// the middle of a release on another thread, so there is no moment at which
// unmapping them would be safe.
void ArenaDeleter::operator()(Arena* arena) const noexcept {
    if (arena->holds_references()) {
        // Never destroyed, so that the list outlives every static destructor.
        static auto* kept_arenas_mutex = new std::mutex;
        static auto* kept_arenas = new std::vector<Arena*>;
        std::lock_guard lock(*kept_arenas_mutex);
        kept_arenas->push_back(arena);
        PARALLAX_WARNING(arena_log, "arena {} dropped while buffers of this process still use it: kept mapped",
                         arena->id().to_string());
        return;
    }
    delete arena;
}

} // namespace

Result<std::shared_ptr<Arena>> Arena::create(const ArenaConfig& config) {
    auto geometry = compute_geometry(config.slot_size, config.slot_count, config.alignment, config.max_participants);
    if (!geometry) {
        return fail(std::move(geometry.error()));
    }
    const ArenaGeometry& g = *geometry;
    SegmentOptions options;
    options.name = config.name;
    options.page_size = config.page_size;
    auto segment = Segment::create(g.total_size, options);
    if (!segment) {
        return fail(std::move(segment.error()));
    }
    // The segment is rounded up to whole pages; the header states the exact
    // size so that a reader can check it against the file.
    ArenaGeometry sized = g;
    sized.total_size = segment->size();

    auto* header = reinterpret_cast<ArenaHeader*>(segment->data());
    header->magic = detail::arena_magic;
    header->layout_version = detail::arena_layout_version;
    header->header_size = sizeof(ArenaHeader);
    header->total_size = sized.total_size;
    header->slot_size = g.slot_size;
    header->slot_stride = g.slot_stride;
    header->slot_count = g.slot_count;
    header->alignment = g.alignment;
    header->max_participants = g.max_participants;
    header->slot_header_stride = g.slot_header_stride;
    header->participants_offset = g.participants_offset;
    header->hints_offset = g.hints_offset;
    header->slot_headers_offset = g.slot_headers_offset;
    header->data_offset = g.data_offset;
    header->creator_pid = static_cast<std::uint32_t>(::getpid());
    if (::getrandom(header->arena_id, sizeof(header->arena_id), 0) != static_cast<ssize_t>(sizeof(header->arena_id))) {
        return fail_errno(errno, "getrandom for the arena id");
    }

    // A fresh memfd reads as zeros: every slot is FREE with generation 0 and
    // every count is 0. Only the free-slot hints need setting.
    auto* hints = reinterpret_cast<std::atomic<std::uint64_t>*>(segment->data() + g.hints_offset);
    for (std::uint32_t s = 0; s < g.slot_count; ++s) {
        hints[1 + g.summary_words + s / 64].fetch_or(bit(s), std::memory_order_relaxed);
    }
    for (std::uint32_t l = 0; l < g.leaf_words; ++l) {
        hints[1 + l / 64].fetch_or(bit(l), std::memory_order_relaxed);
    }
    for (std::uint32_t m = 0; m < g.summary_words; ++m) {
        hints[0].fetch_or(bit(m), std::memory_order_relaxed);
    }

    if (auto sealed = segment->seal_size(); !sealed) {
        return fail(std::move(sealed.error()));
    }

    std::shared_ptr<Arena> arena(new Arena(std::move(*segment), true), ArenaDeleter{});
    Layout::bind(*arena, sized);
    std::memcpy(arena->id_.bytes.data(), header->arena_id, arena->id_.bytes.size());
    if (auto registered = arena->register_participant(); !registered) {
        return fail(std::move(registered.error()));
    }
    return arena;
}

Result<std::shared_ptr<Arena>> Arena::attach(UniqueFd fd) {
    if (!fd) {
        return fail(Errc::invalid_argument, "arena fd: not a valid file descriptor");
    }
    // A sender that could shrink the file after we map it would turn every
    // later access into SIGBUS; only a size-sealed memfd is trusted.
    const int seals = ::fcntl(fd.get(), F_GET_SEALS);
    if (seals < 0 || (seals & F_SEAL_SHRINK) == 0) {
        return fail(Errc::corrupt, "arena fd: not a memfd sealed against shrinking (F_SEAL_SHRINK)");
    }
    auto segment = Segment::map(std::move(fd));
    if (!segment) {
        return fail(Error(segment.error().code(), "arena fd: " + segment.error().message()));
    }
    if (segment->size() < sizeof(ArenaHeader)) {
        return fail(Errc::corrupt, fmt::format("arena header: file of {} bytes is smaller than the {}-byte header",
                                               segment->size(), sizeof(ArenaHeader)));
    }
    // Copy the header before checking it: the mapping is writable by others.
    ArenaHeader h;
    std::memcpy(static_cast<void*>(&h), segment->data(), offsetof(ArenaHeader, release_epoch));
    if (h.magic != detail::arena_magic) {
        return fail(Errc::corrupt, fmt::format("arena header: bad magic {:#018x}", h.magic));
    }
    if (h.layout_version != detail::arena_layout_version) {
        return fail(Errc::version_mismatch, fmt::format("arena header: layout version {} (this build reads {})",
                                                        h.layout_version, detail::arena_layout_version));
    }
    if (h.header_size != sizeof(ArenaHeader)) {
        return fail(Errc::corrupt,
                    fmt::format("arena header: header size {} (expected {})", h.header_size, sizeof(ArenaHeader)));
    }
    auto geometry = compute_geometry(h.slot_size, h.slot_count, h.alignment, h.max_participants);
    if (!geometry) {
        return fail(Errc::corrupt, "arena header: geometry: " + geometry.error().message());
    }
    const ArenaGeometry& g = *geometry;
    struct Check {
        const char* field;
        std::uint64_t found;
        std::uint64_t expected;
    };
    const Check checks[] = {
        {"slot size", h.slot_size, g.slot_size},
        {"slot stride", h.slot_stride, g.slot_stride},
        {"slot header stride", h.slot_header_stride, g.slot_header_stride},
        {"participants offset", h.participants_offset, g.participants_offset},
        {"hints offset", h.hints_offset, g.hints_offset},
        {"slot headers offset", h.slot_headers_offset, g.slot_headers_offset},
        {"data offset", h.data_offset, g.data_offset},
    };
    for (const auto& check : checks) {
        if (check.found != check.expected) {
            return fail(Errc::corrupt, fmt::format("arena header: {} is {} but the geometry gives {}", check.field,
                                                   check.found, check.expected));
        }
    }
    if (h.total_size != segment->size()) {
        return fail(Errc::corrupt, fmt::format("arena header: total size {} does not match the file size {}",
                                               h.total_size, segment->size()));
    }
    if (g.total_size > segment->size()) {
        return fail(Errc::corrupt, fmt::format("arena header: slots need {} bytes but the file has {}", g.total_size,
                                               segment->size()));
    }
    ArenaGeometry sized = g;
    sized.total_size = segment->size();
    std::shared_ptr<Arena> arena(new Arena(std::move(*segment), false), ArenaDeleter{});
    Layout::bind(*arena, sized);
    std::memcpy(arena->id_.bytes.data(), h.arena_id, arena->id_.bytes.size());
    if (auto registered = arena->register_participant(); !registered) {
        return fail(std::move(registered.error()));
    }
    return arena;
}

ParticipantHandle Arena::handle() const noexcept {
    return {participant_, incarnation_};
}

Result<void> Arena::register_participant() {
    const auto self = detail::ProcessIdentity::self();
    for (ParticipantIndex i = 0; i < max_participants_; ++i) {
        ParticipantRecord* rec = record(i);
        std::uint64_t expected = rec->owner.load(std::memory_order_acquire);
        if (detail::owner_state(expected) != ParticipantState::free) {
            continue;
        }
        // A free record's incarnation changes only under a claim, and the
        // claim's CAS fails if another claim came and went meanwhile (the
        // free word carries the incarnation's tag).
        // The creator registers in a memfd nobody else has seen, where every
        // count word reads (tag 0, count 0): it takes an incarnation whose tag
        // is 0 (and that is not 0, which nobody mistakes for no handle), so
        // that there is nothing to retag and no page of slot headers to touch.
        const std::uint32_t incarnation =
            creator_ ? creator_incarnation : rec->incarnation.load(std::memory_order_acquire) + 1;
        const std::uint32_t tag = incarnation & 0xFFU;
        const std::uint32_t ns = detail::namespace_tag(self.pid_namespace);
        if (!rec->owner.compare_exchange_strong(expected,
                                                detail::make_owner(ParticipantState::claiming, self.pid, ns, tag),
                                                std::memory_order_seq_cst)) {
            continue;
        }
        rec->start_time.store(self.start_time, std::memory_order_relaxed);
        rec->boot_id.store(self.boot_id, std::memory_order_relaxed);
        rec->pid_namespace.store(self.pid_namespace, std::memory_order_relaxed);
        rec->reclaimed_pid.store(0, std::memory_order_relaxed);
        // Retag every count word of this index. A reference credited to the
        // previous incarnation after it was reclaimed is dropped here, and a
        // slot still marked owned by a previous incarnation is an orphan:
        // the sweep below frees them.
        bool stray = false;
        for (SlotIndex s = 0; s < (creator_ ? 0 : slot_count_); ++s) {
            const std::uint32_t old =
                count_word(s, i)->exchange(detail::make_count_word(tag, 0), std::memory_order_seq_cst);
            const std::uint64_t state = state_word(s)->load(std::memory_order_seq_cst);
            const bool owner_bits = detail::slot_phase(state) == detail::slot_owned ||
                                    detail::slot_phase(state) == detail::slot_parked;
            stray = stray || (old & detail::count_mask) != 0 || (owner_bits && detail::slot_owner(state) == i);
        }
        rec->incarnation.store(incarnation, std::memory_order_seq_cst);
        rec->owner.store(detail::make_owner(ParticipantState::active, self.pid, ns, tag), std::memory_order_seq_cst);
        participant_ = i;
        incarnation_ = incarnation;
        owned_bits_ = static_cast<std::uint32_t>(detail::make_owned_state(0, i, incarnation));
        registered_ = true;
        if (stray) {
            sweep_orphans();
        }
        return {};
    }
    return fail(Errc::exhausted,
                fmt::format("arena {}: all {} participant records are in use", id_.to_string(), max_participants_));
}

void Arena::unregister_participant() noexcept {
    if (!registered_) {
        return; // never registered (attach failed): participant_ names nobody of ours
    }
    // Whatever this process still holds is dropped, as if it had died.
    ReclaimReport ignored;
    ParticipantRecord* rec = record(participant_);
    const auto self = detail::ProcessIdentity::self();
    std::uint64_t expected = rec->owner.load(std::memory_order_acquire);
    std::uint64_t claimed = detail::reclaiming_owner(expected, self.pid, detail::namespace_tag(self.pid_namespace));
    if (detail::owner_state(expected) == ParticipantState::active &&
        detail::owner_incarnation_tag(expected) == (incarnation_ & 0xFFU) &&
        rec->owner.compare_exchange_strong(expected, claimed, std::memory_order_seq_cst)) {
        rec->reclaimed_pid.store(self.pid, std::memory_order_relaxed);
        if (creator_ && !Layout::others_joined(*this)) {
            // Nobody else ever registered, so nobody holds a handle to this
            // process that a retag would have to invalidate: only slots
            // whose headers were ever touched can hold what it parked.
            const std::uint32_t retired_tag = (incarnation_ + 1) & 0xFFU;
            Layout::for_each_present_run(*this, [&](SlotIndex first, SlotIndex last) {
                Layout::reclaim_slots(*this, participant_, retired_tag, first, last, ignored);
            });
            Layout::free_record(*rec, claimed);
        } else {
            reclaim_participant(participant_, claimed, ignored);
        }
    }
}

bool Arena::all_counts_zero(SlotIndex slot) const noexcept {
    for (ParticipantIndex p = 0; p < max_participants_; ++p) {
        if ((count_word(slot, p)->load(std::memory_order_seq_cst) & detail::count_mask) != 0) {
            return false;
        }
    }
    return true;
}

void Arena::hint_set(SlotIndex slot) noexcept {
    const std::uint32_t leaf = slot / 64;
    if (leaves_[leaf].fetch_or(bit(slot), std::memory_order_seq_cst) != 0) {
        return;
    }
    if (summary_[leaf / 64].fetch_or(bit(leaf), std::memory_order_seq_cst) != 0) {
        return;
    }
    top_->fetch_or(bit(leaf / 64), std::memory_order_seq_cst);
}

void Arena::publish_free(SlotIndex slot) noexcept {
    hint_set(slot);
    // A waiter counts itself before its last look for a free slot; the slot
    // was published (seq_cst) before this load, so either the waiter's look
    // finds it or this load sees the waiter and wakes it.
    if (header_->waiters.load(std::memory_order_seq_cst) != 0) {
        wake_waiters();
    }
}

bool Arena::try_free(SlotIndex slot, std::uint64_t held_state) noexcept {
    const std::uint64_t freed = detail::make_slot_state(detail::slot_generation(held_state) + 1, detail::slot_free);
    if (!state_word(slot)->compare_exchange_strong(held_state, freed, std::memory_order_seq_cst)) {
        return false; // Somebody else freed it (and maybe it was taken again).
    }
    publish_free(slot);
    return true;
}

void Arena::release(SlotIndex slot) noexcept {
    std::atomic<std::uint32_t>* count = count_word(slot, participant_);
    // A thread that acquires from this arena mostly drops buffers it took
    // itself, whose slot header is in its cache: there, look whether the
    // reference is the only one. Elsewhere (the consumer of a queue) the
    // look would fetch the line only to fetch it again for the decrement.
    if (thread_parking.find(serial_) != nullptr) {
        const std::uint32_t word = count->load(std::memory_order_acquire);
        if ((word & detail::count_mask) == 1U) {
            // The only reference to a slot only this process has held: nobody
            // can add one meanwhile (adding needs a reference), so no locked
            // decrement. The acquire load orders the buffer's use by the
            // threads that dropped the other references before the slot goes.
            const std::uint64_t state = state_word(slot)->load(std::memory_order_acquire);
            if (static_cast<std::uint32_t>(state) == owned_bits_) {
                count->store(word - 1U, std::memory_order_relaxed);
                retire_owned(slot, state);
                return;
            }
        }
    }
    // seq_cst: two participants dropping their last references at once
    // must each see the other's count (see docs/design/memory.md).
    const std::uint32_t before = count->fetch_sub(1, std::memory_order_seq_cst);
    if ((before & detail::count_mask) == 1U) {
        release_last(slot);
    }
}

void Arena::retire_owned(SlotIndex slot, std::uint64_t state) noexcept {
    // Only this process has held the slot since it was taken, and its last
    // reference just went. Nobody else frees or parks an owned slot of a
    // live owner: a plain store.
    const std::uint32_t next = detail::slot_generation(state) + 1;
    if (parking_ && header_->waiters.load(std::memory_order_relaxed) == 0) {
        ParkingSpot* spot = thread_parking.find(serial_);
        if (spot != nullptr && spot->count < spot->slots.size()) {
            // Parked: still marked as this process's, with no reference.
            // seq_cst, paired with a waiter's count in `waiters` and its
            // look at every slot: either the look finds this slot or the
            // load below sees the waiter.
            const std::uint64_t parked = detail::make_parked_state(next, participant_, incarnation_);
            // The map byte stays set while the thread takes the slot back
            // and parks it again: stored only when it changes, its line is
            // not written at every loan (threads parking neighbouring slots
            // would fight over it).
            if (parked_map_[slot].load(std::memory_order_relaxed) == 0) {
                parked_map_[slot].store(1, std::memory_order_relaxed);
            }
            state_word(slot)->store(parked, std::memory_order_seq_cst);
            spot->slots[spot->count] = slot;
            spot->states[spot->count] = parked;
            ++spot->count;
            if (header_->waiters.load(std::memory_order_seq_cst) != 0) {
                wake_waiters();
            }
            return;
        }
    }
    // A release store: acquirers find the slot through the hint set below (a
    // seq_cst read-modify-write), which orders this store.
    state_word(slot)->store(detail::make_slot_state(next, detail::slot_free), std::memory_order_release);
    publish_free(slot);
}

void Arena::release_last(SlotIndex slot) noexcept {
    const std::uint64_t state = state_word(slot)->load(std::memory_order_seq_cst);
    if (detail::slot_phase(state) == detail::slot_owned) {
        if (static_cast<std::uint32_t>(state) != owned_bits_) {
            // Another participant owns it: this process was never credited
            // a reference (share() turns the slot shared first), so its
            // count was corrupt. Freeing would pull the slot from under its
            // owner; the owner's own release frees it.
            return;
        }
        // The fetch_sub chose exactly one of this process's threads.
        retire_owned(slot, state);
        return;
    }
    if (detail::slot_phase(state) != detail::slot_shared) {
        return;
    }
    // Shared: read the state before the counts. If the slot is freed and
    // taken again meanwhile, its generation moves and the CAS fails.
    if (all_counts_zero(slot)) {
        try_free(slot, state);
    }
}

bool Arena::try_claim(SlotIndex slot, std::uint64_t expected) noexcept {
    if (!state_word(slot)->compare_exchange_strong(
            expected, detail::make_owned_state(detail::slot_generation(expected), participant_, incarnation_),
            std::memory_order_seq_cst)) {
        return false;
    }
    // The slot is ours alone: nobody holds or credits references on a slot
    // that was free or parked, so a plain store counts our reference.
    count_word(slot, participant_)->store(detail::make_count_word(incarnation_ & 0xFFU, 1), std::memory_order_release);
    return true;
}

bool Arena::try_take(SlotIndex slot) noexcept {
    const std::uint64_t state = state_word(slot)->load(std::memory_order_seq_cst);
    return detail::slot_phase(state) == detail::slot_free && try_claim(slot, state);
}

SlotIndex Arena::take_slot() noexcept {
    // This thread acquires from this arena: from now on it parks what it
    // releases last of it, and looks for sole references when it releases.
    ParkingSpot& spot = thread_parking.claim(serial_);
    if (parking_) {
        while (spot.count != 0) {
            --spot.count;
            // Fails when another acquirer took the slot meanwhile.
            const SlotIndex slot = spot.slots[spot.count];
            if (try_claim(slot, spot.states[spot.count])) {
                return slot; // its map byte stays set: see retire_owned()
            }
        }
    }
    SlotIndex slot = no_slot;
    while (spot.next != spot.end && slot == no_slot) {
        // Fails when another acquirer found the slot meanwhile (it is free,
        // and every search through the state words takes free slots).
        const SlotIndex s = spot.hinted[spot.next++];
        slot = try_take(s) ? s : no_slot;
    }
    if (slot == no_slot) {
        spot.next = 0;
        spot.end = 0;
        // Batches only while nobody waits for a slot: a waiter finds them
        // through the state words (take_any_idle_slot), but sooner through
        // the hints.
        const bool batch = header_->waiters.load(std::memory_order_relaxed) == 0;
        slot = take_hinted_slot(batch ? spot.hinted.data() : nullptr, batch ? spot.hinted.size() : 0, spot.end);
    }
    if (!parking_) {
        return slot;
    }
    if (slot == no_slot) {
        return take_parked_slot();
    }
    // A byte left set by a slot that was parked, then taken back and freed.
    if (parked_map_[slot].load(std::memory_order_relaxed) != 0) {
        parked_map_[slot].store(0, std::memory_order_relaxed);
    }
    return slot;
}

SlotIndex Arena::take_parked_slot() noexcept {
    // The parked map: one byte per slot, set before a slot is parked, so one
    // cache line covers 64 slots. A byte may be stale (the slot was taken
    // back by its thread, or freed since): the state word decides, and a
    // free slot found this way is taken too. Bytes are cleared when another
    // acquirer takes the slot, here or through the hints.
    for (SlotIndex s = 0; s < slot_count_; ++s) {
        if (parked_map_[s].load(std::memory_order_relaxed) == 0) {
            continue;
        }
        const std::uint64_t state = state_word(s)->load(std::memory_order_seq_cst);
        const std::uint64_t phase = detail::slot_phase(state);
        if ((phase == detail::slot_parked || phase == detail::slot_free) && try_claim(s, state)) {
            parked_map_[s].store(0, std::memory_order_relaxed);
            return s;
        }
    }
    return no_slot;
}

SlotIndex Arena::take_any_idle_slot() noexcept {
    // Every state word, not the map or the hints: a waiter must find a slot
    // parked before it counted itself, and a free one whose hint another
    // thread cleared with the slot it took (see try_acquire_or_wait).
    for (SlotIndex s = 0; s < slot_count_; ++s) {
        const std::uint64_t state = state_word(s)->load(std::memory_order_seq_cst);
        const std::uint64_t phase = detail::slot_phase(state);
        if ((phase == detail::slot_parked || phase == detail::slot_free) && try_claim(s, state)) {
            parked_map_[s].store(0, std::memory_order_relaxed);
            return s;
        }
    }
    return no_slot;
}

SlotIndex Arena::take_hinted_slot(SlotIndex* extra, std::size_t capacity, std::uint32_t& taken) noexcept {
    for (int attempt = 0; attempt < 4 * 64; ++attempt) {
        const std::uint64_t top = top_->load(std::memory_order_seq_cst);
        if (top == 0) {
            break;
        }
        const std::uint32_t m = static_cast<std::uint32_t>(std::countr_zero(top));
        if (m >= summary_words_) {
            top_->fetch_and(~bit(m), std::memory_order_seq_cst); // hostile or stale bit
            continue;
        }
        const std::uint64_t summary = summary_[m].load(std::memory_order_seq_cst);
        if (summary == 0) {
            top_->fetch_and(~bit(m), std::memory_order_seq_cst);
            if (summary_[m].load(std::memory_order_seq_cst) != 0) {
                top_->fetch_or(bit(m), std::memory_order_seq_cst);
            }
            continue;
        }
        const std::uint32_t leaf = m * 64 + static_cast<std::uint32_t>(std::countr_zero(summary));
        if (leaf >= leaf_words_) {
            summary_[m].fetch_and(~bit(leaf), std::memory_order_seq_cst);
            continue;
        }
        const std::uint64_t word = leaves_[leaf].load(std::memory_order_seq_cst);
        if (word == 0) {
            summary_[m].fetch_and(~bit(leaf), std::memory_order_seq_cst);
            if (leaves_[leaf].load(std::memory_order_seq_cst) != 0) {
                // A release landed meanwhile: advertise the leaf again.
                summary_[m].fetch_or(bit(leaf), std::memory_order_seq_cst);
                top_->fetch_or(bit(m), std::memory_order_seq_cst);
            }
            continue;
        }
        // The lowest hinted slot, and with it, where the leaf has plenty
        // more, the next few for this thread's next acquires: the leaf's
        // line is written once per batch, not once per slot (it moves
        // between the cores whenever the thread that frees slots, often a
        // consumer in another process, and this one take turns on it).
        std::uint64_t mask = word & (~word + 1U);
        if (capacity != 0 && std::popcount(word) >= batch_min_hinted) {
            std::uint64_t rest = word & (word - 1U);
            for (std::size_t i = 0; i < capacity && rest != 0; ++i) {
                mask |= rest & (~rest + 1U);
                rest &= rest - 1U;
            }
        }
        const std::uint64_t before = leaves_[leaf].fetch_and(~mask, std::memory_order_seq_cst);
        // The bits this thread cleared are its to use; the others another
        // acquirer took meanwhile.
        std::uint64_t mine = before & mask;
        SlotIndex slot = no_slot;
        for (; mine != 0; mine &= mine - 1U) {
            const SlotIndex s = leaf * 64 + static_cast<std::uint32_t>(std::countr_zero(mine));
            if (s >= slot_count_) {
                continue; // A bit past the last slot can only come from a corrupt writer.
            }
            if (slot == no_slot) {
                slot = try_take(s) ? s : no_slot;
            } else {
                extra[taken++] = s;
            }
        }
        if (slot != no_slot) {
            return slot;
        }
    }
    return no_slot;
}

Result<SlotIndex> Arena::acquire() {
    if (auto slot = try_acquire()) {
        return *slot;
    }
    // The hints say the arena is full. They can miss slots freed by a process
    // that died before advertising them, and dead processes may hold slots:
    // reclaim, which also repairs the hints, then try again.
    reclaim_dead();
    if (auto slot = try_acquire()) {
        return *slot;
    }
    for (SlotIndex s = 0; s < slot_count_; ++s) {
        if (try_take(s)) {
            return s;
        }
    }
    return fail(Errc::exhausted, fmt::format("arena {}: all {} slots are held", id_.to_string(), slot_count_));
}

Result<void> Arena::share(SlotIndex slot, ParticipantHandle to) {
    if (slot >= slot_count_) {
        return fail(Errc::out_of_range, fmt::format("share: slot {} outside 0 … {}", slot, slot_count_ - 1));
    }
    if (to.index >= max_participants_) {
        return fail(Errc::out_of_range,
                    fmt::format("share: participant {} outside 0 … {}", to.index, max_participants_ - 1));
    }
    const std::uint32_t tag = to.incarnation & 0xFFU;
    auto* count = count_word(slot, to.index);
    std::uint32_t word = count->load(std::memory_order_seq_cst);
    if (detail::tag_of(word) != tag) {
        return fail(Errc::closed,
                    fmt::format("share: participant {} (incarnation {}) is gone", to.index, to.incarnation));
    }
    if (to.index != participant_) {
        // Another process will hold references: from now on the last
        // reference is found by looking at every participant's count.
        std::uint64_t state = state_word(slot)->load(std::memory_order_seq_cst);
        while (detail::slot_phase(state) == detail::slot_owned &&
               !state_word(slot)->compare_exchange_weak(
                   state, detail::make_slot_state(detail::slot_generation(state), detail::slot_shared),
                   std::memory_order_seq_cst)) {
        }
    }
    do {
        if (detail::tag_of(word) != tag) {
            return fail(Errc::closed,
                        fmt::format("share: participant {} (incarnation {}) is gone", to.index, to.incarnation));
        }
    } while (!count->compare_exchange_weak(word, word + 1, std::memory_order_seq_cst));
    return {};
}

Result<void> Arena::hand_over(SlotIndex slot, ParticipantHandle to) {
    if (to.index == participant_ && to.incarnation == incarnation_) {
        return {};
    }
    if (auto shared = share(slot, to); !shared) {
        return shared;
    }
    // The receiver now holds a reference it cannot drop yet, so this was not
    // the slot's last one whatever this count becomes: nothing to free.
    count_word(slot, participant_)->fetch_sub(1, std::memory_order_seq_cst);
    return {};
}

namespace {

// Whether the process an owner word names (a claimant, or a reclaimer) is
// known to be gone. A pid from another pid namespace means nothing here and
// is never judged.
bool named_process_gone(std::uint64_t owner, const detail::ProcessIdentity& self) {
    if (detail::owner_namespace_tag(owner) != detail::namespace_tag(self.pid_namespace)) {
        return false;
    }
    return !detail::pid_alive(detail::owner_pid(owner));
}

bool participant_dead(const ParticipantRecord& rec, std::uint64_t owner, const detail::ProcessIdentity& self) {
    detail::ProcessIdentity who;
    who.pid = detail::owner_pid(owner);
    who.start_time = rec.start_time.load(std::memory_order_acquire);
    who.boot_id = rec.boot_id.load(std::memory_order_acquire);
    who.pid_namespace = rec.pid_namespace.load(std::memory_order_acquire);
    if (detail::owner_state(owner) == ParticipantState::claiming) {
        // Identity not fully written yet: only the pid can be judged.
        return named_process_gone(owner, self);
    }
    return detail::is_dead(who, self);
}

} // namespace

bool Arena::reclaim_participant(ParticipantIndex who, std::uint64_t claimed, ReclaimReport& report) noexcept {
    ParticipantRecord* rec = record(who);
    // The count words get the tag of no live handle (the next incarnation's,
    // which its registration writes again anyway): a share() to the dead
    // participant that comes after this exchange fails its tag check instead
    // of crediting a reference nobody would ever drop; one that came before
    // is dropped here.
    const std::uint32_t retired_tag = (rec->incarnation.load(std::memory_order_acquire) + 1) & 0xFFU;
    Layout::reclaim_slots(*this, who, retired_tag, 0, slot_count_, report);
    return Layout::free_record(*rec, claimed);
}

bool Arena::owner_live(std::uint64_t state) const noexcept {
    const std::uint32_t who = detail::slot_owner(state);
    if (who >= max_participants_) {
        return false; // corrupt: only a hostile writer produces this
    }
    const ParticipantRecord* rec = record(who);
    return detail::owner_state(rec->owner.load(std::memory_order_seq_cst)) == ParticipantState::active &&
           (rec->incarnation.load(std::memory_order_seq_cst) & 0xFFU) == detail::slot_owner_tag(state);
}

std::uint32_t Arena::sweep_orphans() noexcept {
    std::uint32_t freed = 0;
    for (SlotIndex s = 0; s < slot_count_; ++s) {
        const std::uint64_t state = state_word(s)->load(std::memory_order_seq_cst);
        switch (detail::slot_phase(state)) {
        case detail::slot_shared:
            // No reference: its last holder died between dropping its count
            // and freeing the slot.
            if (all_counts_zero(s) && try_free(s, state)) {
                ++freed;
            }
            break;
        case detail::slot_owned:
            // Its owner died (or was replaced) and holds nothing any more. An
            // owned slot of a live owner is left alone even without counts:
            // that owner is between its last decrement and the free.
            if (!owner_live(state) && all_counts_zero(s) && try_free(s, state)) {
                ++freed;
            }
            break;
        case detail::slot_parked:
            // Parked by a thread of a process that is gone (or replaced).
            if (!owner_live(state) && try_free(s, state)) {
                ++freed;
            }
            break;
        default: // slot_free
            if ((leaves_[s / 64].load(std::memory_order_seq_cst) & bit(s)) == 0) {
                // Free but not advertised: its releaser died before hint_set().
                hint_set(s);
            }
            break;
        }
    }
    return freed;
}

ReclaimReport Arena::reclaim_dead() {
    ReclaimReport report;
    const auto self = detail::ProcessIdentity::self();
    const std::uint32_t ns = detail::namespace_tag(self.pid_namespace);
    for (ParticipantIndex i = 0; i < max_participants_; ++i) {
        if (i == participant_) {
            continue;
        }
        ParticipantRecord* rec = record(i);
        std::uint64_t owner = rec->owner.load(std::memory_order_acquire);
        const ParticipantState state = detail::owner_state(owner);
        if (state == ParticipantState::free) {
            continue;
        }
        const std::uint64_t claimed = detail::reclaiming_owner(owner, self.pid, ns);
        if (state == ParticipantState::reclaiming) {
            // Another reclaimer is at work (the owner word names it); take
            // over only if it died too. Never two live reclaimers on one
            // record: the slower one would go on dropping counts after the
            // faster one freed the record for a new incarnation.
            if (!named_process_gone(owner, self) ||
                !rec->owner.compare_exchange_strong(owner, claimed, std::memory_order_seq_cst)) {
                continue;
            }
            reclaim_participant(i, claimed, report);
            continue;
        }
        if (!participant_dead(*rec, owner, self)) {
            continue;
        }
        if (!rec->owner.compare_exchange_strong(owner, claimed, std::memory_order_seq_cst)) {
            continue; // Somebody else claimed the reclaim.
        }
        rec->reclaimed_pid.store(detail::owner_pid(owner), std::memory_order_relaxed);
        report.dead_pids.push_back(detail::owner_pid(owner));
        const std::uint64_t dropped_before = report.references_dropped;
        reclaim_participant(i, claimed, report);
        PARALLAX_INFO(arena_log, "arena {}: participant {} (pid {}) is dead; dropped its {} references",
                      id_.to_string(), i, detail::owner_pid(owner), report.references_dropped - dropped_before);
    }
    const std::uint32_t orphans = sweep_orphans();
    report.slots_freed += orphans;
    if (orphans != 0) {
        PARALLAX_INFO(arena_log, "arena {}: freed {} slots orphaned by processes that died mid-operation",
                      id_.to_string(), orphans);
    }
    return report;
}

Result<ReclaimReport> Arena::reclaim(ParticipantHandle who) {
    if (who.index >= max_participants_ || who.index == participant_) {
        return fail(Errc::invalid_argument,
                    fmt::format("arena {}: cannot reclaim participant {}: {}", id_.to_string(), who.index,
                                who.index == participant_ ? "it is this process" : "no such participant"));
    }
    ReclaimReport report;
    const auto self = detail::ProcessIdentity::self();
    ParticipantRecord* rec = record(who.index);
    std::uint64_t owner = rec->owner.load(std::memory_order_acquire);
    const ParticipantState state = detail::owner_state(owner);
    if (state == ParticipantState::free || detail::owner_incarnation_tag(owner) != (who.incarnation & 0xFFU) ||
        rec->incarnation.load(std::memory_order_acquire) != who.incarnation) {
        return report; // Reclaimed already; the record may serve somebody else now.
    }
    if (state == ParticipantState::reclaiming && !named_process_gone(owner, self)) {
        return report; // Somebody else is reclaiming it.
    }
    // The owner word carries the incarnation's tag: the CAS fails if the
    // record was reclaimed and taken again since the loads above.
    const std::uint64_t claimed = detail::reclaiming_owner(owner, self.pid, detail::namespace_tag(self.pid_namespace));
    if (!rec->owner.compare_exchange_strong(owner, claimed, std::memory_order_seq_cst)) {
        return report;
    }
    if (state != ParticipantState::reclaiming) {
        rec->reclaimed_pid.store(detail::owner_pid(owner), std::memory_order_relaxed);
    }
    report.dead_pids.push_back(rec->reclaimed_pid.load(std::memory_order_relaxed));
    reclaim_participant(who.index, claimed, report);
    PARALLAX_INFO(arena_log, "arena {}: participant {} reclaimed on request; dropped its {} references",
                  id_.to_string(), who.index, report.references_dropped);
    return report;
}

void Arena::wake_waiters() noexcept {
    header_->release_epoch.fetch_add(1, std::memory_order_seq_cst);
    futex(&header_->release_epoch, FUTEX_WAKE, INT_MAX, nullptr);
}

std::optional<SlotIndex> Arena::try_acquire_or_wait(std::chrono::nanoseconds timeout,
                                                    const std::atomic<bool>* cancel) noexcept {
    header_->waiters.fetch_add(1, std::memory_order_seq_cst);
    const std::uint32_t epoch = header_->release_epoch.load(std::memory_order_seq_cst);
    auto slot = try_acquire();
    if (!slot) {
        // A slot parked, or freed with its hint taken by another thread's
        // batch, before this thread counted itself (seq_cst both sides)
        // shows in its state word; map bytes and hints are only hints.
        if (const SlotIndex idle = take_any_idle_slot(); idle != no_slot) {
            slot = idle;
        }
    }
    if (!slot && (cancel == nullptr || !cancel->load(std::memory_order_seq_cst))) {
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
        const timespec ts{static_cast<time_t>(secs.count()), static_cast<long>((timeout - secs).count())};
        futex(&header_->release_epoch, FUTEX_WAIT, epoch, &ts);
        slot = try_acquire();
    }
    header_->waiters.fetch_sub(1, std::memory_order_seq_cst);
    return slot;
}

std::vector<ParticipantInfo> Arena::participants() const {
    std::vector<ParticipantInfo> out;
    for (ParticipantIndex p = 0; p < max_participants_; ++p) {
        const std::uint64_t owner = record(p)->owner.load(std::memory_order_acquire);
        const ParticipantState state = detail::owner_state(owner);
        if (state != ParticipantState::active && state != ParticipantState::reclaiming) {
            continue;
        }
        ParticipantInfo info;
        info.index = p;
        info.pid = state == ParticipantState::reclaiming ? record(p)->reclaimed_pid.load(std::memory_order_acquire)
                                                         : detail::owner_pid(owner);
        info.incarnation = record(p)->incarnation.load(std::memory_order_acquire);
        info.reclaiming = state == ParticipantState::reclaiming;
        for (SlotIndex s = 0; s < slot_count_; ++s) {
            info.references += held_by(s, p);
        }
        out.push_back(info);
    }
    return out;
}

bool Arena::holds_references() const noexcept {
    if (!registered_) {
        return false;
    }
    bool held = false;
    Layout::for_each_present_run(*this, [&](SlotIndex first, SlotIndex last) {
        for (SlotIndex s = first; s < last && !held; ++s) {
            held = (count_word(s, participant_)->load(std::memory_order_acquire) & detail::count_mask) != 0;
        }
    });
    return held;
}

std::uint32_t Arena::ref_count(SlotIndex slot) const noexcept {
    if (slot >= slot_count_) {
        return 0;
    }
    std::uint32_t total = 0;
    for (ParticipantIndex p = 0; p < max_participants_; ++p) {
        total += count_word(slot, p)->load(std::memory_order_acquire) & detail::count_mask;
    }
    return total;
}

std::uint32_t Arena::held_by(SlotIndex slot, ParticipantIndex who) const noexcept {
    if (slot >= slot_count_ || who >= max_participants_) {
        return 0;
    }
    return count_word(slot, who)->load(std::memory_order_acquire) & detail::count_mask;
}

std::vector<ParticipantIndex> Arena::holders(SlotIndex slot) const {
    std::vector<ParticipantIndex> out;
    for (ParticipantIndex p = 0; p < max_participants_; ++p) {
        if (held_by(slot, p) != 0) {
            out.push_back(p);
        }
    }
    return out;
}

bool Arena::is_sole_reference(SlotIndex slot) const noexcept {
    const std::uint64_t state = state_word(slot)->load(std::memory_order_acquire);
    if (detail::slot_phase(state) == detail::slot_owned && detail::slot_owner(state) == participant_) {
        return (count_word(slot, participant_)->load(std::memory_order_acquire) & detail::count_mask) == 1;
    }
    for (ParticipantIndex p = 0; p < max_participants_; ++p) {
        const std::uint32_t refs = count_word(slot, p)->load(std::memory_order_acquire) & detail::count_mask;
        if (refs != (p == participant_ ? 1U : 0U)) {
            return false;
        }
    }
    return true;
}

bool Arena::is_held(SlotIndex slot) const noexcept {
    if (slot >= slot_count_) {
        return false;
    }
    const std::uint64_t phase = detail::slot_phase(state_word(slot)->load(std::memory_order_acquire));
    return phase == detail::slot_owned || phase == detail::slot_shared;
}

ArenaStats Arena::stats() const noexcept {
    ArenaStats out;
    out.slot_count = slot_count_;
    for (SlotIndex s = 0; s < slot_count_; ++s) {
        if (is_held(s)) {
            ++out.held_slots;
        } else {
            ++out.free_slots;
        }
    }
    for (ParticipantIndex p = 0; p < max_participants_; ++p) {
        if (detail::owner_state(record(p)->owner.load(std::memory_order_acquire)) == ParticipantState::active) {
            ++out.participants;
        }
    }
    return out;
}

} // namespace parallax
