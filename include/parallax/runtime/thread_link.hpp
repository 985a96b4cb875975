#pragma once

/// \file
/// ThreadLink: the boundary between two streaming threads. A bounded
/// single-producer single-consumer ring of buffers and events with
/// back-pressure (limits in buffers, bytes and time), leaky modes, batching
/// when busy and a fast wake-up when idle.

#include <parallax/base/export.hpp>
#include <parallax/buffer/buffer.hpp>
#include <parallax/element/event.hpp>
#include <parallax/element/flow.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace parallax {

/// What a ThreadLink holds at most; 0 means no limit of that kind (at least
/// one limit should be set, or only the ring's capacity bounds it).
struct LinkLimits {
    std::uint32_t max_buffers = 200;
    std::uint64_t max_bytes = 10 * 1024 * 1024;
    std::uint64_t max_time_ns = 1'000'000'000;
};

/// What a full link does with a new buffer.
enum class Leaky : std::uint8_t {
    no,         ///< Block the producer until there is room (back-pressure).
    upstream,   ///< Drop the new buffer.
    downstream, ///< Drop the oldest queued buffer.
};

/// One entry of a ThreadLink: a buffer or an event.
struct LinkItem {
    Buffer buffer;
    std::optional<Event> event;
};

/// How full a ThreadLink is.
struct LinkLevel {
    std::uint64_t buffers = 0;
    std::uint64_t bytes = 0;
    std::uint64_t time_ns = 0;
};

namespace detail {
/// How long one side of a ThreadLink spins before it sleeps, adapted to how
/// long its sleeps turn out to be (like KVM's halt polling): a sleep shorter
/// than the longest spin means a longer spin would have saved the two futex
/// calls and the wake-up latency, so the budget grows; a longer sleep means
/// the stream is sparse and the budget shrinks.
struct SpinBudget {
    static constexpr std::int64_t min_ns = 2'000;
    static constexpr std::int64_t max_ns = 200'000;
    std::int64_t ns = 40'000;
    void after_sleep(std::int64_t slept_ns) noexcept;
};
} // namespace detail

/// A bounded SPSC queue of buffers and events between exactly one producer
/// thread and one consumer thread.
///
/// The producer pays one fence per push to learn whether the consumer
/// sleeps; the consumer takes items in batches. A side that must wait spins
/// first, for as long as its recent sleeps suggest (SpinBudget), offering
/// the CPU to other threads every few microseconds, then sleeps on a futex.
/// Closing (flushing) wakes both sides.
class PARALLAX_API ThreadLink {
public:
    /// A link with room for `capacity` entries (rounded up to a power of
    /// two, at least 2).
    explicit ThreadLink(std::size_t capacity);
    ~ThreadLink();
    ThreadLink(const ThreadLink&) = delete;
    ThreadLink& operator=(const ThreadLink&) = delete;

    // Producer side.

    /// Queues a buffer. When the limits are reached: Leaky::no blocks until
    /// there is room, upstream drops `buffer` (returns Flow::dropped),
    /// downstream drops the oldest queued buffer. Returns flushing when the
    /// link is (or becomes) flushing.
    Flow push(Buffer&& buffer, const LinkLimits& limits, Leaky leaky);
    /// Queues an event in order with the buffers; blocks only while the ring
    /// itself is full. false when flushing.
    bool push_event(Event event);

    // Consumer side.

    /// Takes the next item, waiting for one. nullopt when the link is
    /// flushing (or becomes so while waiting).
    std::optional<LinkItem> pop();
    /// Takes the next item if there is one, without waiting.
    std::optional<LinkItem> try_pop();
    /// Drops every queued item (consumer side; also while flushing).
    void drain() noexcept;
    /// Sleeps while the link is flushing, at most `max`.
    void wait_while_flushing(std::chrono::nanoseconds max);

    // Either side, or a third thread.

    /// Flushing: every queued item is dropped (by the next pop or by this
    /// call when `drain_now`), pushes fail, and both sides wake up. Clearing
    /// it lets data flow again.
    void set_flushing(bool flushing);
    [[nodiscard]] bool is_flushing() const noexcept { return flushing_.load(std::memory_order_acquire); }
    /// Drops every queued item. Only call when neither side is active.
    void clear() noexcept;

    [[nodiscard]] LinkLevel level() const noexcept;
    /// Buffers dropped by the leaky modes.
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

private:
    bool producer_full(const LinkLimits& limits, bool refresh) noexcept;
    bool producer_blocked(const LinkLimits& limits) noexcept;
    bool ring_full() const noexcept;
    void enqueue(LinkItem&& item) noexcept;
    void wake_consumer() noexcept;
    void wake_producer() noexcept;
    void maybe_wake_producer() noexcept;
    template <typename Blocked>
    void wait_producer(Blocked&& blocked);
    void wait_consumer();
    std::optional<LinkItem> take() noexcept;

    std::unique_ptr<LinkItem[]> slots_;
    std::size_t mask_;

    // Producer-owned.
    alignas(64) std::atomic<std::size_t> tail_{0};
    std::atomic<std::uint64_t> in_buffers_{0};
    std::atomic<std::uint64_t> in_bytes_{0};
    std::atomic<std::uint64_t> in_pts_{0};
    std::size_t cached_head_ = 0;
    std::uint64_t seen_out_buffers_ = 0; // the producer's copies of the consumer's counters
    std::uint64_t seen_out_bytes_ = 0;
    std::uint64_t seen_out_pts_ = 0;
    detail::SpinBudget producer_spin_;

    // Consumer-owned.
    alignas(64) std::atomic<std::size_t> head_{0};
    std::atomic<std::uint64_t> out_buffers_{0};
    std::atomic<std::uint64_t> out_bytes_{0};
    std::atomic<std::uint64_t> out_pts_{0};
    std::size_t cached_tail_ = 0;
    int takes_since_check_ = 0;
    detail::SpinBudget consumer_spin_;

    // Shared.
    alignas(64) std::atomic<std::uint32_t> consumer_sleeping_{0};
    std::atomic<std::uint32_t> producer_sleeping_{0};
    std::atomic<std::int64_t> consumer_sleep_since_ns_{0}; // steady clock, when the consumer last went to sleep
    // A blocked producer is woken once the level falls to this many entries
    // (half of what it saw), not at every pop: one wake-up per batch.
    std::atomic<std::uint64_t> producer_wake_level_{0};
    std::atomic<std::uint64_t> drop_requests_{0}; // leaky=downstream: the consumer drops this many
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<bool> flushing_{false};
};

} // namespace parallax
