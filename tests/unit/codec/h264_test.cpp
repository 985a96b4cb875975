// H.264 bitstream: start codes, NAL headers, emulation prevention, the
// exp-Golomb reader, SPS of streams written by x264 and of hand-built
// headers (scaling lists, cropping, VUI), PPS and slice header ids, access
// unit boundaries, avcC and the conversion between Annex B and
// length-prefixed access units; malformed input is an error naming the
// field and the byte.

#include <parallax/caps/structure.hpp>
#include <parallax/codec/h264.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parallax {
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
    void se(std::int32_t v) { ue(v > 0 ? static_cast<std::uint32_t>(2 * v - 1) : static_cast<std::uint32_t>(-2 * v)); }
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

TEST(H264Test, RejectsSpsWithBadValues) {
    EXPECT_FALSE(h264::parse_sps(x264_baseline_pps)); // not an SPS
    EXPECT_FALSE(h264::parse_sps(Bytes8{}));
    Bytes8 forbidden = x264_baseline_sps;
    forbidden[0] |= 0x80;
    auto f = h264::parse_sps(forbidden);
    ASSERT_FALSE(f);
    EXPECT_NE(message_of(f.error()).find("forbidden_zero_bit"), std::string::npos);

    BitWriter w; // cropping that leaves nothing
    w.u(8, 66);
    w.u(8, 0);
    w.u(8, 30);
    w.ue(0);
    w.ue(0);
    w.ue(0);
    w.ue(4);
    w.ue(1);
    w.u(1, 0);
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
    big.u(8, 66);
    big.u(8, 0);
    big.u(8, 30);
    big.ue(0);
    big.ue(0);
    big.ue(0);
    big.ue(4);
    big.ue(1);
    big.u(1, 0);
    big.ue(1U << 20);
    big.ue(0);
    big.u(1, 1);
    big.u(1, 1);
    big.u(1, 0);
    big.u(1, 0);
    auto wide = h264::parse_sps(big.nal(0x67));
    ASSERT_FALSE(wide);
    EXPECT_NE(message_of(wide.error()).find("pic_width_in_mbs_minus1"), std::string::npos);
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
} // namespace parallax
