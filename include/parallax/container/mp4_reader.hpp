#pragma once

/// \file
/// Reading ISO base media files (ISO/IEC 14496-12, "MP4"): box headers, the
/// moov of a movie (its tracks, their sample entries and sample tables
/// expanded to one entry per sample) and movie fragments (moof). The
/// sample entries understood are AV1 (`av01` + `av1C`), H.264 (`avc1` or
/// `avc3` + `avcC`, ISO/IEC 14496-15) and Opus (`Opus` + `dOps`); others are
/// reported as Codec::unknown with their four characters.
///
/// Every function reads bytes from outside: a malformed input is an Error
/// (Errc::corrupt) whose message names the box path and its byte offset in
/// the file, e.g. "moov/trak[1]/mdia/minf/stbl/stsz at byte 1234: sample
/// count 4000000000 exceeds the box". Nothing is read out of bounds and no
/// allocation grows beyond what the box bytes or max_samples allow.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/container/mp4.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::mp4 {

/// The most samples one track (or one fragment's run of a track) may
/// expand to: a table claiming more is an error rather than an allocation
/// of its claimed size.
inline constexpr std::uint32_t max_samples = std::uint32_t{1} << 22;

/// The header of a box.
struct BoxHeader {
    std::string type;              ///< Four characters.
    std::uint64_t offset = 0;      ///< Of the box's first byte in the file.
    std::uint32_t header_size = 8; ///< 8, or 16 with a 64-bit largesize.
    /// The whole box's size, header included; 0 when the box runs to the
    /// end of the file (size field 0).
    std::uint64_t size = 0;
};

/// Reads the box header at the start of `bytes`, which sit at file offset
/// `offset`. std::nullopt when `bytes` are too few to hold it (8 bytes, 16
/// with largesize); an error (naming `parent` and the offset) for a size
/// smaller than the header.
PARALLAX_API Result<std::optional<BoxHeader>> read_box_header(std::span<const std::uint8_t> bytes, std::uint64_t offset,
                                                              std::string_view parent = {});

enum class Codec { unknown, av1, h264, opus };

/// One sample of a track as read back; times in the track's timescale.
struct SampleRef {
    std::uint64_t offset = 0; ///< Of its bytes in the file.
    std::uint32_t size = 0;
    std::int64_t dts = 0;
    std::int64_t pts = 0; ///< dts plus the composition offset.
    std::uint32_t duration = 0;
    bool keyframe = true;
};

/// A track of a moov.
struct TrackInfo {
    std::uint32_t id = 0;
    std::string handler; ///< hdlr's handler type: "vide", "soun", ...
    std::uint32_t timescale = 0;
    std::uint64_t duration = 0; ///< mdhd's, in `timescale`.
    std::vector<Edit> edits;    ///< elst's entries (segment durations in the movie timescale).
    Codec codec = Codec::unknown;
    std::string format; ///< The sample entry's four characters.
    /// av1C or avcC record (the box payload); for Opus the OpusHead packet
    /// built from dOps.
    std::vector<std::uint8_t> config;
    std::uint16_t width = 0; ///< Visual sample entries.
    std::uint16_t height = 0;
    std::uint16_t channels = 0; ///< Audio sample entries.
    std::uint32_t rate = 0;
    /// Samples in decode order (empty in a fragmented file's moov).
    std::vector<SampleRef> samples;
    /// trex defaults for the fragments.
    std::uint32_t trex_description_index = 1;
    std::uint32_t trex_duration = 0;
    std::uint32_t trex_size = 0;
    std::uint32_t trex_flags = 0;
    /// Decode time where the next fragment's samples start when its traf
    /// has no tfdt; read_moof() moves it on.
    std::uint64_t next_decode_time = 0;
};

/// What a moov holds.
struct MovieInfo {
    std::uint32_t timescale = 0;
    std::uint64_t duration = 0;
    std::vector<TrackInfo> tracks;
    bool fragmented = false; ///< Has mvex: movie fragments follow.

    /// The track with `id`, or nullptr.
    [[nodiscard]] TrackInfo* track(std::uint32_t id) noexcept;
};

/// Reads a whole `moov` box (header included) found at file offset
/// `offset`. Tracks without an mdia or stbl are errors; a sample entry of
/// another codec gives Codec::unknown.
PARALLAX_API Result<MovieInfo> read_moov(std::span<const std::uint8_t> box, std::uint64_t offset);

/// One track's samples in a movie fragment.
struct FragmentRun {
    std::uint32_t track_id = 0;
    std::vector<SampleRef> samples; ///< Decode order; offsets in the file.
};

/// What a moof holds.
struct FragmentInfo {
    std::uint32_t sequence = 0;
    std::vector<FragmentRun> runs; ///< One per traf, in file order.
};

/// Reads a whole `moof` box (header included) found at file offset
/// `offset`, with the defaults of `movie`'s trex boxes; moves each track's
/// next_decode_time past its samples. A traf of a track the moov does not
/// have is an error.
PARALLAX_API Result<FragmentInfo> read_moof(std::span<const std::uint8_t> box, std::uint64_t offset, MovieInfo& movie);

/// Whether `sample_flags` (ISO/IEC 14496-12 8.8.3.1) mark a sync sample:
/// sample_is_non_sync_sample clear and not depending on others.
PARALLAX_API bool is_sync_sample(std::uint32_t sample_flags) noexcept;

} // namespace parallax::mp4
