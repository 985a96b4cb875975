// ISO BMFF reading: what the box writer of mp4.hpp wrote comes back (the
// tracks, sample entries, sample tables expanded per sample, edits,
// fragments); malformed sizes and counts are errors naming the box path
// and offset.

#include <parallax/codec/av1.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/mp4.hpp>
#include <parallax/container/mp4_reader.hpp>

#include "unit/elements/mp4_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parallax {
namespace {

opus::Header stereo_head() {
    opus::Header h;
    h.channels = 2;
    h.pre_skip = 312;
    h.input_sample_rate = 44100;
    h.coupled_count = 1;
    return h;
}

std::vector<std::uint8_t> av1c() {
    av1::SequenceHeader seq;
    seq.level = 8;
    return av1::make_av1c(seq, {});
}

// A movie with an AV1 track (key frame every 3rd sample, composition
// offsets) and an Opus track (pre-skip edit), samples placed from
// `base` on, alternating tracks.
mp4::Movie movie(std::uint64_t base) {
    mp4::Movie m;
    m.timescale = 1000;
    mp4::Track v;
    v.id = 1;
    v.kind = mp4::TrackKind::video;
    v.timescale = 90000;
    v.width = 320;
    v.height = 240;
    v.sample_entry = mp4::make_visual_entry("av01", 320, 240, "av1C", av1c());
    mp4::Track a;
    a.id = 2;
    a.kind = mp4::TrackKind::audio;
    a.timescale = 48000;
    a.sample_entry = mp4::make_opus_entry(stereo_head());
    a.edits.push_back(mp4::Edit{100, 312});
    std::uint64_t at = base;
    for (std::uint32_t i = 0; i < 6; ++i) {
        mp4::Sample s;
        s.offset = at;
        s.size = 100 + i;
        s.duration = 3600;
        s.composition_offset = (i % 2 == 0) ? 3600 : 0;
        s.sync = i % 3 == 0;
        at += s.size;
        v.samples.push_back(s);
        for (int k = 0; k < 2; ++k) {
            mp4::Sample o;
            o.offset = at;
            o.size = 20;
            o.duration = 960;
            at += o.size;
            a.samples.push_back(o);
        }
    }
    m.tracks = {v, a};
    return m;
}

TEST(Mp4ReaderTest, ReadsBackTheTracksOfAMoov) {
    const auto moov = mp4::make_moov(movie(5000));
    auto read = mp4::read_moov(moov, 40);
    ASSERT_TRUE(read) << read.error().message();
    EXPECT_EQ(read->timescale, 1000U);
    EXPECT_FALSE(read->fragmented);
    ASSERT_EQ(read->tracks.size(), 2U);

    const mp4::TrackInfo& v = read->tracks[0];
    EXPECT_EQ(v.id, 1U);
    EXPECT_EQ(v.handler, "vide");
    EXPECT_EQ(v.timescale, 90000U);
    EXPECT_EQ(v.codec, mp4::Codec::av1);
    EXPECT_EQ(v.format, "av01");
    EXPECT_EQ(v.config, av1c());
    EXPECT_EQ(v.width, 320);
    EXPECT_EQ(v.height, 240);
    ASSERT_EQ(v.samples.size(), 6U);
    const mp4::Movie m = movie(5000);
    for (std::size_t i = 0; i < 6; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(v.samples[i].offset, m.tracks[0].samples[i].offset);
        EXPECT_EQ(v.samples[i].size, m.tracks[0].samples[i].size);
        EXPECT_EQ(v.samples[i].dts, static_cast<std::int64_t>(i * 3600));
        EXPECT_EQ(v.samples[i].pts, static_cast<std::int64_t>(i * 3600) + m.tracks[0].samples[i].composition_offset);
        EXPECT_EQ(v.samples[i].duration, 3600U);
        EXPECT_EQ(v.samples[i].keyframe, i % 3 == 0);
    }

    const mp4::TrackInfo& a = read->tracks[1];
    EXPECT_EQ(a.handler, "soun");
    EXPECT_EQ(a.codec, mp4::Codec::opus);
    EXPECT_EQ(a.config, opus::write_head(stereo_head()));
    EXPECT_EQ(a.channels, 2);
    EXPECT_EQ(a.rate, 48000U);
    ASSERT_EQ(a.edits.size(), 1U);
    EXPECT_EQ(a.edits[0].media_time, 312);
    EXPECT_EQ(a.edits[0].segment_duration, 100U);
    ASSERT_EQ(a.samples.size(), 12U);
    for (std::size_t i = 0; i < 12; ++i) {
        EXPECT_EQ(a.samples[i].offset, m.tracks[1].samples[i].offset);
        EXPECT_EQ(a.samples[i].dts, static_cast<std::int64_t>(i * 960));
        EXPECT_TRUE(a.samples[i].keyframe);
    }
}

TEST(Mp4ReaderTest, ReadsCo64ForOffsetsBeyond32Bits) {
    const auto moov = mp4::make_moov(movie(std::uint64_t{5} << 32));
    auto read = mp4::read_moov(moov, 0);
    ASSERT_TRUE(read) << read.error().message();
    EXPECT_EQ(read->tracks[0].samples[0].offset, std::uint64_t{5} << 32);
    EXPECT_EQ(read->tracks[1].samples[11].offset, movie(std::uint64_t{5} << 32).tracks[1].samples[11].offset);
}

TEST(Mp4ReaderTest, ReadsFragmentsWithTrexDefaultsAndDecodeTimes) {
    mp4::Movie m = movie(0);
    for (auto& t : m.tracks) {
        t.samples.clear();
    }
    m.fragmented = true;
    const auto moov = mp4::make_moov(m);
    auto read = mp4::read_moov(moov, 0);
    ASSERT_TRUE(read) << read.error().message();
    EXPECT_TRUE(read->fragmented);

    std::vector<mp4::FragmentTrack> tracks(2);
    tracks[0].track_id = 1;
    tracks[0].base_decode_time = 9000;
    tracks[1].track_id = 2;
    tracks[1].base_decode_time = 4800;
    for (std::uint32_t i = 0; i < 4; ++i) {
        tracks[0].samples.push_back(mp4::Sample{0, 50 + i, 3600, 0, i == 0});
        tracks[1].samples.push_back(mp4::Sample{0, 10, 960, 0, true});
    }
    const auto moof = mp4::make_moof(7, tracks);
    const std::uint64_t at = 1000;
    auto frag = mp4::read_moof(moof, at, *read);
    ASSERT_TRUE(frag) << frag.error().message();
    EXPECT_EQ(frag->sequence, 7U);
    ASSERT_EQ(frag->runs.size(), 2U);
    // The mdat follows the moof at once: its header, then track 1's bytes.
    std::uint64_t data = at + moof.size() + 8;
    for (std::uint32_t i = 0; i < 4; ++i) {
        const mp4::SampleRef& s = frag->runs[0].samples[i];
        EXPECT_EQ(s.offset, data);
        EXPECT_EQ(s.size, 50 + i);
        EXPECT_EQ(s.dts, 9000 + 3600 * static_cast<std::int64_t>(i));
        EXPECT_EQ(s.keyframe, i == 0);
        data += s.size;
    }
    EXPECT_EQ(frag->runs[1].samples[0].offset, data);
    EXPECT_EQ(frag->runs[1].samples[3].dts, 4800 + 3 * 960);
    EXPECT_EQ(read->track(1)->next_decode_time, 9000U + 4 * 3600U);
}

TEST(Mp4ReaderTest, BoxHeadersHave32And64BitSizesAndSizeZero) {
    const std::vector<std::uint8_t> small{0, 0, 0, 16, 'f', 'r', 'e', 'e'};
    auto h = mp4::read_box_header(small, 10);
    ASSERT_TRUE(h && *h);
    EXPECT_EQ((*h)->type, "free");
    EXPECT_EQ((*h)->size, 16U);
    EXPECT_EQ((*h)->header_size, 8U);
    EXPECT_EQ((*h)->offset, 10U);

    const std::vector<std::uint8_t> large{0, 0, 0, 1, 'm', 'd', 'a', 't', 0, 0, 0, 1, 0, 0, 0, 0};
    h = mp4::read_box_header(large, 0);
    ASSERT_TRUE(h && *h);
    EXPECT_EQ((*h)->size, std::uint64_t{1} << 32);
    EXPECT_EQ((*h)->header_size, 16U);
    // Cut in the largesize: wait for more.
    h = mp4::read_box_header(std::span(large).first(12), 0);
    ASSERT_TRUE(h);
    EXPECT_FALSE(*h);

    const std::vector<std::uint8_t> to_end{0, 0, 0, 0, 'm', 'd', 'a', 't'};
    h = mp4::read_box_header(to_end, 0);
    ASSERT_TRUE(h && *h);
    EXPECT_EQ((*h)->size, 0U);

    const std::vector<std::uint8_t> bad{0, 0, 0, 5, 'f', 'r', 'e', 'e'};
    h = mp4::read_box_header(bad, 77, "moov");
    ASSERT_FALSE(h);
    EXPECT_NE(h.error().message().find("moov/free at byte 77"), std::string::npos) << h.error().message();
}

// The offset (in the moov bytes) of the payload of the box at `path` in
// track `track`.
std::size_t payload_at(const std::vector<std::uint8_t>& moov, std::size_t track, std::string_view path) {
    const auto boxes = check::parse_boxes(moov);
    const check::Box* b = boxes[0].all("trak")[track]->find(path);
    return b == nullptr ? 0 : b->offset + b->header;
}

TEST(Mp4ReaderTest, ASampleCountBeyondTheBoxIsAnErrorNamingThePath) {
    auto moov = mp4::make_moov(movie(5000));
    const std::size_t stsz = payload_at(moov, 1, "mdia/minf/stbl/stsz");
    ASSERT_GT(stsz, 0U);
    // sample_count := 4000000 with sample_size 0: 16 MB of entries claimed.
    moov[stsz + 8] = 0x00;
    moov[stsz + 9] = 0x3D;
    moov[stsz + 10] = 0x09;
    moov[stsz + 11] = 0x00;
    auto read = mp4::read_moov(moov, 100);
    ASSERT_FALSE(read);
    const std::string msg = read.error().message();
    EXPECT_TRUE(read.error().is(Errc::corrupt));
    EXPECT_NE(msg.find("moov/trak[1]/mdia/minf/stbl/stsz at byte " + std::to_string(100 + stsz - 8)), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("sample count 4000000 exceeds the box"), std::string::npos) << msg;

    // Beyond the per-track limit.
    moov[stsz + 8] = 0xEE;
    read = mp4::read_moov(moov, 0);
    ASSERT_FALSE(read);
    EXPECT_NE(read.error().message().find("exceeds the limit"), std::string::npos) << read.error().message();
}

TEST(Mp4ReaderTest, ABoxSizePastItsParentIsAnError) {
    auto moov = mp4::make_moov(movie(5000));
    const std::size_t stts = payload_at(moov, 0, "mdia/minf/stbl/stts") - 8;
    moov[stts] = 0x7F;
    auto read = mp4::read_moov(moov, 0);
    ASSERT_FALSE(read);
    EXPECT_NE(read.error().message().find("moov/trak[0]/mdia/minf/stbl/stts at byte"), std::string::npos)
        << read.error().message();
    EXPECT_NE(read.error().message().find("goes past its parent"), std::string::npos) << read.error().message();
}

TEST(Mp4ReaderTest, ChunksThatPlaceTooFewSamplesAreAnError) {
    auto moov = mp4::make_moov(movie(5000));
    const std::size_t stco = payload_at(moov, 0, "mdia/minf/stbl/stco");
    ASSERT_GT(stco, 0U);
    // entry_count 1: the other chunks vanish.
    moov[stco + 7] = 1;
    auto read = mp4::read_moov(moov, 0);
    ASSERT_FALSE(read);
    EXPECT_NE(read.error().message().find("stbl at byte"), std::string::npos) << read.error().message();
}

TEST(Mp4ReaderTest, EveryCutOfAMoovIsAnErrorNotACrash) {
    const auto moov = mp4::make_moov(movie(5000));
    for (std::size_t n = 0; n < moov.size(); ++n) {
        auto read = mp4::read_moov(std::span(moov).first(n), 0);
        EXPECT_FALSE(read) << n;
    }
    // Every single byte changed: an error or a movie, never a crash.
    for (std::size_t i = 0; i < moov.size(); ++i) {
        auto bad = moov;
        bad[i] ^= 0xA5;
        auto read = mp4::read_moov(bad, 0);
        if (read) {
            for (const auto& t : read->tracks) {
                EXPECT_LE(t.samples.size(), mp4::max_samples);
            }
        }
    }
}

TEST(Mp4ReaderTest, AMoofForAnUnknownTrackIsAnError) {
    mp4::Movie m = movie(0);
    m.fragmented = true;
    for (auto& t : m.tracks) {
        t.samples.clear();
    }
    auto read = mp4::read_moov(mp4::make_moov(m), 0);
    ASSERT_TRUE(read);
    std::vector<mp4::FragmentTrack> tracks(1);
    tracks[0].track_id = 9;
    tracks[0].samples.push_back(mp4::Sample{});
    auto frag = mp4::read_moof(mp4::make_moof(1, tracks), 500, *read);
    ASSERT_FALSE(frag);
    EXPECT_NE(frag.error().message().find("moof/traf[0]/tfhd at byte"), std::string::npos) << frag.error().message();
}

} // namespace
} // namespace parallax
