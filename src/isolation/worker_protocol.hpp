#pragma once

// The control protocol between an isolated element's proxy (in the
// pipeline's process) and plx-worker: frames on the control socket
// (FdChannel). Buffers and serialized events travel on two ShmRings whose
// fds the setup frame carries; see docs/design/isolation.md. Every decoder
// checks the peer's bytes and returns an Error naming the failed check.

#include <parallax/base/result.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/element/message.hpp>
#include <parallax/memory/arena.hpp>
#include <parallax/pipeline/isolation.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace parallax::detail {

/// Frame types of the control socket (FdMessage::type). Arena offers and
/// their answers, in both directions, are IpcFrame::arena_offer / arena_ack.
enum class WorkerFrame : std::uint16_t {
    setup = 0x5701,          ///< Proxy -> worker: WorkerSetup; fds: in ring, out ring, status block, report pipe.
    ready = 0x5702,          ///< Worker -> proxy: the sandbox is in place (payload: report lines).
    failed = 0x5703,         ///< Worker -> proxy: set-up failed (payload: the error text).
    message = 0x5704,        ///< Worker -> proxy: a bus message of the element.
    sink_eos = 0x5705,       ///< Worker -> proxy: the isolated sink reached eos.
    stream_start = 0x5706,   ///< Worker -> proxy: the isolated sink got stream-start.
    arena_offer = 0x5707,    ///< Either way, with the arena's memfd: its id and the offerer's handle in it.
    property_query = 0x5709, ///< Proxy -> worker: WorkerProperty (id, element, property).
    property_value = 0x570A, ///< Worker -> proxy: WorkerProperty (id, ok, value or error text).
    upstream_event = 0x570B, ///< Either way: an upstream event (encode_event()) into or out of the elements.
};

/// A property crossing: set (element, name, value), queried (id, element,
/// name) or answered (id, ok, value: the value, or the error's text).
struct WorkerProperty {
    std::uint32_t id = 0;
    bool ok = true;
    std::string element;
    std::string name;
    std::string value;
};
std::vector<std::byte> encode_property(const WorkerProperty& property);
Result<WorkerProperty> decode_property(std::span<const std::byte> bytes);

/// The rings carry IpcRecord::buffer and IpcRecord::event both ways, and
/// the "in" ring also this record: a WorkerNegotiation, written before the
/// next record whenever negotiation fixed new caps on the stand-in's source
/// pad. The worker is not part of the pipeline's negotiation: without it an
/// element that chooses its output (a converter) would choose blind.
inline constexpr std::uint16_t worker_negotiation_record = 0x10;
/// In the "in" ring too: a WorkerProperty (element, name, value) set on the
/// stand-in while the worker runs, in order with the buffers around it.
inline constexpr std::uint16_t worker_property_record = 0x11;

/// What negotiation decided on each element's source pad (in the order of
/// WorkerSetup::elements; EMPTY for a sink, or where nothing is decided),
/// and what the element downstream of the last one accepts (for output
/// chosen after a caps change in the stream). Caps cross as text.
struct WorkerNegotiation {
    std::vector<Caps> src;
    Caps downstream = Caps::any();
};
std::vector<std::byte> encode_negotiation(const WorkerNegotiation& negotiation);
Result<WorkerNegotiation> decode_negotiation(std::span<const std::byte> bytes);

/// One element a worker creates.
struct WorkerElement {
    std::string factory;
    std::string name;
    /// Properties whose value differs from the default, as text.
    std::vector<std::pair<std::string, std::string>> properties;
};

/// What the worker needs to create and run its elements.
struct WorkerSetup {
    static constexpr std::uint32_t magic = 0x4B524F57; // "WORK"
    static constexpr std::uint16_t version = 3;
    /// One element, or a group of adjacent ones in stream order: each but
    /// the last has one src pad, linked to the next one's sink pad.
    std::vector<WorkerElement> elements;
    SandboxSettings sandbox;
    /// Sticky events (encode_event()) to give the element before the ring's
    /// first record: the stream's state when a restarted worker takes over.
    std::vector<std::vector<std::byte>> sticky;
    /// Negotiation's decision as of the set-up, applied before the sticky
    /// events (version 2).
    WorkerNegotiation negotiation;
    /// How the worker waits for input (version 3): IsolationOptions::wait.
    ShmWait wait = ShmWait::sleep;
};

/// An arena offer's payload (24 bytes): the arena id and the offerer's
/// participant handle, which the receiver credits references to.
std::vector<std::byte> encode_worker_arena_offer(const ArenaId& id, ParticipantHandle offerer);
Result<std::pair<ArenaId, ParticipantHandle>> decode_worker_arena_offer(std::span<const std::byte> bytes);

/// The other side's participant handle in each arena both sides map (a few
/// arenas: a flat list).
class ArenaHandles {
public:
    [[nodiscard]] const ParticipantHandle* find(const ArenaId& id) const noexcept {
        for (const auto& [a, h] : entries_) {
            if (a == id) {
                return &h;
            }
        }
        return nullptr;
    }
    void set(const ArenaId& id, ParticipantHandle h) {
        for (auto& [a, old] : entries_) {
            if (a == id) {
                old = h;
                return;
            }
        }
        entries_.emplace_back(id, h);
    }
    void clear() noexcept { entries_.clear(); }

private:
    std::vector<std::pair<ArenaId, ParticipantHandle>> entries_;
};

std::vector<std::byte> encode_setup(const WorkerSetup& setup);
Result<WorkerSetup> decode_setup(std::span<const std::byte> bytes);

/// A bus message as it crosses: type, text, detail, error code, structure.
std::vector<std::byte> encode_message(const Message& message);
/// The message's source is the name it claims when that is one of
/// `may_claim` (the elements of the worker's group), `source` otherwise:
/// a worker cannot post in the name of an element it does not run.
Result<Message> decode_message(std::span<const std::byte> bytes, const std::string& source,
                               std::span<const std::string> may_claim = {});

/// The worker's progress, in a small shared memfd (128 bytes) the proxy
/// creates: which buffers it started and finished, so that the proxy knows
/// what a crash lost and whether a worker with pending input is stuck; and
/// the pipeline's clock, which the proxy keeps up to date so that elements
/// in the worker see the pipeline's running time.
struct WorkerStatus {
    static constexpr std::uint64_t magic_value = 0x3154415453584C50ULL; // "PLXSTAT1"
    std::uint64_t magic;
    std::atomic<std::uint64_t> started;     ///< Buffer records handed to the element.
    std::atomic<std::uint64_t> finished;    ///< ... whose chain() returned.
    std::atomic<std::uint64_t> progress;    ///< Bumped at every record and idle wake-up.
    std::atomic<std::uint64_t> events_done; ///< Event records handled (and consumed).
    /// The first flow other than ok, dropped or flushing that the element
    /// returned (a Flow value; 0 until then): the worker feeds it nothing
    /// more, and the proxy returns it upstream, as a failing element in
    /// process would.
    std::atomic<std::int32_t> flow;
    std::uint8_t reserved[20];
    /// The pipeline's running time, as `clock_paused_at`: clock_not_started,
    /// clock_running (running time = CLOCK_MONOTONIC now - `clock_base` ns),
    /// or the running time (ns) at which the pipeline is paused. The proxy
    /// writes the base before it says running.
    std::atomic<std::int64_t> clock_base;
    std::atomic<std::int64_t> clock_paused_at;
    std::uint8_t reserved2[48];
};
static_assert(sizeof(WorkerStatus) == 128);
inline constexpr std::int64_t clock_not_started = -2;
inline constexpr std::int64_t clock_running = -1;

} // namespace parallax::detail
