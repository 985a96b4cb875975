// Acquire, retain, hand over and release from several threads at once. Run
// in the ordinary suite and again under ThreadSanitizer (the tsan preset).
#include <parallax/memory/arena.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace parallax {
namespace {

struct Stamp {
    std::uint64_t owner;
    std::uint64_t nonce;
};

struct Reference {
    SlotIndex slot;
    Stamp stamp;
};

TEST(ArenaConcurrencyTest, ThreadsNeverShareASlotTheyDidNotShare) {
    constexpr int threads = 4;
    constexpr int iterations = 20000;
    ArenaConfig config;
    config.slot_count = 16;
    config.slot_size = 64;
    auto created = Arena::create(config);
    ASSERT_TRUE(created);
    Arena& arena = **created;

    // References handed from one thread to another, released by the receiver.
    std::mutex handover_mutex;
    std::deque<Reference> handover;
    std::atomic<int> violations{0};
    std::atomic<std::uint64_t> acquisitions{0};

    auto verify = [&](const Reference& ref) {
        if (std::memcmp(arena.slot_data(ref.slot), &ref.stamp, sizeof(Stamp)) != 0) {
            violations.fetch_add(1);
        }
    };

    auto worker = [&](std::uint64_t id) {
        std::mt19937_64 rng(id);
        std::vector<Reference> held;
        for (int i = 0; i < iterations; ++i) {
            const auto op = rng() % 8;
            if (op < 3) {
                if (held.size() >= 4) {
                    continue;
                }
                auto slot = arena.try_acquire();
                if (slot) {
                    Reference ref{*slot, Stamp{id, static_cast<std::uint64_t>(i)}};
                    std::memcpy(arena.slot_data(ref.slot), &ref.stamp, sizeof(Stamp));
                    held.push_back(ref);
                    acquisitions.fetch_add(1, std::memory_order_relaxed);
                }
            } else if (op < 4 && !held.empty()) {
                const Reference& ref = held[rng() % held.size()];
                arena.retain(ref.slot);
                held.push_back(ref);
            } else if (op < 5 && !held.empty()) {
                // Hand a reference to whichever thread takes it next.
                const std::size_t k = rng() % held.size();
                std::lock_guard lock(handover_mutex);
                handover.push_back(held[k]);
                held[k] = held.back();
                held.pop_back();
            } else if (op < 6) {
                Reference ref{};
                {
                    std::lock_guard lock(handover_mutex);
                    if (handover.empty()) {
                        continue;
                    }
                    ref = handover.front();
                    handover.pop_front();
                }
                verify(ref);
                arena.release(ref.slot);
            } else if (!held.empty()) {
                const std::size_t k = rng() % held.size();
                verify(held[k]);
                arena.release(held[k].slot);
                held[k] = held.back();
                held.pop_back();
            }
        }
        for (const Reference& ref : held) {
            verify(ref);
            arena.release(ref.slot);
        }
    };

    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back(worker, static_cast<std::uint64_t>(t + 1));
    }
    for (auto& thread : pool) {
        thread.join();
    }
    for (const Reference& ref : handover) {
        verify(ref);
        arena.release(ref.slot);
    }
    EXPECT_EQ(violations.load(), 0);
    EXPECT_GT(acquisitions.load(), 1000U);
    const ArenaStats stats = arena.stats();
    EXPECT_EQ(stats.free_slots, config.slot_count);
    EXPECT_EQ(stats.held_slots, 0U);
    for (SlotIndex s = 0; s < config.slot_count; ++s) {
        EXPECT_EQ(arena.ref_count(s), 0U) << "slot " << s;
    }
}

TEST(ArenaConcurrencyTest, TwoParticipantsReleasingTheirLastReferencesFreeTheSlotOnce) {
    // Two participants (two attachments in one process) drop their last
    // references at the same moment, many times: exactly one frees the slot.
    ArenaConfig config;
    config.slot_count = 1;
    config.slot_size = 64;
    auto a = Arena::create(config);
    ASSERT_TRUE(a);
    auto b = Arena::attach(*(*a)->dup_fd());
    ASSERT_TRUE(b);
    for (int round = 0; round < 2000; ++round) {
        auto slot = (*a)->acquire();
        ASSERT_TRUE(slot) << "round " << round << ": " << slot.error().to_string();
        ASSERT_TRUE((*a)->share(*slot, (*b)->handle()));
        std::atomic<bool> go{false};
        std::thread other([&] {
            while (!go.load()) {
            }
            (*b)->release(*slot);
        });
        go.store(true);
        (*a)->release(*slot);
        other.join();
        ASSERT_FALSE((*a)->is_held(*slot)) << "round " << round;
        ASSERT_EQ((*a)->ref_count(*slot), 0U) << "round " << round;
    }
}

} // namespace
} // namespace parallax
