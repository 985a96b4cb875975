#include <parallax/memory/arena.hpp>

#include "memory/arena_layout.hpp"
#include "memory/process_identity.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <optional>
#include <set>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace parallax::arena_test {
namespace {

std::shared_ptr<Arena> make_arena(std::uint32_t slots = 8, std::size_t slot_size = 256,
                                  std::uint32_t participants = 4) {
    ArenaConfig config;
    config.slot_count = slots;
    config.slot_size = slot_size;
    config.max_participants = participants;
    auto arena = Arena::create(config);
    EXPECT_TRUE(arena) << arena.error().to_string();
    return *arena;
}

// Copies an arena's bytes into a new memfd, lets `edit` change them, seals
// it, and tries to attach: the way a hostile or broken sender would.
Result<std::shared_ptr<Arena>>
attach_edited(const Arena& arena, const std::function<void(std::byte*, std::size_t&)>& edit, bool seal = true) {
    struct stat st {};
    EXPECT_EQ(::fstat(arena.fd(), &st), 0);
    std::size_t size = static_cast<std::size_t>(st.st_size);
    std::vector<std::byte> bytes(size);
    EXPECT_EQ(::pread(arena.fd(), bytes.data(), size, 0), static_cast<ssize_t>(size));
    edit(bytes.data(), size);
    UniqueFd fd(::memfd_create("edited", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    EXPECT_TRUE(fd);
    if (size > 0) {
        EXPECT_EQ(::write(fd.get(), bytes.data(), std::min(size, bytes.size())),
                  static_cast<ssize_t>(std::min(size, bytes.size())));
        EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(size)), 0);
    }
    if (seal) {
        EXPECT_EQ(::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
    }
    return Arena::attach(std::move(fd));
}

detail::ArenaHeader* header_of(std::byte* bytes) {
    return reinterpret_cast<detail::ArenaHeader*>(bytes);
}

void expect_attach_error(const Result<std::shared_ptr<Arena>>& result, const std::string& words) {
    ASSERT_FALSE(result) << "attach accepted a bad arena (expected: " << words << ")";
    EXPECT_NE(result.error().message().find(words), std::string::npos) << result.error().message();
}

TEST(ArenaTest, CreateRejectsBadGeometry) {
    const std::pair<ArenaConfig, std::string> cases[] = {
        {{.slot_size = 0}, "slot size"},
        {{.slot_count = 0}, "slot count"},
        {{.slot_count = detail::max_slot_count + 1}, "slot count"},
        {{.alignment = 96}, "alignment"},
        {{.alignment = 32}, "alignment"},
        {{.alignment = 1U << 22U}, "alignment"},
        {{.max_participants = 0}, "max participants"},
        {{.max_participants = 65}, "max participants"},
    };
    for (const auto& [config, words] : cases) {
        auto arena = Arena::create(config);
        ASSERT_FALSE(arena) << words;
        EXPECT_TRUE(arena.error().is(Errc::invalid_argument));
        EXPECT_NE(arena.error().message().find(words), std::string::npos) << arena.error().message();
    }
}

TEST(ArenaTest, SlotsAreAlignedAndSized) {
    for (std::uint32_t alignment : {64U, 128U, 4096U}) {
        ArenaConfig config;
        config.slot_count = 5;
        config.slot_size = 100;
        config.alignment = alignment;
        auto arena = Arena::create(config);
        ASSERT_TRUE(arena) << arena.error().to_string();
        EXPECT_EQ((*arena)->slot_size(), std::max<std::size_t>(alignment, 128U));
        EXPECT_EQ((*arena)->alignment(), alignment);
        for (SlotIndex s = 0; s < 5; ++s) {
            EXPECT_EQ(reinterpret_cast<std::uintptr_t>((*arena)->slot_data(s)) % alignment, 0U);
        }
    }
}

TEST(ArenaTest, IdsAreUniqueAndPrintable) {
    auto a = make_arena();
    auto b = make_arena();
    EXPECT_NE(a->id(), b->id());
    EXPECT_EQ(a->id().to_string().size(), 32U);
    EXPECT_TRUE(a->is_creator());
}

TEST(ArenaTest, HugePageArenaFallsBackAndSaysSo) {
    ArenaConfig config;
    config.slot_count = 2;
    config.page_size = PageSize::huge_2m;
    auto arena = Arena::create(config);
    ASSERT_TRUE(arena) << arena.error().to_string();
    EXPECT_TRUE((*arena)->page_size() == PageSize::huge_2m || (*arena)->page_size() == PageSize::normal);
    auto slot = (*arena)->acquire();
    ASSERT_TRUE(slot);
    (*arena)->slot_data(*slot)[0] = std::byte{1};
    (*arena)->release(*slot);
}

TEST(ArenaTest, ParticipantsListsWhoHoldsWhat) {
    auto owner = make_arena(4, 64, 4);
    EXPECT_EQ(owner->max_participants(), 4U);
    auto other = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(other);
    auto a = (*other)->acquire();
    auto b = (*other)->acquire();
    (*other)->retain(*a);
    const auto list = owner->participants();
    ASSERT_EQ(list.size(), 2U);
    for (const ParticipantInfo& info : list) {
        EXPECT_EQ(info.pid, static_cast<std::uint32_t>(::getpid()));
        EXPECT_FALSE(info.reclaiming);
        EXPECT_EQ(info.references, info.index == (*other)->participant() ? 3U : 0U);
        EXPECT_EQ(info.incarnation,
                  info.index == (*other)->participant() ? (*other)->handle().incarnation : owner->handle().incarnation);
    }
    EXPECT_TRUE((*other)->holds_references());
    EXPECT_FALSE(owner->holds_references());
    (*other)->release(*a);
    (*other)->release(*a);
    (*other)->release(*b);
    EXPECT_FALSE((*other)->holds_references());
}

TEST(ArenaTest, QueriesOutsideTheArenaAnswerNothing) {
    auto arena = make_arena(2);
    EXPECT_EQ(arena->ref_count(99), 0U);
    EXPECT_EQ(arena->held_by(99, 0), 0U);
    EXPECT_EQ(arena->held_by(0, 99), 0U);
    EXPECT_FALSE(arena->is_held(99));
    EXPECT_TRUE(arena->holders(99).empty());
}

TEST(ArenaTest, AcquireGivesEverySlotOnce) {
    auto arena = make_arena(130);
    std::set<SlotIndex> seen;
    for (int i = 0; i < 130; ++i) {
        auto slot = arena->acquire();
        ASSERT_TRUE(slot) << slot.error().to_string();
        EXPECT_LT(*slot, 130U);
        EXPECT_TRUE(seen.insert(*slot).second) << "slot " << *slot << " handed out twice";
        EXPECT_EQ(arena->ref_count(*slot), 1U);
    }
    EXPECT_EQ(arena->stats().free_slots, 0U);
}

// A thread that takes a slot from a leaf with many free ones sets a few
// more aside for its next acquires (their hints cleared, their states
// free). Another thread still gets every one of them: through acquire()'s
// last resort, and through a wait.
TEST(ArenaTest, SlotsAnotherThreadSetAsideAreStillHandedOut) {
    for (const bool by_waiting : {false, true}) {
        auto arena = make_arena(64);
        SlotIndex first = 0;
        std::thread([&] { first = *arena->try_acquire(); }).join();
        std::set<SlotIndex> seen{first};
        while (auto slot = arena->try_acquire()) {
            EXPECT_TRUE(seen.insert(*slot).second) << "slot " << *slot << " handed out twice";
        }
        EXPECT_LT(seen.size(), 64U) << "the other thread set none aside";
        while (seen.size() < 64) {
            SlotIndex slot = 0;
            if (by_waiting) {
                auto got = arena->try_acquire_or_wait(std::chrono::milliseconds(10));
                ASSERT_TRUE(got) << seen.size() << " of 64 held";
                slot = *got;
            } else {
                auto got = arena->acquire();
                ASSERT_TRUE(got) << got.error().to_string();
                slot = *got;
            }
            EXPECT_TRUE(seen.insert(slot).second) << "slot " << slot << " handed out twice";
        }
        EXPECT_EQ(arena->stats().free_slots, 0U);
        EXPECT_FALSE(arena->try_acquire().has_value());
    }
}

TEST(ArenaTest, AcquireFailsWhenAllSlotsAreHeld) {
    auto arena = make_arena(3);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(arena->acquire());
    }
    auto slot = arena->acquire();
    ASSERT_FALSE(slot);
    EXPECT_TRUE(slot.error().is(Errc::exhausted));
    EXPECT_FALSE(arena->try_acquire().has_value());
}

TEST(ArenaTest, ReleasingTheLastReferenceFreesTheSlot) {
    auto arena = make_arena(1);
    auto slot = arena->acquire();
    ASSERT_TRUE(slot);
    arena->retain(*slot);
    arena->retain(*slot);
    EXPECT_EQ(arena->ref_count(*slot), 3U);
    arena->release(*slot);
    arena->release(*slot);
    EXPECT_TRUE(arena->is_held(*slot));
    EXPECT_FALSE(arena->try_acquire());
    arena->release(*slot);
    EXPECT_FALSE(arena->is_held(*slot));
    EXPECT_EQ(arena->ref_count(*slot), 0U);
    auto again = arena->try_acquire();
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *slot);
}

TEST(ArenaTest, AttachedParticipantSharesSlotsAndCounts) {
    auto owner = make_arena(4);
    auto fd = owner->dup_fd();
    ASSERT_TRUE(fd);
    auto other = Arena::attach(std::move(*fd));
    ASSERT_TRUE(other) << other.error().to_string();
    EXPECT_EQ((*other)->id(), owner->id());
    EXPECT_FALSE((*other)->is_creator());
    EXPECT_NE((*other)->participant(), owner->participant());
    EXPECT_EQ(owner->stats().participants, 2U);

    auto slot = owner->acquire();
    ASSERT_TRUE(slot);
    std::memcpy(owner->slot_data(*slot), "hello", 5);
    EXPECT_EQ(std::memcmp((*other)->slot_data(*slot), "hello", 5), 0);

    ASSERT_TRUE(owner->share(*slot, (*other)->handle()));
    EXPECT_EQ(owner->ref_count(*slot), 2U);
    EXPECT_EQ(owner->held_by(*slot, (*other)->participant()), 1U);
    EXPECT_EQ(owner->holders(*slot).size(), 2U);
    EXPECT_FALSE(owner->is_sole_reference(*slot));
    owner->release(*slot);
    EXPECT_TRUE((*other)->is_sole_reference(*slot));
    EXPECT_TRUE(owner->is_held(*slot));
    (*other)->release(*slot);
    EXPECT_FALSE(owner->is_held(*slot));
}

// hand_over() moves the reference: the receiver's count goes up, the
// giver's down, and the receiver's release frees the slot.
TEST(ArenaTest, HandOverMovesTheReferenceToTheReceiver) {
    auto owner = make_arena(4);
    auto fd = owner->dup_fd();
    ASSERT_TRUE(fd);
    auto other = Arena::attach(std::move(*fd));
    ASSERT_TRUE(other) << other.error().to_string();
    auto slot = owner->acquire();
    ASSERT_TRUE(slot);
    ASSERT_TRUE(owner->hand_over(*slot, (*other)->handle()));
    EXPECT_EQ(owner->ref_count(*slot), 1U);
    EXPECT_EQ(owner->held_by(*slot, owner->participant()), 0U);
    EXPECT_EQ(owner->held_by(*slot, (*other)->participant()), 1U);
    EXPECT_TRUE((*other)->is_sole_reference(*slot));
    (*other)->release(*slot);
    EXPECT_FALSE(owner->is_held(*slot));
    EXPECT_EQ(owner->ref_count(*slot), 0U);

    // With a second reference of the giver's own, that one stays.
    auto kept = owner->acquire();
    ASSERT_TRUE(kept);
    owner->retain(*kept);
    ASSERT_TRUE(owner->hand_over(*kept, (*other)->handle()));
    EXPECT_EQ(owner->held_by(*kept, owner->participant()), 1U);
    EXPECT_EQ(owner->held_by(*kept, (*other)->participant()), 1U);
    (*other)->release(*kept);
    EXPECT_TRUE(owner->is_held(*kept));
    owner->release(*kept);
    EXPECT_FALSE(owner->is_held(*kept));

    // To a participant that is gone: refused, the giver keeps its reference.
    auto third = owner->acquire();
    ASSERT_TRUE(third);
    auto refused = owner->hand_over(*third, ParticipantHandle{(*other)->participant(), 999});
    EXPECT_FALSE(refused);
    EXPECT_EQ(owner->held_by(*third, owner->participant()), 1U);
    owner->release(*third);
    EXPECT_FALSE(owner->is_held(*third));
}

TEST(ArenaTest, ShareRefusesAReplacedParticipant) {
    auto owner = make_arena(4);
    ParticipantHandle old_handle;
    {
        auto other = Arena::attach(*owner->dup_fd());
        ASSERT_TRUE(other);
        old_handle = (*other)->handle();
    }
    auto successor = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(successor);
    EXPECT_EQ((*successor)->participant(), old_handle.index);
    auto slot = owner->acquire();
    auto shared = owner->share(*slot, old_handle);
    ASSERT_FALSE(shared);
    EXPECT_TRUE(shared.error().is(Errc::closed));
    EXPECT_EQ(owner->ref_count(*slot), 1U);
    auto bad = owner->share(*slot, ParticipantHandle{99, 1});
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.error().is(Errc::out_of_range));
    auto bad_slot = owner->share(1000, (*successor)->handle());
    ASSERT_FALSE(bad_slot);
    EXPECT_TRUE(bad_slot.error().is(Errc::out_of_range));
    owner->release(*slot);
}

TEST(ArenaTest, ParticipantRecordsRunOut) {
    auto owner = make_arena(2, 64, 2);
    auto second = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(second);
    auto third = Arena::attach(*owner->dup_fd());
    ASSERT_FALSE(third);
    EXPECT_TRUE(third.error().is(Errc::exhausted));
    EXPECT_NE(third.error().message().find("participant"), std::string::npos);
    // The failed attach touched nobody else's records or references.
    EXPECT_EQ(owner->stats().participants, 2U);
    auto slot = owner->acquire();
    ASSERT_TRUE(slot);
    auto fourth = Arena::attach(*owner->dup_fd());
    ASSERT_FALSE(fourth);
    EXPECT_EQ(owner->ref_count(*slot), 1U);
    EXPECT_EQ(owner->stats().participants, 2U);
    owner->release(*slot);
}

TEST(ArenaTest, DestroyedParticipantGivesBackItsRecord) {
    auto owner = make_arena(2, 64, 2);
    {
        auto other = Arena::attach(*owner->dup_fd());
        ASSERT_TRUE(other);
        auto s = (*other)->acquire();
        ASSERT_TRUE(s);
        (*other)->release(*s);
        EXPECT_EQ(owner->stats().participants, 2U);
    }
    EXPECT_EQ(owner->stats().participants, 1U);
    // The record is free again for the next process.
    auto next = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(next) << next.error().to_string();
}

TEST(ArenaTest, ArenaWithOutstandingReferencesStaysMapped) {
    auto arena = make_arena(2);
    Arena* raw = arena.get();
    auto slot = raw->acquire();
    ASSERT_TRUE(slot);
    arena.reset(); // the last shared_ptr: the mapping must survive the held slot
    std::memset(raw->slot_data(*slot), 1, raw->slot_size());
    EXPECT_TRUE(raw->is_held(*slot));
    raw->release(*slot);
    EXPECT_FALSE(raw->is_held(*slot));
}

// A child process that attaches to `arena`, does `work` with it, and waits
// to be killed: its pid, or -1 when it could not be started or attach.
pid_t child_that(Arena& arena, const std::function<void(Arena&)>& work) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) {
        return -1;
    }
    const pid_t child = ::fork();
    if (child == 0) {
        auto mine = Arena::attach(*arena.dup_fd());
        if (!mine) {
            ::_exit(2);
        }
        work(**mine);
        const char byte = 1;
        (void)::write(ready[1], &byte, 1);
        ::pause();
        ::_exit(0);
    }
    ::close(ready[1]);
    char byte = 0;
    const bool started = child > 0 && ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
    return started ? child : -1;
}

TEST(ArenaTest, ReclaimReturnsTheSlotsOfAKilledProcess) {
    auto owner = make_arena(8);
    const pid_t child = child_that(*owner, [](Arena& mine) {
        for (int i = 0; i < 3; ++i) {
            auto s = mine.acquire();
            mine.retain(*s);
        }
    });
    ASSERT_GT(child, 0);
    EXPECT_EQ(owner->stats().held_slots, 3U);

    // Alive: nothing to reclaim.
    EXPECT_TRUE(owner->reclaim_dead().dead_pids.empty());
    EXPECT_EQ(owner->stats().held_slots, 3U);

    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    const ReclaimReport report = owner->reclaim_dead();
    ASSERT_EQ(report.dead_pids.size(), 1U);
    EXPECT_EQ(report.dead_pids[0], static_cast<std::uint32_t>(child));
    EXPECT_EQ(report.references_dropped, 6U);
    EXPECT_EQ(report.slots_freed, 3U);
    EXPECT_EQ(owner->stats().free_slots, 8U);
    EXPECT_EQ(owner->stats().participants, 1U);
    // Exactly once: a second pass finds nothing.
    const ReclaimReport again = owner->reclaim_dead();
    EXPECT_TRUE(again.dead_pids.empty());
    EXPECT_EQ(again.slots_freed, 0U);
}

// A second, white-box mapping of an arena, to forge what another process
// (or a dead one) would leave in the shared memory.
class RawArena {
public:
    explicit RawArena(const Arena& arena) {
        struct stat st {};
        EXPECT_EQ(::fstat(arena.fd(), &st), 0);
        size_ = static_cast<std::size_t>(st.st_size);
        base_ = static_cast<std::byte*>(::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, arena.fd(), 0));
        EXPECT_NE(static_cast<void*>(base_), MAP_FAILED);
    }
    RawArena(const RawArena&) = delete;
    RawArena& operator=(const RawArena&) = delete;
    ~RawArena() { ::munmap(base_, size_); }

    detail::ArenaHeader& header() { return *reinterpret_cast<detail::ArenaHeader*>(base_); }
    detail::ParticipantRecord& record(ParticipantIndex i) {
        return *reinterpret_cast<detail::ParticipantRecord*>(base_ + header().participants_offset +
                                                             i * sizeof(detail::ParticipantRecord));
    }
    std::atomic<std::uint64_t>& state(SlotIndex s) {
        return *reinterpret_cast<std::atomic<std::uint64_t>*>(base_ + header().slot_headers_offset +
                                                              std::size_t{s} * header().slot_header_stride);
    }
    std::atomic<std::uint32_t>& count(SlotIndex s, ParticipantIndex p) {
        return *reinterpret_cast<std::atomic<std::uint32_t>*>(base_ + header().slot_headers_offset +
                                                              std::size_t{s} * header().slot_header_stride +
                                                              detail::slot_counts_offset + 4 * p);
    }

private:
    std::byte* base_ = nullptr;
    std::size_t size_ = 0;
};

// A child process that attaches to `arena` and waits to be killed: its pid
// and participant handle (pid -1 when it could not be started).
std::pair<pid_t, ParticipantHandle> attached_child(Arena& arena) {
    int channel[2];
    if (::pipe2(channel, O_CLOEXEC) != 0) {
        return {-1, {}};
    }
    const pid_t child = ::fork();
    if (child == 0) {
        auto mine = Arena::attach(*arena.dup_fd());
        const ParticipantHandle handle = (*mine)->handle();
        (void)::write(channel[1], &handle, sizeof(handle));
        ::pause();
        ::_exit(0);
    }
    ::close(channel[1]);
    ParticipantHandle handle;
    const bool got = child > 0 && ::read(channel[0], &handle, sizeof(handle)) == static_cast<ssize_t>(sizeof(handle));
    ::close(channel[0]);
    return {got ? child : -1, handle};
}

TEST(ArenaTest, SlotSharedWithADeadProcessSurvivesForTheLiveHolder) {
    auto owner = make_arena(2);
    const auto [child, handle] = attached_child(*owner);
    ASSERT_GT(child, 0);
    auto slot = owner->acquire();
    ASSERT_TRUE(owner->share(*slot, handle)); // in flight to the child, which dies before using it
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    const ReclaimReport report = owner->reclaim_dead();
    EXPECT_EQ(report.references_dropped, 1U);
    EXPECT_EQ(report.slots_freed, 0U);
    EXPECT_TRUE(owner->is_held(*slot));
    EXPECT_TRUE(owner->is_sole_reference(*slot));
    owner->release(*slot);
    EXPECT_FALSE(owner->is_held(*slot));
}

TEST(ArenaTest, ShareToAParticipantReclaimedMeanwhileIsRefusedAndLeaksNothing) {
    // A producer that has not yet noticed its consumer died (its socket
    // hang-up is still unread) keeps sharing with it after a reclaim ran:
    // those references must be refused, not credited to nobody.
    auto owner = make_arena(2);
    const auto [child, handle] = attached_child(*owner);
    ASSERT_GT(child, 0);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    EXPECT_EQ(owner->reclaim_dead().dead_pids.size(), 1U);
    auto slot = owner->acquire();
    ASSERT_TRUE(slot);
    auto shared = owner->share(*slot, handle);
    ASSERT_FALSE(shared);
    EXPECT_TRUE(shared.error().is(Errc::closed)) << shared.error().to_string();
    EXPECT_TRUE(owner->is_sole_reference(*slot));
    owner->release(*slot);
    EXPECT_FALSE(owner->is_held(*slot));
    EXPECT_EQ(owner->stats().held_slots, 0U);
}

TEST(ArenaTest, PidReuseDoesNotFoolReclaim) {
    auto owner = make_arena(2);
    auto other = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(other);
    auto slot = (*other)->acquire();
    ASSERT_TRUE(slot);
    RawArena raw(*owner);
    auto& rec = raw.record((*other)->participant());
    // The pid is alive (it is ours), but the start time says the process
    // that registered was another one: the pid has been reused.
    rec.start_time.store(rec.start_time.load() + 12345);
    const ReclaimReport report = owner->reclaim_dead();
    ASSERT_EQ(report.dead_pids.size(), 1U);
    EXPECT_EQ(report.slots_freed, 1U);
    EXPECT_FALSE(owner->is_held(*slot));
}

TEST(ArenaTest, ReclaimTakesOverFromAReclaimerThatDied) {
    auto owner = make_arena(2);
    auto other = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(other);
    auto slot = (*other)->acquire();
    ASSERT_TRUE(slot);
    RawArena raw(*owner);
    auto& rec = raw.record((*other)->participant());
    const auto self = detail::ProcessIdentity::self();
    const std::uint32_t ns = detail::namespace_tag(self.pid_namespace);
    const std::uint64_t active = rec.owner.load();
    // A reclaimer that is alive (here: this very process, another thread) is
    // never joined, nor is one named by a pid of another pid namespace.
    for (const std::uint64_t busy : {detail::reclaiming_owner(active, self.pid, ns),
                                     detail::reclaiming_owner(active, 0x7FFFFFF0U, ns + 1)}) {
        rec.owner.store(busy);
        const ReclaimReport report = owner->reclaim_dead();
        EXPECT_EQ(rec.owner.load(), busy);
        EXPECT_EQ(report.references_dropped, 0U);
        EXPECT_TRUE(owner->is_held(*slot));
    }
    // One that marked the record and died is taken over.
    rec.owner.store(detail::reclaiming_owner(active, 0x7FFFFFF0U, ns));
    const ReclaimReport report = owner->reclaim_dead();
    EXPECT_EQ(detail::owner_state(rec.owner.load()), detail::ParticipantState::free);
    EXPECT_EQ(report.references_dropped, 1U);
    EXPECT_FALSE(owner->is_held(*slot));
}

TEST(ArenaTest, ACorruptCountNeverFreesASlotFromUnderItsOwner) {
    auto owner = make_arena(2);
    auto other = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(other);
    auto slot = owner->acquire();
    ASSERT_TRUE(slot);
    RawArena raw(*owner);
    // A count the other participant was never credited (the slot is still
    // owned, never shared): its last release must not free the owner's slot.
    raw.count(*slot, (*other)->participant()).fetch_add(1);
    (*other)->release(*slot);
    EXPECT_TRUE(owner->is_held(*slot));
    auto next = owner->acquire();
    ASSERT_TRUE(next);
    EXPECT_NE(*next, *slot) << "a held slot was handed out again";
    owner->release(*next);
    owner->release(*slot);
    EXPECT_FALSE(owner->is_held(*slot));
}

TEST(ArenaTest, ReclaimByHandleLeavesANewIncarnationAlone) {
    auto owner = make_arena(2);
    const auto [child, handle] = attached_child(*owner);
    ASSERT_GT(child, 0);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ASSERT_TRUE(owner->reclaim(handle));
    // The index is taken again; the old handle must not reach the new one.
    auto successor = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(successor);
    ASSERT_EQ((*successor)->participant(), handle.index);
    auto slot = owner->acquire();
    ASSERT_TRUE(slot);
    ASSERT_TRUE(owner->share(*slot, (*successor)->handle()));
    auto again = owner->reclaim(handle);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->references_dropped, 0U);
    EXPECT_EQ(owner->held_by(*slot, handle.index), 1U);
    (*successor)->release(*slot);
    owner->release(*slot);
    EXPECT_FALSE(owner->is_held(*slot));
}

TEST(ArenaTest, ProcessInAnotherPidNamespaceIsNotJudged) {
    auto owner = make_arena(2);
    auto other = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(other);
    auto slot = (*other)->acquire();
    RawArena raw(*owner);
    auto& rec = raw.record((*other)->participant());
    rec.pid_namespace.store(rec.pid_namespace.load() + 1);
    rec.start_time.store(0);
    EXPECT_TRUE(owner->reclaim_dead().dead_pids.empty());
    EXPECT_TRUE(owner->is_held(*slot));
    (*other)->release(*slot);
}

TEST(ArenaTest, ReclaimFreesASharedSlotOrphanedMidRelease) {
    auto owner = make_arena(2);
    auto other = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(other);
    auto slot = owner->acquire();
    ASSERT_TRUE(slot);
    ASSERT_TRUE(owner->share(*slot, (*other)->handle()));
    RawArena raw(*owner);
    // Both holders dropped their counts; the last one died before freeing.
    raw.count(*slot, owner->participant()).fetch_sub(1);
    raw.count(*slot, (*other)->participant()).fetch_sub(1);
    EXPECT_TRUE(owner->is_held(*slot));
    const ReclaimReport report = owner->reclaim_dead();
    EXPECT_EQ(report.slots_freed, 1U);
    EXPECT_FALSE(owner->is_held(*slot));
    EXPECT_EQ(owner->stats().free_slots, 2U);
}

TEST(ArenaTest, ReclaimLeavesALiveOwnersSlotAlone) {
    auto owner = make_arena(2);
    auto other = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(other);
    auto slot = (*other)->acquire();
    ASSERT_TRUE(slot);
    RawArena raw(*owner);
    // A live owner between its last decrement and its free: not an orphan.
    raw.count(*slot, (*other)->participant()).fetch_sub(1);
    EXPECT_EQ(owner->reclaim_dead().slots_freed, 0U);
    EXPECT_TRUE(owner->is_held(*slot));
    raw.count(*slot, (*other)->participant()).fetch_add(1);
    (*other)->release(*slot);
    EXPECT_FALSE(owner->is_held(*slot));
}

TEST(ArenaTest, ReclaimFreesASlotOwnedByAFormerIncarnation) {
    auto owner = make_arena(2, 64, 8);
    RawArena raw(*owner);
    // Owned by participant 5, incarnation tag 9: no such live participant.
    raw.state(1).store(detail::make_owned_state(0, 5, 9));
    EXPECT_TRUE(owner->is_held(1));
    EXPECT_EQ(owner->reclaim_dead().slots_freed, 1U);
    EXPECT_FALSE(owner->is_held(1));
}

TEST(ArenaTest, NewIncarnationFreesSlotsItsPredecessorLeftOwned) {
    auto owner = make_arena(2, 64, 2);
    RawArena raw(*owner);
    // Participant 1's previous incarnation left slot 0 owned (it died and its
    // record was freed, but the slot was never swept).
    raw.state(0).store(detail::make_owned_state(0, 1, 0));
    auto next = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(next);
    EXPECT_EQ((*next)->participant(), 1U);
    EXPECT_FALSE(owner->is_held(0));
}

TEST(ArenaTest, OwnedSlotBecomesSharedWhenAnotherProcessGetsAReference) {
    auto owner = make_arena(2);
    auto other = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(other);
    auto slot = owner->acquire();
    RawArena raw(*owner);
    EXPECT_EQ(detail::slot_phase(raw.state(*slot).load()), detail::slot_owned);
    ASSERT_TRUE(owner->share(*slot, owner->handle())); // to itself: stays owned
    EXPECT_EQ(detail::slot_phase(raw.state(*slot).load()), detail::slot_owned);
    EXPECT_EQ(owner->ref_count(*slot), 2U);
    ASSERT_TRUE(owner->share(*slot, (*other)->handle()));
    EXPECT_EQ(detail::slot_phase(raw.state(*slot).load()), detail::slot_shared);
    owner->release(*slot);
    owner->release(*slot);
    EXPECT_TRUE(owner->is_held(*slot));
    (*other)->release(*slot);
    EXPECT_FALSE(owner->is_held(*slot));
}

TEST(ArenaTest, ReclaimReadvertisesAFreeSlotWhoseReleaserDied) {
    auto owner = make_arena(1);
    auto slot = owner->acquire();
    ASSERT_TRUE(slot);
    RawArena raw(*owner);
    // Freed (state FREE) but the hint was never set: invisible to try_acquire.
    raw.count(*slot, owner->participant()).fetch_sub(1);
    raw.state(*slot).store(detail::make_slot_state(1, 0));
    EXPECT_FALSE(owner->try_acquire());
    auto again = owner->acquire(); // reclaims, repairs the hint, succeeds
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(*again, *slot);
}

TEST(ArenaTest, AcquireOnAFullArenaReclaimsFromTheDead) {
    auto owner = make_arena(2);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto mine = Arena::attach(*owner->dup_fd());
        for (int i = 0; i < 2; ++i) {
            (void)(*mine)->acquire();
        }
        ::_exit(0); // exits holding both slots; the Arena destructor never runs
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(owner->stats().free_slots, 0U);
    EXPECT_FALSE(owner->try_acquire());
    auto slot = owner->acquire();
    ASSERT_TRUE(slot) << slot.error().to_string();
    EXPECT_EQ(owner->stats().free_slots, 1U);
}

TEST(ArenaTest, WaiterWakesWhenAnotherThreadReleases) {
    auto arena = make_arena(1);
    auto slot = arena->acquire();
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        arena->release(*slot);
    });
    const auto start = std::chrono::steady_clock::now();
    auto next = arena->try_acquire_or_wait(std::chrono::seconds(30));
    releaser.join();
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(*next, *slot);
    // Woken by the release, not by the timeout (a loose bound, not a timing assertion).
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(ArenaTest, WaiterGivesUpAfterTheTimeout) {
    auto arena = make_arena(1);
    auto slot = arena->acquire();
    auto next = arena->try_acquire_or_wait(std::chrono::milliseconds(5));
    EXPECT_FALSE(next.has_value());
}

TEST(ArenaTest, WaiterReturnsAtOnceWhenCancelled) {
    auto arena = make_arena(1);
    auto slot = arena->acquire();
    std::atomic<bool> cancel{true};
    auto next = arena->try_acquire_or_wait(std::chrono::hours(1), &cancel);
    ASSERT_FALSE(next);
}

TEST(ArenaTest, WakeWaitersWakesASleeper) {
    auto arena = make_arena(1);
    auto slot = arena->acquire();
    std::thread waker([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        arena->wake_waiters();
    });
    auto next = arena->try_acquire_or_wait(std::chrono::hours(1));
    waker.join();
    EXPECT_FALSE(next);
}

// Parking: the last reference a thread drops to a slot of an arena it
// acquires from keeps the slot marked as its process's, for the thread's
// next acquire. Everybody else still sees the slot as free and can take it.

std::uint64_t phase_of(RawArena& raw, SlotIndex slot) {
    return detail::slot_phase(raw.state(slot).load());
}

TEST(ArenaParkingTest, TheReleasingThreadGetsItsSlotBack) {
    auto arena = make_arena(16);
    RawArena raw(*arena);
    auto slot = arena->acquire();
    ASSERT_TRUE(slot);
    arena->release(*slot);
    EXPECT_EQ(phase_of(raw, *slot), detail::slot_parked);
    EXPECT_FALSE(arena->is_held(*slot));
    EXPECT_EQ(arena->ref_count(*slot), 0U);
    EXPECT_EQ(arena->stats().free_slots, 16U);
    EXPECT_FALSE(arena->holds_references());
    auto again = arena->try_acquire();
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *slot);
    EXPECT_EQ(phase_of(raw, *again), detail::slot_owned);
    EXPECT_EQ(arena->ref_count(*again), 1U);
    arena->release(*again);
}

TEST(ArenaParkingTest, AThreadThatNeverAcquiredFreesWhatItReleases) {
    auto arena = make_arena(16);
    RawArena raw(*arena);
    auto slot = arena->acquire();
    ASSERT_TRUE(slot);
    std::thread([&] { arena->release(*slot); }).join();
    EXPECT_EQ(phase_of(raw, *slot), detail::slot_free);
}

TEST(ArenaParkingTest, AnotherThreadTakesAParkedSlotWhenNoOtherIsFree) {
    auto arena = make_arena(8);
    std::vector<SlotIndex> held;
    for (int i = 0; i < 8; ++i) {
        held.push_back(*arena->acquire());
    }
    arena->release(held.back()); // parked for this thread
    std::optional<SlotIndex> taken;
    std::thread([&] { taken = arena->try_acquire(); }).join();
    ASSERT_TRUE(taken.has_value());
    EXPECT_EQ(*taken, held.back());
    // This thread's next acquire finds its parked slot gone, and nothing free.
    EXPECT_FALSE(arena->try_acquire());
    std::thread([&] { arena->release(*taken); }).join();
    held.pop_back();
    for (SlotIndex s : held) {
        arena->release(s);
    }
    EXPECT_EQ(arena->stats().free_slots, 8U);
}

TEST(ArenaParkingTest, AnotherParticipantTakesAParkedSlot) {
    auto owner = make_arena(8);
    auto other = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(other) << other.error().to_string();
    std::vector<SlotIndex> held;
    for (int i = 0; i < 8; ++i) {
        held.push_back(*owner->acquire());
    }
    owner->release(held[3]);
    auto taken = (*other)->try_acquire();
    ASSERT_TRUE(taken.has_value());
    EXPECT_EQ(*taken, held[3]);
    EXPECT_EQ((*other)->held_by(*taken, (*other)->participant()), 1U);
    EXPECT_EQ(owner->held_by(*taken, owner->participant()), 0U);
    (*other)->release(*taken);
}

TEST(ArenaParkingTest, AWaiterIsWokenByASlotParkedWhileItLooks) {
    // The releasing thread parks only while nobody waits, and wakes a waiter
    // that began to wait as it parked: the waiter always gets the slot.
    auto arena = make_arena(8);
    std::vector<SlotIndex> held;
    for (int i = 0; i < 8; ++i) {
        held.push_back(*arena->acquire());
    }
    for (int round = 0; round < 200; ++round) {
        std::optional<SlotIndex> got;
        std::thread waiter([&] { got = arena->try_acquire_or_wait(std::chrono::seconds(30)); });
        arena->release(held[0]);
        waiter.join();
        ASSERT_TRUE(got.has_value()) << "round " << round;
        EXPECT_EQ(*got, held[0]);
        // The waiter's thread dropped nothing: the slot is held for us again.
        arena->retain(*got);
        std::thread([&] { arena->release(*got); }).join();
    }
    for (SlotIndex s : held) {
        arena->release(s);
    }
    EXPECT_EQ(arena->stats().free_slots, 8U);
}

TEST(ArenaParkingTest, ASlotParkedForAnArenaThisThreadLeftStaysAvailable) {
    // A thread keeps parking spots for a few arenas; one that uses more
    // forgets the oldest, whose parked slots any acquirer still finds.
    auto arena = make_arena(8);
    std::vector<SlotIndex> held;
    for (int i = 0; i < 8; ++i) {
        held.push_back(*arena->acquire());
    }
    arena->release(held[5]);
    std::vector<std::shared_ptr<Arena>> others;
    for (int i = 0; i < 10; ++i) {
        others.push_back(make_arena(8));
        auto slot = others.back()->acquire();
        ASSERT_TRUE(slot);
        others.back()->release(*slot);
    }
    auto taken = arena->try_acquire();
    ASSERT_TRUE(taken.has_value());
    EXPECT_EQ(*taken, held[5]);
}

TEST(ArenaParkingTest, ANewArenaNeverGetsASlotParkedForAGoneOne) {
    for (int i = 0; i < 20; ++i) {
        auto arena = make_arena(8);
        auto slot = arena->acquire();
        ASSERT_TRUE(slot);
        arena->release(*slot); // parked; the arena goes with it still parked
    }
    auto arena = make_arena(8);
    RawArena raw(*arena);
    for (int i = 0; i < 8; ++i) {
        auto slot = arena->try_acquire();
        ASSERT_TRUE(slot.has_value());
        EXPECT_EQ(phase_of(raw, *slot), detail::slot_owned);
        EXPECT_EQ(arena->ref_count(*slot), 1U);
    }
}

TEST(ArenaParkingTest, DestroyingAParticipantFreesWhatItParked) {
    auto owner = make_arena(8);
    RawArena raw(*owner);
    SlotIndex parked = 0;
    {
        auto other = Arena::attach(*owner->dup_fd());
        ASSERT_TRUE(other);
        parked = *(*other)->acquire();
        (*other)->release(parked);
        EXPECT_EQ(phase_of(raw, parked), detail::slot_parked);
    }
    EXPECT_EQ(phase_of(raw, parked), detail::slot_free);
    for (int i = 0; i < 8; ++i) {
        EXPECT_TRUE(owner->try_acquire().has_value());
    }
}

TEST(ArenaParkingTest, ReclaimFreesWhatAKilledProcessParked) {
    auto owner = make_arena(8);
    RawArena raw(*owner);
    const pid_t child = child_that(*owner, [](Arena& mine) {
        const SlotIndex a = *mine.acquire();
        const SlotIndex b = *mine.acquire();
        mine.release(a);
        mine.release(b);
    });
    ASSERT_GT(child, 0);
    std::uint32_t parked = 0;
    for (SlotIndex s = 0; s < 8; ++s) {
        parked += phase_of(raw, s) == detail::slot_parked ? 1U : 0U;
    }
    EXPECT_EQ(parked, 2U);
    EXPECT_EQ(owner->stats().free_slots, 8U);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    const ReclaimReport report = owner->reclaim_dead();
    ASSERT_EQ(report.dead_pids.size(), 1U);
    EXPECT_EQ(report.references_dropped, 0U);
    EXPECT_EQ(report.slots_freed, 2U);
    for (SlotIndex s = 0; s < 8; ++s) {
        EXPECT_EQ(phase_of(raw, s), detail::slot_free) << "slot " << s;
    }
}

TEST(ArenaParkingTest, SweepFreesASlotParkedByAFormerIncarnation) {
    auto arena = make_arena(8);
    RawArena raw(*arena);
    auto slot = arena->acquire();
    ASSERT_TRUE(slot);
    // Forge a slot parked by participant 2, whose record is free.
    arena->release(*slot);
    auto again = arena->acquire();
    ASSERT_EQ(*again, *slot);
    raw.count(*slot, arena->participant()).store(detail::make_count_word(arena->handle().incarnation & 0xFFU, 0));
    raw.state(*slot).store(detail::make_parked_state(7, 2, 1));
    const ReclaimReport report = arena->reclaim_dead();
    EXPECT_EQ(report.slots_freed, 1U);
    EXPECT_EQ(phase_of(raw, *slot), detail::slot_free);
}

// Bytes of memory the memfd behind `fd` has allocated.
std::size_t allocated_bytes(int fd) {
    struct stat st {};
    EXPECT_EQ(::fstat(fd, &st), 0);
    return static_cast<std::size_t>(st.st_blocks) * 512U;
}

TEST(ArenaFootprintTest, CreatingAndDroppingAnArenaTouchesOnlyTheSlotsItUses) {
    // 4096 slots of 16 participants: 512 KiB of slot headers, of which a
    // process that uses two slots needs one page.
    auto arena = make_arena(4096, 256, 16);
    auto fd = arena->dup_fd();
    ASSERT_TRUE(fd);
    const std::size_t headers = std::size_t{4096} * RawArena(*arena).header().slot_header_stride;
    EXPECT_LT(allocated_bytes(fd->get()), headers / 8) << "creating the arena touched the headers of unused slots";
    {
        auto a = arena->acquire();
        auto b = arena->acquire();
        ASSERT_TRUE(a && b);
        arena->release(*a);
        arena->release(*b); // parked: the drop below must free it
    }
    arena.reset();
    EXPECT_LT(allocated_bytes(fd->get()), headers / 8) << "dropping the arena touched the headers of unused slots";
    // What the creator parked went back, and its record is free.
    auto again = Arena::attach(std::move(*fd));
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ((*again)->stats().free_slots, 4096U);
    EXPECT_EQ((*again)->stats().participants, 1U);
}

TEST(ArenaFootprintTest, AReferenceOnASlotFarFromTheUsedOnesIsFound) {
    // The walk for references skips pages of slot headers nobody touched;
    // a reference on the last slot, past thousands of untouched ones, still
    // keeps the arena mapped.
    auto arena = make_arena(4096, 64, 16);
    RawArena raw(*arena);
    EXPECT_FALSE(arena->holds_references());
    const SlotIndex far = 4095;
    const std::uint32_t tag = arena->handle().incarnation & 0xFFU;
    raw.count(far, arena->participant()).store(detail::make_count_word(tag, 1));
    EXPECT_TRUE(arena->holds_references());
    raw.count(far, arena->participant()).store(detail::make_count_word(tag, 0));
    EXPECT_FALSE(arena->holds_references());
}

TEST(ArenaFootprintTest, AParticipantThatJoinedLaterCanBeGivenTheCreatorsSlots) {
    // The creator's count words are the fresh memfd's zeros; references
    // credited both ways still count and free correctly.
    auto owner = make_arena(64, 256, 4);
    auto other = Arena::attach(*owner->dup_fd());
    ASSERT_TRUE(other);
    auto theirs = (*other)->acquire();
    ASSERT_TRUE(theirs);
    ASSERT_TRUE((*other)->share(*theirs, owner->handle()));
    (*other)->release(*theirs);
    EXPECT_EQ(owner->ref_count(*theirs), 1U);
    EXPECT_TRUE(owner->holds_references());
    owner->release(*theirs);
    EXPECT_FALSE(owner->is_held(*theirs));
    auto mine = owner->acquire();
    ASSERT_TRUE(mine);
    ASSERT_TRUE(owner->share(*mine, (*other)->handle()));
    owner->release(*mine);
    EXPECT_EQ((*other)->ref_count(*mine), 1U);
    (*other)->release(*mine);
    EXPECT_FALSE((*other)->is_held(*mine));
}

class ArenaAttachTest : public ::testing::Test {
protected:
    std::shared_ptr<Arena> arena_ = make_arena(4, 256, 4);
};

TEST_F(ArenaAttachTest, RejectsAnInvalidFd) {
    expect_attach_error(Arena::attach(UniqueFd()), "not a valid file descriptor");
}

TEST_F(ArenaAttachTest, RejectsAnUnsealedMemfd) {
    expect_attach_error(attach_edited(
                            *arena_, [](std::byte*, std::size_t&) {}, false),
                        "F_SEAL_SHRINK");
}

TEST_F(ArenaAttachTest, RejectsAPipe) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    UniqueFd write_end(fds[1]);
    expect_attach_error(Arena::attach(UniqueFd(fds[0])), "F_SEAL_SHRINK");
}

TEST_F(ArenaAttachTest, RejectsAFileSmallerThanTheHeader) {
    expect_attach_error(attach_edited(*arena_, [](std::byte*, std::size_t& size) { size = 100; }),
                        "smaller than the 192-byte header");
}

TEST_F(ArenaAttachTest, RejectsAnEmptyFile) {
    expect_attach_error(attach_edited(*arena_, [](std::byte*, std::size_t& size) { size = 0; }), "empty");
}

TEST_F(ArenaAttachTest, RejectsBadMagic) {
    expect_attach_error(attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->magic ^= 1; }),
                        "bad magic");
}

TEST_F(ArenaAttachTest, RejectsAnotherLayoutVersion) {
    // Version 1 named the reclaimer outside the owner word: a process built
    // with it would misread every record of this layout.
    auto result = attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->layout_version = 1; });
    expect_attach_error(result, "layout version 1");
    EXPECT_TRUE(result.error().is(Errc::version_mismatch));
}

TEST_F(ArenaAttachTest, RejectsAWrongHeaderSize) {
    expect_attach_error(attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->header_size = 64; }),
                        "header size");
}

TEST_F(ArenaAttachTest, RejectsImpossibleGeometry) {
    expect_attach_error(attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->slot_count = 0; }),
                        "slot count");
    expect_attach_error(attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->alignment = 100; }),
                        "alignment");
    expect_attach_error(
        attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->max_participants = 1000; }),
        "max participants");
    expect_attach_error(attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->slot_size = 0; }),
                        "slot size");
}

TEST_F(ArenaAttachTest, RejectsOffsetsThatDisagreeWithTheGeometry) {
    expect_attach_error(attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->data_offset += 64; }),
                        "data offset");
    expect_attach_error(
        attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->slot_headers_offset = 0; }),
        "slot headers offset");
    expect_attach_error(attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->hints_offset = 8; }),
                        "hints offset");
    expect_attach_error(attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->slot_stride = 1; }),
                        "slot stride");
    expect_attach_error(
        attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->participants_offset = 0; }),
        "participants offset");
    expect_attach_error(
        attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->slot_header_stride = 16; }),
        "slot header stride");
}

TEST_F(ArenaAttachTest, RejectsASlotCountThatDoesNotFitTheFile) {
    // Everything consistent except that the slots would run past the end.
    expect_attach_error(attach_edited(*arena_, [](std::byte* b, std::size_t&) { header_of(b)->slot_count = 4000; }),
                        "arena header");
}

TEST_F(ArenaAttachTest, RejectsATruncatedFile) {
    expect_attach_error(attach_edited(*arena_, [](std::byte*, std::size_t& size) { size -= 64; }), "total size");
}

TEST_F(ArenaAttachTest, AcceptsAFaithfulCopy) {
    auto copy = attach_edited(*arena_, [](std::byte*, std::size_t&) {});
    ASSERT_TRUE(copy) << copy.error().to_string();
    EXPECT_EQ((*copy)->slot_count(), 4U);
}

TEST_F(ArenaAttachTest, SurvivesHostileHintBits) {
    // A writer sets hint bits past the last slot and for held slots: acquire
    // must neither hand out a held slot nor index past the arena.
    auto other = Arena::attach(*arena_->dup_fd());
    ASSERT_TRUE(other);
    std::vector<SlotIndex> held;
    while (auto slot = arena_->try_acquire()) {
        held.push_back(*slot);
    }
    ASSERT_EQ(held.size(), 4U);
    struct stat st {};
    ASSERT_EQ(::fstat(arena_->fd(), &st), 0);
    void* raw =
        ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, arena_->fd(), 0);
    ASSERT_NE(raw, MAP_FAILED);
    auto* header = static_cast<detail::ArenaHeader*>(raw);
    auto* hints = reinterpret_cast<std::atomic<std::uint64_t>*>(static_cast<std::byte*>(raw) + header->hints_offset);
    hints[0].store(~0ULL); // top
    hints[1].store(~0ULL); // summary
    hints[2].store(~0ULL); // the only leaf: slots 0-3 held, 4-63 do not exist
    auto slot = (*other)->try_acquire();
    EXPECT_FALSE(slot);
    ::munmap(raw, static_cast<std::size_t>(st.st_size));
    for (SlotIndex s : held) {
        arena_->release(s);
    }
    EXPECT_EQ(arena_->stats().free_slots, 4U);
}

} // namespace
} // namespace parallax::arena_test
