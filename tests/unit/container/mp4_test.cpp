// ISO BMFF box writing: sizes and nesting, the 64-bit forms, the sample
// tables of a moov, dOps from OpusHead, av1C copied into av01, moof.

#include <parallax/codec/av1.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/mp4.hpp>

#include "unit/elements/mp4_test_support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace parallax {
namespace {

using check::be32;
using check::parse_boxes;

TEST(Mp4Test, BoxesGetTheirSizeAndNest) {
    mp4::BoxWriter w;
    const auto outer = w.begin("moov");
    const auto inner = w.begin_full("mvhd", 1, 0x000203);
    w.u32(0x11223344);
    w.end(inner);
    const auto empty = w.begin("free");
    w.end(empty);
    w.end(outer);
    EXPECT_EQ(w.take(),
              (std::vector<std::uint8_t>{0, 0, 0, 32, 'm',  'o',  'o',  'v',  0, 0, 0, 16, 'm', 'v', 'h', 'd',
                                         1, 0, 2, 3,  0x11, 0x22, 0x33, 0x44, 0, 0, 0, 8,  'f', 'r', 'e', 'e'}));
}

TEST(Mp4Test, IntegersAreBigEndian) {
    mp4::BoxWriter w;
    w.u16(0x0102);
    w.u24(0x030405);
    w.u32(0x06070809);
    w.u64(0x0A0B0C0D0E0F1011);
    EXPECT_EQ(w.take(), (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}));
}

TEST(Mp4Test, MdatHeaderSwitchesToLargesizeBeyond32Bits) {
    EXPECT_EQ(mp4::mdat_header(100), (std::vector<std::uint8_t>{0, 0, 0, 108, 'm', 'd', 'a', 't'}));
    EXPECT_EQ(mp4::mdat_header(0xFFFFFFFFULL - 8).size(), 8U);
    const auto big = mp4::mdat_header(0xFFFFFFFFULL);
    ASSERT_EQ(big.size(), 16U);
    EXPECT_EQ(be32(big, 0), 1U);
    EXPECT_EQ(check::be64(big, 8), 0xFFFFFFFFULL + 16);
}

TEST(Mp4Test, FtypListsItsBrands) {
    constexpr std::array<std::string_view, 2> brands = {"isom", "av01"};
    const auto f = mp4::make_ftyp("isom", brands);
    EXPECT_EQ(f, (std::vector<std::uint8_t>{0, 0, 0, 24, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm',
                                            0, 0, 0, 0,  'i', 's', 'o', 'm', 'a', 'v', '0', '1'}));
}

// The example of the Opus mapping: stereo, pre-skip 312, 48 kHz input, no
// gain, family 0. OpusHead is little-endian, dOps big-endian.
TEST(Mp4Test, DopsFromAStereoOpusHeadMatchesTheSpecLayout) {
    const std::vector<std::uint8_t> head = {'O',  'p',  'u',  's',  'H',  'e',  'a',  'd',  1,   2,
                                            0x38, 0x01, 0x80, 0xBB, 0x00, 0x00, 0x00, 0x00, 0x00};
    auto dops = mp4::make_dops(std::span<const std::uint8_t>(head));
    ASSERT_TRUE(dops) << dops.error().to_string();
    EXPECT_EQ(*dops, (std::vector<std::uint8_t>{0, 0, 0, 19, 'd', 'O', 'p', 's', 0, 2, 0x01, 0x38, 0x00, 0x00, 0xBB,
                                                0x80, 0x00, 0x00, 0x00}));
}

TEST(Mp4Test, DopsOfFamilyOneCarriesTheMappingTable) {
    opus::Header h;
    h.channels = 6;
    h.pre_skip = 0x0102;
    h.input_sample_rate = 44100;
    h.output_gain = -256; // -1 dB in Q7.8
    h.mapping_family = 1;
    h.stream_count = 4;
    h.coupled_count = 2;
    h.mapping = {0, 4, 1, 2, 3, 5};
    auto dops = mp4::make_dops(std::span<const std::uint8_t>(opus::write_head(h)));
    ASSERT_TRUE(dops);
    EXPECT_EQ(*dops,
              (std::vector<std::uint8_t>{0,    0,    0,    27,   'd', 'O', 'p', 's', 0, 6, 0x01, 0x02, 0x00, 0x00,
                                         0xAC, 0x44, 0xFF, 0x00, 1,   4,   2,   0,   4, 1, 2,    3,    5}));
}

TEST(Mp4Test, DopsOfABadOpusHeadIsAnError) {
    const std::vector<std::uint8_t> bad = {'O', 'p', 'u', 's', 'T', 'a', 'g', 's'};
    auto dops = mp4::make_dops(std::span<const std::uint8_t>(bad));
    ASSERT_FALSE(dops);
    EXPECT_FALSE(dops.error().message().empty());
}

TEST(Mp4Test, OpusSampleEntryHoldsDops) {
    opus::Header h;
    h.channels = 2;
    h.pre_skip = 312;
    h.coupled_count = 1;
    const auto entry = mp4::make_opus_entry(h);
    const auto boxes = parse_boxes(entry);
    ASSERT_EQ(boxes.size(), 1U);
    EXPECT_EQ(boxes[0].type, "Opus");
    ASSERT_EQ(boxes[0].payload.size(), 28U + 19U);
    EXPECT_EQ(boxes[0].payload[17], 2);                  // channelcount
    EXPECT_EQ(be32(boxes[0].payload, 24), 48000U << 16); // samplerate
    EXPECT_EQ(std::string(boxes[0].payload.begin() + 32, boxes[0].payload.begin() + 36), "dOps");
}

TEST(Mp4Test, Av01EntryCopiesTheAv1cRecord) {
    av1::SequenceHeader seq;
    seq.level = 8;
    const std::vector<std::uint8_t> av1c = av1::make_av1c(seq, {});
    const auto entry = mp4::make_visual_entry("av01", 320, 240, "av1C", av1c);
    const auto boxes = parse_boxes(entry);
    ASSERT_EQ(boxes.size(), 1U);
    EXPECT_EQ(boxes[0].type, "av01");
    ASSERT_EQ(boxes[0].payload.size(), 78U + 8U + av1c.size());
    EXPECT_EQ(boxes[0].payload[24], 320 >> 8);
    EXPECT_EQ(boxes[0].payload[25], 320 & 0xFF);
    const auto config = parse_boxes(boxes[0].payload.subspan(78));
    ASSERT_EQ(config.size(), 1U);
    EXPECT_EQ(config[0].type, "av1C");
    EXPECT_EQ(std::vector<std::uint8_t>(config[0].payload.begin(), config[0].payload.end()), av1c);
}

mp4::Movie two_track_movie(std::uint64_t offset_base) {
    mp4::Movie m;
    mp4::Track v;
    v.id = 1;
    v.kind = mp4::TrackKind::video;
    v.timescale = 90000;
    v.width = 320;
    v.height = 240;
    v.sample_entry = mp4::make_visual_entry("av01", 320, 240, "av1C", std::vector<std::uint8_t>{0x81, 0, 0, 0});
    std::uint64_t at = offset_base;
    for (int i = 0; i < 6; ++i) {
        // Two chunks of three samples, a gap between them.
        if (i == 3) {
            at += 1000;
        }
        v.samples.push_back({at, 100, 3600, 0, i % 3 == 0});
        at += 100;
    }
    v.edits.push_back({240, 0});
    m.tracks.push_back(v);
    return m;
}

TEST(Mp4Test, MoovHasTheSampleTables) {
    const auto moov = mp4::make_moov(two_track_movie(1000));
    const auto boxes = parse_boxes(moov);
    ASSERT_EQ(boxes.size(), 1U);
    const check::Box& m = boxes[0];
    ASSERT_NE(m.find("mvhd"), nullptr);
    const check::Box* stbl = m.find("trak/mdia/minf/stbl");
    ASSERT_NE(stbl, nullptr);
    EXPECT_EQ(check::handler_of(*m.find("trak")), "vide");
    EXPECT_NE(m.find("trak/edts/elst"), nullptr);
    EXPECT_NE(m.find("trak/mdia/minf/vmhd"), nullptr);
    EXPECT_NE(m.find("trak/mdia/minf/dinf/dref"), nullptr);
    EXPECT_NE(stbl->find("stsd/av01"), nullptr);
    EXPECT_EQ(check::stsz_count(*stbl->find("stsz")), 6U);
    EXPECT_EQ(check::stss_entries(*stbl->find("stss")), (std::vector<std::uint32_t>{1, 4}));
    EXPECT_EQ(stbl->find("ctts"), nullptr);
    // stts: one run of six 3600s.
    const check::Box* stts = stbl->find("stts");
    EXPECT_EQ(be32(stts->payload, 4), 1U);
    EXPECT_EQ(be32(stts->payload, 8), 6U);
    EXPECT_EQ(be32(stts->payload, 12), 3600U);
    // stco: two chunks of three.
    const check::Box* stco = stbl->find("stco");
    ASSERT_NE(stco, nullptr);
    EXPECT_EQ(be32(stco->payload, 4), 2U);
    EXPECT_EQ(be32(stco->payload, 8), 1000U);
    EXPECT_EQ(be32(stco->payload, 12), 2300U);
    const check::Box* stsc = stbl->find("stsc");
    EXPECT_EQ(be32(stsc->payload, 4), 1U);
    EXPECT_EQ(be32(stsc->payload, 12), 3U);
    EXPECT_EQ(stbl->find("co64"), nullptr);
}

TEST(Mp4Test, OffsetsBeyond32BitsUseCo64) {
    const auto moov = mp4::make_moov(two_track_movie(0xFFFFFF00ULL));
    const auto boxes = parse_boxes(moov);
    const check::Box* stbl = boxes.at(0).find("trak/mdia/minf/stbl");
    ASSERT_NE(stbl, nullptr);
    EXPECT_EQ(stbl->find("stco"), nullptr);
    const check::Box* co64 = stbl->find("co64");
    ASSERT_NE(co64, nullptr);
    EXPECT_EQ(be32(co64->payload, 4), 2U);
    EXPECT_EQ(check::be64(co64->payload, 8), 0xFFFFFF00ULL);
    EXPECT_EQ(check::be64(co64->payload, 16), 0xFFFFFF00ULL + 1300);
}

TEST(Mp4Test, CompositionOffsetsGiveCtts) {
    mp4::Movie m = two_track_movie(0);
    m.tracks[0].samples[1].composition_offset = 7200;
    m.tracks[0].samples[2].composition_offset = -3600;
    const auto moov = mp4::make_moov(m);
    const auto boxes = parse_boxes(moov);
    const check::Box* ctts = boxes.at(0).find("trak/mdia/minf/stbl/ctts");
    ASSERT_NE(ctts, nullptr);
    EXPECT_EQ(ctts->payload[0], 1); // version 1: signed
    EXPECT_EQ(be32(ctts->payload, 4), 4U);
    // Runs: 0, 7200, -3600, then three 0s.
    EXPECT_EQ(static_cast<std::int32_t>(be32(ctts->payload, 20)), 7200);
    EXPECT_EQ(static_cast<std::int32_t>(be32(ctts->payload, 28)), -3600);
}

TEST(Mp4Test, FragmentedMoovHasMvexAndNoSamples) {
    mp4::Movie m = two_track_movie(0);
    m.tracks[0].samples.clear();
    m.fragmented = true;
    const auto moov = mp4::make_moov(m);
    const auto boxes = parse_boxes(moov);
    const check::Box* trex = boxes.at(0).find("mvex/trex");
    ASSERT_NE(trex, nullptr);
    EXPECT_EQ(be32(trex->payload, 4), 1U);
    EXPECT_EQ(check::stsz_count(*boxes.at(0).find("trak/mdia/minf/stbl/stsz")), 0U);
    // mehd comes first in mvex, 64-bit, 0 while the duration is unknown.
    const check::Box& mvex = *boxes.at(0).find("mvex");
    ASSERT_EQ(mvex.children.at(0).type, "mehd");
    EXPECT_EQ(mvex.children.at(0).payload[0], 1);
    EXPECT_EQ(check::be64(mvex.children.at(0).payload, 4), 0U);
}

TEST(Mp4Test, AFragmentedMoovKeepsItsSizeWhenTheDurationsBecomeKnown) {
    // As a muxer writes it at the start (edits "to the end", no duration)
    // and again at the end over the first.
    mp4::Movie m = two_track_movie(0);
    m.tracks[0].samples.clear();
    m.fragmented = true;
    m.tracks[0].edits = {{0, 3600}};
    const auto first = mp4::make_moov(m);
    m.tracks[0].edits = {{2'000'000, 3600}};
    m.fragment_duration = 2'000'000;
    const auto last = mp4::make_moov(m);
    ASSERT_EQ(last.size(), first.size());
    const auto boxes = parse_boxes(last);
    EXPECT_EQ(check::be64(boxes.at(0).find("mvex/mehd")->payload, 4), 2'000'000U);
    EXPECT_EQ(be32(boxes.at(0).find("mvhd")->payload, 16), 2'000'000U);
}

TEST(Mp4Test, MoofDataOffsetsPointIntoTheFollowingMdat) {
    std::vector<mp4::FragmentTrack> runs(2);
    runs[0].track_id = 1;
    runs[0].base_decode_time = 9000;
    runs[0].samples = {{0, 10, 3600, 0, true}, {0, 20, 3600, 0, false}};
    runs[1].track_id = 2;
    runs[1].samples = {{0, 5, 960, 0, true}};
    const auto moof = mp4::make_moof(7, runs);
    const auto boxes = parse_boxes(moof);
    ASSERT_EQ(boxes.size(), 1U);
    EXPECT_EQ(be32(boxes[0].find("mfhd")->payload, 4), 7U);
    const auto trafs = boxes[0].all("traf");
    ASSERT_EQ(trafs.size(), 2U);
    const check::Box* tfhd = trafs[0]->find("tfhd");
    EXPECT_EQ(be32(tfhd->payload, 0), 0x020000U);
    EXPECT_EQ(check::be64(trafs[0]->find("tfdt")->payload, 4), 9000U);
    const check::Box* trun0 = trafs[0]->find("trun");
    const check::Box* trun1 = trafs[1]->find("trun");
    EXPECT_EQ(be32(trun0->payload, 8), moof.size() + 8);
    EXPECT_EQ(be32(trun1->payload, 8), moof.size() + 8 + 30);
    const auto s = check::trun_samples(*trun0);
    ASSERT_EQ(s.size(), 2U);
    EXPECT_EQ(s[1].size, 20U);
    EXPECT_EQ(s[0].flags, mp4::sample_flags(true));
    EXPECT_EQ(s[1].flags, mp4::sample_flags(false));
}

} // namespace
} // namespace parallax
