#pragma once

/// \file
/// MPEG-2 transport streams (ISO/IEC 13818-1): 188-byte packets, adaptation
/// fields with PCR, PSI sections (PAT, PMT) with their CRC, PES headers with
/// PTS/DTS, and the carriage rules of the codecs libparallax puts into TS:
/// H.264 (stream type 0x1B), Opus (private PES with the 'Opus' registration,
/// the Opus audio descriptor and control headers of the Opus-in-TS draft that
/// ffmpeg and GStreamer follow),
/// AV1 (private PES with 'AV01' and the AV1 video descriptor, start-code
/// format of AOM's "Carriage of AV1 in MPEG-2 TS"), and synchronous KLV
/// metadata (stream type 0x15, MISB ST 1402: metadata descriptors and access
/// unit cells). The mpegtsmux and tsdemux elements are built on these
/// functions; they work on bytes in memory and need no library.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::mpegts {

inline constexpr std::size_t packet_size = 188;
inline constexpr std::uint8_t sync_byte = 0x47;
inline constexpr std::uint16_t pat_pid = 0x0000;
inline constexpr std::uint16_t null_pid = 0x1FFF;
/// Highest PID an elementary stream or PMT may use.
inline constexpr std::uint16_t max_pid = 0x1FFE;
/// PTS and DTS tick at 90 kHz and wrap at 2^33.
inline constexpr std::uint64_t pts_clock = 90'000;
inline constexpr std::uint64_t pts_wrap = std::uint64_t{1} << 33;
/// The PCR ticks at 27 MHz: base (90 kHz, 33 bits) * 300 + extension (9 bits).
inline constexpr std::uint64_t pcr_clock = 27'000'000;

/// stream_type values of the PMT used here.
namespace stream_type {
inline constexpr std::uint8_t private_pes = 0x06;  ///< PES packets with private data (Opus, AV1).
inline constexpr std::uint8_t metadata_pes = 0x15; ///< Metadata carried in PES packets (KLV).
inline constexpr std::uint8_t h264 = 0x1B;
} // namespace stream_type

/// PES stream_id values used here.
namespace stream_id {
inline constexpr std::uint8_t private_stream_1 = 0xBD;
inline constexpr std::uint8_t video_0 = 0xE0;
inline constexpr std::uint8_t metadata = 0xFC;
} // namespace stream_id

/// Descriptor tags used here.
namespace descriptor_tag {
inline constexpr std::uint8_t registration = 0x05;
inline constexpr std::uint8_t metadata_pointer = 0x25;
inline constexpr std::uint8_t metadata = 0x26;
inline constexpr std::uint8_t metadata_std = 0x27;
inline constexpr std::uint8_t extension = 0x7F;
/// A user-private tag: the AV1 video descriptor after an 'AV01' registration.
inline constexpr std::uint8_t av1_video = 0x80;
} // namespace descriptor_tag

/// The CRC-32 of MPEG-2 sections (polynomial 0x04c11db7, initial value
/// 0xffffffff, no reflection, no final xor). Over a whole section including
/// its CRC field it is 0.
PARALLAX_API std::uint32_t crc32(std::span<const std::uint8_t> bytes) noexcept;

/// The fields of an adaptation field this library reads and writes.
struct AdaptationField {
    bool discontinuity = false;
    bool random_access = false;
    /// Program clock reference in 27 MHz ticks.
    std::optional<std::uint64_t> pcr;
};

/// One transport packet, viewing the 188 bytes it was parsed from.
struct PacketView {
    bool transport_error = false;
    bool payload_unit_start = false;
    std::uint16_t pid = 0;
    std::uint8_t scrambling = 0;
    std::uint8_t continuity_counter = 0;
    bool has_payload = false;
    std::optional<AdaptationField> adaptation;
    std::span<const std::uint8_t> payload;
};

/// Parses one 188-byte packet. `offset` is its place in the stream, for
/// error messages. An Error (corrupt) names the offset and the field when
/// the sync byte or the adaptation field length is wrong.
PARALLAX_API Result<PacketView> parse_packet(std::span<const std::uint8_t> packet, std::uint64_t offset = 0);

/// Writes one packet to `out` (188 bytes appended): header, an adaptation
/// field when `adaptation` is given or when `payload` is shorter than what
/// fits (stuffing), and as much of `payload` as fits. Returns the number of
/// payload bytes written. `continuity_counter` is taken as is (the caller
/// counts).
PARALLAX_API std::size_t write_packet(std::vector<std::uint8_t>& out, std::uint16_t pid, bool payload_unit_start,
                                      std::uint8_t continuity_counter, const AdaptationField* adaptation,
                                      std::span<const std::uint8_t> payload);

/// Writes `section` (a complete PSI section) into packets of `pid`, counting
/// `continuity_counter` on; the last packet is filled with 0xFF.
PARALLAX_API void write_section_packets(std::vector<std::uint8_t>& out, std::uint16_t pid,
                                        std::uint8_t& continuity_counter, std::span<const std::uint8_t> section);

/// A descriptor of a PSI loop: tag and body.
struct Descriptor {
    std::uint8_t tag = 0;
    std::vector<std::uint8_t> data;
    bool operator==(const Descriptor&) const = default;
};

struct PatProgram {
    std::uint16_t program_number = 0;
    std::uint16_t pid = 0; ///< PMT PID (network PID when program_number is 0).
    bool operator==(const PatProgram&) const = default;
};

struct Pat {
    std::uint16_t transport_stream_id = 1;
    std::uint8_t version = 0;
    std::vector<PatProgram> programs;
};

struct PmtStream {
    std::uint8_t stream_type = 0;
    std::uint16_t pid = 0;
    std::vector<Descriptor> descriptors;
};

struct Pmt {
    std::uint16_t program_number = 1;
    std::uint8_t version = 0;
    std::uint16_t pcr_pid = null_pid;
    std::vector<Descriptor> program_descriptors;
    std::vector<PmtStream> streams;
};

/// Complete sections (header, body, CRC) for a PAT and a PMT. An Error
/// (invalid_argument) when the table does not fit one 1024-byte section or
/// a descriptor body is longer than 255 bytes.
PARALLAX_API Result<std::vector<std::uint8_t>> write_pat(const Pat& pat);
PARALLAX_API Result<std::vector<std::uint8_t>> write_pmt(const Pmt& pmt);

/// Parses a complete section (as the SectionAssembler returns them) as PAT
/// or PMT. Errors (corrupt) name the field: table id, length, CRC, loop
/// lengths that run past the section.
PARALLAX_API Result<Pat> parse_pat(std::span<const std::uint8_t> section);
PARALLAX_API Result<Pmt> parse_pmt(std::span<const std::uint8_t> section);

/// Descriptors of a loop, in order. Error (corrupt) when one runs past the end.
PARALLAX_API Result<std::vector<Descriptor>> parse_descriptors(std::span<const std::uint8_t> loop);

/// Joins the sections of one PID out of its packets' payloads (pointer
/// field, sections spanning packets, several sections in one packet,
/// stuffing). A continuity gap drops the partial section.
class PARALLAX_API SectionAssembler {
public:
    /// Takes the next packet of the PID; returns the sections completed by it.
    std::vector<std::vector<std::uint8_t>> push(const PacketView& packet);
    /// Partial sections dropped so far (gaps, bad lengths).
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

private:
    void take_bytes(std::span<const std::uint8_t> bytes, std::vector<std::vector<std::uint8_t>>& done);
    std::vector<std::uint8_t> partial_;
    bool open_ = false;
    std::optional<std::uint8_t> last_cc_;
    std::uint64_t dropped_ = 0;
};

/// What a PES header says.
struct PesHeader {
    std::uint8_t stream_id = 0;
    /// PES_packet_length: 0 means unbounded (video).
    std::uint16_t packet_length = 0;
    bool data_alignment = false;
    std::optional<std::uint64_t> pts; ///< 90 kHz, 33 bits.
    std::optional<std::uint64_t> dts;
    /// Bytes of the header; the payload starts there.
    std::size_t header_size = 0;
};

/// Parses the PES header at the start of `bytes` (which must hold the whole
/// header). Error (corrupt) naming the field when the start code prefix,
/// the marker bits or the header length are wrong.
PARALLAX_API Result<PesHeader> parse_pes_header(std::span<const std::uint8_t> bytes);

/// Appends a PES header for a payload of `payload_size` bytes. The
/// PES_packet_length is 0 (unbounded) when the packet would be longer than
/// 65535 bytes and `stream_id` is a video stream; otherwise an Error.
PARALLAX_API Result<void> write_pes_header(std::vector<std::uint8_t>& out, std::uint8_t stream_id,
                                           std::optional<std::uint64_t> pts, std::optional<std::uint64_t> dts,
                                           std::size_t payload_size, bool data_alignment = true);

/// Time conversions: nanoseconds to 90 kHz ticks (rounded down, wrapped to
/// 33 bits, after adding `offset_ticks`) and back.
PARALLAX_API std::uint64_t ns_to_pts(std::int64_t ns, std::uint64_t offset_ticks = 0) noexcept;
PARALLAX_API std::int64_t pts_to_ns(std::uint64_t ticks) noexcept;

/// Unwraps 33-bit timestamps into a continuous 64-bit tick count.
class PARALLAX_API TimestampUnwrapper {
public:
    /// The unwrapped value of `ticks`, taking the value closest to the last
    /// one (a jump of more than 2^32 ticks either way is taken as a wrap).
    std::int64_t unwrap(std::uint64_t ticks) noexcept;
    void reset() noexcept { last_.reset(); }

private:
    std::optional<std::int64_t> last_;
};

// --- Descriptors of the codecs -------------------------------------------

/// A registration descriptor (tag 0x05) with a four-character format
/// identifier, e.g. "Opus", "AV01", "KLVA".
PARALLAX_API Descriptor registration_descriptor(std::string_view format_identifier);
/// The format identifier of a registration descriptor, or nullopt.
PARALLAX_API std::optional<std::string> registration_of(const Descriptor& d);
/// The first registration identifier in `descriptors`, or "".
PARALLAX_API std::string find_registration(std::span<const Descriptor> descriptors);

/// Opus: the extension descriptor (tag 0x7F, extension tag 0x80) carrying
/// channel_config_code: 0 is dual mono, 1..8 the channel count with the
/// Vorbis order (mapping family 0 up to 2 channels, 1 above).
PARALLAX_API Descriptor opus_audio_descriptor(std::uint8_t channel_config_code);
/// The channel_config_code in an Opus audio descriptor, or nullopt when
/// `d` is not one. Codes this library cannot map (0x80 and up) are errors.
PARALLAX_API Result<std::optional<std::uint8_t>> opus_channel_config(const Descriptor& d);

/// The opus_control_header before each Opus packet in a PES: prefix 0x7FF
/// (11 bits), trim flags, au_size in 0xFF-continued bytes, and the trims
/// (samples at 48 kHz).
struct OpusControlHeader {
    std::size_t au_size = 0;
    std::uint16_t start_trim = 0;
    std::uint16_t end_trim = 0;
    /// Bytes of the header (the packet follows).
    std::size_t header_size = 0;
};
PARALLAX_API void write_opus_control_header(std::vector<std::uint8_t>& out, std::size_t au_size,
                                            std::uint16_t start_trim = 0, std::uint16_t end_trim = 0);
/// Error (corrupt) naming the field when the prefix is wrong or the header
/// runs past `bytes`.
PARALLAX_API Result<OpusControlHeader> parse_opus_control_header(std::span<const std::uint8_t> bytes);

/// AV1: the AV1 video descriptor built from the first four bytes of an av1C
/// record (the marker/version byte, profile/level, tier and colour bits, and
/// hdr_wcg_idc in the bits av1C reserves).
PARALLAX_API Result<Descriptor> av1_video_descriptor(std::span<const std::uint8_t> av1c, std::uint8_t hdr_wcg_idc = 0);
/// The four av1C bytes of an AV1 video descriptor (hdr_wcg_idc cleared).
PARALLAX_API Result<std::vector<std::uint8_t>> av1c_from_descriptor(const Descriptor& d);

/// AV1 temporal unit (low-overhead OBUs with sizes) to the start-code
/// format: each OBU prefixed by 0x000001, with emulation prevention.
PARALLAX_API Result<std::vector<std::uint8_t>> av1_to_start_code(std::span<const std::uint8_t> tu);
/// Back from the start-code format: OBUs without obu_size get one, so the
/// result is an ordinary low-overhead temporal unit. Error (corrupt) naming
/// the offset when no start code begins the data or an OBU header is bad.
PARALLAX_API Result<std::vector<std::uint8_t>> av1_from_start_code(std::span<const std::uint8_t> data);

/// KLV (MISB ST 1402, synchronous): the metadata_pointer_descriptor of the
/// program loop, and the metadata and metadata_std descriptors of the
/// stream, all for format identifier 'KLVA'.
PARALLAX_API Descriptor klv_metadata_pointer_descriptor(std::uint8_t service_id, std::uint16_t program_number);
PARALLAX_API Descriptor klv_metadata_descriptor(std::uint8_t service_id);
PARALLAX_API Descriptor klv_metadata_std_descriptor();
/// True when `d` is a metadata descriptor for KLV ('KLVA' format identifier).
PARALLAX_API bool is_klv_metadata_descriptor(const Descriptor& d) noexcept;

/// A metadata access unit cell: 5-byte header and the KLV bytes.
struct MetadataCell {
    std::uint8_t service_id = 0;
    std::uint8_t sequence_number = 0;
    /// 3: the cell holds a complete access unit; 1 first, 0 middle, 2 last fragment.
    std::uint8_t fragment = 3;
    bool random_access = true;
    std::span<const std::uint8_t> data;
};
PARALLAX_API void write_metadata_cell(std::vector<std::uint8_t>& out, std::uint8_t service_id,
                                      std::uint8_t sequence_number, std::span<const std::uint8_t> data);
/// The cells of a metadata PES payload. Error (corrupt) naming the offset
/// when a cell's length runs past the payload.
PARALLAX_API Result<std::vector<MetadataCell>> parse_metadata_cells(std::span<const std::uint8_t> payload);

/// Finds where transport packets start in `data`: the first offset at which
/// `confirm` consecutive packets (or as many as the data holds) begin with the
/// sync byte. Returns data.size() when there is none.
PARALLAX_API std::size_t find_sync(std::span<const std::uint8_t> data, std::size_t from = 0,
                                   unsigned confirm = 3) noexcept;

} // namespace parallax::mpegts
