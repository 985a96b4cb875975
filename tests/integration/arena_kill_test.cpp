// Many processes share one arena and are killed with SIGKILL at random
// moments, holding references, in the middle of acquiring or releasing. The
// arena must come back to fully free after reclaim, and no slot may ever be
// owned by two processes at once (the children check their stamps).
#include <parallax/memory/arena.hpp>
#include <parallax/memory/segment.hpp>

#include "integration/arena_stress_report.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <random>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace parallax {
namespace {

using stress::Report;
using stress::Stamp;

// The parent's side of the mailbox: references children handed over.
class ParentHoldings {
public:
    ParentHoldings(Arena& arena, Report& report) : arena_(arena), report_(report) {}

    // Takes every ready entry: the parent now owns that reference.
    void drain() {
        for (std::uint32_t e = 0; e < stress::mailbox_entries; ++e) {
            std::uint64_t entry = report_.mailbox[e].load();
            // The nonce is read before the entry is emptied: once it is
            // empty, another child may claim it and write its own nonce.
            const std::uint64_t nonce = report_.mailbox_nonce[e].load();
            if (stress::entry_state(entry) == stress::entry_ready &&
                report_.mailbox[e].compare_exchange_strong(entry, 0)) {
                held_.push_back({stress::entry_slot(entry), Stamp{stress::entry_pid(entry), 0, nonce}});
                ++received_;
            }
        }
    }

    // A child is dead: its pending entries are settled by comparing what the
    // arena counts for the parent with what the parent knows it holds.
    void settle_pending_of(pid_t pid) {
        drain();
        for (std::uint32_t e = 0; e < stress::mailbox_entries; ++e) {
            std::uint64_t entry = report_.mailbox[e].load();
            if (stress::entry_state(entry) != stress::entry_pending ||
                stress::entry_pid(entry) != static_cast<std::uint32_t>(pid) ||
                !report_.mailbox[e].compare_exchange_strong(entry, 0)) {
                continue;
            }
            const SlotIndex slot = stress::entry_slot(entry);
            std::uint32_t known = 0;
            for (const auto& h : held_) {
                known += h.slot == slot ? 1 : 0;
            }
            const std::uint32_t counted = arena_.held_by(slot, arena_.participant());
            for (std::uint32_t extra = counted - known; extra > 0 && counted > known; --extra) {
                arena_.release(slot); // credited, never announced
                ++settled_;
            }
        }
    }

    // Drops some (or all) of the parent's references, checking stamps first.
    void release(std::mt19937& rng, bool all) {
        for (std::size_t i = 0; i < held_.size();) {
            if (!all && rng() % 4 == 0) {
                ++i;
                continue;
            }
            if (std::memcmp(arena_.slot_data(held_[i].slot), &held_[i].stamp, sizeof(Stamp)) != 0) {
                ++violations_;
            }
            arena_.release(held_[i].slot);
            held_[i] = held_.back();
            held_.pop_back();
        }
    }

    [[nodiscard]] std::uint64_t received() const { return received_; }
    [[nodiscard]] std::uint64_t settled() const { return settled_; }
    [[nodiscard]] std::uint64_t violations() const { return violations_; }

private:
    struct Held {
        SlotIndex slot;
        Stamp stamp;
    };
    Arena& arena_;
    Report& report_;
    std::vector<Held> held_;
    std::uint64_t received_ = 0;
    std::uint64_t settled_ = 0;
    std::uint64_t violations_ = 0;
};

pid_t spawn_child(int arena_fd, int report_fd) {
    const std::string path = std::string(PARALLAX_TEST_HELPER_DIR) + "/arena_stress_child";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 clears CLOEXEC on the target descriptors.
    posix_spawn_file_actions_adddup2(&actions, arena_fd, 3);
    posix_spawn_file_actions_adddup2(&actions, report_fd, 4);
    char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "spawning " << path << ": " << std::strerror(rc);
    return rc == 0 ? pid : -1;
}

TEST(ArenaKillTest, TwoHundredKillsLeaveTheArenaWhole) {
    constexpr int kills = 210;
    constexpr std::size_t live_children = 4;
    ArenaConfig config;
    config.slot_count = 32;
    config.slot_size = 64;
    config.max_participants = 16;
    auto arena = Arena::create(config);
    ASSERT_TRUE(arena) << arena.error().to_string();
    auto report_segment = Segment::create(sizeof(Report));
    ASSERT_TRUE(report_segment);
    auto* report = reinterpret_cast<Report*>(report_segment->data());
    const ParticipantHandle me = (*arena)->handle();
    report->parent_handle.store(me.index | (std::uint64_t{me.incarnation} << 32U));
    ParentHoldings parent(**arena, *report);

    std::mt19937 rng(12345);
    std::vector<pid_t> children;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    int killed = 0;
    int killed_holding = 0;
    auto references_of = [&](pid_t pid) -> std::uint64_t {
        for (const auto& info : (*arena)->participants()) {
            if (info.pid == static_cast<std::uint32_t>(pid)) {
                return info.references;
            }
        }
        return 0;
    };
    while (killed_holding < kills && std::chrono::steady_clock::now() < deadline) {
        while (children.size() < live_children) {
            const pid_t pid = spawn_child((*arena)->fd(), report_segment->fd());
            ASSERT_GT(pid, 0);
            children.push_back(pid);
        }
        const std::size_t victim = rng() % children.size();
        // Most kills hit a child at work, holding references; one in ten
        // hits whatever it is doing, attach and registration included.
        if (rng() % 10 != 0) {
            const auto wait_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
            while (references_of(children[victim]) == 0 && std::chrono::steady_clock::now() < wait_until) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
        const bool holding = references_of(children[victim]) != 0;
        ::kill(children[victim], SIGKILL);
        int status = 0;
        ASSERT_EQ(::waitpid(children[victim], &status, 0), children[victim]);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child exited by itself with status " << WEXITSTATUS(status);
        parent.settle_pending_of(children[victim]);
        children.erase(children.begin() + static_cast<std::ptrdiff_t>(victim));
        ++killed;
        killed_holding += holding ? 1 : 0;
        // The owner reclaims as a supervisor would; children also reclaim
        // when they find the arena full.
        if (rng() % 2 == 0) {
            (*arena)->reclaim_dead();
        }
        parent.drain();
        parent.release(rng, false);
    }
    for (pid_t pid : children) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        parent.settle_pending_of(pid);
    }
    parent.release(rng, true);
    EXPECT_GE(killed_holding, 200) << "kills of children that held references";
    const ReclaimReport final_report = (*arena)->reclaim_dead();
    const ArenaStats stats = (*arena)->stats();
    EXPECT_EQ(stats.free_slots, config.slot_count) << "slots lost after " << killed << " kills";
    EXPECT_EQ(stats.held_slots, 0U);
    EXPECT_EQ(stats.participants, 1U);
    EXPECT_EQ(report->violations.load(), 0U);
    EXPECT_EQ(parent.violations(), 0U);
    // References really crossed processes: slots were shared while children died.
    EXPECT_GT(parent.received(), 100U);
    // The children really worked: many acquisitions over many processes.
    EXPECT_GT(report->acquisitions.load(), 1000U);
    EXPECT_GE(report->started.load(), 200U);
    std::printf("kills=%d of which holding references=%d; references handed to the parent=%llu, settled=%llu\n", killed,
                killed_holding, static_cast<unsigned long long>(parent.received()),
                static_cast<unsigned long long>(parent.settled()));
    // Every slot can be taken again, each exactly once.
    std::vector<SlotIndex> all;
    while (auto slot = (*arena)->try_acquire()) {
        all.push_back(*slot);
    }
    EXPECT_EQ(all.size(), config.slot_count);
    std::printf("kills=%d acquisitions=%llu children=%llu last reclaim freed %u\n", killed,
                static_cast<unsigned long long>(report->acquisitions.load()),
                static_cast<unsigned long long>(report->started.load()), final_report.slots_freed);
}

} // namespace
} // namespace parallax
