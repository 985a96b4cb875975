#pragma once
/// \file
/// The messages of the ipc protocol (ipcsink/ipcsrc, and later the
/// transport to sandboxed workers): records carried by a ShmRing (a buffer
/// reference, a serialized event, an arena notice) and the handshake frames
/// carried by an FdChannel. Every decoder checks the bytes from the peer and
/// returns an Error naming the failed check. Layout: docs/design/ipc.md.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/buffer.hpp>
#include <parallax/element/event.hpp>
#include <parallax/memory/arena.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace parallax {

/// Record types of the ring (ShmRecord::type). 0 is the ring's padding.
enum class IpcRecord : std::uint16_t {
    buffer = 1, ///< IpcBufferRef, then the buffer's serialized Metadata.
    event = 2,  ///< A serialized Event (encode_event()).
    /// A buffer in at most one cache line with the record header
    /// (encode_compact_buffer()): ipcsink's record for a buffer whose
    /// metadata has no custom entries and no RTP fields.
    compact_buffer = 3,
};

/// Frame types of the handshake socket (FdMessage::type).
enum class IpcFrame : std::uint16_t {
    hello = 0x4901,       ///< Producer -> consumer, with the ring's memfd: IpcHello.
    arena_offer = 0x4902, ///< Producer -> consumer, with an arena's memfd: the arena id (16 bytes).
    arena_ack = 0x4903,   ///< Consumer -> producer: IpcArenaAck.
};

/// The reference to a buffer's bytes in a buffer record (40 bytes, then the
/// serialized Metadata).
struct IpcBufferRef {
    ArenaId arena; ///< All zero for an empty buffer without a slot.
    SlotIndex slot = 0;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    static constexpr std::size_t encoded_size = 40;
};

/// A compact buffer record, decoded (decode_compact_buffer()). The arena is
/// named by its number on the connection: the n-th arena offer (from 0,
/// accepted or refused) is arena n.
struct IpcCompactBuffer {
    /// The payload without time fields; each of pts, dts, duration,
    /// sequence and byte offset that is set adds 8 bytes.
    static constexpr std::size_t fixed_size = 24;
    /// The largest payload (every optional field set): with the 8-byte
    /// record header, 72 bytes; 64 (one line) with up to four of them.
    static constexpr std::size_t max_size = fixed_size + 5 * 8;
    std::uint16_t arena_index = 0;
    SlotIndex slot = 0;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
    Metadata meta;
};

/// The payload size of `buffer`'s compact record, or 0 when the buffer
/// needs a full one: no slot, custom metadata entries or RTP fields, an
/// offset or size of 4 GiB or more, or `arena_index` above 65535.
PARALLAX_API std::size_t compact_buffer_size(const Buffer& buffer, std::size_t arena_index) noexcept;
/// Writes `buffer`'s compact record into `out`, whose size is what
/// compact_buffer_size() said (not 0).
PARALLAX_API void encode_compact_buffer(const Buffer& buffer, std::uint16_t arena_index,
                                        std::span<std::byte> out) noexcept;
/// Reads a compact record; a wrong size for its field mask, reserved bits
/// set or unknown flag bits are an Error naming the byte.
PARALLAX_API Result<IpcCompactBuffer> decode_compact_buffer(std::span<const std::byte> bytes);

/// The producer's greeting (16 bytes).
struct IpcHello {
    static constexpr std::uint32_t magic = 0x49584C50; // "PLXI"
    static constexpr std::uint16_t version = 1;
    static constexpr std::size_t encoded_size = 16;
    std::uint32_t producer_pid = 0;
    std::uint32_t max_buffers = 0;
};

/// The consumer's answer to an arena offer (28 bytes).
struct IpcArenaAck {
    static constexpr std::size_t encoded_size = 28;
    ArenaId arena;
    /// 0: attached, `participant` names this consumer in the arena; 1: refused.
    std::uint32_t status = 0;
    ParticipantHandle participant;
};

/// Writes `ref` into the first IpcBufferRef::encoded_size bytes of `out`
/// (which must be at least that long).
PARALLAX_API void encode_buffer_ref(const IpcBufferRef& ref, std::span<std::byte> out) noexcept;
/// Reads a buffer record's reference; Errc::corrupt when it is too short.
/// The Metadata follows at IpcBufferRef::encoded_size.
PARALLAX_API Result<IpcBufferRef> decode_buffer_ref(std::span<const std::byte> bytes);

/// Serializes an event that crosses processes: every downstream and
/// upstream event type (stream-start, caps, segment, tags, eos, gap,
/// flush-start, flush-stop, custom-downstream, downstream-force-key-unit;
/// seek, qos, latency, reconfigure, custom-upstream,
/// upstream-force-key-unit).
PARALLAX_API Result<std::vector<std::byte>> encode_event(const Event& event);
/// Reads what encode_event() wrote for a downstream event; every malformed
/// field is an Error naming it, and so is an upstream event.
PARALLAX_API Result<Event> decode_event(std::span<const std::byte> bytes);
/// Reads what encode_event() wrote for an upstream event; a downstream
/// event is an Error.
PARALLAX_API Result<Event> decode_upstream_event(std::span<const std::byte> bytes);

/// A buffer record's buffer (IpcBufferRef, then Metadata) adopted in this
/// process: `find` maps the record's arena id to an arena this process
/// mapped (null: never offered). Takes over the reference the writer
/// credited. Every malformed field, and an arena nobody offered, is an
/// Error naming it.
PARALLAX_API Result<Buffer> adopt_buffer_record(std::span<const std::byte> bytes,
                                                const std::function<Arena*(const ArenaId&)>& find);

/// The sticky events of a stream in the order a newcomer must get them
/// (stream-start, caps, segment, tags, eos), kept as encode_event() bytes:
/// what ipcsink replays to a consumer that connects late and what an
/// isolated element replays to a restarted worker.
class PARALLAX_API StickyEvents {
public:
    /// Takes one event into account: stream-start begins a new stream (its
    /// tags and eos go), flush-stop clears eos, others replace their kind.
    void apply(EventType type, const std::vector<std::byte>& bytes);
    void clear() { events_.fill({}); }
    /// The events held, in replay order (kinds never seen are left out).
    [[nodiscard]] std::vector<std::vector<std::byte>> in_order() const;

private:
    std::array<std::vector<std::byte>, 5> events_; // stream-start, caps, segment, tags, eos
};

PARALLAX_API std::vector<std::byte> encode_hello(const IpcHello& hello);
PARALLAX_API Result<IpcHello> decode_hello(std::span<const std::byte> bytes);
PARALLAX_API std::vector<std::byte> encode_arena_ack(const IpcArenaAck& ack);
PARALLAX_API Result<IpcArenaAck> decode_arena_ack(std::span<const std::byte> bytes);
PARALLAX_API Result<ArenaId> decode_arena_offer(std::span<const std::byte> bytes);

} // namespace parallax
