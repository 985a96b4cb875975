// H.264 bitstream: start codes, NAL headers, emulation prevention, the
// exp-Golomb reader, SPS of streams written by x264 and of hand-built
// headers (scaling lists, cropping, VUI), PPS (slice group maps included)
// and slice headers, access unit boundaries (7.4.1.2.4: arbitrary slice
// order, lost slices, picture order counts, IDR ids, fields, redundant
// pictures), avcC and the conversion between Annex B and
// length-prefixed access units; malformed input is an error naming the
// field and the byte.

#include <parallax/caps/structure.hpp>
#include <parallax/codec/h264.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parallax::h264_test {
namespace {

using Bytes8 = std::vector<std::uint8_t>;

// The SPS and PPS of `ffmpeg -f lavfi -i testsrc=size=176x144:rate=25 -c:v
// libx264 -profile:v baseline` (x264 writes VUI timing: 25 fps).
const Bytes8 x264_baseline_sps = {0x67, 0x42, 0xc0, 0x0b, 0xd9, 0x02, 0xc4, 0xec, 0x04, 0x40, 0x00,
                                  0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x83, 0xc5, 0x0a, 0x92};
const Bytes8 x264_baseline_pps = {0x68, 0xcb, 0x83, 0xcb, 0x20};
// 1920x1080 at 30 fps, High profile: coded as 1088 rows, 8 cropped.
const Bytes8 x264_high_sps = {0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00,
                              0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58};
const Bytes8 x264_high_pps = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};
// 64x48, High 4:2:2 profile, 10 bits.
const Bytes8 x264_high422_sps = {0x67, 0x7a, 0x00, 0x0a, 0xb6, 0xcd, 0x94, 0x47, 0xb0, 0x11, 0x00, 0x00,
                                 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x12, 0x25, 0x96};

// Writes RBSP bits: u(n), ue(v), se(v), then the stop bit.
class BitWriter {
public:
    void u(unsigned n, std::uint32_t v) {
        for (unsigned i = n; i-- > 0;) {
            bit((v >> i) & 1U);
        }
    }
    void ue(std::uint32_t v) {
        const std::uint64_t code = std::uint64_t{v} + 1;
        unsigned bits = 0;
        while ((code >> bits) > 1) {
            ++bits;
        }
        u(bits, 0);
        for (unsigned i = bits + 1; i-- > 0;) {
            bit(static_cast<unsigned>((code >> i) & 1U));
        }
    }
    // 9.1.1: k > 0 is coded as 2k - 1, k <= 0 as -2k; computed in 64 bits,
    // as they overflow an int near its limits.
    void se(std::int32_t v) {
        const std::int64_t k = v;
        ue(static_cast<std::uint32_t>(k > 0 ? 2 * k - 1 : -2 * k));
    }
    // rbsp_trailing_bits() and the NAL header byte in front, escaped.
    Bytes8 nal(std::uint8_t header) {
        bit(1);
        while (bits_ % 8 != 0) {
            bit(0);
        }
        Bytes8 out{header};
        const Bytes8 escaped = h264::add_emulation_prevention(bytes_);
        out.insert(out.end(), escaped.begin(), escaped.end());
        return out;
    }
    [[nodiscard]] const Bytes8& bytes() const { return bytes_; }
    void bit(unsigned b) {
        if (bits_ % 8 == 0) {
            bytes_.push_back(0);
        }
        if (b != 0) {
            bytes_.back() = static_cast<std::uint8_t>(bytes_.back() | (0x80U >> (bits_ % 8)));
        }
        ++bits_;
    }

private:
    Bytes8 bytes_;
    std::size_t bits_ = 0;
};

// A High 4:2:0 SPS with every list of the scaling matrix present, 1280x720
// coded as 80x45 macroblocks and cropped to 1276x718, and VUI with a 4:3
// sample aspect ratio, full range BT.709 colour and 50 fps timing.
Bytes8 hand_built_high_sps(bool with_vui = true) {
    BitWriter w;
    w.u(8, 100); // profile_idc
    w.u(8, 0);   // constraint flags
    w.u(8, 31);  // level_idc
    w.ue(3);     // seq_parameter_set_id
    w.ue(1);     // chroma_format_idc
    w.ue(0);     // bit_depth_luma_minus8
    w.ue(0);     // bit_depth_chroma_minus8
    w.u(1, 0);   // qpprime_y_zero_transform_bypass_flag
    w.u(1, 1);   // seq_scaling_matrix_present_flag
    for (int i = 0; i < 8; ++i) {
        w.u(1, 1); // seq_scaling_list_present_flag
        const int size = i < 6 ? 16 : 64;
        for (int j = 0; j < size; ++j) {
            w.se(j == 0 ? 8 : (j % 3) - 1); // nextScale never 0 until the end
        }
    }
    w.ue(0); // log2_max_frame_num_minus4
    w.ue(0); // pic_order_cnt_type
    w.ue(2); // log2_max_pic_order_cnt_lsb_minus4
    w.ue(4); // max_num_ref_frames
    w.u(1, 0);
    w.ue(79);  // pic_width_in_mbs_minus1
    w.ue(44);  // pic_height_in_map_units_minus1
    w.u(1, 1); // frame_mbs_only_flag
    w.u(1, 1); // direct_8x8_inference_flag
    w.u(1, 1); // frame_cropping_flag
    w.ue(1);   // left: 2 samples
    w.ue(1);   // right: 2 samples
    w.ue(0);   // top
    w.ue(1);   // bottom: 2 rows
    w.u(1, with_vui ? 1 : 0);
    if (with_vui) {
        w.u(1, 1);    // aspect_ratio_info_present_flag
        w.u(8, 14);   // 4:3
        w.u(1, 0);    // overscan_info_present_flag
        w.u(1, 1);    // video_signal_type_present_flag
        w.u(3, 5);    // video_format
        w.u(1, 1);    // video_full_range_flag
        w.u(1, 1);    // colour_description_present_flag
        w.u(8, 1);    // BT.709 primaries
        w.u(8, 1);    // BT.709 transfer
        w.u(8, 1);    // BT.709 matrix
        w.u(1, 0);    // chroma_loc_info_present_flag
        w.u(1, 1);    // timing_info_present_flag
        w.u(32, 1);   // num_units_in_tick
        w.u(32, 100); // time_scale
        w.u(1, 1);    // fixed_frame_rate_flag
        w.u(1, 0);    // nal_hrd_parameters_present_flag
        w.u(1, 0);    // vcl_hrd_parameters_present_flag
        w.u(1, 0);    // pic_struct_present_flag
        w.u(1, 0);    // bitstream_restriction_flag
    }
    return w.nal(0x67);
}

Bytes8 annex_b(std::initializer_list<const Bytes8*> nals, bool long_codes = true) {
    Bytes8 out;
    for (const Bytes8* n : nals) {
        if (long_codes) {
            out.push_back(0);
        }
        out.insert(out.end(), {0, 0, 1});
        out.insert(out.end(), n->begin(), n->end());
    }
    return out;
}

std::string message_of(const Error& e) {
    return e.message();
}

TEST(H264Test, BitReaderReadsFixedAndExpGolombFields) {
    // 1 | 010 | 011 | 00100 | 00101 | 0001000 ... : ue 0, 1, 2, 3, 4, 7
    BitWriter w;
    for (std::uint32_t v : {0U, 1U, 2U, 3U, 4U, 7U, 254U, 65535U}) {
        w.ue(v);
    }
    for (std::int32_t v : {0, 1, -1, 2, -2, 1000, -1000}) {
        w.se(v);
    }
    w.u(5, 0x15);
    const Bytes8 bytes = w.bytes();
    h264::BitReader r(bytes);
    for (std::uint32_t v : {0U, 1U, 2U, 3U, 4U, 7U, 254U, 65535U}) {
        EXPECT_EQ(r.ue("ue"), v);
    }
    for (std::int32_t v : {0, 1, -1, 2, -2, 1000, -1000}) {
        EXPECT_EQ(r.se("se"), v);
    }
    EXPECT_EQ(r.u(5, "five"), 0x15U);
    EXPECT_FALSE(r.overrun());
}

TEST(H264Test, BitReaderRemembersTheFirstFieldThatDidNotFit) {
    const Bytes8 bytes = {0xff, 0x00};
    h264::BitReader r(bytes);
    EXPECT_EQ(r.u(8, "first"), 0xffU);
    EXPECT_EQ(r.ue("long_code"), 0U); // 8 zero bits then the data ends
    EXPECT_EQ(r.u(3, "later"), 0U);
    EXPECT_TRUE(r.overrun());
    EXPECT_EQ(r.bad_field(), "long_code");
    EXPECT_EQ(r.bad_byte(), 1U);
}

TEST(H264Test, BitReaderRefusesExpGolombCodesOfMoreThan32Bits) {
    const Bytes8 bytes = {0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00};
    h264::BitReader r(bytes);
    static_cast<void>(r.ue("huge"));
    EXPECT_TRUE(r.overrun());
    EXPECT_EQ(r.bad_field(), "huge");
}

TEST(H264Test, FindsThreeAndFourByteStartCodes) {
    const Bytes8 data = {0x00, 0x00, 0x00, 0x01, 0x67, 0x00, 0x00, 0x01, 0x68, 0x02, 0x00, 0x00, 0x01};
    auto a = h264::find_start_code(data, 0);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->offset, 0U);
    EXPECT_EQ(a->length, 4U);
    auto b = h264::find_start_code(data, 4);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->offset, 5U);
    EXPECT_EQ(b->length, 3U);
    auto c = h264::find_start_code(data, 8);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->offset, 10U);
    EXPECT_FALSE(h264::find_start_code(data, 11));
    EXPECT_FALSE(h264::find_start_code(Bytes8{0x00, 0x00}, 0));
}

TEST(H264Test, SplitsAnAnnexBStreamIntoNalUnits) {
    Bytes8 stream = annex_b({&x264_baseline_sps, &x264_baseline_pps});
    stream.insert(stream.begin(), {0x00, 0x00}); // leading zero_byte
    stream.insert(stream.end(), {0x00, 0x00});   // trailing_zero_8bits
    auto nals = h264::split_annex_b(stream);
    ASSERT_TRUE(nals) << nals.error().message();
    ASSERT_EQ(nals->size(), 2U);
    EXPECT_EQ((*nals)[0].type, h264::NalType::sps);
    EXPECT_EQ((*nals)[0].ref_idc, 3);
    EXPECT_EQ((*nals)[0].offset, 6U);
    EXPECT_EQ(Bytes8((*nals)[0].bytes.begin(), (*nals)[0].bytes.end()), x264_baseline_sps);
    EXPECT_EQ((*nals)[1].type, h264::NalType::pps);
    EXPECT_EQ(Bytes8((*nals)[1].bytes.begin(), (*nals)[1].bytes.end()), x264_baseline_pps);
}

TEST(H264Test, MalformedAnnexBStreamsAreErrorsNamingTheByte) {
    auto garbage = h264::split_annex_b(Bytes8{0x12, 0x00, 0x00, 0x01, 0x67});
    ASSERT_FALSE(garbage);
    EXPECT_NE(message_of(garbage.error()).find("byte 0"), std::string::npos) << message_of(garbage.error());
    auto forbidden = h264::split_annex_b(Bytes8{0x00, 0x00, 0x01, 0xe7, 0x01});
    ASSERT_FALSE(forbidden);
    EXPECT_NE(message_of(forbidden.error()).find("forbidden_zero_bit"), std::string::npos);
    EXPECT_NE(message_of(forbidden.error()).find("byte 3"), std::string::npos);
    EXPECT_FALSE(h264::split_annex_b(Bytes8{0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x68}));
}

TEST(H264Test, RemovesAndAddsEmulationPrevention) {
    const Bytes8 rbsp = {0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x00, 0x04, 0x00, 0x00};
    const Bytes8 escaped = h264::add_emulation_prevention(rbsp);
    const Bytes8 expected = {0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x02, 0x00,
                             0x00, 0x03, 0x03, 0x00, 0x00, 0x04, 0x00, 0x00, 0x03};
    EXPECT_EQ(escaped, expected);
    Bytes8 back = h264::remove_emulation_prevention(escaped);
    EXPECT_EQ(back, rbsp);
    EXPECT_FALSE(h264::find_start_code(escaped, 0));
}

TEST(H264Test, ParsesTheSpsOfX264Baseline) {
    auto sps = h264::parse_sps(x264_baseline_sps);
    ASSERT_TRUE(sps) << sps.error().message();
    EXPECT_EQ(sps->profile_idc, 66);
    EXPECT_TRUE(sps->constraint_set(0));
    EXPECT_TRUE(sps->constraint_set(1));
    EXPECT_FALSE(sps->constraint_set(3));
    EXPECT_EQ(sps->level_idc, 11);
    EXPECT_EQ(sps->chroma_format_idc, 1);
    EXPECT_EQ(sps->bit_depth_luma, 8);
    EXPECT_EQ(sps->width, 176U);
    EXPECT_EQ(sps->height, 144U);
    EXPECT_TRUE(sps->frame_mbs_only);
    EXPECT_TRUE(sps->timing_info_present);
    EXPECT_EQ(sps->framerate(), Fraction::make(25, 1).value());
    EXPECT_EQ(h264::profile_name(*sps), "constrained-baseline");
    EXPECT_EQ(h264::level_name(*sps), "1.1");
}

TEST(H264Test, ParsesTheCroppedSpsOfX264High) {
    auto sps = h264::parse_sps(x264_high_sps);
    ASSERT_TRUE(sps) << sps.error().message();
    EXPECT_EQ(sps->profile_idc, 100);
    EXPECT_EQ(sps->level_idc, 40);
    EXPECT_EQ(sps->width_in_mbs, 120U);
    EXPECT_EQ(sps->height_in_map_units, 68U);
    EXPECT_EQ(sps->crop_bottom, 4U);
    EXPECT_EQ(sps->width, 1920U);
    EXPECT_EQ(sps->height, 1080U);
    EXPECT_EQ(sps->framerate(), Fraction::make(30, 1).value());
    EXPECT_EQ(h264::profile_name(*sps), "high");
    EXPECT_EQ(h264::level_name(*sps), "4");
}

TEST(H264Test, ParsesTheSpsOfX264High422TenBit) {
    auto sps = h264::parse_sps(x264_high422_sps);
    ASSERT_TRUE(sps) << sps.error().message();
    EXPECT_EQ(sps->profile_idc, 122);
    EXPECT_EQ(sps->chroma_format_idc, 2);
    EXPECT_EQ(sps->bit_depth_luma, 10);
    EXPECT_EQ(sps->bit_depth_chroma, 10);
    EXPECT_EQ(sps->width, 64U);
    EXPECT_EQ(sps->height, 48U);
    const Caps caps = h264::caps_for(*sps, "byte-stream", "au");
    const Structure& s = caps.structure(0);
    EXPECT_EQ(s.get_string("profile"), "high-4:2:2");
    EXPECT_EQ(s.get_string("chroma-format"), "4:2:2");
    EXPECT_EQ(s.get_int("bit-depth-luma"), 10);
    EXPECT_EQ(s.get_string("level"), "1");
}

TEST(H264Test, ParsesAHandBuiltSpsWithScalingListsCroppingAndVui) {
    const Bytes8 nal = hand_built_high_sps();
    auto sps = h264::parse_sps(nal);
    ASSERT_TRUE(sps) << sps.error().message();
    EXPECT_EQ(sps->sps_id, 3U);
    EXPECT_TRUE(sps->scaling_matrix_present);
    EXPECT_EQ(sps->max_num_ref_frames, 4U);
    EXPECT_EQ(sps->width, 1276U);
    EXPECT_EQ(sps->height, 718U);
    EXPECT_TRUE(sps->vui_present);
    EXPECT_EQ(sps->sar_width, 4);
    EXPECT_EQ(sps->sar_height, 3);
    EXPECT_TRUE(sps->video_full_range);
    EXPECT_TRUE(sps->colour_description_present);
    EXPECT_EQ(sps->matrix_coefficients, 1);
    EXPECT_EQ(sps->num_units_in_tick, 1U);
    EXPECT_EQ(sps->time_scale, 100U);
    EXPECT_TRUE(sps->fixed_frame_rate);

    const Caps caps = h264::caps_for(*sps, "avc", "au", Bytes8{1, 2, 3});
    const Structure& s = caps.structure(0);
    EXPECT_EQ(s.name(), "video/x-h264");
    EXPECT_EQ(s.get_string("stream-format"), "avc");
    EXPECT_EQ(s.get_string("alignment"), "au");
    EXPECT_EQ(s.get_int("width"), 1276);
    EXPECT_EQ(s.get_int("height"), 718);
    EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(50, 1).value());
    EXPECT_EQ(s.get_fraction("pixel-aspect-ratio"), Fraction::make(4, 3).value());
    EXPECT_EQ(s.get_string("profile"), "high");
    EXPECT_EQ(s.get_string("level"), "3.1");
    EXPECT_EQ(s.get_string("chroma-format"), "4:2:0");
    EXPECT_EQ(s.get_bool("parsed"), true);
    EXPECT_TRUE(s.get_string("colorimetry"));
    const CapsValue* cd = s.get("codec_data");
    ASSERT_NE(cd, nullptr);
    ASSERT_NE(cd->get_if<parallax::Bytes>(), nullptr);
    EXPECT_EQ(cd->get_if<parallax::Bytes>()->data, (Bytes8{1, 2, 3}));
}

TEST(H264Test, EveryTruncationOfAnSpsIsAnErrorNamingAField) {
    const Bytes8 nal = hand_built_high_sps(false);
    for (std::size_t n = 1; n + 1 < nal.size(); ++n) {
        auto sps = h264::parse_sps(std::span(nal).first(n));
        ASSERT_FALSE(sps) << "cut to " << n << " bytes";
        EXPECT_NE(message_of(sps.error()).find("field"), std::string::npos) << message_of(sps.error());
        EXPECT_NE(message_of(sps.error()).find("byte"), std::string::npos) << message_of(sps.error());
    }
    const Bytes8 x264 = x264_baseline_sps;
    auto cut = h264::parse_sps(std::span(x264).first(4));
    ASSERT_FALSE(cut);
    EXPECT_NE(message_of(cut.error()).find("seq_parameter_set_id"), std::string::npos) << message_of(cut.error());
}

// A Baseline SPS up to its picture size: ids 0, frame_num and POC type 0
// with 8-bit POC LSBs, one reference frame, no gaps.
void write_baseline_sps_start(BitWriter& w) {
    w.u(8, 66); // profile_idc
    w.u(8, 0);  // constraint flags
    w.u(8, 30); // level_idc
    w.ue(0);    // seq_parameter_set_id
    w.ue(0);    // log2_max_frame_num_minus4
    w.ue(0);    // pic_order_cnt_type
    w.ue(4);    // log2_max_pic_order_cnt_lsb_minus4
    w.ue(1);    // max_num_ref_frames
    w.u(1, 0);  // gaps_in_frame_num_value_allowed_flag
}

TEST(H264Test, RejectsSpsWithBadValues) {
    EXPECT_FALSE(h264::parse_sps(x264_baseline_pps)); // not an SPS
    EXPECT_FALSE(h264::parse_sps(Bytes8{}));
    Bytes8 forbidden = x264_baseline_sps;
    forbidden[0] |= 0x80;
    auto f = h264::parse_sps(forbidden);
    ASSERT_FALSE(f);
    EXPECT_NE(message_of(f.error()).find("forbidden_zero_bit"), std::string::npos);

    BitWriter w; // cropping that leaves nothing
    write_baseline_sps_start(w);
    w.ue(0); // 1 macroblock wide
    w.ue(0);
    w.u(1, 1);
    w.u(1, 1);
    w.u(1, 1);
    w.ue(4);
    w.ue(4);
    w.ue(0);
    w.ue(0);
    w.u(1, 0);
    auto crop = h264::parse_sps(w.nal(0x67));
    ASSERT_FALSE(crop);
    EXPECT_NE(message_of(crop.error()).find("frame_crop_left_offset"), std::string::npos);

    BitWriter big; // 2^20 macroblocks wide
    write_baseline_sps_start(big);
    big.ue(1U << 20);
    big.ue(0);
    big.u(1, 1);
    big.u(1, 1);
    big.u(1, 0);
    big.u(1, 0);
    auto wide = h264::parse_sps(big.nal(0x67));
    ASSERT_FALSE(wide);
    EXPECT_NE(message_of(wide.error()).find("pic_width_in_mbs_minus1"), std::string::npos);

    // Field-coded, 2 560 map units of two macroblock rows: 81 920 rows, over
    // the 4 096 macroblocks a side may have (found by the fuzz target).
    BitWriter tall;
    write_baseline_sps_start(tall);
    tall.ue(7);    // 8 macroblocks wide
    tall.ue(2559); // pic_height_in_map_units_minus1
    tall.u(1, 0);  // frame_mbs_only_flag: fields
    tall.u(1, 0);
    tall.u(1, 1);
    tall.u(1, 0);
    tall.u(1, 0);
    auto fields = h264::parse_sps(tall.nal(0x67));
    ASSERT_FALSE(fields);
    EXPECT_NE(message_of(fields.error()).find("pic_height_in_map_units_minus1"), std::string::npos);
}

TEST(H264Test, ParsesPpsAndSliceHeaderIds) {
    auto pps = h264::parse_pps(x264_baseline_pps);
    ASSERT_TRUE(pps) << pps.error().message();
    EXPECT_EQ(pps->pps_id, 0U);
    EXPECT_EQ(pps->sps_id, 0U);

    BitWriter w;
    w.ue(99); // first_mb_in_slice
    w.ue(7);  // slice_type: I, all slices
    w.ue(5);  // pic_parameter_set_id
    w.u(4, 0);
    const Bytes8 slice = w.nal(0x65);
    auto h = h264::parse_slice_header_start(slice);
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->first_mb_in_slice, 99U);
    EXPECT_EQ(h->slice_type, 7U);
    EXPECT_EQ(h->pps_id, 5U);
    auto cut = h264::parse_slice_header_start(Bytes8{0x65});
    ASSERT_FALSE(cut);
    EXPECT_NE(message_of(cut.error()).find("first_mb_in_slice"), std::string::npos);
}

Bytes8 slice_nal(std::uint8_t header, std::uint32_t first_mb, std::uint32_t pps_id = 0) {
    BitWriter w;
    w.ue(first_mb);
    w.ue(first_mb == 0 && (header & 0x1F) == 5 ? 7 : 5);
    w.ue(pps_id);
    w.u(8, 0xAA);
    return w.nal(header);
}

TEST(H264Test, FindsAccessUnitBoundaries) {
    const Bytes8 aud = {0x09, 0xf0};
    const Bytes8 sei = {0x06, 0x05, 0x01, 0x00, 0x80};
    const Bytes8 idr0 = slice_nal(0x65, 0);
    const Bytes8 idr1 = slice_nal(0x65, 50);
    const Bytes8 p0 = slice_nal(0x41, 0);
    const Bytes8 p1 = slice_nal(0x41, 50);
    const Bytes8 p_other_pps = slice_nal(0x41, 60, 1);
    const Bytes8 eos = {0x0b};
    const Bytes8 stream = annex_b({&aud, &x264_baseline_sps, &x264_baseline_pps, &idr0, &idr1, &sei, &p0, &p1, &p0,
                                   &p_other_pps, &aud, &p0, &eos},
                                  false);
    auto nals = h264::split_annex_b(stream);
    ASSERT_TRUE(nals) << nals.error().message();
    h264::AccessUnitSplitter splitter;
    std::vector<bool> starts;
    for (const h264::Nal& n : *nals) {
        auto s = splitter.starts_access_unit(n);
        ASSERT_TRUE(s) << s.error().message();
        starts.push_back(*s);
    }
    const std::vector<bool> want = {
        false, // aud: the first access unit
        false, // sps
        false, // pps
        false, // idr0
        false, // idr1: a second slice of the same picture
        true,  // sei after a picture
        false, // p0 after the sei
        false, // p1
        true,  // p0: first_mb_in_slice 0
        true,  // another PPS
        true,  // aud
        false, // p0 after the aud
        false, // end of stream belongs to its access unit
    };
    EXPECT_EQ(starts, want);
    EXPECT_TRUE(h264::is_idr(std::span(*nals).subspan(0, 5)));
    EXPECT_FALSE(h264::is_idr(std::span(*nals).subspan(5, 3)));
}

// The SPS and PPS (ids 0) that the slices of the access unit tests are
// written for: 4-bit frame_num, a 6-bit pic_order_cnt_lsb for picture order
// count type 0, one offset_for_ref_frame for type 1.
struct Params {
    std::uint32_t poc_type = 0;
    bool frame_mbs_only = true;
    bool bottom_field_pic_order = false;
    bool redundant_pic_cnt_present = false;
};

Bytes8 params_sps(const Params& p) {
    BitWriter w;
    w.u(8, 66); // profile_idc
    w.u(8, 0);  // constraint flags
    w.u(8, 30); // level_idc
    w.ue(0);    // seq_parameter_set_id
    w.ue(0);    // log2_max_frame_num_minus4
    w.ue(p.poc_type);
    if (p.poc_type == 0) {
        w.ue(2); // log2_max_pic_order_cnt_lsb_minus4
    } else if (p.poc_type == 1) {
        w.u(1, 0); // delta_pic_order_always_zero_flag
        w.se(0);   // offset_for_non_ref_pic
        w.se(0);   // offset_for_top_to_bottom_field
        w.ue(1);   // num_ref_frames_in_pic_order_cnt_cycle
        w.se(2);   // offset_for_ref_frame
    }
    w.ue(1);   // max_num_ref_frames
    w.u(1, 0); // gaps_in_frame_num_value_allowed_flag
    w.ue(10);  // pic_width_in_mbs_minus1
    w.ue(8);   // pic_height_in_map_units_minus1
    w.u(1, p.frame_mbs_only ? 1 : 0);
    if (!p.frame_mbs_only) {
        w.u(1, 0); // mb_adaptive_frame_field_flag
    }
    w.u(1, 1); // direct_8x8_inference_flag
    w.u(1, 0); // frame_cropping_flag
    w.u(1, 0); // vui_parameters_present_flag
    return w.nal(0x67);
}

// The PPS fields after the slice group map, with redundant_pic_cnt_present_flag.
void write_pps_tail(BitWriter& w, bool redundant_pic_cnt_present) {
    w.ue(2);   // num_ref_idx_l0_default_active_minus1
    w.ue(0);   // num_ref_idx_l1_default_active_minus1
    w.u(1, 0); // weighted_pred_flag
    w.u(2, 0); // weighted_bipred_idc
    w.se(-4);  // pic_init_qp_minus26
    w.se(0);   // pic_init_qs_minus26
    w.se(-2);  // chroma_qp_index_offset
    w.u(1, 1); // deblocking_filter_control_present_flag
    w.u(1, 1); // constrained_intra_pred_flag
    w.u(1, redundant_pic_cnt_present ? 1 : 0);
}

Bytes8 params_pps(const Params& p) {
    BitWriter w;
    w.ue(0);   // pic_parameter_set_id
    w.ue(0);   // seq_parameter_set_id
    w.u(1, 0); // entropy_coding_mode_flag
    w.u(1, p.bottom_field_pic_order ? 1 : 0);
    w.ue(0); // num_slice_groups_minus1
    write_pps_tail(w, p.redundant_pic_cnt_present);
    return w.nal(0x68);
}

struct Slice {
    std::uint8_t header = 0x41; // nal_ref_idc 2, non-IDR slice
    std::uint32_t first_mb = 0;
    std::uint32_t pps_id = 0;
    std::uint32_t frame_num = 0;
    bool field_pic = false;
    bool bottom_field = false;
    std::uint32_t idr_pic_id = 0;
    std::uint32_t poc_lsb = 0;
    std::int32_t delta_poc = 0; // delta_pic_order_cnt_bottom (type 0) or delta_pic_order_cnt[0] (type 1)
    std::uint32_t redundant_pic_cnt = 0;
};

Bytes8 slice_for(const Params& p, const Slice& s) {
    const bool idr = (s.header & 0x1F) == 5;
    BitWriter w;
    w.ue(s.first_mb);
    w.ue(idr ? 7 : 5); // slice_type
    w.ue(s.pps_id);
    w.u(4, s.frame_num);
    if (!p.frame_mbs_only) {
        w.u(1, s.field_pic ? 1 : 0);
        if (s.field_pic) {
            w.u(1, s.bottom_field ? 1 : 0);
        }
    }
    if (idr) {
        w.ue(s.idr_pic_id);
    }
    if (p.poc_type == 0) {
        w.u(6, s.poc_lsb);
        if (p.bottom_field_pic_order && !s.field_pic) {
            w.se(s.delta_poc);
        }
    } else if (p.poc_type == 1) {
        w.se(s.delta_poc);
        if (p.bottom_field_pic_order && !s.field_pic) {
            w.se(0);
        }
    }
    if (p.redundant_pic_cnt_present) {
        w.ue(s.redundant_pic_cnt);
    }
    w.u(8, 0xAA); // the rest of the slice
    return w.nal(s.header);
}

// The indices of the NAL units that the splitter says begin an access unit.
std::vector<std::size_t> access_unit_starts(const std::vector<Bytes8>& nals) {
    h264::AccessUnitSplitter splitter;
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < nals.size(); ++i) {
        auto nal = h264::parse_nal(nals[i], i);
        EXPECT_TRUE(nal) << "NAL unit " << i;
        if (!nal) {
            break;
        }
        auto s = splitter.starts_access_unit(*nal);
        EXPECT_TRUE(s) << "NAL unit " << i << ": " << (s ? "" : s.error().message());
        if (s && *s) {
            starts.push_back(i);
        }
    }
    return starts;
}

// The parameter sets of `p`, then a slice for each of `slices`.
std::vector<Bytes8> stream_of(const Params& p, std::initializer_list<Slice> slices) {
    std::vector<Bytes8> nals = {params_sps(p), params_pps(p)};
    for (const Slice& s : slices) {
        nals.push_back(slice_for(p, s));
    }
    return nals;
}

using Starts = std::vector<std::size_t>;

// Two pictures of two slices each, the second in arbitrary order, so that
// only the fields of `first` and `second` tell them apart: macroblocks 0
// and 6 of `first`, then 6 and 0 of `second`. Where access units begin.
Starts two_pictures(const Params& p, Slice first, Slice second) {
    std::vector<Bytes8> nals = {params_sps(p), params_pps(p)};
    for (const std::uint32_t mb : {0U, 6U}) {
        first.first_mb = mb;
        nals.push_back(slice_for(p, first));
    }
    for (const std::uint32_t mb : {6U, 0U}) {
        second.first_mb = mb;
        nals.push_back(slice_for(p, second));
    }
    return access_unit_starts(nals);
}

TEST(H264Test, SlicesInArbitraryOrderStayInTheirPicture) {
    const Params p;
    const auto nals = stream_of(p, {{.first_mb = 5},
                                    {.first_mb = 0},
                                    {.first_mb = 10},
                                    {.first_mb = 3, .frame_num = 1},
                                    {.first_mb = 0, .frame_num = 1}});
    EXPECT_EQ(access_unit_starts(nals), (Starts{5})); // two access units: NAL units 0 to 4, 5 and 6
}

TEST(H264Test, APictureWhoseFirstSliceIsLostStartsAtItsNewFrameNum) {
    const Params p;
    const auto nals = stream_of(
        p, {{.first_mb = 0}, {.first_mb = 4}, {.first_mb = 4, .frame_num = 1}, {.first_mb = 8, .frame_num = 1}});
    EXPECT_EQ(access_unit_starts(nals), (Starts{4}));
}

TEST(H264Test, NonReferencePicturesWithOneFrameNumAreToldApartByPicOrderCntLsb) {
    EXPECT_EQ(two_pictures({}, {.header = 0x01, .frame_num = 1, .poc_lsb = 2},
                           {.header = 0x01, .frame_num = 1, .poc_lsb = 4}),
              (Starts{4}));
}

TEST(H264Test, PicOrderCntTypeOnePicturesAreToldApartByDeltaPicOrderCnt) {
    EXPECT_EQ(two_pictures({.poc_type = 1}, {.header = 0x01, .frame_num = 1, .delta_poc = 0},
                           {.header = 0x01, .frame_num = 1, .delta_poc = 2}),
              (Starts{4}));
}

TEST(H264Test, IdrPicturesAreToldApartByIdrPicId) {
    EXPECT_EQ(two_pictures({}, {.header = 0x65, .idr_pic_id = 0}, {.header = 0x65, .idr_pic_id = 1}), (Starts{4}));
}

TEST(H264Test, TheFieldsOfAFramePairAreTwoPictures) {
    // Picture order count type 2: nothing but the field flags differ.
    const Params p{.poc_type = 2, .frame_mbs_only = false};
    const auto nals = stream_of(p, {{.first_mb = 0, .field_pic = true},
                                    {.first_mb = 6, .field_pic = true},
                                    {.first_mb = 6, .field_pic = true, .bottom_field = true},
                                    {.first_mb = 0, .field_pic = true, .bottom_field = true},
                                    {.first_mb = 6, .frame_num = 1},
                                    {.first_mb = 6, .frame_num = 1, .field_pic = true}});
    EXPECT_EQ(access_unit_starts(nals), (Starts{4, 6, 7}));
}

TEST(H264Test, RedundantSlicesJoinTheirPrimaryPicture) {
    const Params p{.redundant_pic_cnt_present = true};
    const auto nals = stream_of(p, {{.first_mb = 0},
                                    {.first_mb = 6},
                                    {.first_mb = 0, .redundant_pic_cnt = 1},
                                    {.first_mb = 6, .redundant_pic_cnt = 1},
                                    {.first_mb = 6, .frame_num = 1},
                                    {.first_mb = 0, .frame_num = 1}});
    EXPECT_EQ(access_unit_starts(nals), (Starts{6}));
}

TEST(H264Test, SlicesOfAnUnknownPpsAreSplitByTheirFirstFields) {
    const Params p;
    // PPS 1 was never given: first_mb_in_slice 0 begins a picture.
    const auto nals = stream_of(p, {{.first_mb = 5, .pps_id = 1},
                                    {.first_mb = 0, .pps_id = 1},
                                    {.first_mb = 10, .pps_id = 1},
                                    {.first_mb = 0, .pps_id = 0}});
    EXPECT_EQ(access_unit_starts(nals), (Starts{3, 5}));
}

TEST(H264Test, ASecondSliceAtMacroblockZeroBeginsAPicture) {
    // Every compared field the same, against 7.4.1.2.4: a picture has one
    // slice at macroblock 0.
    const Params p;
    const auto nals = stream_of(p, {{.first_mb = 0}, {.first_mb = 6}, {.first_mb = 0}, {.first_mb = 6}});
    EXPECT_EQ(access_unit_starts(nals), (Starts{4}));
}

TEST(H264Test, ParameterSetsFromCodecDataTellPicturesApart) {
    const Params p;
    h264::AccessUnitSplitter splitter;
    splitter.add_parameter_set(params_sps(p));
    splitter.add_parameter_set(params_pps(p));
    std::vector<bool> starts;
    for (const Bytes8& bytes : {slice_for(p, {.first_mb = 5}), slice_for(p, {.first_mb = 0}),
                                slice_for(p, {.first_mb = 3, .frame_num = 1})}) {
        auto s = splitter.starts_access_unit(h264::parse_nal(bytes, 0).value());
        ASSERT_TRUE(s) << s.error().message();
        starts.push_back(*s);
    }
    EXPECT_EQ(starts, (std::vector<bool>{false, false, true}));

    // reset() forgets the access unit, not the parameter sets.
    splitter.reset();
    EXPECT_FALSE(splitter.has_picture());
    EXPECT_FALSE(splitter.starts_access_unit(h264::parse_nal(slice_for(p, {.first_mb = 5}), 0).value()).value());
    EXPECT_FALSE(splitter.starts_access_unit(h264::parse_nal(slice_for(p, {.first_mb = 0}), 0).value()).value());
}

TEST(H264Test, ParsesPpsSliceGroupMapsOfEveryType) {
    for (const std::uint32_t map_type : {0U, 1U, 2U, 3U, 4U, 5U, 6U}) {
        for (const bool redundant : {false, true}) {
            BitWriter w;
            w.ue(7);   // pic_parameter_set_id
            w.ue(2);   // seq_parameter_set_id
            w.u(1, 1); // entropy_coding_mode_flag
            w.u(1, 1); // bottom_field_pic_order_in_frame_present_flag
            w.ue(2);   // num_slice_groups_minus1: 3 groups
            w.ue(map_type);
            if (map_type == 0) {
                for (int i = 0; i < 3; ++i) {
                    w.ue(40 + i); // run_length_minus1
                }
            } else if (map_type == 2) {
                for (int i = 0; i < 2; ++i) {
                    w.ue(i);      // top_left
                    w.ue(30 + i); // bottom_right
                }
            } else if (map_type >= 3 && map_type <= 5) {
                w.u(1, 1); // slice_group_change_direction_flag
                w.ue(9);   // slice_group_change_rate_minus1
            } else if (map_type == 6) {
                w.ue(98); // pic_size_in_map_units_minus1
                for (int i = 0; i < 99; ++i) {
                    w.u(2, static_cast<std::uint32_t>(i % 3)); // slice_group_id: 2 bits for 3 groups
                }
            }
            write_pps_tail(w, redundant);
            auto pps = h264::parse_pps(w.nal(0x68));
            ASSERT_TRUE(pps) << "map type " << map_type << ": " << pps.error().message();
            EXPECT_EQ(pps->pps_id, 7U);
            EXPECT_EQ(pps->sps_id, 2U);
            EXPECT_TRUE(pps->entropy_coding_mode);
            EXPECT_TRUE(pps->bottom_field_pic_order_in_frame_present);
            EXPECT_EQ(pps->num_slice_groups, 3);
            EXPECT_EQ(pps->slice_group_map_type, map_type);
            EXPECT_EQ(pps->num_ref_idx_l0_default_active, 3);
            EXPECT_EQ(pps->pic_init_qp_minus26, -4);
            EXPECT_EQ(pps->chroma_qp_index_offset, -2);
            EXPECT_TRUE(pps->deblocking_filter_control_present);
            EXPECT_TRUE(pps->constrained_intra_pred);
            EXPECT_EQ(pps->redundant_pic_cnt_present, redundant) << "map type " << map_type;
        }
    }
    BitWriter bad;
    bad.ue(0);
    bad.ue(0);
    bad.u(2, 0);
    bad.ue(1);
    bad.ue(7); // slice_group_map_type
    auto pps = h264::parse_pps(bad.nal(0x68));
    ASSERT_FALSE(pps);
    EXPECT_NE(message_of(pps.error()).find("slice_group_map_type"), std::string::npos) << message_of(pps.error());
}

TEST(H264Test, ParsesSliceHeadersFarBeyondTheirFirstBytes) {
    // A 16-bit frame_num and pic_order_cnt_lsb of zeros and the longest
    // codes put redundant_pic_cnt past the first 32 bytes of the escaped unit.
    BitWriter sw;
    sw.u(8, 66);
    sw.u(8, 0);
    sw.u(8, 30);
    sw.ue(0);
    sw.ue(12); // log2_max_frame_num_minus4: 16 bits
    sw.ue(0);
    sw.ue(12); // log2_max_pic_order_cnt_lsb_minus4: 16 bits
    sw.ue(1);
    sw.u(1, 0);
    sw.ue(10);
    sw.ue(8);
    sw.u(1, 1);
    sw.u(1, 1);
    sw.u(1, 0);
    sw.u(1, 0);
    auto sps = h264::parse_sps(sw.nal(0x67));
    ASSERT_TRUE(sps) << sps.error().message();
    EXPECT_EQ(sps->log2_max_pic_order_cnt_lsb, 16);
    const Params p{.bottom_field_pic_order = true, .redundant_pic_cnt_present = true};
    auto pps = h264::parse_pps(params_pps(p));
    ASSERT_TRUE(pps) << pps.error().message();

    BitWriter w;
    w.ue(0xFFFFFFFEU); // first_mb_in_slice: 63 bits (its range is not checked here)
    w.ue(7);           // slice_type
    w.ue(0);           // pic_parameter_set_id
    w.u(16, 0);        // frame_num
    w.ue(65535);       // idr_pic_id
    w.u(16, 0);        // pic_order_cnt_lsb
    w.se(-2147483647); // delta_pic_order_cnt_bottom
    w.ue(127);         // redundant_pic_cnt
    const Bytes8 nal = w.nal(0x65);
    ASSERT_GT(nal.size(), 32U);
    auto h = h264::parse_slice_header(nal, *sps, *pps);
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->first_mb_in_slice, 0xFFFFFFFEU);
    EXPECT_TRUE(h->idr);
    EXPECT_EQ(h->nal_ref_idc, 3);
    EXPECT_EQ(h->idr_pic_id, 65535U);
    EXPECT_EQ(h->delta_pic_order_cnt_bottom, -2147483647);
    EXPECT_EQ(h->redundant_pic_cnt, 127U);
}

TEST(H264Test, MalformedSliceHeadersAreErrorsNamingTheNalUnitAndTheField) {
    const Params p;
    BitWriter w;
    w.ue(0); // first_mb_in_slice
    w.ue(5); // slice_type
    w.ue(0); // pic_parameter_set_id; frame_num is cut
    const Bytes8 cut = w.nal(0x41);
    const Bytes8 sps = params_sps(p);
    const Bytes8 pps = params_pps(p);
    const Bytes8 stream = annex_b({&sps, &pps, &cut});
    auto nals = h264::split_annex_b(stream);
    ASSERT_TRUE(nals) << nals.error().message();
    h264::AccessUnitSplitter splitter;
    ASSERT_TRUE(splitter.starts_access_unit((*nals)[0]));
    ASSERT_TRUE(splitter.starts_access_unit((*nals)[1]));
    auto s = splitter.starts_access_unit((*nals)[2]);
    ASSERT_FALSE(s);
    const std::string message = message_of(s.error());
    EXPECT_NE(message.find(fmt::format("byte {}", (*nals)[2].offset)), std::string::npos) << message;
    EXPECT_NE(message.find("frame_num"), std::string::npos) << message;

    auto direct = h264::parse_slice_header(cut, h264::parse_sps(sps).value(), h264::parse_pps(pps).value());
    ASSERT_FALSE(direct);
    EXPECT_NE(message_of(direct.error()).find("frame_num"), std::string::npos) << message_of(direct.error());
    const Bytes8 other_pps = slice_for(p, {.pps_id = 3});
    EXPECT_FALSE(h264::parse_slice_header(other_pps, h264::parse_sps(sps).value(), h264::parse_pps(pps).value()));
}

TEST(H264Test, AvccRoundTrips) {
    const std::vector<Bytes8> sps = {x264_high_sps};
    const std::vector<Bytes8> pps = {x264_high_pps, x264_baseline_pps};
    auto record = h264::make_avcc(sps, pps);
    ASSERT_TRUE(record) << record.error().message();
    EXPECT_EQ((*record)[0], 1);
    EXPECT_EQ((*record)[1], 100);
    EXPECT_EQ((*record)[3], 40);
    EXPECT_EQ((*record)[4], 0xff);
    EXPECT_EQ((*record)[5], 0xe1);
    auto back = h264::parse_avcc(*record);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->profile_idc, 100);
    EXPECT_EQ(back->level_idc, 40);
    EXPECT_EQ(back->length_size, 4);
    EXPECT_EQ(back->sps, sps);
    EXPECT_EQ(back->pps, pps);
    EXPECT_TRUE(back->has_extension);
    EXPECT_EQ(back->chroma_format_idc, 1);
    EXPECT_EQ(back->bit_depth_luma, 8);

    auto baseline = h264::make_avcc(std::vector<Bytes8>{x264_baseline_sps}, std::vector<Bytes8>{x264_baseline_pps}, 2);
    ASSERT_TRUE(baseline);
    EXPECT_EQ(baseline->size(), 6U + 2 + x264_baseline_sps.size() + 1 + 2 + x264_baseline_pps.size());
    auto base_back = h264::parse_avcc(*baseline);
    ASSERT_TRUE(base_back);
    EXPECT_EQ(base_back->length_size, 2);
    EXPECT_FALSE(base_back->has_extension);
    EXPECT_EQ(base_back->profile_compatibility, 0xc0);
}

TEST(H264Test, MalformedAvccIsAnErrorNamingTheByte) {
    auto record = h264::make_avcc(std::vector<Bytes8>{x264_baseline_sps}, std::vector<Bytes8>{x264_baseline_pps});
    ASSERT_TRUE(record);
    for (std::size_t n = 0; n + 1 < record->size(); ++n) {
        EXPECT_FALSE(h264::parse_avcc(std::span(*record).first(n))) << "cut to " << n;
    }
    Bytes8 version = *record;
    version[0] = 2;
    auto v = h264::parse_avcc(version);
    ASSERT_FALSE(v);
    EXPECT_NE(message_of(v.error()).find("byte 0"), std::string::npos);
    Bytes8 length = *record;
    length[6] = 0x40; // SPS length 16384
    auto l = h264::parse_avcc(length);
    ASSERT_FALSE(l);
    EXPECT_NE(message_of(l.error()).find("byte 8"), std::string::npos) << message_of(l.error());
    Bytes8 type = *record;
    type[8] = 0x68; // a PPS where the SPS goes
    EXPECT_FALSE(h264::parse_avcc(type));
    Bytes8 three = *record;
    three[4] = 0xfe;
    EXPECT_FALSE(h264::parse_avcc(three));
    EXPECT_FALSE(h264::make_avcc(std::vector<Bytes8>{}, std::vector<Bytes8>{}));
    EXPECT_FALSE(h264::make_avcc(std::vector<Bytes8>{x264_baseline_pps}, std::vector<Bytes8>{}));
}

TEST(H264Test, ConvertsAccessUnitsBetweenAnnexBAndLengthPrefixedForms) {
    const Bytes8 idr = slice_nal(0x65, 0);
    const Bytes8 au = annex_b({&x264_baseline_sps, &x264_baseline_pps, &idr});
    auto prefixed = h264::to_length_prefixed(au);
    ASSERT_TRUE(prefixed) << prefixed.error().message();
    EXPECT_EQ(prefixed->size(), au.size());
    EXPECT_EQ((*prefixed)[3], x264_baseline_sps.size());
    auto nals = h264::split_length_prefixed(*prefixed);
    ASSERT_TRUE(nals);
    ASSERT_EQ(nals->size(), 3U);
    EXPECT_EQ((*nals)[2].type, h264::NalType::slice_idr);
    auto back = h264::to_annex_b(*prefixed);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, au);

    Bytes8 short_length = *prefixed;
    short_length[3] = 0xff;
    auto bad = h264::to_annex_b(short_length);
    ASSERT_FALSE(bad);
    EXPECT_NE(message_of(bad.error()).find("at byte 0"), std::string::npos) << message_of(bad.error());
    EXPECT_FALSE(h264::to_annex_b(Bytes8{0x00, 0x00, 0x01}));
    EXPECT_FALSE(h264::split_length_prefixed(*prefixed, 3));
}

} // namespace
} // namespace parallax::h264_test
