#pragma once
/// \file
/// ShmRing: a single-producer single-consumer ring of variable-length
/// records in a memfd shared by two processes, with process-shared futex
/// wake-ups. The transport under ipcsink/ipcsrc; it knows nothing of
/// elements. Byte layout and guarantees: docs/design/ipc.md.

#include <parallax/base/arrival_predictor.hpp>
#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/base/unique_fd.hpp>
#include <parallax/ipc/shm_wait.hpp>
#include <parallax/memory/segment.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace parallax {

namespace detail {

/// The ring's header at offset 0 of its memfd (layout version 2). Bytes
/// 0-63 never change after creation; the rest are the two sides' counters,
/// each side's on a cache line of its own, and a line both sides mostly
/// read: the futex words, written only when a side goes to sleep or wakes,
/// so that a side looking whether its peer sleeps (at every record) finds
/// the line in its own cache.
struct ShmRingHeader {
    std::uint64_t magic;          ///< `PLXRING1` read as a little-endian u64.
    std::uint32_t layout_version; ///< 2.
    std::uint32_t header_size;    ///< 256.
    std::uint64_t data_size;      ///< Bytes of the record area: a power of two.
    std::uint64_t total_size;     ///< header_size + data_size.
    std::uint32_t producer_pid;   ///< For tools.
    std::uint32_t max_buffers;    ///< The producer's limit of buffers in flight.
    std::uint8_t reserved0[24];
    // Producer's line.
    std::atomic<std::uint64_t> tail;            ///< Bytes ever written.
    std::atomic<std::uint64_t> buffers_in;      ///< Buffer records ever written.
    std::uint32_t reserved1;                    ///< Zero.
    std::atomic<std::uint32_t> producer_closed; ///< 1 once the producer has closed its end.
    std::uint8_t reserved2[40];
    // Consumer's line.
    std::atomic<std::uint64_t> head;            ///< Bytes ever consumed.
    std::atomic<std::uint64_t> buffers_out;     ///< Buffer records ever consumed (or dropped).
    std::uint32_t reserved3;                    ///< Zero.
    std::atomic<std::uint32_t> consumer_closed; ///< 1 once the consumer has closed its end.
    std::uint8_t reserved4[40];
    // Shared line: written seldom, read often.
    std::atomic<std::uint64_t> drop_requests;    ///< Oldest buffers the consumer must drop.
    std::atomic<std::uint32_t> producer_waiting; ///< Futex word: the producer sleeps for room.
    std::atomic<std::uint32_t> consumer_waiting; ///< Futex word: the consumer sleeps for data.
    /// 1 once the consumer issues a global membarrier between announcing its
    /// sleep and its last look: a producer registered for it may then
    /// publish without a fence. 0 from consumers that do not.
    std::atomic<std::uint32_t> consumer_barrier;
    std::uint8_t reserved5[44];
};

static_assert(sizeof(std::atomic<std::uint64_t>) == 8 && std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == 4 && std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(ShmRingHeader) == 256);
static_assert(offsetof(ShmRingHeader, magic) == 0);
static_assert(offsetof(ShmRingHeader, layout_version) == 8);
static_assert(offsetof(ShmRingHeader, header_size) == 12);
static_assert(offsetof(ShmRingHeader, data_size) == 16);
static_assert(offsetof(ShmRingHeader, total_size) == 24);
static_assert(offsetof(ShmRingHeader, producer_pid) == 32);
static_assert(offsetof(ShmRingHeader, max_buffers) == 36);
static_assert(offsetof(ShmRingHeader, tail) == 64);
static_assert(offsetof(ShmRingHeader, buffers_in) == 72);
static_assert(offsetof(ShmRingHeader, producer_closed) == 84);
static_assert(offsetof(ShmRingHeader, head) == 128);
static_assert(offsetof(ShmRingHeader, buffers_out) == 136);
static_assert(offsetof(ShmRingHeader, consumer_closed) == 148);
static_assert(offsetof(ShmRingHeader, drop_requests) == 192);
static_assert(offsetof(ShmRingHeader, producer_waiting) == 200);
static_assert(offsetof(ShmRingHeader, consumer_waiting) == 204);
static_assert(offsetof(ShmRingHeader, consumer_barrier) == 208);

/// The header of one record in the record area: 8 bytes, then `size`
/// payload bytes, the whole padded to a multiple of 8. A record never wraps
/// around the end of the area: a padding record (type 0) fills the rest.
struct ShmRecordHeader {
    std::uint32_t size; ///< Payload bytes.
    std::uint16_t type; ///< 0: padding; others chosen by the protocol above.
    std::uint16_t reserved;
};
static_assert(sizeof(ShmRecordHeader) == 8);
static_assert(offsetof(ShmRecordHeader, size) == 0);
static_assert(offsetof(ShmRecordHeader, type) == 4);

inline constexpr std::uint64_t shm_ring_magic = 0x31474E4952584C50ULL; // "PLXRING1"
inline constexpr std::uint32_t shm_ring_layout_version = 2;

/// Checks a ring header received from another process (the first
/// `bytes.size()` bytes of the memfd, whose size is `file_size`): size,
/// magic, version, header size, data size, total size. An Error names the
/// first failed check. The data size on success. Pure: the fuzz target
/// drives it directly.
PARALLAX_API Result<std::uint64_t> validate_ring_header(std::span<const std::byte> bytes, std::uint64_t file_size);

} // namespace detail

/// The shape of a new ring.
struct ShmRingConfig {
    /// Bytes of the record area, rounded up to a power of two, 4 KiB … 64 MiB.
    std::size_t data_size = std::size_t{1} << 20;
    /// The producer's limit of buffer records in flight (stored for tools and
    /// for the consumer's information; ShmRing::buffers_in_flight() counts).
    std::uint32_t max_buffers = 64;
    /// memfd name, visible in /proc/<pid>/maps.
    const char* name = "parallax-ipc-ring";
};

/// One record read from the ring.
struct ShmRecord {
    std::uint16_t type = 0;
    /// The payload, in the shared memory: the producer may be hostile, so
    /// copy what is decoded before checking it. Valid until consume().
    std::span<const std::byte> payload;
};

/// A single-producer single-consumer ring of records in shared memory.
///
/// One process creates it (the producer) and passes fd() to the other, which
/// attaches (the consumer). Records are written and read in place: the
/// producer reserves room, fills it and commits; the consumer reads a record
/// and consumes it. Indices only grow (64-bit byte counters), so they never
/// wrap in practice.
///
/// Waiting spins for a while, then sleeps on a process-shared futex in the
/// ring header (FUTEX_WAIT without FUTEX_PRIVATE_FLAG). A side that publishes
/// issues a full fence and then looks whether the other side sleeps; a side
/// about to sleep stores its flag, fences and looks again: no lost wake-up.
/// Every sleep is also bounded by the caller's timeout, so that a caller can
/// look at whether its peer is still alive.
///
/// Every field read from shared memory is checked before use: a hostile or
/// corrupt peer makes read() fail with Errc::corrupt naming the check, never
/// an access outside the mapping.
///
/// **Ownership:** the ring owns its mapping and fd. Thread-safety: one
/// producer thread and one consumer thread; wake_*() and close() from any.
class PARALLAX_API ShmRing {
public:
    /// Creates a ring in a fresh memfd (sealed against shrinking and growing).
    static Result<ShmRing> create(const ShmRingConfig& config = {});
    /// Maps a ring received from the producer and validates its header.
    /// **Ownership:** takes `fd`.
    static Result<ShmRing> attach(UniqueFd fd);

    ShmRing(ShmRing&&) noexcept;
    ShmRing& operator=(ShmRing&&) noexcept;
    ShmRing(const ShmRing&) = delete;
    ShmRing& operator=(const ShmRing&) = delete;
    ~ShmRing();

    /// Largest payload of one record: a quarter of the record area.
    [[nodiscard]] std::size_t max_record() const noexcept { return data_size_ / 4 - sizeof(detail::ShmRecordHeader); }
    [[nodiscard]] std::size_t data_size() const noexcept { return data_size_; }
    [[nodiscard]] int fd() const noexcept { return segment_.fd(); }
    /// A duplicate of the ring's fd, for sending to the consumer.
    [[nodiscard]] Result<UniqueFd> dup_fd() const { return segment_.dup_fd(); }

    // Producer side.

    /// Room for a record of `size` payload bytes, or an empty span when the
    /// ring is full now (Errc-free: the caller waits with wait_for_room()).
    /// `size` must be at most max_record(). Fill it, then commit().
    std::span<std::byte> try_reserve(std::uint16_t type, std::size_t size) noexcept;
    /// Publishes the record last reserved; `is_buffer` counts it in
    /// buffers_in(). Wakes the consumer when it sleeps.
    void commit(bool is_buffer) noexcept;
    /// True when a record of `size` bytes fits now and, unless `max_buffers`
    /// is 0, fewer than `max_buffers` buffers are in flight.
    [[nodiscard]] bool writable(std::size_t size, std::uint64_t max_buffers) noexcept;
    /// Spins, then sleeps until writable(size, max_buffers), the consumer
    /// closed, wake_producer() is called or `timeout` passes. True when
    /// writable.
    bool wait_for_room(std::size_t size, std::uint64_t max_buffers, std::chrono::nanoseconds timeout) noexcept;
    /// Buffer records written and not yet consumed or dropped.
    [[nodiscard]] std::uint64_t buffers_in_flight() const noexcept;
    /// Asks the consumer to drop the oldest buffer still in the ring
    /// (leaky=downstream): the level falls by one at once.
    void request_drop() noexcept;
    /// Marks the producer's end closed and wakes the consumer.
    void close_producer() noexcept;
    [[nodiscard]] bool consumer_closed() const noexcept;

    // Consumer side.

    /// The next record, nothing when the ring is empty, or Errc::corrupt when
    /// the record header overruns the ring (a hostile or broken producer).
    /// Padding records are skipped.
    Result<std::optional<ShmRecord>> try_read() noexcept;
    /// Frees the record last read; `was_buffer` counts it out.
    void consume(bool was_buffer) noexcept;
    /// Takes one pending drop request, if any: the buffer just read must then
    /// be dropped instead of delivered.
    bool take_drop_request() noexcept;
    /// Waits, as set_consumer_wait() says, until a record is there, the
    /// producer closed, wake_consumer() is called or `timeout` passes (a
    /// spinning consumer returns after at most a millisecond). True when
    /// data is there. Unless the mode is spin, a record that lands within
    /// about a microsecond (a producer faster than the consumer) is not
    /// returned at once: the consumer lets records gather for 6 µs, so that
    /// the two sides work on different lines.
    bool wait_for_data(std::chrono::nanoseconds timeout) noexcept;
    /// How wait_for_data() waits (default ShmWait::sleep). With predict, the
    /// first wait lowers the calling thread's timer slack to 1 µs so that
    /// its timed sleeps end when asked.
    void set_consumer_wait(ShmWait mode) noexcept;
    /// Marks the consumer's end closed and wakes the producer.
    void close_consumer() noexcept;
    [[nodiscard]] bool producer_closed() const noexcept;

    /// Wakes a sleeping consumer / producer (e.g. when stopping).
    void wake_consumer() noexcept;
    void wake_producer() noexcept;

private:
    ShmRing(Segment segment, std::uint64_t data_size) noexcept;
    [[nodiscard]] bool has_room(std::size_t size) noexcept;
    [[nodiscard]] bool data_ready() const noexcept;
    bool sleep_for_data(std::chrono::nanoseconds timeout) noexcept;
    // Waits a few microseconds for more records behind the first (see
    // wait_for_data()).
    void gather() noexcept;

    Segment segment_;
    detail::ShmRingHeader* header_ = nullptr;
    std::byte* data_ = nullptr;
    std::uint64_t data_size_ = 0; // copied once and validated: never re-read
    // Producer's private state.
    std::uint64_t cached_head_ = 0;
    // buffers_out + drop_requests as last read: the producer reads the
    // consumer's counters again only when this says max_buffers is reached.
    std::uint64_t cached_done_ = 0;
    std::uint64_t reserved_end_ = 0; // tail after the reserved record
    std::int64_t producer_spin_ns_ = 20'000;
    // Whether commit() may skip its fence: this process is registered for
    // global membarriers and the consumer issues one before it sleeps.
    bool unfenced_ = false;
    // Consumer's private state.
    std::uint64_t cached_tail_ = 0;
    std::uint64_t read_end_ = 0; // head after the record last read
    std::int64_t consumer_spin_ns_ = 20'000;
    // 0: not decided yet; 1: this consumer issues a global membarrier before
    // its last look; 2: it cannot (the producer keeps fencing).
    std::uint8_t consumer_barrier_ = 0;
    ShmWait consumer_wait_ = ShmWait::sleep;
    ArrivalPredictor arrivals_;
    std::int64_t timer_late_ns_ = 50'000; // how late timed sleeps end (EWMA)
};

} // namespace parallax
