// MPEG-TS building blocks: packets, sections, PES headers, the codecs'
// descriptors and payload formats, each against known bytes, in round
// trips, and with every kind of damage the readers must name.

#include <parallax/codec/av1.hpp>
#include <parallax/container/mpegts.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parallax {
namespace {

using Bytes8 = std::vector<std::uint8_t>;

// The PAT ffmpeg writes by default (transport stream 1, program 1 on PMT
// PID 0x1000), CRC included.
const Bytes8 ffmpeg_pat = {0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00,
                           0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2};

TEST(MpegTsTest, CrcOfAWholeSectionIsZero) {
    EXPECT_EQ(mpegts::crc32(ffmpeg_pat), 0U);
    const Bytes8 body(ffmpeg_pat.begin(), ffmpeg_pat.end() - 4);
    EXPECT_EQ(mpegts::crc32(body), 0x2ab104b2U);
}

TEST(MpegTsTest, PatIsWrittenAsFfmpegWritesIt) {
    mpegts::Pat pat;
    pat.programs.push_back({1, 0x1000});
    EXPECT_EQ(mpegts::write_pat(pat).value(), ffmpeg_pat);
    auto back = mpegts::parse_pat(ffmpeg_pat).value();
    EXPECT_EQ(back.transport_stream_id, 1);
    ASSERT_EQ(back.programs.size(), 1U);
    EXPECT_EQ(back.programs[0], (mpegts::PatProgram{1, 0x1000}));
}

TEST(MpegTsTest, PmtRoundTripsWithDescriptors) {
    mpegts::Pmt pmt;
    pmt.program_number = 7;
    pmt.version = 3;
    pmt.pcr_pid = 0x100;
    pmt.program_descriptors.push_back(mpegts::klv_metadata_pointer_descriptor(0, 7));
    pmt.streams.push_back({mpegts::stream_type::h264, 0x100, {}});
    pmt.streams.push_back({mpegts::stream_type::private_pes,
                           0x101,
                           {mpegts::registration_descriptor("Opus"), mpegts::opus_audio_descriptor(2)}});
    pmt.streams.push_back({mpegts::stream_type::metadata_pes,
                           0x102,
                           {mpegts::klv_metadata_descriptor(0), mpegts::klv_metadata_std_descriptor()}});
    const auto bytes = mpegts::write_pmt(pmt).value();
    EXPECT_EQ(mpegts::crc32(bytes), 0U);
    auto back = mpegts::parse_pmt(bytes).value();
    EXPECT_EQ(back.program_number, 7);
    EXPECT_EQ(back.version, 3);
    EXPECT_EQ(back.pcr_pid, 0x100);
    EXPECT_EQ(back.program_descriptors, pmt.program_descriptors);
    ASSERT_EQ(back.streams.size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(back.streams[i].stream_type, pmt.streams[i].stream_type);
        EXPECT_EQ(back.streams[i].pid, pmt.streams[i].pid);
        EXPECT_EQ(back.streams[i].descriptors, pmt.streams[i].descriptors);
    }
    EXPECT_EQ(mpegts::find_registration(back.streams[1].descriptors), "Opus");
    EXPECT_EQ(mpegts::opus_channel_config(back.streams[1].descriptors[1]).value(), std::uint8_t{2});
    EXPECT_TRUE(mpegts::is_klv_metadata_descriptor(back.streams[2].descriptors[0]));
    EXPECT_FALSE(mpegts::is_klv_metadata_descriptor(back.streams[2].descriptors[1]));
}

std::string error_of(const Result<mpegts::Pmt>& r) {
    return r ? std::string("no error") : r.error().message();
}

TEST(MpegTsTest, DamagedSectionsAreErrorsNamingTheField) {
    mpegts::Pmt pmt;
    pmt.streams.push_back({mpegts::stream_type::h264, 0x100, {mpegts::registration_descriptor("HDMV")}});
    const auto good = mpegts::write_pmt(pmt).value();

    auto bad_crc = good;
    bad_crc[9] ^= 0x01;
    EXPECT_NE(error_of(mpegts::parse_pmt(bad_crc)).find("CRC_32"), std::string::npos);

    auto wrong_table = good;
    wrong_table[0] = 0x42;
    EXPECT_NE(error_of(mpegts::parse_pmt(wrong_table)).find("table_id 0x42"), std::string::npos);

    const Bytes8 short_one(good.begin(), good.begin() + 10);
    EXPECT_NE(error_of(mpegts::parse_pmt(short_one)).find("shorter"), std::string::npos);

    auto wrong_length = good;
    wrong_length.push_back(0);
    EXPECT_NE(error_of(mpegts::parse_pmt(wrong_length)).find("section_length"), std::string::npos);

    // An ES_info_length running past the section, with the CRC made good
    // again so that the loop check is what fails.
    auto long_info = good;
    long_info[12 + 3] = 0xF0;
    long_info[12 + 4] = 0x40;
    const Bytes8 body(long_info.begin(), long_info.end() - 4);
    const std::uint32_t crc = mpegts::crc32(body);
    for (int i = 0; i < 4; ++i) {
        long_info[long_info.size() - 4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    }
    EXPECT_NE(error_of(mpegts::parse_pmt(long_info)).find("ES_info_length 64 of PID 0x0100"), std::string::npos)
        << error_of(mpegts::parse_pmt(long_info));
}

TEST(MpegTsTest, PacketsCarryPayloadStuffingAndPcr) {
    Bytes8 out;
    const Bytes8 payload(300, 0xAB);
    mpegts::AdaptationField af;
    af.random_access = true;
    af.pcr = 123456789ULL * 300 + 17;
    const std::size_t n1 = mpegts::write_packet(out, 0x101, true, 5, &af, payload);
    EXPECT_EQ(n1, 188U - 4 - 8);
    const std::size_t n2 = mpegts::write_packet(out, 0x101, false, 6, nullptr, std::span(payload).subspan(n1));
    EXPECT_EQ(n2, payload.size() - n1) << "the rest fits one packet, stuffed";
    ASSERT_EQ(out.size(), 2 * mpegts::packet_size);

    auto p1 = mpegts::parse_packet(std::span(out).first(188)).value();
    EXPECT_TRUE(p1.payload_unit_start);
    EXPECT_EQ(p1.pid, 0x101);
    EXPECT_EQ(p1.continuity_counter, 5);
    ASSERT_TRUE(p1.adaptation);
    EXPECT_TRUE(p1.adaptation->random_access);
    EXPECT_EQ(p1.adaptation->pcr, af.pcr);
    EXPECT_EQ(p1.payload.size(), n1);
    auto p2 = mpegts::parse_packet(std::span(out).subspan(188)).value();
    EXPECT_FALSE(p2.payload_unit_start);
    ASSERT_TRUE(p2.adaptation) << "stuffing lives in an adaptation field";
    EXPECT_EQ(p2.payload.size(), n2);
    for (const auto b : p2.payload) {
        EXPECT_EQ(b, 0xAB);
    }
    // A payload one byte short of full needs the one-byte adaptation field.
    Bytes8 one;
    EXPECT_EQ(mpegts::write_packet(one, 0x20, false, 0, nullptr, Bytes8(183, 1)), 183U);
    auto p3 = mpegts::parse_packet(one).value();
    EXPECT_EQ(p3.payload.size(), 183U);
    EXPECT_EQ(one[4], 0) << "adaptation_field_length 0";
}

TEST(MpegTsTest, DamagedPacketsAreErrorsNamingTheOffset) {
    Bytes8 p(188, 0);
    p[0] = 0x48;
    auto r = mpegts::parse_packet(p, 1880);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("byte 1880: sync byte 0x48"), std::string::npos) << r.error().message();
    p[0] = 0x47;
    p[3] = 0x30; // adaptation field and payload
    p[4] = 183;  // leaves no room for payload
    r = mpegts::parse_packet(p, 0);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("adaptation_field_length 183"), std::string::npos) << r.error().message();
    r = mpegts::parse_packet(Bytes8(100, 0x47), 0);
    ASSERT_FALSE(r);
}

TEST(MpegTsTest, SectionsAreAssembledAcrossPacketsAndGaps) {
    // A PMT large enough to need three packets.
    mpegts::Pmt pmt;
    for (std::uint16_t i = 0; i < 40; ++i) {
        pmt.streams.push_back({mpegts::stream_type::private_pes,
                               static_cast<std::uint16_t>(0x100 + i),
                               {mpegts::registration_descriptor("ABCD")}});
    }
    const auto section = mpegts::write_pmt(pmt).value();
    Bytes8 packets;
    std::uint8_t cc = 0;
    mpegts::write_section_packets(packets, 0x1000, cc, section);
    ASSERT_EQ(packets.size(), 3 * mpegts::packet_size);
    EXPECT_EQ(cc, 3);

    mpegts::SectionAssembler whole;
    std::vector<Bytes8> got;
    for (std::size_t at = 0; at < packets.size(); at += 188) {
        for (auto& s : whole.push(mpegts::parse_packet(std::span(packets).subspan(at, 188)).value())) {
            got.push_back(std::move(s));
        }
    }
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0], section);

    // The middle packet lost: nothing comes out, and the loss is counted.
    mpegts::SectionAssembler gap;
    EXPECT_TRUE(gap.push(mpegts::parse_packet(std::span(packets).first(188)).value()).empty());
    EXPECT_TRUE(gap.push(mpegts::parse_packet(std::span(packets).subspan(376, 188)).value()).empty());
    EXPECT_EQ(gap.dropped(), 1U);
}

TEST(MpegTsTest, PesHeadersRoundTripWithThirtyThreeBitTimes) {
    Bytes8 h;
    const std::uint64_t pts = (std::uint64_t{1} << 33) - 5;
    ASSERT_TRUE(mpegts::write_pes_header(h, 0xE0, pts, 1234, 1000));
    auto back = mpegts::parse_pes_header(h).value();
    EXPECT_EQ(back.stream_id, 0xE0);
    EXPECT_EQ(back.pts, pts);
    EXPECT_EQ(back.dts, 1234U);
    EXPECT_EQ(back.header_size, 19U);
    EXPECT_EQ(back.packet_length, 3 + 10 + 1000);
    EXPECT_TRUE(back.data_alignment);

    Bytes8 same;
    ASSERT_TRUE(mpegts::write_pes_header(same, 0xBD, 90000, 90000, 10));
    EXPECT_FALSE(mpegts::parse_pes_header(same).value().dts) << "a DTS equal to the PTS is left out";

    Bytes8 big;
    ASSERT_TRUE(mpegts::write_pes_header(big, 0xE0, 0, std::nullopt, 100000));
    EXPECT_EQ(mpegts::parse_pes_header(big).value().packet_length, 0) << "video may be unbounded";
    Bytes8 big_audio;
    auto r = mpegts::write_pes_header(big_audio, 0xBD, 0, std::nullopt, 100000);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("stream_id 0xbd"), std::string::npos) << r.error().message();
}

TEST(MpegTsTest, DamagedPesHeadersAreErrorsNamingTheField) {
    Bytes8 h;
    ASSERT_TRUE(mpegts::write_pes_header(h, 0xE0, 1000, std::nullopt, 10));
    auto no_prefix = h;
    no_prefix[2] = 2;
    EXPECT_NE(mpegts::parse_pes_header(no_prefix).error().message().find("packet_start_code_prefix"),
              std::string::npos);
    auto marker = h;
    marker[9] &= 0xFE;
    EXPECT_NE(mpegts::parse_pes_header(marker).error().message().find("PTS at byte 9"), std::string::npos);
    auto too_long = h;
    too_long[8] = 40;
    EXPECT_NE(mpegts::parse_pes_header(too_long).error().message().find("PES_header_data_length 40"),
              std::string::npos);
    auto forbidden = h;
    forbidden[7] = 0x40;
    EXPECT_NE(mpegts::parse_pes_header(forbidden).error().message().find("'01'"), std::string::npos);
}

TEST(MpegTsTest, TimesConvertAndUnwrap) {
    EXPECT_EQ(mpegts::ns_to_pts(1'000'000'000), 90000U);
    EXPECT_EQ(mpegts::ns_to_pts(0, 63000), 63000U);
    EXPECT_EQ(mpegts::ns_to_pts(-1'000'000'000, 63000), mpegts::pts_wrap - 27000);
    EXPECT_EQ(mpegts::ns_to_pts(-6'500'000, 63000), 63000U - 585U);
    EXPECT_EQ(mpegts::pts_to_ns(90000), 1'000'000'000);
    EXPECT_EQ(mpegts::pts_to_ns(1), 11111);

    mpegts::TimestampUnwrapper u;
    const std::uint64_t near_end = mpegts::pts_wrap - 1000;
    EXPECT_EQ(u.unwrap(near_end), static_cast<std::int64_t>(near_end));
    EXPECT_EQ(u.unwrap(500), static_cast<std::int64_t>(mpegts::pts_wrap + 500)) << "forward across the wrap";
    EXPECT_EQ(u.unwrap(mpegts::pts_wrap - 2000), static_cast<std::int64_t>(mpegts::pts_wrap - 2000))
        << "a B-frame's slightly earlier time before the wrap";
}

TEST(MpegTsTest, OpusControlHeadersRoundTrip) {
    Bytes8 h;
    mpegts::write_opus_control_header(h, 600, 312, 648);
    EXPECT_EQ(h, (Bytes8{0x7F, 0xF8, 0xFF, 0xFF, 0x5A, 0x01, 0x38, 0x02, 0x88}));
    auto back = mpegts::parse_opus_control_header(h).value();
    EXPECT_EQ(back.au_size, 600U);
    EXPECT_EQ(back.start_trim, 312);
    EXPECT_EQ(back.end_trim, 648);
    EXPECT_EQ(back.header_size, h.size());

    Bytes8 plain;
    mpegts::write_opus_control_header(plain, 254);
    EXPECT_EQ(plain, (Bytes8{0x7F, 0xE0, 0xFE}));

    EXPECT_FALSE(mpegts::parse_opus_control_header(Bytes8{0x7E, 0xE0, 0x10}));
    auto cut = mpegts::parse_opus_control_header(Bytes8{0x7F, 0xF0, 0x10, 0x01});
    ASSERT_FALSE(cut);
    EXPECT_NE(cut.error().message().find("start_trim"), std::string::npos);
    auto code = mpegts::opus_channel_config(mpegts::Descriptor{0x7F, {0x80, 0x81}});
    ASSERT_FALSE(code);
    EXPECT_NE(code.error().message().find("0x81"), std::string::npos);
}

TEST(MpegTsTest, Av1StartCodeFormatEscapesAndComesBack) {
    // A temporal delimiter, then an OBU_PADDING whose payload would emulate
    // start codes, then a metadata OBU without obu_size.
    const Bytes8 tu = {0x12, 0x00, 0x7A, 0x06, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
    const auto sc = mpegts::av1_to_start_code(tu).value();
    // The delimiter goes (the PES boundary marks the unit); the padding OBU
    // gets a start code and two emulation prevention bytes.
    EXPECT_EQ(sc, (Bytes8{0x00, 0x00, 0x01, 0x7A, 0x06, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00}));
    EXPECT_EQ(mpegts::av1_from_start_code(sc).value(), tu);

    // OBUs without obu_size get one on the way back.
    const Bytes8 sizeless = {0x00, 0x00, 0x01, 0x28, 0xAA, 0xBB, 0x00, 0x00, 0x01, 0x78, 0x01};
    EXPECT_EQ(mpegts::av1_from_start_code(sizeless).value(),
              (Bytes8{0x12, 0x00, 0x2A, 0x02, 0xAA, 0xBB, 0x7A, 0x01, 0x01}));

    auto bad = mpegts::av1_from_start_code(Bytes8{0x01, 0x02, 0x00, 0x00, 0x01, 0x12});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("start code"), std::string::npos);
    auto forbidden = mpegts::av1_from_start_code(Bytes8{0x00, 0x00, 0x01, 0x80});
    ASSERT_FALSE(forbidden);
    EXPECT_NE(forbidden.error().message().find("OBU header 0x80"), std::string::npos);
}

TEST(MpegTsTest, Av1VideoDescriptorKeepsTheAv1cBytes) {
    const Bytes8 av1c = {0x81, 0x04, 0x0C, 0x00};
    auto d = mpegts::av1_video_descriptor(av1c, 1).value();
    EXPECT_EQ(d.tag, 0x80);
    EXPECT_EQ(d.data, (Bytes8{0x81, 0x04, 0x0C, 0x40}));
    EXPECT_EQ(mpegts::av1c_from_descriptor(d).value(), av1c);
    EXPECT_FALSE(mpegts::av1_video_descriptor(Bytes8{0x01, 0x04}));
}

TEST(MpegTsTest, MetadataCellsRoundTripAndDamageIsNamed) {
    Bytes8 payload;
    mpegts::write_metadata_cell(payload, 0, 9, Bytes8{1, 2, 3});
    mpegts::write_metadata_cell(payload, 0, 10, Bytes8{4});
    auto cells = mpegts::parse_metadata_cells(payload).value();
    ASSERT_EQ(cells.size(), 2U);
    EXPECT_EQ(cells[0].sequence_number, 9);
    EXPECT_EQ(cells[0].fragment, 3);
    EXPECT_TRUE(cells[0].random_access);
    EXPECT_EQ(Bytes8(cells[1].data.begin(), cells[1].data.end()), Bytes8{4});
    payload[4 + 8] = 50; // the second cell's length
    auto bad = mpegts::parse_metadata_cells(payload);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("cell at byte 8: AU_cell_data_length 50"), std::string::npos)
        << bad.error().message();
}

TEST(MpegTsTest, SyncIsFoundPastGarbage) {
    Bytes8 data(5, 0x47);
    std::uint8_t cc = 0;
    mpegts::write_section_packets(data, 0, cc, ffmpeg_pat);
    mpegts::write_section_packets(data, 0, cc, ffmpeg_pat);
    mpegts::write_section_packets(data, 0, cc, ffmpeg_pat);
    EXPECT_EQ(mpegts::find_sync(data), 5U) << "stray 0x47 bytes are not taken for packets";
    EXPECT_EQ(mpegts::find_sync(Bytes8(400, 0x00)), 400U);
}

} // namespace
} // namespace parallax
