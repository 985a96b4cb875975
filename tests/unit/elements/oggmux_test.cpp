#include <parallax/check/harness.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/ogg.hpp>
#include <parallax/element/registry.hpp>

#include "unit/elements/mux_live_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <ogg/ogg.h>
#include <string>
#include <vector>

namespace parallax::oggmux_test {
namespace {

constexpr std::uint16_t pre_skip = 312;
constexpr std::uint32_t packet_samples = 960; // TOC 0xFC: CELT fullband 20 ms, one frame

ClockTime at_sample(std::uint64_t s) {
    return ClockTime::from_ns(s * ClockTime::ns_per_s / 48000);
}

opus::Header mono_header() {
    opus::Header h;
    h.channels = 1;
    h.pre_skip = pre_skip;
    h.input_sample_rate = 48000;
    h.stream_count = 1;
    h.coupled_count = 0;
    return h;
}

// Packet i of a stream of `count`, timed by the convention: the first loses
// pre_skip samples, the last `trim` samples at its end.
Buffer opus_packet(check::Harness& h, std::size_t i, std::size_t count, std::uint32_t trim = 0) {
    const std::vector<std::byte> bytes = {std::byte{0xFC}, std::byte{static_cast<unsigned char>(i)}, std::byte{0x5A},
                                          std::byte{0xA5}};
    Buffer b = h.make_buffer(bytes).value();
    const std::uint64_t begin = std::max<std::uint64_t>(i * packet_samples, pre_skip) - pre_skip;
    std::uint64_t end = (i + 1) * packet_samples - pre_skip;
    if (i + 1 == count) {
        end -= trim;
    }
    b.meta().set_pts(at_sample(begin));
    b.meta().set_duration(ClockTime::from_ns(at_sample(end).ns() - at_sample(begin).ns()));
    return b;
}

struct ParsedPage {
    std::uint8_t flags = 0;
    std::int64_t granule = 0;
    std::uint32_t serial = 0;
    std::uint32_t sequence = 0;
    std::vector<std::vector<std::uint8_t>> packets; // packets that end on the page
    bool continues = false;
};

// Splits an Ogg byte stream with libogg (which checks every CRC) and checks
// that libparallax's own page reader finds the same pages.
std::vector<ParsedPage> parse_with_libogg(const std::vector<std::uint8_t>& file) {
    std::vector<ParsedPage> pages;
    if (file.empty()) {
        return pages; // (libogg hands out no buffer for nothing, and memcpy must not get a null one)
    }
    ogg_sync_state sync;
    ogg_sync_init(&sync);
    char* dst = ogg_sync_buffer(&sync, static_cast<long>(file.size()));
    std::memcpy(dst, file.data(), file.size());
    ogg_sync_wrote(&sync, static_cast<long>(file.size()));
    ogg_page og;
    long n = 0;
    while ((n = ogg_sync_pageseek(&sync, &og)) != 0) {
        EXPECT_GT(n, 0) << "libogg skipped bytes: a page is damaged or its CRC is wrong";
        if (n < 0) {
            continue;
        }
        ParsedPage p;
        p.flags = static_cast<std::uint8_t>(og.header[5]);
        p.granule = ogg_page_granulepos(&og);
        p.serial = static_cast<std::uint32_t>(ogg_page_serialno(&og));
        p.sequence = static_cast<std::uint32_t>(ogg_page_pageno(&og));
        const std::span<const std::uint8_t> whole(og.header, static_cast<std::size_t>(og.header_len));
        const std::span<const std::uint8_t> body(og.body, static_cast<std::size_t>(og.body_len));
        std::vector<std::uint8_t> bytes(whole.begin(), whole.end());
        bytes.insert(bytes.end(), body.begin(), body.end());
        auto own = ogg::parse_page(bytes);
        EXPECT_TRUE(own && own->has_value());
        for (const ogg::Segment& s : ogg::split_segments(**own)) {
            if (s.complete) {
                p.packets.emplace_back(s.bytes.begin(), s.bytes.end());
            } else {
                p.continues = true;
            }
        }
        pages.push_back(std::move(p));
    }
    ogg_sync_clear(&sync);
    return pages;
}

std::vector<std::uint8_t> collect(check::Harness& h) {
    std::vector<std::uint8_t> out;
    while (h.buffers_out() > 0) {
        auto b = h.pull();
        const auto d = b->data();
        const auto* p = reinterpret_cast<const std::uint8_t*>(d.data());
        out.insert(out.end(), p, p + d.size());
    }
    return out;
}

// Muxes `count` packets (the last trimmed by `trim` samples) and returns the file.
std::vector<std::uint8_t> mux(const std::string& props, std::size_t count, std::uint32_t trim) {
    auto h = check::Harness::create("oggmux " + props).value();
    EXPECT_TRUE(h->set_input_caps(opus::caps_for(mono_header())));
    EXPECT_TRUE(h->start());
    for (std::size_t i = 0; i < count; ++i) {
        EXPECT_EQ(h->push(opus_packet(*h, i, count, trim)), Flow::ok);
    }
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    EXPECT_FALSE(h->error()) << h->error()->to_string();
    return collect(*h);
}

TEST(OggMuxTest, HasGStreamersPadsAndProperties) {
    auto e = Registry::global().create("oggmux");
    ASSERT_TRUE(e);
    EXPECT_NE((*e)->find_template("audio_%u"), nullptr);
    EXPECT_NE((*e)->pad("src"), nullptr);
    EXPECT_EQ((*e)->get_property("max-delay").value(), "500000000");
    EXPECT_EQ((*e)->get_property("max-page-delay").value(), "500000000");
    EXPECT_EQ((*e)->get_property("serial").value(), "0");
    auto pad = (*e)->request_pad("audio_%u");
    ASSERT_TRUE(pad);
    EXPECT_EQ((*pad)->name(), "audio_0");
}

TEST(OggMuxTest, WritesHeadTagsAndAudioPagesWithGranulesFromTimestamps) {
    const std::vector<std::uint8_t> file = mux("serial=1234", 10, 200);
    const auto pages = parse_with_libogg(file);
    ASSERT_GE(pages.size(), 3U);

    // OpusHead alone on a beginning-of-stream page with granule 0.
    EXPECT_EQ(pages[0].flags, ogg::flag_bos);
    EXPECT_EQ(pages[0].granule, 0);
    ASSERT_EQ(pages[0].packets.size(), 1U);
    auto head = opus::parse_head(pages[0].packets[0]);
    ASSERT_TRUE(head);
    EXPECT_EQ(*head, mono_header());

    // OpusTags on a page of its own.
    EXPECT_EQ(pages[1].flags, 0);
    EXPECT_EQ(pages[1].granule, 0);
    ASSERT_EQ(pages[1].packets.size(), 1U);
    auto tags = opus::parse_tags(pages[1].packets[0]);
    ASSERT_TRUE(tags);
    EXPECT_EQ(tags->vendor, "libparallax");

    // Audio: every packet back, in order; the granule of each page is the
    // end of its last packet; the last page ends the stream and trims.
    std::size_t packets = 0;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        EXPECT_EQ(pages[i].serial, 1234U);
        EXPECT_EQ(pages[i].sequence, i);
        if (i < 2) {
            continue;
        }
        for (const auto& p : pages[i].packets) {
            ASSERT_EQ(p.size(), 4U);
            EXPECT_EQ(p[0], 0xFC);
            EXPECT_EQ(p[1], packets);
            ++packets;
        }
        const bool last = i + 1 == pages.size();
        EXPECT_EQ(pages[i].flags, last ? ogg::flag_eos : 0) << "page " << i;
        const std::int64_t expected = static_cast<std::int64_t>(packets * packet_samples) - (last ? 200 : 0);
        EXPECT_EQ(pages[i].granule, expected) << "page " << i;
    }
    EXPECT_EQ(packets, 10U);
}

TEST(OggMuxTest, StartsANewPageEveryMaxPageDelay) {
    // 100 ms pages: at most 5 packets of 20 ms on each.
    const auto pages = parse_with_libogg(mux("max-page-delay=100000000", 50, 0));
    ASSERT_GT(pages.size(), 2U);
    std::int64_t previous = 0;
    std::size_t audio_pages = 0;
    for (std::size_t i = 2; i < pages.size(); ++i) {
        EXPECT_LE(pages[i].granule - previous, 4800) << "page " << i;
        EXPECT_GT(pages[i].granule, previous) << "page " << i;
        previous = pages[i].granule;
        ++audio_pages;
    }
    EXPECT_GE(audio_pages, 10U);
    EXPECT_EQ(previous, 50 * 960);
}

TEST(OggMuxTest, GivesEachStreamItsOwnSerialFromTheSeed) {
    const auto a = parse_with_libogg(mux("serial=77", 2, 0));
    const auto b = parse_with_libogg(mux("", 2, 0));
    ASSERT_FALSE(a.empty());
    ASSERT_FALSE(b.empty());
    EXPECT_EQ(a[0].serial, 77U);
    for (const auto& p : b) {
        EXPECT_EQ(p.serial, b[0].serial);
    }
}

TEST(OggMuxTest, RefusesVorbisCapsNamingThem) {
    auto h = check::Harness::create("oggmux").value();
    ASSERT_TRUE(h->start());
    static_cast<void>(h->set_input_caps(Caps::parse_static("audio/x-vorbis, rate=(int)44100, channels=(int)2")));
    auto err = h->error();
    ASSERT_TRUE(err);
    EXPECT_TRUE(err->is(Errc::not_negotiated)) << err->to_string();
    EXPECT_NE(err->message().find("audio/x-vorbis"), std::string::npos) << err->message();
}

TEST(OggMuxTest, RefusesAMalformedOpusPacketNamingIt) {
    auto h = check::Harness::create("oggmux").value();
    ASSERT_TRUE(h->set_input_caps(opus::caps_for(mono_header())));
    ASSERT_TRUE(h->start());
    // Code 3 (0x03) with no frame count byte.
    const std::vector<std::byte> bad = {std::byte{0x03}};
    EXPECT_EQ(h->push(h->make_buffer(bad).value()), Flow::error);
    auto err = h->error();
    ASSERT_TRUE(err);
    EXPECT_TRUE(err->is(Errc::corrupt)) << err->to_string();
    EXPECT_NE(err->message().find("packet 0"), std::string::npos) << err->message();
}

TEST(OggMuxTest, AStreamWithoutAudioEndsOnItsTagsPage) {
    const auto pages = parse_with_libogg(mux("", 0, 0));
    ASSERT_EQ(pages.size(), 2U);
    EXPECT_EQ(pages[0].flags, ogg::flag_bos);
    EXPECT_EQ(pages[1].flags, ogg::flag_eos);
}

TEST(OggMuxTest, RefusesAMaxDelayBeyondAnHourNamingTheProperty) {
    auto e = Registry::global().create("oggmux");
    ASSERT_TRUE(e);
    for (const char* bad : {"3600000000001", "-1", "soon"}) {
        auto r = (*e)->set_property("max-delay", bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find("max-delay"), std::string::npos) << r.error().to_string();
    }
    EXPECT_TRUE((*e)->set_property("max-delay", "3600000000000"));
    EXPECT_TRUE((*e)->set_property("max-delay", "0"));
}

// Two live streams: "a" sends 200 ms of audio while "b" is silent, which is
// less than max-delay of stream time, so only the wall-clock wait for b can
// let a's audio out. Then b resumes 1 s later and both end: the file holds
// every packet of both, b's headers after a's first audio pages.
TEST(OggMuxTest, AStarvingLiveStreamHoldsTheOtherBackOnlyForMaxDelayOfWallClockTime) {
    auto r = test::running_opus_pair("oggmux name=m max-delay=300000000 max-page-delay=20000000", "m.");
    ASSERT_TRUE(r);
    test::push_opus(*r->srcs[0], 0, 0, 10);
    // Serials go by the order the caps arrive in; only a has audio yet.
    const auto audio_pages = [&] {
        std::size_t n = 0;
        for (const auto& p : parse_with_libogg(r->output())) {
            n += p.granule > 0 ? 1 : 0;
        }
        return n;
    };
    EXPECT_TRUE(test::wait_for_output([&] { return audio_pages() > 0; })) << "stream a waited for the silent stream b";

    test::push_opus(*r->srcs[1], 1'000'000'000, 0, 10);
    test::push_opus(*r->srcs[0], 200'000'000, 10, 10);
    test::end_live_run(*r);

    const std::vector<std::uint8_t> file = r->output();
    const auto pages = parse_with_libogg(file);
    ASSERT_GE(pages.size(), 4U);
    EXPECT_EQ(pages[0].flags, ogg::flag_bos);
    EXPECT_EQ(pages[1].flags, ogg::flag_bos);
    struct Stream {
        std::uint32_t next_sequence = 0;
        std::int64_t granule = 0;
        std::size_t audio = 0;
        bool ended = false;
    };
    std::map<std::uint32_t, Stream> streams;
    for (const auto& p : pages) {
        Stream& st = streams[p.serial];
        EXPECT_FALSE(st.ended) << "a page after the end of stream " << p.serial;
        EXPECT_EQ(p.sequence, st.next_sequence++) << "stream " << p.serial;
        EXPECT_GE(p.granule, st.granule) << "stream " << p.serial;
        st.granule = p.granule;
        st.ended = (p.flags & ogg::flag_eos) != 0;
        if (st.next_sequence > 2) {
            for (const auto& packet : p.packets) {
                ASSERT_EQ(packet.size(), 4U);
                EXPECT_EQ(packet[1], st.audio) << "stream " << p.serial;
                ++st.audio;
            }
        }
    }
    ASSERT_EQ(streams.size(), 2U);
    std::vector<std::size_t> audio;
    for (const auto& [serial, st] : streams) {
        EXPECT_TRUE(st.ended) << "stream " << serial;
        audio.push_back(st.audio);
    }
    std::sort(audio.begin(), audio.end());
    EXPECT_EQ(audio, (std::vector<std::size_t>{10, 20}));

    const auto probe = test::probe_packets(file, "live.opus");
    if (!probe) {
        GTEST_SKIP() << "ffprobe is not installed: no outside reader to check the file against";
    }
    EXPECT_TRUE(*probe == "opus,20\nopus,10\n" || *probe == "opus,10\nopus,20\n") << *probe;
}

// A live stream that starves from the start and ends without audio: its
// headers went out when it was no longer waited for, so it ends on an
// empty end-of-stream page, and the file still reads.
TEST(OggMuxTest, AStreamThatStarvedAndEndedWithoutAudioEndsOnAnEmptyPage) {
    auto r = test::running_opus_pair("oggmux name=m max-delay=200000000 max-page-delay=20000000", "m.");
    ASSERT_TRUE(r);
    test::push_opus(*r->srcs[0], 0, 0, 5);
    EXPECT_TRUE(test::wait_for_output([&] {
        const auto pages = parse_with_libogg(r->output());
        return std::any_of(pages.begin(), pages.end(), [](const auto& p) { return p.granule > 0; });
    }));
    test::end_live_run(*r);
    const auto pages = parse_with_libogg(r->output());
    std::map<std::uint32_t, std::vector<const ParsedPage*>> streams;
    for (const auto& p : pages) {
        streams[p.serial].push_back(&p);
    }
    ASSERT_EQ(streams.size(), 2U);
    std::size_t empty_ends = 0;
    for (const auto& [serial, list] : streams) {
        ASSERT_GE(list.size(), 3U) << "stream " << serial;
        EXPECT_EQ(list.back()->flags, ogg::flag_eos) << "stream " << serial;
        empty_ends += list.size() == 3 && list.back()->packets.empty() ? 1 : 0;
    }
    EXPECT_EQ(empty_ends, 1U);
    const auto probe = test::probe_packets(r->output(), "empty.opus");
    if (!probe) {
        GTEST_SKIP() << "ffprobe is not installed: no outside reader to check the file against";
    }
    // ffprobe counts no packets of the empty stream ("N/A") and reads on.
    EXPECT_TRUE(*probe == "opus,5\nopus,N/A\n" || *probe == "opus,N/A\nopus,5\n") << *probe;
}

} // namespace
} // namespace parallax::oggmux_test
