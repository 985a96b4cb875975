#include "runtime/buffer_allocator.hpp"

#include <parallax/runtime/thread_link.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace parallax {
namespace {

using namespace std::chrono_literals;

Buffer stamped(detail::BufferAllocator& a, std::uint64_t seq, std::size_t size = 16) {
    Buffer b = a.allocate(size).value();
    b.meta().set_sequence(seq);
    b.meta().set_pts(ClockTime::from_ms(static_cast<std::int64_t>(seq)));
    return b;
}

TEST(ThreadLinkTest, KeepsBuffersAndEventsInOrder) {
    detail::BufferAllocator a("t");
    ThreadLink link(8);
    ASSERT_EQ(link.push(stamped(a, 0), {}, Leaky::no), Flow::ok);
    ASSERT_TRUE(link.push_event(Event::eos()));
    ASSERT_EQ(link.push(stamped(a, 1), {}, Leaky::no), Flow::ok);
    auto x = link.try_pop();
    ASSERT_TRUE(x && !x->event);
    EXPECT_EQ(x->buffer.meta().sequence(), 0U);
    auto y = link.try_pop();
    ASSERT_TRUE(y && y->event);
    EXPECT_EQ(y->event->type(), EventType::eos);
    auto z = link.try_pop();
    ASSERT_TRUE(z && !z->event);
    EXPECT_EQ(z->buffer.meta().sequence(), 1U);
    EXPECT_FALSE(link.try_pop());
}

TEST(ThreadLinkTest, LevelCountsBuffersBytesAndTime) {
    detail::BufferAllocator a("t");
    ThreadLink link(16);
    for (std::uint64_t i = 0; i < 4; ++i) {
        ASSERT_EQ(link.push(stamped(a, i * 100, 10), {}, Leaky::no), Flow::ok);
    }
    const LinkLevel l = link.level();
    EXPECT_EQ(l.buffers, 4U);
    EXPECT_EQ(l.bytes, 40U);
    static_cast<void>(link.try_pop());
    EXPECT_EQ(link.level().buffers, 3U);
    EXPECT_EQ(link.level().time_ns, 300'000'000U);
}

TEST(ThreadLinkTest, LeakyUpstreamDropsTheNewBuffer) {
    detail::BufferAllocator a("t");
    ThreadLink link(16);
    const LinkLimits limits{2, 0, 0};
    EXPECT_EQ(link.push(stamped(a, 0), limits, Leaky::upstream), Flow::ok);
    EXPECT_EQ(link.push(stamped(a, 1), limits, Leaky::upstream), Flow::ok);
    EXPECT_EQ(link.push(stamped(a, 2), limits, Leaky::upstream), Flow::dropped);
    EXPECT_EQ(link.dropped(), 1U);
    EXPECT_EQ(link.try_pop()->buffer.meta().sequence(), 0U);
}

TEST(ThreadLinkTest, LeakyDownstreamDropsTheOldestBuffer) {
    detail::BufferAllocator a("t");
    ThreadLink link(16);
    const LinkLimits limits{2, 0, 0};
    for (std::uint64_t i = 0; i < 4; ++i) {
        EXPECT_EQ(link.push(stamped(a, i), limits, Leaky::downstream), Flow::ok);
    }
    std::vector<std::uint64_t> out;
    while (auto item = link.try_pop()) {
        out.push_back(item->buffer.meta().sequence());
    }
    EXPECT_EQ(out, (std::vector<std::uint64_t>{2, 3}));
    EXPECT_EQ(link.dropped(), 2U);
    // Drained, the link is empty again and takes a full load without drops.
    EXPECT_EQ(link.level().buffers, 0U);
    EXPECT_EQ(link.push(stamped(a, 4), limits, Leaky::downstream), Flow::ok);
    EXPECT_EQ(link.push(stamped(a, 5), limits, Leaky::downstream), Flow::ok);
    EXPECT_EQ(link.dropped(), 2U);
    EXPECT_EQ(link.level().buffers, 2U);
}

TEST(ThreadLinkTest, FlushingRefusesPushesAndWakesAWaitingConsumer) {
    ThreadLink link(4);
    std::thread consumer([&] { EXPECT_FALSE(link.pop()); });
    std::this_thread::sleep_for(5ms);
    link.set_flushing(true);
    consumer.join();
    detail::BufferAllocator a("t");
    EXPECT_EQ(link.push(stamped(a, 0), {}, Leaky::no), Flow::flushing);
    link.set_flushing(false);
    EXPECT_EQ(link.push(stamped(a, 0), {}, Leaky::no), Flow::ok);
}

TEST(ThreadLinkTest, FlushingWakesAProducerBlockedOnAFullLink) {
    detail::BufferAllocator a("t");
    ThreadLink link(4);
    const LinkLimits limits{1, 0, 0};
    ASSERT_EQ(link.push(stamped(a, 0), limits, Leaky::no), Flow::ok);
    std::thread producer([&] { EXPECT_EQ(link.push(stamped(a, 1), limits, Leaky::no), Flow::flushing); });
    std::this_thread::sleep_for(5ms);
    link.set_flushing(true);
    producer.join();
}

TEST(ThreadLinkConcurrencyTest, OneProducerOneConsumerLoseNothing) {
    detail::BufferAllocator a("t");
    ThreadLink link(64);
    constexpr std::uint64_t n = 20000;
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < n; ++i) {
            ASSERT_EQ(link.push(stamped(a, i), LinkLimits{8, 0, 0}, Leaky::no), Flow::ok);
            if (i % 1000 == 0) {
                ASSERT_TRUE(link.push_event(Event::gap(ClockTime::zero(), ClockTime::zero())));
            }
        }
        ASSERT_TRUE(link.push_event(Event::eos()));
    });
    std::uint64_t expected = 0;
    while (true) {
        auto item = link.pop();
        ASSERT_TRUE(item);
        if (item->event) {
            if (item->event->type() == EventType::eos) {
                break;
            }
            continue;
        }
        ASSERT_EQ(item->buffer.meta().sequence(), expected);
        ++expected;
    }
    producer.join();
    EXPECT_EQ(expected, n);
}

TEST(ThreadLinkConcurrencyTest, SparseAndBurstyProducersLoseNothing) {
    // Gaps long enough for the consumer to go to sleep (and its spin budget
    // to shrink), then bursts that fill the link (and make it grow again).
    detail::BufferAllocator a("t");
    ThreadLink link(16);
    constexpr std::uint64_t rounds = 20;
    constexpr std::uint64_t burst = 100;
    std::thread producer([&] {
        std::uint64_t seq = 0;
        for (std::uint64_t r = 0; r < rounds; ++r) {
            std::this_thread::sleep_for(r % 2 == 0 ? 2ms : 300us);
            for (std::uint64_t i = 0; i < (r % 3 == 0 ? 1 : burst); ++i) {
                ASSERT_EQ(link.push(stamped(a, seq++), LinkLimits{4, 0, 0}, Leaky::no), Flow::ok);
            }
        }
        ASSERT_TRUE(link.push_event(Event::eos()));
    });
    std::uint64_t expected = 0;
    while (auto item = link.pop()) {
        if (item->event) {
            break;
        }
        ASSERT_EQ(item->buffer.meta().sequence(), expected);
        ++expected;
    }
    producer.join();
    EXPECT_EQ(expected, 7 * 1 + 13 * burst); // rounds 0, 3, ..., 18 push one buffer
}

TEST(SpinBudgetTest, GrowsAfterShortSleepsAndShrinksAfterLongOnes) {
    detail::SpinBudget b;
    const auto start = b.ns;
    b.after_sleep(start / 2); // short: a longer spin would have caught it
    EXPECT_EQ(b.ns, 2 * start);
    b.after_sleep(150'000); // the data came after 150 us: spin at least that long
    EXPECT_GE(b.ns, 150'000);
    for (int i = 0; i < 10; ++i) {
        b.after_sleep(100'000);
    }
    EXPECT_EQ(b.ns, detail::SpinBudget::max_ns); // never beyond the cap
    for (int i = 0; i < 20; ++i) {
        b.after_sleep(5'000'000); // a sparse stream: sleeps of 5 ms
    }
    EXPECT_EQ(b.ns, detail::SpinBudget::min_ns); // never below the floor
}

} // namespace
} // namespace parallax
