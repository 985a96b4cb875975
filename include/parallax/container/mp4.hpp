#pragma once

/// \file
/// ISO base media file format (ISO/IEC 14496-12, "MP4") boxes, written into
/// bytes in memory: a box writer, and builders for the boxes a muxer needs
/// (ftyp, moov with its sample tables, mvex, moof, the mdat header) and the
/// sample entries of AV1 (`av01` + `av1C`, AV1 ISOBMFF binding), H.264
/// (`avc1` + `avcC`, ISO/IEC 14496-15) and Opus (`Opus` + `dOps`, "Encapsulation
/// of Opus in ISO Base Media File Format"). Box integers are big-endian.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/codec/opus.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace parallax::mp4 {

/// Writes boxes into a byte vector. begin() opens a box (its size is filled
/// in by end()); boxes nest. A box that ends up larger than 4 GiB - 1 gets
/// the 64-bit `largesize` form.
class PARALLAX_API BoxWriter {
public:
    /// Opens box `type` (four characters); returns the handle end() takes.
    std::size_t begin(std::string_view type);
    /// Opens a full box: type, then version and 24-bit flags.
    std::size_t begin_full(std::string_view type, std::uint8_t version, std::uint32_t flags);
    /// Closes the box opened at `handle`, writing its size.
    void end(std::size_t handle);

    void u8(std::uint8_t v) { bytes_.push_back(v); }
    void u16(std::uint16_t v);
    void u24(std::uint32_t v);
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void fourcc(std::string_view type);
    void bytes(std::span<const std::uint8_t> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
    void zeros(std::size_t n) { bytes_.insert(bytes_.end(), n, 0); }

    [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
    [[nodiscard]] const std::vector<std::uint8_t>& data() const noexcept { return bytes_; }
    /// The bytes written; the writer is empty afterwards.
    std::vector<std::uint8_t> take() { return std::move(bytes_); }

private:
    std::vector<std::uint8_t> bytes_;
};

/// The header of an `mdat` holding `payload` bytes: 8 bytes, or 16 (size 1
/// and a 64-bit largesize) when the box would not fit a 32-bit size.
PARALLAX_API std::vector<std::uint8_t> mdat_header(std::uint64_t payload);

/// `ftyp` with major brand `major`, minor version 0 and `compatible` brands.
PARALLAX_API std::vector<std::uint8_t> make_ftyp(std::string_view major, std::span<const std::string_view> compatible);

/// The `dOps` box (OpusSpecificBox) of OpusHead `h`: version 0, output
/// channel count, pre-skip, input sample rate, output gain, mapping family
/// and, for a family other than 0, stream count, coupled count and the
/// channel mapping. Big-endian, where OpusHead is little-endian.
PARALLAX_API std::vector<std::uint8_t> make_dops(const opus::Header& h);
/// make_dops() of an OpusHead packet; its errors (Errc::corrupt) name the field.
PARALLAX_API Result<std::vector<std::uint8_t>> make_dops(std::span<const std::uint8_t> opus_head);

/// A VisualSampleEntry `format` ("av01", "avc1") of `width` x `height`
/// whose configuration box `config_type` ("av1C", "avcC") holds `config`
/// as given (the av1C or avcC record from the caps' codec_data).
PARALLAX_API std::vector<std::uint8_t> make_visual_entry(std::string_view format, std::uint16_t width,
                                                         std::uint16_t height, std::string_view config_type,
                                                         std::span<const std::uint8_t> config);

/// The `Opus` AudioSampleEntry of `h`: channel count, 16 bits, 48000 Hz,
/// then its dOps box.
PARALLAX_API std::vector<std::uint8_t> make_opus_entry(const opus::Header& h);

/// One sample of a track, in the track's timescale.
struct Sample {
    /// Offset of the sample's bytes in the file (moov) or from the start of
    /// its moof (fragments: filled by make_moof()).
    std::uint64_t offset = 0;
    std::uint32_t size = 0;
    std::uint32_t duration = 0;
    /// Presentation minus decode time.
    std::int32_t composition_offset = 0;
    bool sync = true;
};

enum class TrackKind { video, audio };

/// An edit list entry (`elst`): `segment_duration` in the movie timescale;
/// `media_time` in the track's, -1 for an empty edit (nothing shown).
struct Edit {
    std::uint64_t segment_duration = 0;
    std::int64_t media_time = 0;
};

/// A track of a movie.
struct Track {
    std::uint32_t id = 1;
    TrackKind kind = TrackKind::video;
    std::uint32_t timescale = 90000;
    /// The complete sample entry box (make_visual_entry(), make_opus_entry()).
    std::vector<std::uint8_t> sample_entry;
    std::uint16_t width = 0; ///< Video only.
    std::uint16_t height = 0;
    /// Samples in decode order; empty in the moov of a fragmented file.
    /// Consecutive samples whose bytes follow each other form one chunk.
    std::vector<Sample> samples;
    /// The edit list; no edts box when empty.
    std::vector<Edit> edits;
};

/// What a moov describes.
struct Movie {
    std::uint32_t timescale = 1000;
    std::vector<Track> tracks;
    /// Adds mvex (mehd, then one trex per track) so that movie fragments
    /// follow.
    bool fragmented = false;
    /// Fragmented only: the duration of the whole movie, fragments
    /// included, in `timescale` (mehd's fragment_duration); 0 while unknown.
    /// mehd is always 64-bit, so that a moov written again at the end with
    /// the duration has the size of the first.
    std::uint64_t fragment_duration = 0;
};

/// The duration of `t` in its timescale: the sum of its sample durations.
PARALLAX_API std::uint64_t media_duration(const Track& t) noexcept;

/// The duration of `t` in `movie_timescale`: its edits' total when it has
/// edits, else its media duration converted.
PARALLAX_API std::uint64_t track_duration(const Track& t, std::uint32_t movie_timescale) noexcept;

/// The `moov` box of `m`: mvhd, then per track trak (tkhd, edts/elst, mdia
/// with mdhd, hdlr, minf: vmhd or smhd, dinf/dref, stbl: stsd, stts, ctts
/// when a composition offset is not 0, stss when a sample is not a sync
/// sample, stsc, stsz, stco or co64 when an offset needs 64 bits), then mvex
/// (mehd, trex per track) when fragmented. Its size depends on the samples,
/// the edits' count and on whether a duration, an edit or an offset needs 64
/// bits, not on the values otherwise.
PARALLAX_API std::vector<std::uint8_t> make_moov(const Movie& m);

/// One track's run of a movie fragment.
struct FragmentTrack {
    std::uint32_t track_id = 1;
    /// Decode time of the first sample, in the track's timescale (tfdt).
    std::uint64_t base_decode_time = 0;
    std::vector<Sample> samples; ///< offset is ignored
};

/// A `moof` (mfhd with `sequence`, one traf per track: tfhd with
/// default-base-is-moof, tfdt, trun with sizes, durations, flags and
/// composition offsets) for an mdat that follows it at once and holds the
/// tracks' samples one track after the other, in `tracks` order.
PARALLAX_API std::vector<std::uint8_t> make_moof(std::uint32_t sequence, const std::vector<FragmentTrack>& tracks);

/// `sample_flags` of a fragment sample (ISO/IEC 14496-12 8.8.3.1): a sync
/// sample depends on no other; any other depends on others and is a
/// non-sync sample.
PARALLAX_API std::uint32_t sample_flags(bool sync) noexcept;

} // namespace parallax::mp4
