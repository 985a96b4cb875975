#include <parallax/runtime/thread_link.hpp>

#include "runtime/spin.hpp"

#include <bit>
#include <sched.h>

// g++ 12 at -O3 reports moving a std::optional<Event> out of a ring slot as a
// use of uninitialised memory (a known false positive of its optional
// payload analysis); clang and g++ at -O0/-O1 do not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace parallax {

namespace {
// How many items the consumer takes between fenced looks at the producer's
// sleep flag.
constexpr int wake_check_interval = 16;
// A consumer that has slept this long waits for a sparse stream; waking it
// hands over the CPU (see wake_consumer).
constexpr std::int64_t sparse_sleep_ns = 200'000;

using detail::spin_until;
using detail::steady_now_ns;
} // namespace

void detail::SpinBudget::after_sleep(std::int64_t slept_ns) noexcept {
    if (slept_ns < max_ns) {
        // A longer spin would have caught it: grow quickly.
        ns = std::min(max_ns, std::max(ns * 2, slept_ns + slept_ns / 4));
    } else {
        ns = std::max(min_ns, ns / 2);
    }
}

ThreadLink::ThreadLink(std::size_t capacity)
    : slots_(std::make_unique<LinkItem[]>(std::bit_ceil(std::max<std::size_t>(capacity, 2)))),
      mask_(std::bit_ceil(std::max<std::size_t>(capacity, 2)) - 1) {}

ThreadLink::~ThreadLink() = default;

namespace {

// The level from the producer's counters and (a copy of) the consumer's.
LinkLevel level_of(std::uint64_t in_b, std::uint64_t out_b, std::uint64_t drops, std::uint64_t in_y,
                   std::uint64_t out_y, std::uint64_t in_t, std::uint64_t out_t) noexcept {
    LinkLevel l;
    l.buffers = in_b > out_b + drops ? in_b - out_b - drops : 0;
    l.bytes = in_y > out_y ? in_y - out_y : 0;
    l.time_ns = (in_t != ClockTime::none_ns && out_t != ClockTime::none_ns && in_t > out_t) ? in_t - out_t : 0;
    return l;
}

bool reaches(const LinkLevel& l, const LinkLimits& limits) noexcept {
    return (limits.max_buffers != 0 && l.buffers >= limits.max_buffers) ||
           (limits.max_bytes != 0 && l.bytes >= limits.max_bytes) ||
           (limits.max_time_ns != 0 && l.time_ns >= limits.max_time_ns);
}

} // namespace

LinkLevel ThreadLink::level() const noexcept {
    return level_of(in_buffers_.load(std::memory_order_acquire), out_buffers_.load(std::memory_order_acquire),
                    drop_requests_.load(std::memory_order_acquire), in_bytes_.load(std::memory_order_acquire),
                    out_bytes_.load(std::memory_order_acquire), in_pts_.load(std::memory_order_relaxed),
                    out_pts_.load(std::memory_order_relaxed));
}

bool ThreadLink::producer_full(const LinkLimits& limits, bool refresh) noexcept {
    // The producer judges the level from its own copy of the consumer's
    // counters: they only grow (clear() resets both), so a stale copy can
    // only overstate the level. It reads the consumer's cache line again only
    // when the copy says full, which keeps that line out of the per-buffer
    // path.
    if (refresh) {
        seen_out_buffers_ = out_buffers_.load(std::memory_order_acquire);
        seen_out_bytes_ = out_bytes_.load(std::memory_order_acquire);
        seen_out_pts_ = out_pts_.load(std::memory_order_relaxed);
        cached_head_ = head_.load(std::memory_order_acquire);
    }
    if (tail_.load(std::memory_order_relaxed) - cached_head_ > mask_) {
        return true;
    }
    return reaches(level_of(in_buffers_.load(std::memory_order_relaxed), seen_out_buffers_,
                            drop_requests_.load(std::memory_order_acquire), in_bytes_.load(std::memory_order_relaxed),
                            seen_out_bytes_, in_pts_.load(std::memory_order_relaxed), seen_out_pts_),
                   limits);
}

bool ThreadLink::producer_blocked(const LinkLimits& limits) noexcept {
    return producer_full(limits, false) && producer_full(limits, true);
}

bool ThreadLink::ring_full() const noexcept {
    return tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_acquire) > mask_;
}

void ThreadLink::enqueue(LinkItem&& item) noexcept {
    const std::size_t t = tail_.load(std::memory_order_relaxed);
    slots_[t & mask_] = std::move(item);
    tail_.store(t + 1, std::memory_order_release);
    wake_consumer();
}

void ThreadLink::wake_consumer() noexcept {
    // Orders the tail store before reading the consumer's sleep flag; the
    // consumer orders its flag store before re-reading the tail.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (consumer_sleeping_.load(std::memory_order_relaxed) != 0) {
        consumer_sleeping_.store(0, std::memory_order_relaxed);
        detail::futex_wake_all(consumer_sleeping_);
        // A consumer that slept long waits for sparse data (a live source):
        // the kernel usually queues it on this CPU, where it would wait until
        // this thread blocks. Handing the CPU over now delivers the buffer
        // about half as late. In a busy stream the consumer only naps
        // between batches and the producer keeps the CPU.
        const auto since = consumer_sleep_since_ns_.load(std::memory_order_relaxed);
        if (steady_now_ns() - since >= sparse_sleep_ns) {
            sched_yield();
        }
    }
}

void ThreadLink::maybe_wake_producer() noexcept {
    // Looking at the flag costs a load of a shared line: do it without a
    // barrier at every item and with one every few items. A sleeping
    // producer seen late is still seen: at the latest after
    // wake_check_interval items, or when the consumer finds the ring empty
    // (pop), or by its own timeout.
    if (producer_sleeping_.load(std::memory_order_relaxed) != 0 || ++takes_since_check_ >= wake_check_interval) {
        takes_since_check_ = 0;
        wake_producer();
    }
}

void ThreadLink::wake_producer() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (producer_sleeping_.load(std::memory_order_relaxed) != 0 &&
        tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_relaxed) <=
            producer_wake_level_.load(std::memory_order_relaxed)) {
        producer_sleeping_.store(0, std::memory_order_relaxed);
        detail::futex_wake_all(producer_sleeping_);
    }
}

template <typename Blocked>
void ThreadLink::wait_producer(Blocked&& blocked) {
    const auto queued = tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_acquire);
    producer_wake_level_.store(queued / 2, std::memory_order_relaxed);
    producer_sleeping_.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // The consumer may have made room before it could see the flag: look
    // again now that the flag is visible, and sleep only if still blocked.
    if (!blocked() || is_flushing()) {
        producer_sleeping_.store(0, std::memory_order_relaxed);
        return;
    }
    // A bounded sleep covers a limit that changes without a wake-up.
    const std::int64_t since = steady_now_ns();
    detail::futex_wait(producer_sleeping_, 1, std::chrono::milliseconds(50));
    producer_spin_.after_sleep(steady_now_ns() - since);
}

void ThreadLink::wait_consumer() {
    const std::int64_t since = steady_now_ns();
    consumer_sleep_since_ns_.store(since, std::memory_order_relaxed);
    consumer_sleeping_.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (tail_.load(std::memory_order_acquire) != head_.load(std::memory_order_relaxed) || is_flushing()) {
        consumer_sleeping_.store(0, std::memory_order_relaxed);
        return;
    }
    detail::futex_wait(consumer_sleeping_, 1, std::chrono::milliseconds(100));
    consumer_spin_.after_sleep(steady_now_ns() - since);
}

Flow ThreadLink::push(Buffer&& buffer, const LinkLimits& limits, Leaky leaky) {
    while (true) {
        if (is_flushing()) [[unlikely]] {
            return Flow::flushing;
        }
        if (!producer_blocked(limits)) [[likely]] {
            break;
        }
        if (leaky == Leaky::upstream) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return Flow::dropped;
        }
        if (leaky == Leaky::downstream && !ring_full() && level().buffers > 0) {
            drop_requests_.fetch_add(1, std::memory_order_acq_rel);
            break;
        }
        const auto room = [&] {
            return is_flushing() || !producer_full(limits, true) || (leaky == Leaky::downstream && !ring_full());
        };
        if (!spin_until(room, producer_spin_.ns)) {
            wait_producer([&] { return producer_full(limits, true); });
        }
    }
    const auto size = buffer.size();
    const auto pts = buffer.meta().pts().ns();
    in_buffers_.store(in_buffers_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    in_bytes_.store(in_bytes_.load(std::memory_order_relaxed) + size, std::memory_order_release);
    if (pts != ClockTime::none_ns) {
        in_pts_.store(pts, std::memory_order_relaxed);
    }
    enqueue(LinkItem{std::move(buffer), std::nullopt});
    return Flow::ok;
}

bool ThreadLink::push_event(Event event) {
    while (ring_full()) {
        if (is_flushing()) {
            return false;
        }
        if (!spin_until([&] { return is_flushing() || !ring_full(); }, producer_spin_.ns)) {
            wait_producer([&] { return ring_full(); });
        }
    }
    if (is_flushing() && event.type() != EventType::flush_stop) {
        return false;
    }
    enqueue(LinkItem{Buffer(), std::optional<Event>(std::move(event))});
    return true;
}

std::optional<LinkItem> ThreadLink::take() noexcept {
    while (true) {
        const std::size_t h = head_.load(std::memory_order_relaxed);
        if (h == cached_tail_) {
            cached_tail_ = tail_.load(std::memory_order_acquire);
            if (h == cached_tail_) {
                return std::nullopt;
            }
        }
        LinkItem item = std::move(slots_[h & mask_]);
        head_.store(h + 1, std::memory_order_release);
        if (!item.event) {
            // leaky=downstream: the producer asked for the oldest buffers to
            // go. A request already took one buffer off the level; this one
            // leaves the ring, so the request ends and the buffer counts out
            // (in that order: the level may be overstated for an instant,
            // never understated).
            bool drop = false;
            auto requests = drop_requests_.load(std::memory_order_acquire);
            while (requests > 0) {
                if (drop_requests_.compare_exchange_weak(requests, requests - 1, std::memory_order_acq_rel)) {
                    drop = true;
                    break;
                }
            }
            out_buffers_.store(out_buffers_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
            out_bytes_.store(out_bytes_.load(std::memory_order_relaxed) + item.buffer.size(),
                             std::memory_order_release);
            const auto pts = item.buffer.meta().pts().ns();
            if (pts != ClockTime::none_ns) {
                out_pts_.store(pts, std::memory_order_relaxed);
            }
            if (drop) {
                dropped_.fetch_add(1, std::memory_order_relaxed);
                item.buffer.reset();
                wake_producer();
                continue;
            }
        }
        maybe_wake_producer();
        return item;
    }
}

std::optional<LinkItem> ThreadLink::try_pop() {
    if (is_flushing()) {
        return std::nullopt;
    }
    return take();
}

std::optional<LinkItem> ThreadLink::pop() {
    while (true) {
        if (is_flushing()) {
            return std::nullopt;
        }
        if (auto item = take()) {
            return item;
        }
        // Empty: whatever the producer waited for is certainly there.
        wake_producer();
        const auto has_item = [&] {
            return is_flushing() || tail_.load(std::memory_order_acquire) != head_.load(std::memory_order_relaxed);
        };
        if (!spin_until(has_item, consumer_spin_.ns)) {
            wait_consumer();
        }
    }
}

void ThreadLink::drain() noexcept {
    while (take()) {
    }
}

void ThreadLink::wait_while_flushing(std::chrono::nanoseconds max) {
    if (!is_flushing()) {
        return;
    }
    consumer_sleeping_.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!is_flushing()) {
        consumer_sleeping_.store(0, std::memory_order_relaxed);
        return;
    }
    detail::futex_wait(consumer_sleeping_, 1, max);
}

void ThreadLink::set_flushing(bool flushing) {
    flushing_.store(flushing, std::memory_order_release);
    consumer_sleeping_.store(0, std::memory_order_relaxed);
    producer_sleeping_.store(0, std::memory_order_relaxed);
    detail::futex_wake_all(consumer_sleeping_);
    detail::futex_wake_all(producer_sleeping_);
}

void ThreadLink::clear() noexcept {
    while (true) {
        const std::size_t h = head_.load(std::memory_order_relaxed);
        if (h == tail_.load(std::memory_order_acquire)) {
            break;
        }
        slots_[h & mask_] = LinkItem{};
        head_.store(h + 1, std::memory_order_release);
    }
    cached_tail_ = tail_.load(std::memory_order_relaxed);
    cached_head_ = cached_tail_;
    in_buffers_.store(0);
    out_buffers_.store(0);
    in_bytes_.store(0);
    out_bytes_.store(0);
    in_pts_.store(0);
    out_pts_.store(0);
    drop_requests_.store(0);
    seen_out_buffers_ = 0;
    seen_out_bytes_ = 0;
    seen_out_pts_ = 0;
    takes_since_check_ = 0;
}

} // namespace parallax
