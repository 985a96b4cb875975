#include <parallax/check/harness.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/ogg.hpp>
#include <parallax/element/registry.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <ogg/ogg.h>
#include <string>
#include <vector>

namespace parallax {
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

} // namespace
} // namespace parallax
