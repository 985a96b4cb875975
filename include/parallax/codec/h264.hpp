#pragma once

/// \file
/// H.264 bitstream (ITU-T H.264): NAL units of the Annex B byte stream and
/// of the length-prefixed form of ISO/IEC 14496-15, emulation prevention,
/// the exp-Golomb bit reader, the sequence and picture parameter sets, the
/// slice header fields that tell pictures apart, access unit boundaries
/// (7.4.1.2.3, 7.4.1.2.4), the
/// `avcC` configuration record, and the caps GStreamer gives an H.264 stream.
///
/// Every function reads bytes from outside: a malformed input is an Error
/// (Errc::corrupt, or Errc::unsupported for a valid but unhandled feature)
/// whose message names the byte offset and the field, never a read out of
/// bounds.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/caps/caps.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::h264 {

/// nal_unit_type values (Table 7-1) this library names. Others are kept as
/// they are, so that a caller can pass them on.
enum class NalType : std::uint8_t {
    unspecified = 0,
    slice = 1,
    slice_data_a = 2,
    slice_data_b = 3,
    slice_data_c = 4,
    slice_idr = 5,
    sei = 6,
    sps = 7,
    pps = 8,
    aud = 9,
    end_of_sequence = 10,
    end_of_stream = 11,
    filler = 12,
    sps_extension = 13,
    prefix = 14,
    subset_sps = 15,
    slice_auxiliary = 19,
    slice_extension = 20,
};

/// True for the NAL unit types of a primary coded picture's slices (1 to 5).
[[nodiscard]] constexpr bool is_vcl(NalType t) noexcept {
    return static_cast<std::uint8_t>(t) >= 1 && static_cast<std::uint8_t>(t) <= 5;
}

/// One NAL unit, as spans into the input it was read from.
/// **Ownership:** borrows the input; valid while the input is.
struct Nal {
    NalType type = NalType::unspecified;
    std::uint8_t ref_idc = 0;            ///< nal_ref_idc.
    std::span<const std::uint8_t> bytes; ///< Header byte and payload, escaped, without start code or length.
    std::size_t offset = 0;              ///< Of `bytes` in the input.
};

/// Reads the one-byte NAL header of `bytes` (a whole NAL unit found at
/// `offset` of some input, used in messages). An empty unit or a set
/// forbidden_zero_bit is an error.
PARALLAX_API Result<Nal> parse_nal(std::span<const std::uint8_t> bytes, std::size_t offset);

/// A start code prefix (0x000001, or 0x00000001 when a zero byte comes
/// before it) found in an Annex B stream.
struct StartCode {
    std::size_t offset = 0; ///< Of its first byte (the zero_byte when 4 long).
    std::size_t length = 3; ///< 3 or 4.
};

/// The first start code at or after `from`, or nullopt.
PARALLAX_API std::optional<StartCode> find_start_code(std::span<const std::uint8_t> data, std::size_t from) noexcept;

/// Every NAL unit of the Annex B byte stream `data`, in order. Zero bytes
/// before the first start code and after each NAL unit (trailing_zero_8bits)
/// are skipped; other bytes before the first start code are an error.
PARALLAX_API Result<std::vector<Nal>> split_annex_b(std::span<const std::uint8_t> data);

/// Every NAL unit of a length-prefixed access unit (`length_size` = 1, 2 or
/// 4 bytes, big-endian, before each unit).
PARALLAX_API Result<std::vector<Nal>> split_length_prefixed(std::span<const std::uint8_t> data,
                                                            unsigned length_size = 4);

/// The RBSP of a NAL unit's payload: each 0x000003 loses its 0x03.
PARALLAX_API std::vector<std::uint8_t> remove_emulation_prevention(std::span<const std::uint8_t> payload);

/// The opposite: a 0x03 goes after every two zero bytes followed by a byte
/// of 0 to 3 (and after two zero bytes at the end).
PARALLAX_API std::vector<std::uint8_t> add_emulation_prevention(std::span<const std::uint8_t> rbsp);

/// A reader of RBSP bits (7.2): u(n), ue(v), se(v). It never reads past its
/// data; the first field that does not fit is remembered (its value reads as
/// 0), so a parser reads straight through and checks overrun() once.
class PARALLAX_API BitReader {
public:
    explicit BitReader(std::span<const std::uint8_t> rbsp) noexcept : data_(rbsp) {}

    /// u(n), n <= 32.
    std::uint32_t u(unsigned n, std::string_view field) noexcept;
    bool flag(std::string_view field) noexcept { return u(1, field) != 0; }
    /// ue(v) (9.1), at most 2^32 - 2; a longer code is an overrun at `field`.
    std::uint32_t ue(std::string_view field) noexcept;
    /// ue(v) that must be at most `max`; a larger value marks `field` as
    /// invalid (see invalid()).
    std::uint32_t ue(std::string_view field, std::uint32_t max) noexcept {
        const std::uint32_t v = ue(field);
        if (v > max) {
            invalid(field);
        }
        return v;
    }
    /// se(v) (9.1.1).
    std::int32_t se(std::string_view field) noexcept;
    /// Skips n bits.
    void skip(std::size_t n, std::string_view field) noexcept;

    /// Marks `field` as bad (a value out of its range) unless an earlier
    /// field already was.
    void invalid(std::string_view field) noexcept;

    [[nodiscard]] bool overrun() const noexcept { return !bad_field_.empty(); }
    [[nodiscard]] std::string_view bad_field() const noexcept { return bad_field_; }
    /// Byte of the RBSP where the bad field starts.
    [[nodiscard]] std::size_t bad_byte() const noexcept { return bad_at_ >> 3; }
    /// Bits read so far.
    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    /// True when RBSP data follows (more_rbsp_data(), 7.2).
    [[nodiscard]] bool more_rbsp_data() const noexcept;

private:
    void mark(std::string_view field) noexcept;

    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
    std::string_view bad_field_;
    std::size_t bad_at_ = 0;
};

/// What a sequence parameter set says (7.3.2.1.1, E.1.1).
struct Sps {
    std::uint8_t profile_idc = 0;
    std::uint8_t constraint_flags = 0; ///< constraint_set0_flag in bit 7 ... constraint_set5_flag in bit 2.
    std::uint8_t level_idc = 0;
    std::uint32_t sps_id = 0;
    std::uint8_t chroma_format_idc = 1; ///< 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    bool separate_colour_plane = false;
    std::uint8_t bit_depth_luma = 8;
    std::uint8_t bit_depth_chroma = 8;
    bool scaling_matrix_present = false;
    std::uint8_t log2_max_frame_num = 4;
    std::uint8_t pic_order_cnt_type = 0;
    std::uint8_t log2_max_pic_order_cnt_lsb = 4; ///< pic_order_cnt_type 0.
    bool delta_pic_order_always_zero = false;    ///< pic_order_cnt_type 1.
    std::uint32_t max_num_ref_frames = 0;
    bool frame_mbs_only = true;
    std::uint32_t width_in_mbs = 0;
    std::uint32_t height_in_map_units = 0; ///< Map units: macroblocks, or pairs when !frame_mbs_only.
    std::uint32_t crop_left = 0;           ///< frame_crop_*_offset, in the units of 7-19 to 7-22.
    std::uint32_t crop_right = 0;
    std::uint32_t crop_top = 0;
    std::uint32_t crop_bottom = 0;
    std::uint32_t width = 0;  ///< Luma samples after cropping.
    std::uint32_t height = 0; ///< Luma samples after cropping.
    bool vui_present = false;
    std::uint16_t sar_width = 0; ///< 0 when unknown.
    std::uint16_t sar_height = 0;
    bool video_full_range = false;
    bool colour_description_present = false;
    std::uint8_t colour_primaries = 2; ///< 2: unspecified.
    std::uint8_t transfer_characteristics = 2;
    std::uint8_t matrix_coefficients = 2;
    bool timing_info_present = false;
    std::uint32_t num_units_in_tick = 0;
    std::uint32_t time_scale = 0;
    bool fixed_frame_rate = false;

    [[nodiscard]] bool constraint_set(unsigned i) const noexcept {
        return i < 6 && (constraint_flags & (0x80U >> i)) != 0;
    }
    /// The frame rate VUI timing gives (time_scale / 2 num_units_in_tick),
    /// nullopt without timing info or when it does not fit a Fraction.
    [[nodiscard]] PARALLAX_API std::optional<Fraction> framerate() const;

    friend bool operator==(const Sps&, const Sps&) = default;
};

/// Parses a whole SPS NAL unit (header byte included, escaped).
PARALLAX_API Result<Sps> parse_sps(std::span<const std::uint8_t> nal);

/// What a picture parameter set says (7.3.2.2) up to
/// redundant_pic_cnt_present_flag; the fields after it (8x8 transform,
/// scaling matrix) are not read.
struct Pps {
    std::uint32_t pps_id = 0;
    std::uint32_t sps_id = 0;
    bool entropy_coding_mode = false; ///< CABAC.
    bool bottom_field_pic_order_in_frame_present = false;
    std::uint8_t num_slice_groups = 1;
    std::uint8_t slice_group_map_type = 0; ///< 0..6, when num_slice_groups > 1.
    std::uint8_t num_ref_idx_l0_default_active = 1;
    std::uint8_t num_ref_idx_l1_default_active = 1;
    bool weighted_pred = false;
    std::uint8_t weighted_bipred_idc = 0;
    std::int8_t pic_init_qp_minus26 = 0;
    std::int8_t pic_init_qs_minus26 = 0;
    std::int8_t chroma_qp_index_offset = 0;
    bool deblocking_filter_control_present = false;
    bool constrained_intra_pred = false;
    bool redundant_pic_cnt_present = false;

    friend bool operator==(const Pps&, const Pps&) = default;
};

/// Parses a whole PPS NAL unit (header byte included, escaped), slice group
/// maps of every type included.
PARALLAX_API Result<Pps> parse_pps(std::span<const std::uint8_t> nal);

/// The first fields of a slice header (7.3.3).
struct SliceHeaderStart {
    std::uint32_t first_mb_in_slice = 0;
    std::uint32_t slice_type = 0; ///< 0..9; % 5: 0 P, 1 B, 2 I, 3 SP, 4 SI.
    std::uint32_t pps_id = 0;
};

/// Parses the start of the slice header of a whole slice NAL unit (types 1
/// and 5; 2 is read the same way).
PARALLAX_API Result<SliceHeaderStart> parse_slice_header_start(std::span<const std::uint8_t> nal);

/// The fields of a slice header (7.3.3) up to redundant_pic_cnt: those that
/// tell the slices of one primary coded picture from the next (7.4.1.2.4).
/// A field the parameter sets leave out holds the value 7.4.3 infers (0).
struct SliceHeader {
    std::uint32_t first_mb_in_slice = 0;
    std::uint32_t slice_type = 0;
    std::uint32_t pps_id = 0;
    std::uint8_t nal_ref_idc = 0;
    bool idr = false; ///< IdrPicFlag: nal_unit_type 5.
    std::uint8_t colour_plane_id = 0;
    std::uint32_t frame_num = 0;
    bool field_pic = false;
    bool bottom_field = false;
    std::uint32_t idr_pic_id = 0;
    std::uint32_t pic_order_cnt_lsb = 0;
    std::int32_t delta_pic_order_cnt_bottom = 0;
    std::array<std::int32_t, 2> delta_pic_order_cnt{};
    std::uint32_t redundant_pic_cnt = 0;

    friend bool operator==(const SliceHeader&, const SliceHeader&) = default;
};

/// Parses the slice header of a whole slice NAL unit (types 1, 2 and 5)
/// with the PPS it names and that PPS's SPS; a PPS with another id is an
/// Errc::invalid_argument error.
PARALLAX_API Result<SliceHeader> parse_slice_header(std::span<const std::uint8_t> nal, const Sps& sps, const Pps& pps);

/// True when a primary slice with header `next` begins another primary
/// coded picture than the one of the primary slice `previous` (7.4.1.2.4:
/// frame_num, PPS, field and bottom field flags, reference or not, picture
/// order count fields, IDR or not, idr_pic_id).
PARALLAX_API bool first_of_new_picture(const SliceHeader& previous, const SliceHeader& next) noexcept;

/// Finds where access units begin (7.4.1.2.3): NAL units go in in stream
/// order; a true answer means the access unit gathered so far is complete
/// and `nal` belongs to the next one.
///
/// After a primary picture's slice, an access unit delimiter, SPS, PPS, SEI
/// or NAL unit of types 14 to 18 begins the next access unit, and so does
/// the first slice of a new primary picture, found as 7.4.1.2.4 says by
/// comparing its slice header with the previous one's. For that the
/// splitter keeps the SPS and PPS it is given, by id. Slices in arbitrary
/// order (Baseline) stay together, a picture whose first slices were lost
/// is still told from the one before, and redundant slices
/// (redundant_pic_cnt > 0) join their primary picture. A second slice of
/// one colour plane that starts at macroblock 0 begins a new picture too,
/// for streams that break 7.4.1.2.4 by repeating every compared field.
///
/// A slice whose PPS or SPS has not been seen (or did not parse) is
/// compared by its first fields only: it begins a picture with
/// first_mb_in_slice 0, another PPS, a change between IDR and non-IDR or of
/// whether the picture is a reference.
class PARALLAX_API AccessUnitSplitter {
public:
    /// Errors name the NAL unit's offset when its slice header is unreadable.
    /// An SPS or PPS is also kept for the slices after it; one that does not
    /// parse is left out (no error: its slices are compared by their first
    /// fields).
    Result<bool> starts_access_unit(const Nal& nal);
    /// Keeps an SPS or PPS (a whole NAL unit, header byte included) that
    /// does not travel in the stream, as the avcC record of codec_data,
    /// without touching the access unit being gathered. Other NAL units and
    /// parameter sets that do not parse are ignored.
    void add_parameter_set(std::span<const std::uint8_t> nal);
    /// True once the access unit gathered so far holds a slice.
    [[nodiscard]] bool has_picture() const noexcept { return have_vcl_; }
    /// Forgets the access unit being gathered; the parameter sets stay.
    void reset() noexcept;

private:
    // What the last primary slice said; `header` is empty when its
    // parameter sets were unknown.
    struct LastSlice {
        SliceHeaderStart start;
        NalType type = NalType::unspecified;
        std::uint8_t ref_idc = 0;
        std::optional<SliceHeader> header;
    };

    bool have_vcl_ = false;
    LastSlice last_;
    std::uint8_t planes_from_mb0_ = 0;    // bit per colour_plane_id of a slice at macroblock 0 in this picture
    std::vector<std::optional<Sps>> sps_; // by id; sized when the first one comes
    std::vector<std::optional<Pps>> pps_;
};

/// True when the access unit's NAL units hold an IDR slice.
PARALLAX_API bool is_idr(std::span<const Nal> nals) noexcept;

/// The AVCDecoderConfigurationRecord (ISO/IEC 14496-15, 5.3.3.1).
struct AvcConfig {
    std::uint8_t profile_idc = 0;
    std::uint8_t profile_compatibility = 0;
    std::uint8_t level_idc = 0;
    std::uint8_t length_size = 4;               ///< lengthSizeMinusOne + 1: 1, 2 or 4.
    std::vector<std::vector<std::uint8_t>> sps; ///< Whole NAL units.
    std::vector<std::vector<std::uint8_t>> pps;
    bool has_extension = false; ///< High profiles: chroma format and bit depths follow.
    std::uint8_t chroma_format_idc = 1;
    std::uint8_t bit_depth_luma = 8;
    std::uint8_t bit_depth_chroma = 8;

    friend bool operator==(const AvcConfig&, const AvcConfig&) = default;
};

/// The avcC record of these parameter sets: profile, compatibility and level
/// come from the first SPS, which must parse; the extension fields are
/// written for the High profiles (100, 110, 122, 144) and beyond.
PARALLAX_API Result<std::vector<std::uint8_t>> make_avcc(std::span<const std::vector<std::uint8_t>> sps,
                                                         std::span<const std::vector<std::uint8_t>> pps,
                                                         std::uint8_t length_size = 4);

/// Reads an avcC record: version, sizes of every parameter set, and the
/// NAL type of each. The trailing extension is read when present.
PARALLAX_API Result<AvcConfig> parse_avcc(std::span<const std::uint8_t> avcc);

/// An access unit in Annex B form (4-byte start codes) made from a
/// length-prefixed one.
PARALLAX_API Result<std::vector<std::uint8_t>> to_annex_b(std::span<const std::uint8_t> au, unsigned length_size = 4);

/// An access unit in length-prefixed form (4-byte big-endian lengths) made
/// from an Annex B one.
PARALLAX_API Result<std::vector<std::uint8_t>> to_length_prefixed(std::span<const std::uint8_t> au);

/// GStreamer's profile name ("constrained-baseline", "high-4:2:2"...), empty
/// for a profile_idc it has no name for.
PARALLAX_API std::string_view profile_name(const Sps& sps) noexcept;

/// GStreamer's level name: "1b", "3", "3.1"...; empty for an unknown level.
PARALLAX_API std::string level_name(const Sps& sps);

/// Caps as GStreamer's h264parse gives them: video/x-h264, the given
/// stream-format and alignment, width, height, framerate (VUI timing),
/// pixel-aspect-ratio (VUI), colorimetry (VUI), profile, level,
/// chroma-format, bit-depth-luma, bit-depth-chroma, parsed=true, and
/// codec_data = `avcc` when it is not empty.
PARALLAX_API Caps caps_for(const Sps& sps, std::string_view stream_format, std::string_view alignment,
                           std::span<const std::uint8_t> avcc = {});

} // namespace parallax::h264
