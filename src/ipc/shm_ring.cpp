#include <parallax/ipc/shm_ring.hpp>

#include "runtime/spin.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>
#include <ctime>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace parallax {

namespace {

constexpr std::uint64_t header_bytes = sizeof(detail::ShmRingHeader);
constexpr std::uint64_t min_data_size = 4096;
constexpr std::uint64_t max_data_size = std::uint64_t{64} << 20;
constexpr std::int64_t min_spin_ns = 2'000;
constexpr std::int64_t max_spin_ns = 100'000;
// ShmWait::spin returns to its caller at least this often, so that the
// caller sees a stop request without a wake-up.
constexpr std::int64_t max_busy_poll_ns = 1'000'000;
// A predicting consumer whose timed sleep ends this much before its alarm
// was woken on purpose, not by the timer.
constexpr std::int64_t early_wake_ns = 5'000;
// A predicting consumer spins rather than sleeps for less than this, and
// assumes its timer is at most this late.
constexpr std::int64_t min_sleep_ns = 10'000;
constexpr std::int64_t max_timer_late_ns = 500'000;
// A consumer that finds the ring empty and a record in it again within
// this many pause instructions (about a microsecond) runs right behind a
// producer that writes faster than it reads one record at a time. It looks
// at the tail only every `hot_poll_stride` of them (each look takes the
// producer's line away from it)...
constexpr int hot_polls = 64;
constexpr int hot_poll_stride = 16;
// ... and lets a batch gather for this long before it reads on: taken one
// at a time the moment each lands, every record line, the tail counter and
// every buffer's slot header would cross between the two cores twice
// (benches/RESULTS.md: 3 µs gave a quarter more buffers per second than no
// gathering, 6 µs another 6-10 % where the two cores are far apart; 10 µs
// no more).
constexpr std::int64_t gather_ns = 6'000;

// Process-shared futex: the two sides live in different processes, so
// FUTEX_PRIVATE_FLAG must not be set (runtime/futex.hpp is private-only).
void shared_futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::chrono::nanoseconds timeout) noexcept {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, &ts, nullptr, 0);
}

void shared_futex_wake(std::atomic<std::uint32_t>& word) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

using detail::spin_until;
using detail::steady_now_ns;

// The adaptive spin of ThreadLink: sleeps shorter than the cap mean a longer
// spin would have caught the peer, so the budget grows; long sleeps mean a
// sparse stream, and it shrinks.
void adapt_spin(std::int64_t& spin_ns, std::int64_t slept_ns) noexcept {
    if (slept_ns < max_spin_ns) {
        spin_ns = std::min(max_spin_ns, std::max(spin_ns * 2, slept_ns + slept_ns / 4));
    } else {
        spin_ns = std::max(min_spin_ns, spin_ns / 2);
    }
}

// Timed sleeps of a thread end up to its timer slack late (50 µs by
// default): a consumer that sleeps until just before a record is due wants
// them on time. Once per thread.
void lower_timer_slack() noexcept {
    thread_local bool lowered = false;
    if (!lowered) {
        lowered = true;
        ::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    }
}

std::uint64_t record_bytes(std::size_t payload) noexcept {
    return (sizeof(detail::ShmRecordHeader) + payload + 7U) & ~std::uint64_t{7};
}

constexpr std::uint64_t cache_line = 64;

// Bytes of padding the producer writes at `tail` before a record of `need`
// bytes: the rest of the area when the record does not fit before its end,
// the rest of the cache line when a record that fits in one line would
// straddle two (so that the consumer pulls one line per small record, and
// the producer never writes into a line the consumer is reading).
std::uint64_t padding_before(std::uint64_t tail, std::uint64_t need, std::uint64_t data_size) noexcept {
    const std::uint64_t pos = tail & (data_size - 1);
    const std::uint64_t to_end = data_size - pos;
    if (need > to_end) {
        return to_end;
    }
    const std::uint64_t in_line = pos & (cache_line - 1);
    if (need <= cache_line && in_line + need > cache_line) {
        return cache_line - in_line; // at least 8: positions are multiples of 8
    }
    return 0;
}

} // namespace

Result<std::uint64_t> detail::validate_ring_header(std::span<const std::byte> bytes, std::uint64_t file_size) {
    if (bytes.size() < header_bytes || file_size < header_bytes) {
        return fail(Errc::corrupt, fmt::format("ipc ring: file of {} bytes is shorter than the {}-byte header",
                                               std::min<std::uint64_t>(bytes.size(), file_size), header_bytes));
    }
    std::uint64_t magic = 0;
    std::uint32_t version = 0;
    std::uint32_t hsize = 0;
    std::uint64_t data_size = 0;
    std::uint64_t total = 0;
    std::memcpy(&magic, bytes.data() + offsetof(ShmRingHeader, magic), 8);
    std::memcpy(&version, bytes.data() + offsetof(ShmRingHeader, layout_version), 4);
    std::memcpy(&hsize, bytes.data() + offsetof(ShmRingHeader, header_size), 4);
    std::memcpy(&data_size, bytes.data() + offsetof(ShmRingHeader, data_size), 8);
    std::memcpy(&total, bytes.data() + offsetof(ShmRingHeader, total_size), 8);
    if (magic != shm_ring_magic) {
        return fail(Errc::corrupt, fmt::format("ipc ring: bad magic {:#018x}", magic));
    }
    if (version != shm_ring_layout_version) {
        return fail(Errc::version_mismatch,
                    fmt::format("ipc ring: layout version {} (this build reads {})", version, shm_ring_layout_version));
    }
    if (hsize != header_bytes) {
        return fail(Errc::corrupt, fmt::format("ipc ring: header size {} (expected {})", hsize, header_bytes));
    }
    if (data_size < min_data_size || data_size > max_data_size || !std::has_single_bit(data_size)) {
        return fail(Errc::corrupt, fmt::format("ipc ring: data size {} is not a power of two in {} … {}", data_size,
                                               min_data_size, max_data_size));
    }
    if (total != header_bytes + data_size) {
        return fail(Errc::corrupt,
                    fmt::format("ipc ring: total size {} is not header + data ({})", total, header_bytes + data_size));
    }
    if (file_size < total) {
        return fail(Errc::corrupt,
                    fmt::format("ipc ring: file of {} bytes is shorter than its total size {}", file_size, total));
    }
    return data_size;
}

namespace {

// Registers this process for MEMBARRIER_CMD_GLOBAL_EXPEDITED once; false
// when the kernel or a seccomp filter refuses.
bool membarrier_registered() noexcept {
    static const bool registered = [] {
        return ::syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
    }();
    return registered;
}

bool global_membarrier_available() noexcept {
    static const bool available = [] {
        const long commands = ::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
        return commands > 0 && (commands & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0 &&
               ::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0;
    }();
    return available;
}

void global_membarrier() noexcept {
    ::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
}

} // namespace

ShmRing::ShmRing(Segment segment, std::uint64_t data_size) noexcept
    : segment_(std::move(segment)), header_(reinterpret_cast<detail::ShmRingHeader*>(segment_.data())),
      data_(segment_.data() + header_bytes), data_size_(data_size) {}

ShmRing::ShmRing(ShmRing&&) noexcept = default;
ShmRing& ShmRing::operator=(ShmRing&&) noexcept = default;
ShmRing::~ShmRing() = default;

Result<ShmRing> ShmRing::create(const ShmRingConfig& config) {
    const std::uint64_t data_size =
        std::bit_ceil(std::clamp<std::uint64_t>(config.data_size, min_data_size, max_data_size));
    SegmentOptions options;
    options.name = config.name;
    auto segment = Segment::create(header_bytes + data_size, options);
    if (!segment) {
        return fail(segment.error());
    }
    if (auto sealed = segment->seal_size(); !sealed) {
        return fail(sealed.error());
    }
    auto* h = new (segment->data()) detail::ShmRingHeader{};
    h->magic = detail::shm_ring_magic;
    h->layout_version = detail::shm_ring_layout_version;
    h->header_size = header_bytes;
    h->data_size = data_size;
    h->total_size = header_bytes + data_size;
    h->producer_pid = static_cast<std::uint32_t>(::getpid());
    h->max_buffers = config.max_buffers;
    return ShmRing(std::move(*segment), data_size);
}

Result<ShmRing> ShmRing::attach(UniqueFd fd) {
    if (!fd.valid()) {
        return fail(Errc::invalid_argument, "ipc ring: invalid fd");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return fail_errno(errno, "ipc ring: fstat");
    }
    auto segment = Segment::map(std::move(fd));
    if (!segment) {
        return fail(segment.error());
    }
    if (!segment->size_sealed()) {
        return fail(Errc::corrupt, "ipc ring: the memfd is not sealed against shrinking");
    }
    // Copy the header out once: the producer could change it after the check.
    std::byte copy[header_bytes];
    const std::size_t n = std::min<std::size_t>(segment->size(), header_bytes);
    std::memcpy(copy, segment->data(), n);
    auto data_size = detail::validate_ring_header(std::span<const std::byte>(copy, n), segment->size());
    if (!data_size) {
        return fail(data_size.error());
    }
    ShmRing ring(std::move(*segment), *data_size);
    ring.cached_tail_ = ring.header_->head.load(std::memory_order_acquire);
    ring.read_end_ = ring.cached_tail_;
    return ring;
}

// Producer side.

bool ShmRing::has_room(std::size_t size) noexcept {
    const std::uint64_t tail = header_->tail.load(std::memory_order_relaxed);
    std::uint64_t need = record_bytes(size);
    need += padding_before(tail, need, data_size_);
    if (tail + need - cached_head_ <= data_size_) {
        return true;
    }
    cached_head_ = header_->head.load(std::memory_order_acquire);
    // A hostile consumer could move head past tail; treat that as no room
    // rather than trusting the difference.
    return cached_head_ <= tail && tail + need - cached_head_ <= data_size_;
}

std::span<std::byte> ShmRing::try_reserve(std::uint16_t type, std::size_t size) noexcept {
    if (size > max_record() || !has_room(size)) {
        return {};
    }
    std::uint64_t tail = header_->tail.load(std::memory_order_relaxed);
    if (const std::uint64_t gap = padding_before(tail, record_bytes(size), data_size_); gap != 0) {
        detail::ShmRecordHeader pad{static_cast<std::uint32_t>(gap - sizeof(detail::ShmRecordHeader)), 0, 0};
        std::memcpy(data_ + (tail & (data_size_ - 1)), &pad, sizeof(pad));
        tail += gap;
    }
    const std::uint64_t at = tail & (data_size_ - 1);
    detail::ShmRecordHeader rh{static_cast<std::uint32_t>(size), type, 0};
    std::memcpy(data_ + at, &rh, sizeof(rh));
    reserved_end_ = tail + record_bytes(size);
    return {data_ + at + sizeof(rh), size};
}

void ShmRing::commit(bool is_buffer) noexcept {
    if (is_buffer) {
        header_->buffers_in.store(header_->buffers_in.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    header_->tail.store(reserved_end_, std::memory_order_release);
    // Dekker with sleep_for_data(): the tail store before the flag load.
    // Without a fence the store may still sit in this CPU's store buffer
    // when the load runs; a consumer that announced its sleep and then
    // missed the store drains that buffer with its membarrier before its
    // last look (see sleep_for_data()).
    if (!unfenced_) {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        unfenced_ = header_->consumer_barrier.load(std::memory_order_relaxed) == 1 && membarrier_registered();
    }
    if (header_->consumer_waiting.load(std::memory_order_relaxed) != 0) {
        wake_consumer();
    }
}

bool ShmRing::writable(std::size_t size, std::uint64_t max_buffers) noexcept {
    if (max_buffers != 0) {
        // The consumer's counters live on lines it writes at every record:
        // read them only when the cached ones say the limit is reached.
        const std::uint64_t in = header_->buffers_in.load(std::memory_order_relaxed);
        if (in < cached_done_ || in - cached_done_ >= max_buffers) {
            cached_done_ = header_->buffers_out.load(std::memory_order_acquire) +
                           header_->drop_requests.load(std::memory_order_acquire);
            if (in > cached_done_ && in - cached_done_ >= max_buffers) {
                return false;
            }
        }
    }
    return has_room(size);
}

bool ShmRing::wait_for_room(std::size_t size, std::uint64_t max_buffers, std::chrono::nanoseconds timeout) noexcept {
    // A producer held by the buffer limit waits until the consumer has
    // taken half of what is in flight, not just one: it then writes a
    // burst while the consumer reads the other half, the two sides on
    // different lines of the ring and of the arena, instead of taking turns
    // over the same ones at every record.
    const std::uint64_t low = max_buffers >= 2 ? max_buffers / 2 : max_buffers;
    const auto ready = [&] { return writable(size, low) || consumer_closed(); };
    // Looking at the consumer's counters takes their line from the consumer,
    // whose next record then waits for it: a look every few hundred ns, not
    // after every pause.
    if (spin_until(ready, producer_spin_ns_, detail::SpinYield::every_few_us, detail::SpinLook::every_clock_check)) {
        return writable(size, max_buffers);
    }
    header_->producer_waiting.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (ready()) {
        header_->producer_waiting.store(0, std::memory_order_relaxed);
        return writable(size, max_buffers);
    }
    const std::int64_t since = steady_now_ns();
    shared_futex_wait(header_->producer_waiting, 1, timeout);
    adapt_spin(producer_spin_ns_, steady_now_ns() - since);
    header_->producer_waiting.store(0, std::memory_order_relaxed);
    return writable(size, max_buffers);
}

std::uint64_t ShmRing::buffers_in_flight() const noexcept {
    const std::uint64_t in = header_->buffers_in.load(std::memory_order_relaxed);
    const std::uint64_t out = header_->buffers_out.load(std::memory_order_acquire);
    const std::uint64_t drops = header_->drop_requests.load(std::memory_order_acquire);
    return in > out + drops ? in - out - drops : 0;
}

void ShmRing::request_drop() noexcept {
    header_->drop_requests.fetch_add(1, std::memory_order_acq_rel);
}

void ShmRing::close_producer() noexcept {
    header_->producer_closed.store(1, std::memory_order_release);
    wake_consumer();
}

bool ShmRing::consumer_closed() const noexcept {
    return header_->consumer_closed.load(std::memory_order_acquire) != 0;
}

// Consumer side.

Result<std::optional<ShmRecord>> ShmRing::try_read() noexcept {
    while (true) {
        const std::uint64_t head = header_->head.load(std::memory_order_relaxed);
        if (head == cached_tail_ || cached_tail_ < head) {
            // (Behind the head only in a ring read by a second consumer
            // object, as the proxy of an isolated element reads what its
            // dead worker left.)
            cached_tail_ = header_->tail.load(std::memory_order_acquire);
            if (head == cached_tail_) {
                return std::optional<ShmRecord>{};
            }
        }
        if (cached_tail_ < head || cached_tail_ - head > data_size_) {
            return fail(Errc::corrupt,
                        fmt::format("ipc ring: tail {} is not within one ring of head {}", cached_tail_, head));
        }
        const std::uint64_t pos = head & (data_size_ - 1);
        const std::uint64_t to_end = data_size_ - pos;
        detail::ShmRecordHeader rh{};
        std::memcpy(&rh, data_ + pos, sizeof(rh));
        const std::uint64_t bytes = record_bytes(rh.size);
        if (bytes > to_end || head + bytes > cached_tail_) {
            return fail(Errc::corrupt,
                        fmt::format("ipc ring: record of {} bytes at {} overruns the ring or the tail", rh.size, head));
        }
        if (rh.type == 0) {
            header_->head.store(head + bytes, std::memory_order_release);
            continue;
        }
        read_end_ = head + bytes;
        return std::optional<ShmRecord>(ShmRecord{rh.type, {data_ + pos + sizeof(rh), rh.size}});
    }
}

void ShmRing::consume(bool was_buffer) noexcept {
    if (was_buffer) {
        header_->buffers_out.store(header_->buffers_out.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    header_->head.store(read_end_, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (header_->producer_waiting.load(std::memory_order_relaxed) != 0) {
        wake_producer();
    }
}

bool ShmRing::take_drop_request() noexcept {
    auto requests = header_->drop_requests.load(std::memory_order_acquire);
    while (requests > 0) {
        if (header_->drop_requests.compare_exchange_weak(requests, requests - 1, std::memory_order_acq_rel)) {
            return true;
        }
    }
    return false;
}

bool ShmRing::wait_for_data(std::chrono::nanoseconds timeout) noexcept {
    const auto has_data = [this] { return data_ready(); };
    if (consumer_wait_ == ShmWait::spin) {
        return spin_until(has_data, std::min<std::int64_t>(timeout.count(), max_busy_poll_ns));
    }
    for (int i = 0; i < hot_polls; ++i) {
        if (i % hot_poll_stride == 0 && data_ready()) {
            gather();
            return true;
        }
        detail::cpu_relax();
    }
    bool seen = false;
    if (consumer_wait_ == ShmWait::predict) {
        lower_timer_slack();
        if (const auto window = arrivals_.next()) {
            // The timer ends a sleep late by what the machine adds (tens of
            // µs on a VM, whatever the slack): set the alarm that much
            // earlier, learning how late it rings, and just spin when the
            // alarm is (nearly) past already (a short period).
            const std::int64_t alarm = window->wake_at - timer_late_ns_;
            const std::int64_t now = steady_now_ns();
            if (alarm - now > min_sleep_ns) {
                if (sleep_for_data(std::min(std::chrono::nanoseconds(alarm - now), timeout))) {
                    arrivals_.arrived(steady_now_ns());
                    return true;
                }
                const std::int64_t woke = steady_now_ns();
                if (woke < alarm - early_wake_ns) {
                    return false; // woken for something else (stopping)
                }
                timer_late_ns_ = std::clamp<std::int64_t>(timer_late_ns_ + (woke - alarm - timer_late_ns_) / 8, 0,
                                                          max_timer_late_ns);
            }
            seen = spin_until(has_data, window->give_up_at - steady_now_ns(), detail::SpinYield::never);
        }
    }
    // Seldom looks, as the producer waiting for room does (see wait_for_room).
    if (!seen && !spin_until(has_data, consumer_spin_ns_, detail::SpinYield::every_few_us,
                             detail::SpinLook::every_clock_check)) {
        const std::int64_t since = steady_now_ns();
        seen = sleep_for_data(timeout);
        adapt_spin(consumer_spin_ns_, steady_now_ns() - since);
    } else {
        seen = true;
    }
    if (seen && consumer_wait_ == ShmWait::predict) {
        arrivals_.arrived(steady_now_ns());
    }
    return seen;
}

void ShmRing::gather() noexcept {
    // Without a look at the producer's line meanwhile (tail, and
    // producer_closed beside it): each look would take the line the
    // producer writes at every record, whose next store would then wait for
    // it to come back. A close is seen when the wait is over.
    const std::int64_t until = steady_now_ns() + gather_ns;
    do {
        for (int i = 0; i < detail::pauses_per_clock_check; ++i) {
            detail::cpu_relax();
        }
    } while (steady_now_ns() < until);
}

bool ShmRing::data_ready() const noexcept {
    return header_->tail.load(std::memory_order_acquire) != header_->head.load(std::memory_order_relaxed) ||
           producer_closed();
}

// Dekker with commit(): the flag store before the tail load.
bool ShmRing::sleep_for_data(std::chrono::nanoseconds timeout) noexcept {
    if (consumer_barrier_ == 0) {
        // Announced before the first sleep: a producer that reads it skips
        // its fences from then on, and every sleep below issues the barrier.
        consumer_barrier_ = global_membarrier_available() ? 1 : 2;
        if (consumer_barrier_ == 1) {
            header_->consumer_barrier.store(1, std::memory_order_seq_cst);
        }
    }
    header_->consumer_waiting.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (consumer_barrier_ == 1) {
        // Every registered producer's CPU passes a full barrier: a tail it
        // stored before it read consumer_waiting as 0 is visible below.
        global_membarrier();
    }
    if (!data_ready()) {
        shared_futex_wait(header_->consumer_waiting, 1, timeout);
    }
    header_->consumer_waiting.store(0, std::memory_order_relaxed);
    return data_ready();
}

Result<ShmWait> parse_shm_wait(std::string_view text) {
    for (const ShmWait w : {ShmWait::sleep, ShmWait::predict, ShmWait::spin}) {
        if (text == to_string(w)) {
            return w;
        }
    }
    return fail(Errc::invalid_argument, fmt::format("wait mode \"{}\" is not one of sleep, predict, spin", text));
}

std::string_view to_string(ShmWait wait) noexcept {
    switch (wait) {
    case ShmWait::sleep:
        return "sleep";
    case ShmWait::predict:
        return "predict";
    case ShmWait::spin:
        return "spin";
    }
    return "sleep";
}

void ShmRing::set_consumer_wait(ShmWait mode) noexcept {
    consumer_wait_ = mode;
    arrivals_.reset();
}

void ShmRing::close_consumer() noexcept {
    header_->consumer_closed.store(1, std::memory_order_release);
    wake_producer();
}

bool ShmRing::producer_closed() const noexcept {
    return header_->producer_closed.load(std::memory_order_acquire) != 0;
}

void ShmRing::wake_consumer() noexcept {
    header_->consumer_waiting.store(0, std::memory_order_relaxed);
    shared_futex_wake(header_->consumer_waiting);
}

void ShmRing::wake_producer() noexcept {
    header_->producer_waiting.store(0, std::memory_order_relaxed);
    shared_futex_wake(header_->producer_waiting);
}

} // namespace parallax
