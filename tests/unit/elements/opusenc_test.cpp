#include <parallax/caps/caps.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/element/registry.hpp>

#include "integration/audio_analysis.hpp"
#include "unit/elements/opus_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

namespace parallax::opusenc_test {
namespace {

using test::Packet;
using test::packet_of;
using test::sine_bytes;

struct Encoded {
    Caps caps;
    std::vector<Packet> packets;
};

// Encodes `bytes` with `opusenc <props>` in pushes of `chunk` bytes (a
// multiple of the frame size), then eos.
Encoded encode(const std::string& props, const std::string& raw_caps, const std::vector<std::byte>& bytes,
               std::size_t chunk) {
    Encoded e;
    auto h = check::Harness::create("opusenc " + props);
    EXPECT_TRUE(h) << (h ? "" : h.error().to_string());
    if (!h) {
        return e;
    }
    EXPECT_TRUE((*h)->start());
    EXPECT_TRUE((*h)->set_input_caps(Caps::parse_static(raw_caps)));
    for (std::size_t at = 0; at < bytes.size(); at += chunk) {
        const std::size_t n = std::min(chunk, bytes.size() - at);
        auto b = (*h)->make_buffer(std::span<const std::byte>(bytes.data() + at, n));
        EXPECT_TRUE(b);
        EXPECT_EQ((*h)->push(std::move(*b)), Flow::ok);
    }
    (*h)->push_event(Event::eos());
    EXPECT_TRUE((*h)->wait_eos());
    while (auto out = (*h)->pull(std::chrono::milliseconds(1))) {
        e.packets.push_back(packet_of(*out));
    }
    for (const Event& ev : (*h)->take_events()) {
        if (ev.type() == EventType::caps) {
            e.caps = *ev.caps_value();
        }
    }
    EXPECT_FALSE((*h)->error()) << (*h)->error()->to_string();
    return e;
}

std::span<const std::uint8_t> bytes_of(const Packet& b) {
    return {reinterpret_cast<const std::uint8_t*>(b.data().data()), b.size()};
}

const std::string stereo48 = "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=2";

TEST(OpusEncTest, HasGStreamersPropertiesAndDefaults) {
    auto e = Registry::global().create("opusenc");
    ASSERT_TRUE(e);
    const std::pair<const char*, const char*> defaults[] = {
        {"bitrate", "64000"},
        {"bitrate-type", "constrained-vbr"},
        {"audio-type", "generic"},
        {"frame-size", "20"},
        {"complexity", "10"},
        {"inband-fec", "false"},
        {"dtx", "false"},
        {"packet-loss-percentage", "0"},
        {"max-payload-size", "4000"},
        {"bandwidth", "fullband"},
    };
    for (const auto& [name, value] : defaults) {
        EXPECT_EQ((*e)->get_property(name).value(), value) << name;
    }
    const std::pair<const char*, const char*> bad[] = {
        {"bitrate", "3999"},       {"bitrate", "650001"},
        {"bitrate-type", "abr"},   {"audio-type", "music"},
        {"frame-size", "7"},       {"frame-size", "100"},
        {"complexity", "11"},      {"packet-loss-percentage", "101"},
        {"max-payload-size", "1"}, {"bandwidth", "ultraband"},
    };
    for (const auto& [name, value] : bad) {
        auto r = (*e)->set_property(name, value);
        ASSERT_FALSE(r) << name << "=" << value;
        EXPECT_NE(r.error().message().find(name), std::string::npos) << r.error().message();
    }
    EXPECT_TRUE((*e)->set_property("frame-size", "2.5"));
    EXPECT_EQ((*e)->get_property("frame-size").value(), "2.5");
    EXPECT_TRUE((*e)->set_property("audio-type", "2048")); // by number, as GStreamer's enum
    EXPECT_EQ((*e)->get_property("audio-type").value(), "voice");
}

TEST(OpusEncTest, OutputsCapsWithTheHeaderAndTimestampsAfterPreSkip) {
    // One second in pushes of 333 frames: input is gathered into 20 ms frames.
    const Encoded e = encode("", stereo48, sine_bytes(false, 48000, std::vector<double>(2, 1000.0), 48000), 333 * 4);
    EXPECT_EQ(e.caps.to_string(),
              "audio/x-opus, rate=(int)48000, channels=(int)2, channel-mapping-family=(int)0, stream-count=(int)1, "
              "coupled-count=(int)1, codec_data=(buffer)4f707573486561640102380180bb0000000000");
    const opus::Header h = opus::header_from_caps(e.caps).value();
    EXPECT_EQ(h.pre_skip, 312); // libopus's 6.5 ms lookahead
    // 48000 samples and 312 of lookahead need 51 packets of 960.
    ASSERT_EQ(e.packets.size(), 51U);
    std::uint64_t end = 0;
    for (std::size_t i = 0; i < e.packets.size(); ++i) {
        const Packet& p = e.packets[i];
        EXPECT_EQ(opus::packet_samples(bytes_of(p)).value(), 960U) << i;
        EXPECT_EQ(p.meta().pts().ns(), end) << i;
        end = p.meta().pts().ns() + p.meta().duration().ns();
    }
    EXPECT_EQ(e.packets.front().meta().pts().ns(), 0U);
    EXPECT_EQ(e.packets.front().meta().duration().ns(), 13'500'000U); // (960 - 312) / 48 kHz
    EXPECT_EQ(e.packets[1].meta().duration().ns(), 20'000'000U);
    // The last packet holds 312 input samples: 6.5 ms (end trimming).
    EXPECT_EQ(e.packets.back().meta().duration().ns(), 6'500'000U);
    EXPECT_EQ(end, 1'000'000'000U);
}

TEST(OpusEncTest, EveryFrameSizeBitrateTypeAndAudioTypeRuns) {
    const auto input = sine_bytes(false, 48000, std::vector<double>(2, 1000.0), 9600); // 200 ms
    const std::pair<const char*, std::uint32_t> frame_sizes[] = {{"2.5", 120}, {"5", 240},   {"10", 480},
                                                                 {"20", 960},  {"40", 1920}, {"60", 2880}};
    for (const auto& [nick, samples] : frame_sizes) {
        SCOPED_TRACE(nick);
        const Encoded e = encode(fmt::format("frame-size={}", nick), stereo48, input, 4096);
        ASSERT_FALSE(e.packets.empty());
        std::uint64_t total = 0;
        for (const Packet& p : e.packets) {
            EXPECT_EQ(opus::packet_samples(bytes_of(p)).value(), samples);
            total += p.meta().duration().ns();
        }
        EXPECT_EQ(total, 200'000'000U);
    }
    for (const char* type : {"cbr", "vbr", "constrained-vbr"}) {
        SCOPED_TRACE(type);
        const Encoded e = encode(fmt::format("bitrate-type={} bitrate=32000", type), stereo48, input, 4096);
        ASSERT_EQ(e.packets.size(), 11U);
        if (std::string_view(type) == "cbr") {
            // Constant bitrate: every packet of the same size, 32 kbit/s * 20 ms.
            for (const Packet& p : e.packets) {
                EXPECT_EQ(p.size(), 80U);
            }
        }
    }
    for (const char* type : {"generic", "voice", "restricted-lowdelay"}) {
        SCOPED_TRACE(type);
        const Encoded e = encode(fmt::format("audio-type={}", type), stereo48, input, 4096);
        ASSERT_FALSE(e.packets.empty());
        const opus::Header h = opus::header_from_caps(e.caps).value();
        // Restricted low delay has no SILK and a 2.5 ms lookahead.
        EXPECT_EQ(h.pre_skip, std::string_view(type) == "restricted-lowdelay" ? 120 : 312);
        for (const Packet& p : e.packets) {
            const std::uint8_t toc = bytes_of(p)[0];
            if (std::string_view(type) == "restricted-lowdelay") {
                EXPECT_GE(toc >> 3, 16) << "CELT configurations only";
            }
        }
    }
    for (const char* extra : {"inband-fec=true packet-loss-percentage=20", "dtx=true", "complexity=0",
                              "max-payload-size=40", "bandwidth=narrowband"}) {
        SCOPED_TRACE(extra);
        const Encoded e = encode(extra, stereo48, input, 4096);
        ASSERT_EQ(e.packets.size(), 11U);
        for (const Packet& p : e.packets) {
            EXPECT_TRUE(opus::packet_samples(bytes_of(p)));
            if (std::string_view(extra) == "max-payload-size=40") {
                EXPECT_LE(p.size(), 40U);
            }
            if (std::string_view(extra) == "bandwidth=narrowband") {
                const int config = bytes_of(p)[0] >> 3;
                EXPECT_TRUE(config < 4 || (config >= 16 && config < 20))
                    << config << ": narrowband configurations are 0-3 (SILK) and 16-19 (CELT)";
            }
        }
    }
}

TEST(OpusEncTest, LowerRatesAndFloatInput) {
    const Encoded e = encode("", "audio/x-raw, format=F32LE, layout=interleaved, rate=16000, channels=1",
                             sine_bytes(true, 16000, std::vector<double>(1, 1000.0), 16000), 1000 * 4);
    const opus::Header h = opus::header_from_caps(e.caps).value();
    EXPECT_EQ(h.channels, 1);
    EXPECT_EQ(h.input_sample_rate, 16000U);
    EXPECT_EQ(e.caps.structure(0).get_int("rate"), 16000);
    EXPECT_EQ(h.pre_skip % 3, 0) << "lookahead at 16 kHz, counted at 48 kHz";
    std::uint64_t total = 0;
    for (const Packet& p : e.packets) {
        total += p.meta().duration().ns();
    }
    EXPECT_EQ(total, 1'000'000'000U);
}

TEST(OpusEncTest, SurroundUsesFamilyOne) {
    const Encoded e = encode("",
                             "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=6, "
                             "channel-mask=(bitmask)0x3f",
                             sine_bytes(false, 48000, std::vector<double>(6, 1000.0), 4800), 4800 * 12);
    const opus::Header h = opus::header_from_caps(e.caps).value();
    EXPECT_EQ(h.mapping_family, 1);
    EXPECT_EQ(h.channels, 6);
    EXPECT_EQ(h.stream_count, 4);
    EXPECT_EQ(h.coupled_count, 2);
    EXPECT_EQ(h.mapping, (std::vector<std::uint8_t>{0, 4, 1, 2, 3, 5}));
    EXPECT_EQ(e.caps.structure(0).get_int("channel-mapping-family"), 1);
    EXPECT_FALSE(e.packets.empty());
}

TEST(OpusEncTest, RefusesUnsupportedInputAndBuffersBeforeCaps) {
    auto h = check::Harness::create("opusenc").value();
    ASSERT_TRUE(h->start());
    auto refused =
        h->set_input_caps(Caps::parse_static("audio/x-raw, format=S16LE, layout=interleaved, rate=44100, channels=2"));
    EXPECT_FALSE(refused);
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("44100"), std::string::npos) << h->error()->to_string();

    auto h2 = check::Harness::create("opusenc").value();
    ASSERT_TRUE(h2->start());
    EXPECT_EQ(h2->push(h2->make_buffer(4).value()), Flow::error);
    ASSERT_TRUE(h2->error());
    EXPECT_FALSE(h2->error()->element().empty());

    auto h3 = check::Harness::create("opusenc").value();
    ASSERT_TRUE(h3->start());
    ASSERT_TRUE(h3->set_input_caps(Caps::parse_static(stereo48)));
    EXPECT_EQ(h3->push(h3->make_buffer(3).value()), Flow::error) << "3 bytes are not whole stereo S16 frames";
    ASSERT_TRUE(h3->error());
    EXPECT_NE(h3->error()->message().find("input buffer 0"), std::string::npos) << h3->error()->to_string();
}

TEST(OpusEncTest, KeepsTheFirstInputTimestamp) {
    auto h = check::Harness::create("opusenc").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(Caps::parse_static(stereo48)));
    const auto bytes = sine_bytes(false, 48000, std::vector<double>(2, 1000.0), 1920);
    auto b = h->make_buffer(bytes).value();
    b.meta().set_pts(ClockTime::from_ns(5'000'000'000));
    ASSERT_EQ(h->push(std::move(b)), Flow::ok);
    auto first = h->pull();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->meta().pts().ns(), 5'000'000'000U);
    auto second = h->pull();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->meta().pts().ns(), 5'013'500'000U);
}

} // namespace
} // namespace parallax::opusenc_test
