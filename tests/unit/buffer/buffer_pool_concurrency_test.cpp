// Producers block on an exhausted pool while consumers on other threads
// release; run again under ThreadSanitizer by the test script.
#include <parallax/buffer/buffer_pool.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace parallax {
namespace {

TEST(BufferPoolConcurrencyTest, ProducersAndConsumersPassEveryBufferThrough) {
    constexpr int producers = 2;
    constexpr int consumers = 2;
    constexpr int per_producer = 5000;
    BufferPoolConfig config;
    config.buffer_count = 4;
    config.buffer_size = 64;
    auto pool = BufferPool::create(config);
    ASSERT_TRUE(pool);

    std::mutex mutex;
    std::condition_variable ready;
    std::deque<Buffer> queue;
    int finished_producers = 0;
    std::atomic<int> received{0};
    std::atomic<int> corrupt{0};

    auto produce = [&](std::uint32_t id) {
        for (std::uint32_t i = 0; i < per_producer; ++i) {
            auto buffer = pool->acquire();
            ASSERT_TRUE(buffer) << buffer.error().to_string();
            const std::uint64_t stamp = (std::uint64_t{id} << 32U) | i;
            std::memcpy(buffer->map_writable()->data(), &stamp, sizeof(stamp));
            ASSERT_TRUE(buffer->resize(sizeof(stamp)));
            buffer->meta().set_sequence(stamp);
            Buffer copy = *buffer; // a second reference, dropped by this thread later
            {
                std::lock_guard lock(mutex);
                queue.push_back(std::move(*buffer));
            }
            ready.notify_one();
        }
        std::lock_guard lock(mutex);
        ++finished_producers;
        ready.notify_all();
    };
    auto consume = [&] {
        for (;;) {
            Buffer buffer;
            {
                std::unique_lock lock(mutex);
                ready.wait(lock, [&] { return !queue.empty() || finished_producers == producers; });
                if (queue.empty()) {
                    return;
                }
                buffer = std::move(queue.front());
                queue.pop_front();
            }
            std::uint64_t stamp = 0;
            std::memcpy(&stamp, buffer.data().data(), sizeof(stamp));
            if (stamp != buffer.meta().sequence()) {
                corrupt.fetch_add(1);
            }
            received.fetch_add(1);
        }
    };
    std::vector<std::thread> threads;
    for (int c = 0; c < consumers; ++c) {
        threads.emplace_back(consume);
    }
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back(produce, static_cast<std::uint32_t>(p + 1));
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(received.load(), producers * per_producer);
    EXPECT_EQ(corrupt.load(), 0);
    const BufferPoolStats stats = pool->stats();
    EXPECT_EQ(stats.available, stats.capacity);
    EXPECT_EQ(stats.in_use, 0U);
}

} // namespace
} // namespace parallax
