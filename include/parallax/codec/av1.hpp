#pragma once

/// \file
/// AV1 bitstream: OBUs of the low-overhead format (AV1 specification,
/// section 5), the sequence header, the start of the frame header, the
/// `av1C` configuration record of the ISOBMFF binding, and the caps
/// GStreamer gives an AV1 stream.
///
/// Every function reads bytes from outside: a malformed input is an Error
/// (Errc::corrupt, or Errc::unsupported for a valid but unhandled feature)
/// whose message names the byte offset and the field, never a read out of
/// bounds.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/caps/caps.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parallax::av1 {

/// obu_type values (section 6.2.2). Values not listed are reserved; read_obu
/// returns them as they are so that a caller can skip them.
enum class ObuType : std::uint8_t {
    sequence_header = 1,
    temporal_delimiter = 2,
    frame_header = 3,
    tile_group = 4,
    metadata = 5,
    frame = 6,
    redundant_frame_header = 7,
    tile_list = 8,
    padding = 15,
};

/// One OBU, as spans into the input it was read from.
/// **Ownership:** borrows the input; valid while the input is.
struct Obu {
    ObuType type = ObuType::padding;
    std::uint8_t temporal_id = 0;
    std::uint8_t spatial_id = 0;
    bool has_extension = false;
    std::span<const std::uint8_t> payload; ///< obu_size bytes after the header.
    std::span<const std::uint8_t> bytes;   ///< The whole OBU, header included.
    std::size_t offset = 0;                ///< Of `bytes` in the input.
};

/// Reads an unsigned LEB128 value (section 4.10.5) at `offset`: at most 8
/// bytes, value below 2^32. On success `length` is the number of bytes read.
PARALLAX_API Result<std::uint32_t> read_leb128(std::span<const std::uint8_t> data, std::size_t offset,
                                               std::size_t& length);
/// Appends the shortest LEB128 form of `value`.
PARALLAX_API void write_leb128(std::uint32_t value, std::vector<std::uint8_t>& out);

/// Reads the OBU at `offset` of a low-overhead stream. obu_has_size_field
/// must be 1, except that an OBU without it runs to the end of `data` (the
/// last OBU of a buffer). Errors name the offset and what is wrong
/// (forbidden bit, truncated header or size, size beyond the data).
PARALLAX_API Result<Obu> read_obu(std::span<const std::uint8_t> data, std::size_t offset);

/// Every OBU of `data`, in order, or the first error.
PARALLAX_API Result<std::vector<Obu>> split_obus(std::span<const std::uint8_t> data);

/// What a sequence header OBU says (section 5.5), for operating point 0.
struct SequenceHeader {
    std::uint8_t profile = 0; ///< seq_profile: 0 main, 1 high, 2 professional.
    bool still_picture = false;
    bool reduced_still_picture_header = false;
    std::uint8_t level = 0; ///< seq_level_idx[0].
    std::uint8_t tier = 0;  ///< seq_tier[0].
    std::uint32_t max_width = 0;
    std::uint32_t max_height = 0;
    std::uint8_t bit_depth = 8;
    bool monochrome = false;
    std::uint8_t subsampling_x = 1;
    std::uint8_t subsampling_y = 1;
    std::uint8_t chroma_sample_position = 0;
    bool color_description_present = false;
    std::uint8_t color_primaries = 2;          ///< 2: unspecified.
    std::uint8_t transfer_characteristics = 2; ///< 2: unspecified.
    std::uint8_t matrix_coefficients = 2;      ///< 2: unspecified.
    bool full_range = false;
    bool timing_info_present = false;
    std::uint32_t num_units_in_display_tick = 0;
    std::uint32_t time_scale = 0;
    bool equal_picture_interval = false;
    std::uint32_t num_ticks_per_picture = 0; ///< When equal_picture_interval (num_ticks_per_picture_minus_1 + 1).
    bool decoder_model_info_present = false;
    std::uint8_t frame_presentation_time_length = 0; ///< In bits, when decoder_model_info_present.
    bool initial_display_delay_present = false;
    std::uint8_t initial_display_delay = 0; ///< initial_display_delay_minus_1[0] + 1, 0 when absent.
    std::uint8_t operating_points = 1;      ///< operating_points_cnt_minus_1 + 1.
    std::uint16_t operating_point_idc = 0;  ///< operating_point_idc[0].
    bool frame_id_numbers_present = false;
    std::uint8_t delta_frame_id_length = 0;      ///< delta_frame_id_length_minus_2 + 2.
    std::uint8_t additional_frame_id_length = 0; ///< additional_frame_id_length_minus_1 + 1.
    bool film_grain_params_present = false;

    friend bool operator==(const SequenceHeader&, const SequenceHeader&) = default;
};

/// Parses the payload of a sequence header OBU.
PARALLAX_API Result<SequenceHeader> parse_sequence_header(std::span<const std::uint8_t> payload);

/// The AV1CodecConfigurationRecord (`av1C`, AV1 ISOBMFF binding section
/// 2.3.3): four bytes from `seq`, then `sequence_header_obu` (a whole OBU,
/// header included) as configOBUs.
PARALLAX_API std::vector<std::uint8_t> make_av1c(const SequenceHeader& seq,
                                                 std::span<const std::uint8_t> sequence_header_obu);

/// Reads an `av1C` record: checks marker and version, parses the sequence
/// header OBU of its configOBUs and checks that the four leading bytes agree
/// with it. Without configOBUs the result holds only what the four bytes say
/// (max_width and max_height are then 0).
PARALLAX_API Result<SequenceHeader> parse_av1c(std::span<const std::uint8_t> av1c);

/// The start of a frame header (uncompressed_header, section 5.9.2): what
/// decides whether a temporal unit is a random access point.
struct FrameHeaderStart {
    bool show_existing_frame = false;
    std::uint8_t frame_type = 0; ///< 0 key, 1 inter, 2 intra-only, 3 switch (unknown when show_existing_frame).
    bool show_frame = false;
};

/// Parses the start of the frame header in the payload of a frame header
/// or frame OBU.
PARALLAX_API Result<FrameHeaderStart> parse_frame_header_start(std::span<const std::uint8_t> payload,
                                                               const SequenceHeader& seq);

/// True when the temporal unit `tu` (a low-overhead OBU stream) holds a key
/// frame shown at once (a random access point): its first frame header says
/// show_existing_frame 0, frame_type KEY_FRAME, show_frame 1. A temporal unit
/// without a frame header is not one.
PARALLAX_API Result<bool> is_key_temporal_unit(std::span<const std::uint8_t> tu, const SequenceHeader& seq);

/// Caps as GStreamer's av1parse gives them: video/x-av1, stream-format
/// obu-stream, alignment tu, width, height, profile, chroma-format,
/// bit-depth-luma, bit-depth-chroma, colorimetry (when the header describes
/// the colour), parsed=true, codec_data = `av1c` (left out when empty).
/// The caller adds framerate when it knows it.
PARALLAX_API Caps caps_for(const SequenceHeader& seq, std::span<const std::uint8_t> av1c);

} // namespace parallax::av1
