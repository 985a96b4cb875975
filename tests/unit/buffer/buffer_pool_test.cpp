#include <parallax/buffer/buffer_pool.hpp>

#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace parallax {
namespace {

BufferPool make_pool(std::uint32_t count = 2, std::size_t size = 1024) {
    BufferPoolConfig config;
    config.buffer_count = count;
    config.buffer_size = size;
    auto pool = BufferPool::create(config);
    EXPECT_TRUE(pool) << pool.error().to_string();
    return std::move(*pool);
}

TEST(BufferPoolTest, CreateRejectsABadConfig) {
    BufferPoolConfig config;
    config.buffer_count = 0;
    auto pool = BufferPool::create(config);
    ASSERT_FALSE(pool);
    EXPECT_NE(pool.error().message().find("buffer pool"), std::string::npos);
    EXPECT_NE(pool.error().message().find("slot count"), std::string::npos);
}

TEST(BufferPoolTest, OverRejectsANullArena) {
    auto pool = BufferPool::over(nullptr);
    ASSERT_FALSE(pool);
    EXPECT_TRUE(pool.error().is(Errc::invalid_argument));
}

TEST(BufferPoolTest, BuffersHaveThePoolSizeAndComeBack) {
    auto pool = make_pool(2, 1000);
    EXPECT_EQ(pool.buffer_size(), 1024U); // rounded up to the alignment
    {
        auto a = pool.acquire();
        ASSERT_TRUE(a);
        EXPECT_EQ(a->size(), 1024U);
        EXPECT_EQ(pool.stats().in_use, 1U);
        EXPECT_EQ(pool.stats().available, 1U);
    }
    const BufferPoolStats stats = pool.stats();
    EXPECT_EQ(stats.capacity, 2U);
    EXPECT_EQ(stats.available, 2U);
    EXPECT_EQ(stats.in_use, 0U);
    EXPECT_EQ(stats.waits, 0U);
}

TEST(BufferPoolTest, LoanAndReturnAllocateNothing) {
    auto pool = make_pool(2, 256);
    check::AllocationCounter counter;
    for (int i = 0; i < 100; ++i) {
        auto a = pool.try_acquire();
        auto b = pool.acquire();
        ASSERT_TRUE(a && b);
    }
    EXPECT_EQ(counter.count(), 0U);
}

TEST(BufferPoolTest, SharesOwnershipOfItsArena) {
    auto pool = make_pool(2, 256);
    EXPECT_EQ(pool.shared_arena().get(), &pool.arena());
    EXPECT_EQ(pool.shared_arena().use_count(), 1);
    std::shared_ptr<Arena> kept = pool.shared_arena();
    EXPECT_EQ(kept.use_count(), 2);
    BufferPool moved = std::move(pool);
    EXPECT_EQ(&moved.arena(), kept.get());
    EXPECT_EQ(moved.buffer_size(), 256U);
}

TEST(BufferPoolTest, BytesAreNotClearedOnAcquire) {
    auto pool = make_pool(1, 64);
    {
        auto a = pool.acquire();
        (*a->map_writable())[0] = std::byte{0x5A};
    }
    auto b = pool.acquire();
    EXPECT_EQ(b->data()[0], std::byte{0x5A});
}

TEST(BufferPoolTest, TryAcquireSaysWouldBlockWhenEmpty) {
    auto pool = make_pool(1);
    auto a = pool.try_acquire();
    ASSERT_TRUE(a);
    auto b = pool.try_acquire();
    ASSERT_FALSE(b);
    EXPECT_TRUE(b.error().is(Errc::would_block));
}

TEST(BufferPoolTest, AcquireForTimesOut) {
    auto pool = make_pool(1);
    auto a = pool.acquire();
    auto b = pool.acquire_for(std::chrono::milliseconds(20));
    ASSERT_FALSE(b);
    EXPECT_TRUE(b.error().is(Errc::timeout));
    EXPECT_EQ(pool.stats().waits, 1U);
}

TEST(BufferPoolTest, AcquireWaitsUntilAnotherThreadReleases) {
    auto pool = make_pool(1);
    auto held = pool.acquire();
    ASSERT_TRUE(held);
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        held->reset();
    });
    auto next = pool.acquire();
    releaser.join();
    ASSERT_TRUE(next) << next.error().to_string();
    EXPECT_EQ(pool.stats().waits, 1U);
}

TEST(BufferPoolTest, ACopyKeepsTheSlotUntilTheLastReferenceGoes) {
    auto pool = make_pool(1);
    auto held = pool.acquire();
    Buffer copy = *held;
    held->reset();
    EXPECT_FALSE(pool.try_acquire());
    copy.reset();
    EXPECT_TRUE(pool.try_acquire());
}

TEST(BufferPoolTest, AcquireWakesWhenAnotherProcessReleases) {
    auto pool = make_pool(1);
    auto held = pool.acquire();
    ASSERT_TRUE(held);
    int go[2];
    int ready[2];
    ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto arena = Arena::attach(*pool.arena().dup_fd());
        if (!arena) {
            ::_exit(2);
        }
        char byte = 0;
        (void)::write(ready[1], &byte, 1);
        (void)::read(go[0], &byte, 1);
        ::usleep(20000);
        (*arena)->release(byte); // the reference credited below, on slot `byte`
        ::_exit(0);
    }
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    // Hand the only reference to the child, then wait for the slot.
    const auto participants = pool.arena().participants();
    ASSERT_EQ(participants.size(), 2U);
    const ParticipantInfo& other =
        participants[0].pid == static_cast<std::uint32_t>(child) ? participants[0] : participants[1];
    ASSERT_TRUE(pool.arena().share(held->slot(), ParticipantHandle{other.index, other.incarnation}));
    byte = static_cast<char>(held->slot());
    held->reset();
    ASSERT_EQ(::write(go[1], &byte, 1), 1);
    auto next = pool.acquire_for(std::chrono::seconds(10));
    ASSERT_TRUE(next) << next.error().to_string();
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(BufferPoolTest, FlushingUnblocksAWaiter) {
    auto pool = make_pool(1);
    auto held = pool.acquire();
    std::thread flusher([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        pool.set_flushing(true);
    });
    auto next = pool.acquire();
    flusher.join();
    ASSERT_FALSE(next);
    EXPECT_TRUE(next.error().is(Errc::closed));
    pool.set_flushing(false);
    held->reset();
    EXPECT_TRUE(pool.acquire());
}

TEST(BufferPoolTest, AcquireReclaimsSlotsOfADeadProcess) {
    auto pool = make_pool(1);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto arena = Arena::attach(*pool.arena().dup_fd());
        (void)(*arena)->acquire();
        ::raise(SIGKILL);
    }
    ::waitpid(child, nullptr, 0);
    auto next = pool.acquire_for(std::chrono::seconds(5));
    ASSERT_TRUE(next) << next.error().to_string();
}

TEST(BufferPoolTest, PoolOverAnAttachedArenaSharesItsSlots) {
    auto pool = make_pool(2);
    auto attached = Arena::attach(*pool.arena().dup_fd());
    ASSERT_TRUE(attached);
    auto other = BufferPool::over(*attached);
    ASSERT_TRUE(other);
    auto a = pool.acquire();
    auto b = other->acquire();
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->slot(), b->slot());
    EXPECT_FALSE(pool.try_acquire());
    EXPECT_EQ(other->stats().in_use, 2U);
}

} // namespace
} // namespace parallax
