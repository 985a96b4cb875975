#pragma once

/// \file
/// A demultiplexer of MPEG-2 transport streams (ISO/IEC 13818-1) for one
/// program: bytes go in, in pieces of any size, and events come out: the
/// program's streams (when its PMT is read or changes), PES packets of its
/// elementary streams, and problems met on the way (garbage, continuity
/// gaps, bad sections), each naming the byte offset and the PID. The
/// tsdemux element is built on it; it needs no library and never reads
/// outside its input, whatever the input holds.

#include <parallax/base/error.hpp>
#include <parallax/base/export.hpp>
#include <parallax/container/mpegts.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace parallax::mpegts {

/// The codecs the demuxer recognises from a PMT entry.
enum class CodecKind : std::uint8_t {
    unknown,
    h264, ///< stream_type 0x1B.
    opus, ///< stream_type 0x06 with the 'Opus' registration.
    av1,  ///< stream_type 0x06 with the 'AV01' registration.
    klv,  ///< stream_type 0x15 with a KLVA metadata descriptor, or 0x06 with 'KLVA'.
};

/// "h264", "opus", "av1", "klv", "unknown".
PARALLAX_API std::string_view to_string(CodecKind kind) noexcept;

/// One elementary stream of the program, as its PMT entry describes it.
struct StreamInfo {
    std::uint16_t pid = 0;
    std::uint8_t stream_type = 0;
    std::vector<Descriptor> descriptors;
    CodecKind codec = CodecKind::unknown;
    /// KLV only: true when the payload is metadata access unit cells (MISB
    /// ST 1402 synchronous carriage, stream_type 0x15), false for raw KLV
    /// bytes (asynchronous carriage in a private stream, stream_type 0x06).
    bool klv_cells = false;

    bool operator==(const StreamInfo&) const = default;
};

/// Classifies a PMT entry. `program_descriptors` are looked at for a
/// registration descriptor when the entry has none.
PARALLAX_API StreamInfo classify_stream(const PmtStream& stream, std::span<const Descriptor> program_descriptors = {});

/// The program being demultiplexed, after its PMT was read.
struct ProgramInfo {
    std::uint16_t program_number = 0;
    std::uint16_t pmt_pid = 0;
    std::uint8_t version = 0;
    std::uint16_t pcr_pid = null_pid;
    /// Every stream of the PMT, in PMT order, unknown codecs included.
    std::vector<StreamInfo> streams;
    /// PIDs new in this version (all of them the first time) and PIDs gone
    /// since the last one. A PID whose stream type or descriptors changed
    /// is in both.
    std::vector<std::uint16_t> added;
    std::vector<std::uint16_t> removed;
};

/// One PES packet of an elementary stream, payload only.
struct PesPacket {
    std::uint16_t pid = 0;
    std::uint8_t stream_id = 0;
    /// PTS and DTS in 90 kHz ticks, unwrapped (continuous across the 2^33
    /// wrap, for every stream of the program alike).
    std::optional<std::int64_t> pts;
    std::optional<std::int64_t> dts;
    /// Data was lost before this packet (a continuity gap, a damaged or
    /// truncated PES, garbage): a decoder must not assume continuity.
    bool discontinuity = false;
    /// The adaptation field of its first TS packet set random_access_indicator.
    bool random_access = false;
    bool data_alignment = false;
    /// Byte offset (in the whole input) of its first TS packet.
    std::uint64_t offset = 0;
    std::vector<std::uint8_t> payload;
};

/// What push() and finish() report, in input order.
struct DemuxEvent {
    enum class Type : std::uint8_t {
        program, ///< `program` holds the streams known now.
        pes,     ///< `pes` holds a complete PES packet.
        problem, ///< `problem` says what was wrong and where; demuxing goes on.
    };
    Type type = Type::problem;
    ProgramInfo program;
    PesPacket pes;
    std::optional<Error> problem;
};

/// Demultiplexes one program of a transport stream.
///
/// It resynchronises on the sync byte (three packets in a row confirm it,
/// two at the start of the input; the bytes skipped are counted and
/// reported), reads the PAT, then the
/// PMT of the chosen program, follows new versions of both (streams added
/// and removed), and joins the PES packets of every stream of a known
/// codec: bounded ones when PES_packet_length bytes are in, unbounded ones
/// (video) when the next one starts or the input ends. A continuity
/// counter gap drops the PES being joined and marks the next one
/// discontinuous; a duplicate packet is ignored; a packet with
/// transport_error_indicator set is dropped. Streams of other types are
/// reported once and skipped. Everything read is bounded: a PES by
/// Options::max_pes_size, a section by the section assembler.
///
/// Not thread-safe: one thread feeds it.
class PARALLAX_API Demuxer {
public:
    struct Options {
        /// The program to read; -1: the first of the PAT (program 0, the
        /// network PID, is never one).
        int program_number = -1;
        /// A PES larger than this is dropped with a problem report.
        std::size_t max_pes_size = std::size_t{64} << 20;
    };

    Demuxer();
    explicit Demuxer(Options options);
    ~Demuxer();
    Demuxer(Demuxer&&) noexcept;
    Demuxer& operator=(Demuxer&&) noexcept;

    /// Takes the next `bytes` of the input (any size, cut anywhere) and
    /// returns what they completed.
    std::vector<DemuxEvent> push(std::span<const std::uint8_t> bytes);
    /// The input ended: returns the unbounded PES packets still open and
    /// reports what was cut short (a partial packet, a truncated PES).
    std::vector<DemuxEvent> finish();
    /// Back to the state of a new Demuxer with the same options.
    void reset();

    /// Bytes taken so far.
    [[nodiscard]] std::uint64_t bytes_in() const noexcept;
    /// Bytes skipped because they were not in a transport packet.
    [[nodiscard]] std::uint64_t bytes_skipped() const noexcept;
    /// Whole transport packets read so far.
    [[nodiscard]] std::uint64_t packets() const noexcept;
    /// True once the chosen program's PMT was read.
    [[nodiscard]] bool has_program() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace parallax::mpegts
