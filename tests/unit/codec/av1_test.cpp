// AV1 bitstream: leb128, OBU headers (with and without extension and size
// field), the sequence header of a real aomenc stream and of hand-built
// ones, av1C field by field, key temporal units, caps, and every error.

#include <parallax/caps/caps.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/video/video_colorimetry.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace parallax {
namespace {

using Bytes8 = std::vector<std::uint8_t>;

// Three 64x64 frames from `aomenc --limit=3 --cpu-used=8 --ivf`, in IVF.
constexpr std::uint8_t aomenc_ivf[] = {
    0x44, 0x4b, 0x49, 0x46, 0x00, 0x00, 0x20, 0x00, 0x41, 0x56, 0x30, 0x31, 0x40, 0x00, 0x40, 0x00, 0x19, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x00, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x02, 0xaf, 0xff, 0x9b, 0x5f, 0x20,
    0x08, 0x32, 0x56, 0x10, 0x00, 0x82, 0x00, 0x00, 0x02, 0x0b, 0x80, 0x00, 0xb5, 0x1e, 0x94, 0x32, 0x9b, 0xd5, 0x7c,
    0x77, 0x40, 0x9c, 0xa2, 0x04, 0xf1, 0x49, 0xd8, 0xf6, 0x29, 0x7c, 0xb8, 0xd2, 0x1d, 0x58, 0x54, 0x1d, 0x6e, 0x00,
    0xed, 0x12, 0xa0, 0x58, 0x69, 0xab, 0x5b, 0x0d, 0x76, 0x53, 0x3b, 0xcd, 0xef, 0x3f, 0xe4, 0x0f, 0x1a, 0xd6, 0x3d,
    0x3e, 0xe1, 0xca, 0x87, 0xce, 0xbf, 0x72, 0x9f, 0x79, 0x08, 0x03, 0xc2, 0x2e, 0xe4, 0x03, 0x57, 0xca, 0xfb, 0xbf,
    0x6f, 0x8a, 0x51, 0x12, 0xba, 0x5f, 0x2f, 0x4d, 0xca, 0x66, 0xbe, 0xdb, 0x04, 0x2f, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x00, 0x32, 0x2b, 0x30, 0x03, 0xc0, 0x80, 0x00, 0x00, 0x46, 0x88, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x20, 0x00, 0xb7, 0x2f, 0x3c, 0xaf, 0x91, 0x99, 0x2d, 0x79, 0xd8, 0x72, 0x87, 0x49, 0x85,
    0xba, 0x26, 0xb9, 0x94, 0x02, 0xfa, 0xf5, 0xa5, 0x98, 0x7b, 0x49, 0x38, 0xe6, 0xce, 0x20, 0x28, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x00, 0x32, 0x24, 0x30, 0x05, 0xc1, 0x04, 0x00, 0x00, 0x46,
    0x89, 0x00, 0x00, 0x02, 0x00, 0x00, 0x20, 0x00, 0xb9, 0xc7, 0xc9, 0xe6, 0x69, 0xef, 0x41, 0x71, 0x83, 0x42, 0xac,
    0x5e, 0x6f, 0x64, 0x66, 0xd0, 0x90, 0x9a, 0x5d, 0x7a, 0x80,
};

// The frame data of IVF frame `index` of aomenc_ivf.
std::span<const std::uint8_t> aomenc_frame(std::size_t index) {
    std::size_t pos = 32;
    const std::span<const std::uint8_t> all(aomenc_ivf);
    while (true) {
        const std::size_t size = std::size_t{all[pos]} | (std::size_t{all[pos + 1]} << 8) |
                                 (std::size_t{all[pos + 2]} << 16) | (std::size_t{all[pos + 3]} << 24);
        if (index == 0) {
            return all.subspan(pos + 12, size);
        }
        pos += 12 + size;
        --index;
    }
}

// The sequence header OBU of that stream (header, size, payload).
const Bytes8 aomenc_sequence_obu = {0x0a, 0x0a, 0x00, 0x00, 0x00, 0x02, 0xaf, 0xff, 0x9b, 0x5f, 0x20, 0x08};

// Writes fields most significant bit first, as the specification reads them.
class BitWriter {
public:
    BitWriter& put(std::uint32_t value, unsigned bits) {
        for (unsigned i = bits; i-- > 0;) {
            if (used_ % 8 == 0) {
                bytes_.push_back(0);
            }
            if (((value >> i) & 1U) != 0) {
                bytes_.back() = static_cast<std::uint8_t>(bytes_.back() | (0x80U >> (used_ % 8)));
            }
            ++used_;
        }
        return *this;
    }
    // Trailing bits: a one, then zeros to the byte boundary.
    Bytes8 finish() {
        put(1, 1);
        return bytes_;
    }

private:
    Bytes8 bytes_;
    std::size_t used_ = 0;
};

Bytes8 obu(std::uint8_t type, const Bytes8& payload) {
    Bytes8 out{static_cast<std::uint8_t>((type << 3) | 0x02)};
    av1::write_leb128(static_cast<std::uint32_t>(payload.size()), out);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

// A reduced still-picture header: profile 2, 12 bits 4:4:4... as given.
Bytes8 still_picture_header(std::uint8_t profile, bool high_bitdepth, bool twelve_bit, bool color, std::uint8_t cp,
                            std::uint8_t tc, std::uint8_t mc, bool full_range) {
    BitWriter w;
    w.put(profile, 3).put(1, 1).put(1, 1); // still_picture, reduced_still_picture_header
    w.put(12, 5);                          // seq_level_idx[0]
    w.put(10, 4).put(10, 4);               // frame_width_bits_minus_1, frame_height_bits_minus_1
    w.put(1919, 11).put(1079, 11);         // max_frame_width_minus_1, max_frame_height_minus_1
    w.put(0, 1).put(1, 1).put(1, 1);       // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
    w.put(0, 1).put(1, 1).put(0, 1);       // enable_superres, enable_cdef, enable_restoration
    w.put(high_bitdepth ? 1 : 0, 1);
    if (profile == 2 && high_bitdepth) {
        w.put(twelve_bit ? 1 : 0, 1);
    }
    if (profile != 1) {
        w.put(0, 1); // mono_chrome
    }
    w.put(color ? 1 : 0, 1);
    if (color) {
        w.put(cp, 8).put(tc, 8).put(mc, 8);
    }
    const bool srgb = color && cp == 1 && tc == 13 && mc == 0;
    if (!srgb) {
        w.put(full_range ? 1 : 0, 1);
        if (profile == 2 && twelve_bit) {
            w.put(1, 1).put(0, 1); // subsampling_x 1, subsampling_y 0: 4:2:2
        }
        if (profile == 0) {
            w.put(2, 2); // chroma_sample_position: colocated
        }
    }
    w.put(0, 1); // separate_uv_delta_q
    w.put(1, 1); // film_grain_params_present
    return w.finish();
}

// A full header with timing and decoder model info and two operating points.
Bytes8 timed_header() {
    BitWriter w;
    w.put(1, 3).put(0, 1).put(0, 1); // profile 1
    w.put(1, 1);                     // timing_info_present_flag
    w.put(1001, 32).put(60000, 32);  // num_units_in_display_tick, time_scale
    w.put(1, 1);                     // equal_picture_interval
    w.put(0b00100, 5);               // uvlc: two leading zeros, then 1 and 00: value 3
    w.put(1, 1);                     // decoder_model_info_present_flag
    w.put(9, 5).put(90000, 32).put(15, 5).put(22, 5);
    w.put(1, 1);                                     // initial_display_delay_present_flag
    w.put(1, 5);                                     // two operating points
    w.put(0x105, 12).put(9, 5).put(1, 1);            // idc, level 9 (4.1), tier 1
    w.put(1, 1).put(123, 10).put(456, 10).put(0, 1); // decoder model for this op
    w.put(1, 1).put(4, 4);                           // initial display delay 5
    w.put(0x001, 12).put(3, 5);                      // second op: level 3, no tier bit
    w.put(0, 1);                                     // no decoder model
    w.put(0, 1);                                     // no initial display delay
    w.put(11, 4).put(11, 4).put(3839, 12).put(2159, 12);
    w.put(1, 1).put(5, 4).put(2, 3);           // frame_id_numbers_present_flag, lengths
    w.put(1, 1).put(1, 1).put(1, 1);           // sb, filter intra, intra edge
    w.put(1, 1).put(1, 1).put(1, 1).put(1, 1); // interintra, masked, warped, dual filter
    w.put(1, 1).put(1, 1).put(1, 1);           // order hint, jnt comp, ref frame mvs
    w.put(0, 1).put(1, 1);                     // seq_choose_screen_content_tools 0, force 1
    w.put(0, 1).put(1, 1);                     // seq_choose_integer_mv 0, seq_force_integer_mv 1
    w.put(6, 3);                               // order_hint_bits_minus_1
    w.put(0, 1).put(1, 1).put(1, 1);           // superres, cdef, restoration
    w.put(0, 1);                               // high_bitdepth: 8 bits (profile 1: no mono_chrome)
    w.put(1, 1).put(1, 8).put(1, 8).put(1, 8); // BT.709
    w.put(1, 1);                               // full range
    w.put(0, 1);                               // separate_uv_delta_q
    w.put(0, 1);                               // film grain
    return w.finish();
}

TEST(Av1Leb128Test, ReadsShortestAndPaddedForms) {
    std::size_t len = 0;
    EXPECT_EQ(av1::read_leb128(Bytes8{0x00}, 0, len).value(), 0U);
    EXPECT_EQ(len, 1U);
    EXPECT_EQ(av1::read_leb128(Bytes8{0x7f}, 0, len).value(), 127U);
    EXPECT_EQ(av1::read_leb128(Bytes8{0x80, 0x01}, 0, len).value(), 128U);
    EXPECT_EQ(len, 2U);
    EXPECT_EQ(av1::read_leb128(Bytes8{0xff, 0xff, 0xff, 0xff, 0x0f}, 0, len).value(), 0xFFFFFFFFU);
    EXPECT_EQ(len, 5U);
    // Padded with continuation bytes: legal up to 8 bytes.
    EXPECT_EQ(av1::read_leb128(Bytes8{0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, len).value(), 5U);
    EXPECT_EQ(len, 8U);
    // At an offset.
    EXPECT_EQ(av1::read_leb128(Bytes8{0xaa, 0xac, 0x02}, 1, len).value(), 300U);
}

TEST(Av1Leb128Test, RefusesLongTooLargeAndTruncatedValues) {
    std::size_t len = 0;
    auto nine = av1::read_leb128(Bytes8{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, len);
    ASSERT_FALSE(nine);
    EXPECT_NE(nine.error().message().find("longer than 8 bytes"), std::string::npos) << nine.error().message();
    auto big = av1::read_leb128(Bytes8{0x80, 0x80, 0x80, 0x80, 0x10}, 0, len);
    ASSERT_FALSE(big);
    EXPECT_NE(big.error().message().find("exceeds 2^32 - 1"), std::string::npos) << big.error().message();
    auto cut = av1::read_leb128(Bytes8{0x00, 0x80, 0x80}, 1, len);
    ASSERT_FALSE(cut);
    EXPECT_TRUE(cut.error().is(Errc::corrupt));
    EXPECT_NE(cut.error().message().find("at byte 1 is truncated"), std::string::npos) << cut.error().message();
    EXPECT_FALSE(av1::read_leb128(Bytes8{}, 0, len));
}

TEST(Av1Leb128Test, WritesTheShortestForm) {
    for (const std::uint32_t v : {0U, 1U, 127U, 128U, 16383U, 16384U, 0xFFFFFFFFU}) {
        Bytes8 out;
        av1::write_leb128(v, out);
        std::size_t len = 0;
        EXPECT_EQ(av1::read_leb128(out, 0, len).value(), v);
        EXPECT_EQ(len, out.size());
        EXPECT_EQ(out.back() & 0x80, 0);
    }
    Bytes8 out;
    av1::write_leb128(128, out);
    EXPECT_EQ(out, (Bytes8{0x80, 0x01}));
}

TEST(Av1ObuTest, ReadsAnObuWithoutExtension) {
    const Bytes8 data{0x12, 0x00, 0x0a, 0x02, 0xaa, 0xbb};
    auto td = av1::read_obu(data, 0).value();
    EXPECT_EQ(td.type, av1::ObuType::temporal_delimiter);
    EXPECT_FALSE(td.has_extension);
    EXPECT_TRUE(td.payload.empty());
    EXPECT_EQ(td.bytes.size(), 2U);
    EXPECT_EQ(td.offset, 0U);
    auto seq = av1::read_obu(data, 2).value();
    EXPECT_EQ(seq.type, av1::ObuType::sequence_header);
    EXPECT_EQ(seq.offset, 2U);
    ASSERT_EQ(seq.payload.size(), 2U);
    EXPECT_EQ(seq.payload[0], 0xaa);
    EXPECT_EQ(seq.bytes.size(), 4U);
}

TEST(Av1ObuTest, ReadsTheExtensionHeader) {
    // frame OBU with extension: temporal_id 5, spatial_id 2, one payload byte.
    const Bytes8 data{0x36, 0xb0, 0x01, 0x10};
    auto o = av1::read_obu(data, 0).value();
    EXPECT_EQ(o.type, av1::ObuType::frame);
    EXPECT_TRUE(o.has_extension);
    EXPECT_EQ(o.temporal_id, 5);
    EXPECT_EQ(o.spatial_id, 2);
    ASSERT_EQ(o.payload.size(), 1U);
    EXPECT_EQ(o.payload[0], 0x10);
    EXPECT_EQ(o.bytes.size(), 4U);
}

TEST(Av1ObuTest, AnObuWithoutSizeFieldRunsToTheEnd) {
    const Bytes8 data{0x12, 0x00, 0x30, 0x10, 0x20, 0x30};
    auto obus = av1::split_obus(data).value();
    ASSERT_EQ(obus.size(), 2U);
    EXPECT_EQ(obus[1].type, av1::ObuType::frame);
    EXPECT_EQ(obus[1].payload.size(), 3U);
    EXPECT_EQ(obus[1].offset, 2U);
    // With an extension but without size.
    const Bytes8 ext{0x34, 0x20, 0x01, 0x02};
    auto o = av1::read_obu(ext, 0).value();
    EXPECT_EQ(o.temporal_id, 1);
    EXPECT_EQ(o.payload.size(), 2U);
}

TEST(Av1ObuTest, ErrorsNameTheOffsetAndTheFault) {
    auto forbidden = av1::read_obu(Bytes8{0x12, 0x00, 0x92, 0x00}, 2);
    ASSERT_FALSE(forbidden);
    EXPECT_EQ(forbidden.error().message(), "AV1 OBU at byte 2: obu_forbidden_bit is set");

    auto past = av1::read_obu(Bytes8{0x12, 0x00, 0x0a, 0x05, 0x01}, 2);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().message(), "AV1 OBU at byte 2: obu_size 5 runs past the end of the data (1 bytes left)");

    auto no_ext = av1::read_obu(Bytes8{0x16}, 0);
    ASSERT_FALSE(no_ext);
    EXPECT_NE(no_ext.error().message().find("header extension missing"), std::string::npos);

    auto no_size = av1::read_obu(Bytes8{0x12}, 0);
    ASSERT_FALSE(no_size);
    EXPECT_NE(no_size.error().message().find("AV1 OBU at byte 0: obu_size"), std::string::npos)
        << no_size.error().message();

    auto beyond = av1::read_obu(Bytes8{0x12, 0x00}, 2);
    ASSERT_FALSE(beyond);
    EXPECT_TRUE(beyond.error().is(Errc::out_of_range));

    auto split = av1::split_obus(Bytes8{0x12, 0x00, 0x0a, 0x09});
    ASSERT_FALSE(split);
    EXPECT_NE(split.error().message().find("at byte 2"), std::string::npos);
    EXPECT_TRUE(av1::split_obus(Bytes8{}).value().empty());
}

TEST(Av1ObuTest, SplitsARealTemporalUnit) {
    auto obus = av1::split_obus(aomenc_frame(0)).value();
    ASSERT_EQ(obus.size(), 3U);
    EXPECT_EQ(obus[0].type, av1::ObuType::temporal_delimiter);
    EXPECT_EQ(obus[1].type, av1::ObuType::sequence_header);
    EXPECT_EQ(obus[2].type, av1::ObuType::frame);
    EXPECT_EQ(Bytes8(obus[1].bytes.begin(), obus[1].bytes.end()), aomenc_sequence_obu);
    EXPECT_EQ(obus[2].offset + obus[2].bytes.size(), aomenc_frame(0).size());
}

TEST(Av1SequenceHeaderTest, ParsesTheHeaderOfAnAomencStream) {
    const std::span<const std::uint8_t> payload = std::span(aomenc_sequence_obu).subspan(2);
    auto s = av1::parse_sequence_header(payload).value();
    EXPECT_EQ(s.profile, 0);
    EXPECT_FALSE(s.still_picture);
    EXPECT_FALSE(s.reduced_still_picture_header);
    EXPECT_EQ(s.level, 0);
    EXPECT_EQ(s.tier, 0);
    EXPECT_EQ(s.max_width, 64U);
    EXPECT_EQ(s.max_height, 64U);
    EXPECT_EQ(s.bit_depth, 8);
    EXPECT_FALSE(s.monochrome);
    EXPECT_EQ(s.subsampling_x, 1);
    EXPECT_EQ(s.subsampling_y, 1);
    EXPECT_EQ(s.chroma_sample_position, 0);
    EXPECT_FALSE(s.color_description_present);
    EXPECT_EQ(s.color_primaries, 2);
    EXPECT_EQ(s.transfer_characteristics, 2);
    EXPECT_EQ(s.matrix_coefficients, 2);
    EXPECT_FALSE(s.full_range);
    EXPECT_FALSE(s.timing_info_present);
    EXPECT_FALSE(s.decoder_model_info_present);
    EXPECT_FALSE(s.frame_id_numbers_present);
    EXPECT_EQ(s.operating_points, 1);
    EXPECT_FALSE(s.film_grain_params_present);
}

TEST(Av1SequenceHeaderTest, ParsesTimingDecoderModelAndOperatingPoints) {
    auto s = av1::parse_sequence_header(timed_header()).value();
    EXPECT_EQ(s.profile, 1);
    EXPECT_TRUE(s.timing_info_present);
    EXPECT_EQ(s.num_units_in_display_tick, 1001U);
    EXPECT_EQ(s.time_scale, 60000U);
    EXPECT_TRUE(s.equal_picture_interval);
    EXPECT_EQ(s.num_ticks_per_picture, 4U);
    EXPECT_TRUE(s.decoder_model_info_present);
    EXPECT_EQ(s.frame_presentation_time_length, 23);
    EXPECT_TRUE(s.initial_display_delay_present);
    EXPECT_EQ(s.initial_display_delay, 5);
    EXPECT_EQ(s.operating_points, 2);
    EXPECT_EQ(s.operating_point_idc, 0x105);
    EXPECT_EQ(s.level, 9);
    EXPECT_EQ(s.tier, 1);
    EXPECT_EQ(s.max_width, 3840U);
    EXPECT_EQ(s.max_height, 2160U);
    EXPECT_TRUE(s.frame_id_numbers_present);
    EXPECT_EQ(s.delta_frame_id_length, 7);
    EXPECT_EQ(s.additional_frame_id_length, 3);
    EXPECT_EQ(s.bit_depth, 8);
    EXPECT_EQ(s.subsampling_x, 0);
    EXPECT_EQ(s.subsampling_y, 0);
    EXPECT_TRUE(s.color_description_present);
    EXPECT_EQ(s.color_primaries, 1);
    EXPECT_TRUE(s.full_range);
}

TEST(Av1SequenceHeaderTest, ParsesColorConfigOfEveryProfile) {
    auto twelve = av1::parse_sequence_header(still_picture_header(2, true, true, true, 9, 16, 9, false)).value();
    EXPECT_TRUE(twelve.still_picture);
    EXPECT_TRUE(twelve.reduced_still_picture_header);
    EXPECT_EQ(twelve.level, 12);
    EXPECT_EQ(twelve.max_width, 1920U);
    EXPECT_EQ(twelve.max_height, 1080U);
    EXPECT_EQ(twelve.bit_depth, 12);
    EXPECT_EQ(twelve.subsampling_x, 1);
    EXPECT_EQ(twelve.subsampling_y, 0);
    EXPECT_EQ(twelve.transfer_characteristics, 16);
    EXPECT_TRUE(twelve.film_grain_params_present);

    auto ten = av1::parse_sequence_header(still_picture_header(0, true, false, false, 0, 0, 0, true)).value();
    EXPECT_EQ(ten.bit_depth, 10);
    EXPECT_EQ(ten.chroma_sample_position, 2);
    EXPECT_TRUE(ten.full_range);
    EXPECT_EQ(ten.matrix_coefficients, 2);

    auto srgb = av1::parse_sequence_header(still_picture_header(1, false, false, true, 1, 13, 0, false)).value();
    EXPECT_TRUE(srgb.full_range); // implied
    EXPECT_EQ(srgb.subsampling_x, 0);
    EXPECT_EQ(srgb.subsampling_y, 0);
}

TEST(Av1SequenceHeaderTest, EveryTruncationIsAnErrorNamingTheField) {
    const Bytes8 full = timed_header();
    for (std::size_t n = 0; n + 1 < full.size(); ++n) {
        auto s = av1::parse_sequence_header(std::span(full).first(n));
        ASSERT_FALSE(s) << n << " bytes";
        EXPECT_TRUE(s.error().is(Errc::corrupt));
        EXPECT_NE(s.error().message().find("truncated at field"), std::string::npos) << s.error().message();
    }
    auto empty = av1::parse_sequence_header({});
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().message(), "AV1 sequence header: truncated at field seq_profile (byte 0 of the payload)");
}

TEST(Av1SequenceHeaderTest, RefusesReservedProfilesAndInconsistentFlags) {
    auto reserved = av1::parse_sequence_header(Bytes8{0x60, 0, 0, 0});
    ASSERT_FALSE(reserved);
    EXPECT_NE(reserved.error().message().find("seq_profile 3 is reserved"), std::string::npos);
    auto reduced = av1::parse_sequence_header(Bytes8{0x08, 0, 0, 0}); // reduced without still_picture
    ASSERT_FALSE(reduced);
    EXPECT_NE(reduced.error().message().find("still_picture"), std::string::npos);
    // A uvlc of 32 leading zeros.
    BitWriter w;
    w.put(0, 3).put(0, 1).put(0, 1).put(1, 1).put(0, 32).put(0, 32).put(1, 1).put(0, 32).put(0, 8);
    auto uvlc = av1::parse_sequence_header(w.finish());
    ASSERT_FALSE(uvlc);
    EXPECT_NE(uvlc.error().message().find("num_ticks_per_picture_minus_1"), std::string::npos)
        << uvlc.error().message();
}

TEST(Av1ConfigTest, Av1cHoldsTheFieldsThenTheSequenceHeader) {
    const auto s = av1::parse_sequence_header(std::span(aomenc_sequence_obu).subspan(2)).value();
    const Bytes8 c = av1::make_av1c(s, aomenc_sequence_obu);
    ASSERT_EQ(c.size(), 4 + aomenc_sequence_obu.size());
    EXPECT_EQ(c[0], 0x81); // marker, version 1
    EXPECT_EQ(c[1], 0x00); // profile 0, level 0
    EXPECT_EQ(c[2], 0x0c); // tier 0, 8 bits, not mono, subsampling 1 1, position 0
    EXPECT_EQ(c[3], 0x00); // no initial presentation delay
    EXPECT_EQ(Bytes8(c.begin() + 4, c.end()), aomenc_sequence_obu);
    EXPECT_EQ(av1::parse_av1c(c).value(), s);

    const Bytes8 payload = timed_header();
    const auto t = av1::parse_sequence_header(payload).value();
    const Bytes8 tc = av1::make_av1c(t, obu(1, payload));
    EXPECT_EQ(tc[1], (1 << 5) | 9);
    EXPECT_EQ(tc[2], 0x80);           // tier 1, 8 bits, 4:4:4
    EXPECT_EQ(tc[3], 0x10 | (5 - 1)); // initial presentation delay 5
    EXPECT_EQ(av1::parse_av1c(tc).value(), t);

    const auto twelve = av1::parse_sequence_header(still_picture_header(2, true, true, true, 9, 16, 9, false)).value();
    const Bytes8 twelve_c = av1::make_av1c(twelve, {});
    EXPECT_EQ(twelve_c[1], (2 << 5) | 12);
    EXPECT_EQ(twelve_c[2], 0x40 | 0x20 | 0x08); // high bitdepth, twelve bit, subsampling_x
    auto fixed_only = av1::parse_av1c(twelve_c).value();
    EXPECT_EQ(fixed_only.profile, 2);
    EXPECT_EQ(fixed_only.bit_depth, 12);
    EXPECT_EQ(fixed_only.subsampling_x, 1);
    EXPECT_EQ(fixed_only.subsampling_y, 0);
    EXPECT_EQ(fixed_only.max_width, 0U);
}

TEST(Av1ConfigTest, ParseAv1cRefusesBadRecords) {
    const auto s = av1::parse_sequence_header(std::span(aomenc_sequence_obu).subspan(2)).value();
    const Bytes8 good = av1::make_av1c(s, aomenc_sequence_obu);
    auto expect_error = [](const Bytes8& c, const std::string& text) {
        auto r = av1::parse_av1c(c);
        ASSERT_FALSE(r) << text;
        EXPECT_NE(r.error().message().find(text), std::string::npos) << r.error().message();
    };
    expect_error({0x81, 0x00}, "2 bytes, at least 4");
    Bytes8 c = good;
    c[0] = 0x01;
    expect_error(c, "marker bit");
    c = good;
    c[0] = 0x82;
    expect_error(c, "version 2");
    c = good;
    c[1] = 0x20;
    expect_error(c, "seq_profile is 1 but its sequence header says 0");
    c = good;
    c[1] = 0x05;
    expect_error(c, "seq_level_idx_0 is 5");
    c = good;
    c[2] = 0x1c;
    expect_error(c, "monochrome");
    c = good;
    c[2] = 0x4c;
    expect_error(c, "bit depth is 10");
    c = good;
    c[1] = 0xe0;
    expect_error(c, "reserved");
    c = good;
    c[2] = 0x2c;
    expect_error(c, "twelve_bit");
    Bytes8 no_seq = {0x81, 0x00, 0x0c, 0x00, 0x12, 0x00};
    expect_error(no_seq, "no sequence header OBU");
    Bytes8 broken = {0x81, 0x00, 0x0c, 0x00, 0x0a, 0x09, 0x00};
    expect_error(broken, "configOBUs (from byte 4)");
    Bytes8 bad_seq = {0x81, 0x00, 0x0c, 0x00, 0x0a, 0x01, 0x00};
    expect_error(bad_seq, "truncated at field");
}

TEST(Av1KeyFrameTest, FindsTheKeyTemporalUnitsOfARealStream) {
    const auto s = av1::parse_sequence_header(std::span(aomenc_sequence_obu).subspan(2)).value();
    EXPECT_TRUE(av1::is_key_temporal_unit(aomenc_frame(0), s).value());
    EXPECT_FALSE(av1::is_key_temporal_unit(aomenc_frame(1), s).value());
    EXPECT_FALSE(av1::is_key_temporal_unit(aomenc_frame(2), s).value());
}

TEST(Av1KeyFrameTest, ReadsTheStartOfTheFrameHeader) {
    const auto s = av1::parse_sequence_header(std::span(aomenc_sequence_obu).subspan(2)).value();
    const Bytes8 td{0x12, 0x00};
    auto tu = [&](std::uint8_t type, std::uint8_t first) {
        Bytes8 out = td;
        const Bytes8 o = obu(type, {first, 0x00});
        out.insert(out.end(), o.begin(), o.end());
        return out;
    };
    EXPECT_TRUE(av1::is_key_temporal_unit(tu(6, 0x10), s).value());  // key, shown
    EXPECT_TRUE(av1::is_key_temporal_unit(tu(3, 0x10), s).value());  // frame header OBU
    EXPECT_FALSE(av1::is_key_temporal_unit(tu(6, 0x00), s).value()); // key, not shown
    EXPECT_FALSE(av1::is_key_temporal_unit(tu(6, 0x30), s).value()); // inter
    EXPECT_FALSE(av1::is_key_temporal_unit(tu(6, 0x50), s).value()); // intra-only
    EXPECT_FALSE(av1::is_key_temporal_unit(tu(3, 0x80), s).value()); // show_existing_frame
    EXPECT_FALSE(av1::is_key_temporal_unit(td, s).value());          // no frame at all
    EXPECT_FALSE(av1::is_key_temporal_unit({}, s).value());

    auto h = av1::parse_frame_header_start(Bytes8{0x30}, s).value();
    EXPECT_FALSE(h.show_existing_frame);
    EXPECT_EQ(h.frame_type, 1);
    EXPECT_TRUE(h.show_frame);

    // Reduced still pictures are key frames without reading a bit.
    const auto still = av1::parse_sequence_header(still_picture_header(0, false, false, false, 0, 0, 0, false)).value();
    EXPECT_TRUE(av1::is_key_temporal_unit(obu(6, {}), still).value());
}

TEST(Av1KeyFrameTest, BrokenTemporalUnitsAreErrors) {
    const auto s = av1::parse_sequence_header(std::span(aomenc_sequence_obu).subspan(2)).value();
    auto empty_frame = av1::is_key_temporal_unit(Bytes8{0x12, 0x00, 0x32, 0x00}, s);
    ASSERT_FALSE(empty_frame);
    EXPECT_NE(empty_frame.error().message().find("AV1 OBU at byte 2"), std::string::npos)
        << empty_frame.error().message();
    EXPECT_NE(empty_frame.error().message().find("show_existing_frame"), std::string::npos);
    auto bad = av1::is_key_temporal_unit(Bytes8{0x12, 0x00, 0xb2, 0x00}, s);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("obu_forbidden_bit"), std::string::npos);
}

TEST(Av1CapsTest, CapsAreGStreamers) {
    const auto s = av1::parse_sequence_header(std::span(aomenc_sequence_obu).subspan(2)).value();
    const Bytes8 c = av1::make_av1c(s, aomenc_sequence_obu);
    const Caps caps = av1::caps_for(s, c);
    ASSERT_EQ(caps.size(), 1U);
    const Structure& st = caps.structure(0);
    EXPECT_EQ(st.name(), "video/x-av1");
    EXPECT_EQ(st.get_string("stream-format"), "obu-stream");
    EXPECT_EQ(st.get_string("alignment"), "tu");
    EXPECT_EQ(st.get_int("width"), 64);
    EXPECT_EQ(st.get_int("height"), 64);
    EXPECT_EQ(st.get_string("profile"), "main");
    EXPECT_EQ(st.get_string("chroma-format"), "4:2:0");
    EXPECT_EQ(st.get_int("bit-depth-luma"), 8);
    EXPECT_EQ(st.get_int("bit-depth-chroma"), 8);
    EXPECT_FALSE(st.has("colorimetry"));
    EXPECT_EQ(st.get_bool("parsed"), true);
    const CapsValue* cd = st.get("codec_data");
    ASSERT_NE(cd, nullptr);
    ASSERT_NE(cd->get_if<parallax::Bytes>(), nullptr);
    EXPECT_EQ(cd->get_if<parallax::Bytes>()->data, c);
    EXPECT_FALSE(av1::caps_for(s, {}).structure(0).has("codec_data"));

    const auto pq = av1::parse_sequence_header(still_picture_header(2, true, true, true, 9, 16, 9, false)).value();
    const Caps pcaps = av1::caps_for(pq, {});
    const Structure& p = pcaps.structure(0);
    EXPECT_EQ(p.get_string("profile"), "professional");
    EXPECT_EQ(p.get_string("chroma-format"), "4:2:2");
    EXPECT_EQ(p.get_int("bit-depth-luma"), 12);
    ASSERT_TRUE(p.get_string("colorimetry"));
    const auto cm = VideoColorimetry::parse(*p.get_string("colorimetry")).value();
    EXPECT_EQ(cm.range, VideoColorRange::limited);
    EXPECT_EQ(cm.matrix, VideoColorMatrix::bt2020);
    EXPECT_EQ(cm.transfer, VideoTransferFunction::smpte2084);
    EXPECT_EQ(cm.primaries, VideoColorPrimaries::bt2020);

    const auto rgb = av1::parse_sequence_header(still_picture_header(1, false, false, true, 1, 13, 0, false)).value();
    const Caps rcaps = av1::caps_for(rgb, {});
    const Structure& r = rcaps.structure(0);
    EXPECT_EQ(r.get_string("profile"), "high");
    EXPECT_EQ(r.get_string("chroma-format"), "4:4:4");
    EXPECT_EQ(r.get_string("colorimetry"), "sRGB");

    av1::SequenceHeader mono = s;
    mono.monochrome = true;
    EXPECT_EQ(av1::caps_for(mono, {}).structure(0).get_string("chroma-format"), "4:0:0");
}

} // namespace
} // namespace parallax
