// Force-key-unit requests in the video encoders (elements/codec/
// key_unit_requests.cpp, used by av1enc and openh264enc): an upstream
// request makes the next frame, or the first at or after its running time, a
// key frame carrying its headers; a downstream request from upstream does the
// same; each is answered by one downstream force-key-unit event naming the
// key frame's times and the request's count; the decoder starts from there.

#include <parallax/check/harness.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/video/video_info.hpp>

#include "unit/elements/video_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace parallax::key_unit_requests_test {
namespace {

using namespace std::chrono_literals;
using check::Harness;

constexpr std::uint64_t frame_ns = 33'333'333;
constexpr std::uint64_t first_pts_ns = 1'000'000'000;

struct Codec {
    const char* encoder; // no natural key frame after the first within the test
    const char* decoder;
    const char* name;
};

const Codec codecs[] = {
    {"av1enc keyframe-max-dist=1000", "dav1ddec", "av1enc"},
    {"openh264enc gop-size=1000", "openh264dec", "openh264enc"},
};

void PrintTo(const Codec& c, std::ostream* os) {
    *os << c.encoder;
}

class KeyUnitRequestsTest : public ::testing::TestWithParam<Codec> {};

ClockTime pts_of(unsigned frame) {
    return ClockTime::from_ns(first_pts_ns + frame * frame_ns);
}

bool is_key(const Buffer& b) {
    return !b.meta().has_flag(BufferFlags::delta);
}

// An encoder in a harness, fed 64x48 I420 frames at 30 fps numbered from 0.
struct Encoder {
    std::unique_ptr<Harness> harness;
    VideoInfo info = check::info_of("video/x-raw, format=I420, width=64, height=48, framerate=30/1");
    unsigned next_frame = 0;
    std::vector<Buffer> out; // every buffer, in order
    std::vector<DownstreamForceKeyUnit> announced;
    std::vector<unsigned> announced_at; // buffers out when each announcement was taken
    std::optional<Caps> caps;

    explicit Encoder(const Codec& codec) {
        auto h = Harness::create(codec.encoder);
        EXPECT_TRUE(h) << (h ? "" : h.error().to_string());
        harness = std::move(*h);
        EXPECT_TRUE(harness->start());
        EXPECT_TRUE(harness->set_input_caps(info.to_caps()));
    }

    // Pushes frames until `frame` (exclusive), collecting what comes out
    // after each: the element answers synchronously (no lag configured).
    void push_until(unsigned frame) {
        for (; next_frame < frame; ++next_frame) {
            Buffer b = check::pattern_frame(*harness, info);
            b.meta().set_pts(pts_of(next_frame));
            b.meta().set_duration(ClockTime::from_ns(frame_ns));
            ASSERT_EQ(harness->push(std::move(b)), Flow::ok) << "frame " << next_frame;
            collect();
        }
    }

    void collect() {
        for (const Event& e : harness->take_events()) {
            if (const auto* k = e.downstream_force_key_unit_value()) {
                announced.push_back(*k);
                announced_at.push_back(static_cast<unsigned>(out.size()));
            } else if (const Caps* c = e.caps_value()) {
                caps = *c;
            }
            EXPECT_NE(e.type(), EventType::upstream_force_key_unit);
        }
        while (auto b = harness->pull(10ms)) {
            out.push_back(std::move(*b));
        }
    }

    std::vector<unsigned> key_frames() const {
        std::vector<unsigned> keys;
        for (unsigned i = 0; i < out.size(); ++i) {
            if (is_key(out[i])) {
                keys.push_back(i);
            }
        }
        return keys;
    }
};

Event request(ClockTime running_time, std::uint32_t count, bool all_headers = true) {
    UpstreamForceKeyUnit r;
    r.running_time = running_time;
    r.count = count;
    r.all_headers = all_headers;
    return Event::upstream_force_key_unit(r);
}

TEST_P(KeyUnitRequestsTest, UpstreamRequestMakesTheNextFrameAKeyFrame) {
    Encoder enc(GetParam());
    enc.push_until(4);
    // The harness sends it into the encoder's src pad, as a sink would.
    ASSERT_TRUE(enc.harness->push_event(request(ClockTime::none(), 9)));
    enc.push_until(8);
    ASSERT_EQ(enc.out.size(), 8U);
    EXPECT_EQ(enc.key_frames(), (std::vector<unsigned>{0, 4}));
    ASSERT_EQ(enc.announced.size(), 1U);
    // It came out while frame 4 was pushed (the order against the buffer
    // is checked in tests/integration/force_key_unit_test.cpp).
    EXPECT_EQ(enc.announced_at[0], 4U);
    const DownstreamForceKeyUnit& k = enc.announced[0];
    EXPECT_EQ(k.count, 9U);
    EXPECT_TRUE(k.all_headers);
    EXPECT_EQ(k.timestamp, pts_of(4));
    // The harness's segment starts at 0 with base 0: times equal the pts.
    EXPECT_EQ(k.running_time, pts_of(4));
    EXPECT_EQ(k.stream_time, pts_of(4));
    EXPECT_FALSE(enc.harness->error());
}

TEST_P(KeyUnitRequestsTest, RequestForARunningTimeWaitsForTheFrameThatReachesIt) {
    Encoder enc(GetParam());
    enc.push_until(2);
    // Half a frame before frame 6: frame 6 is the first at or after it.
    ASSERT_TRUE(enc.harness->push_event(request(ClockTime::from_ns(pts_of(6).ns() - frame_ns / 2), 1)));
    ASSERT_TRUE(enc.harness->push_event(request(pts_of(9), 2, false)));
    enc.push_until(12);
    EXPECT_EQ(enc.key_frames(), (std::vector<unsigned>{0, 6, 9}));
    ASSERT_EQ(enc.announced.size(), 2U);
    EXPECT_EQ(enc.announced[0].count, 1U);
    EXPECT_EQ(enc.announced[0].timestamp, pts_of(6));
    EXPECT_EQ(enc.announced[1].count, 2U);
    EXPECT_FALSE(enc.announced[1].all_headers);
    EXPECT_EQ(enc.announced[1].running_time, pts_of(9));
}

TEST_P(KeyUnitRequestsTest, RequestsDueTogetherGiveOneKeyFrameAndOneAnnouncement) {
    Encoder enc(GetParam());
    enc.push_until(3);
    ASSERT_TRUE(enc.harness->push_event(request(ClockTime::none(), 4, false)));
    ASSERT_TRUE(enc.harness->push_event(request(pts_of(1), 5, true)));
    enc.push_until(5);
    EXPECT_EQ(enc.key_frames(), (std::vector<unsigned>{0, 3}));
    ASSERT_EQ(enc.announced.size(), 1U);
    EXPECT_EQ(enc.announced[0].count, 5U);     // the latest
    EXPECT_TRUE(enc.announced[0].all_headers); // any asked
}

TEST_P(KeyUnitRequestsTest, DownstreamRequestFromUpstreamIsAnsweredNotPassedOn) {
    Encoder enc(GetParam());
    enc.push_until(3);
    DownstreamForceKeyUnit from_upstream;
    from_upstream.timestamp = pts_of(5);
    from_upstream.running_time = pts_of(5);
    from_upstream.count = 31;
    ASSERT_TRUE(enc.harness->push_event(Event::downstream_force_key_unit(from_upstream)));
    enc.push_until(7);
    EXPECT_EQ(enc.key_frames(), (std::vector<unsigned>{0, 5}));
    // One event: the encoder's own, for its key frame (the incoming one went
    // no further than the encoder).
    ASSERT_EQ(enc.announced.size(), 1U);
    EXPECT_EQ(enc.announced_at[0], 5U);
    EXPECT_EQ(enc.announced[0].count, 31U);
    EXPECT_EQ(enc.announced[0].timestamp, pts_of(5));
}

TEST_P(KeyUnitRequestsTest, TheDecoderStartsAtTheRequestedKeyFrame) {
    Encoder enc(GetParam());
    enc.push_until(5);
    ASSERT_TRUE(enc.harness->push_event(request(ClockTime::none(), 0)));
    enc.push_until(10);
    ASSERT_EQ(enc.out.size(), 10U);
    ASSERT_TRUE(is_key(enc.out[5]));
    ASSERT_TRUE(enc.caps);

    auto dec = Harness::create(GetParam().decoder);
    ASSERT_TRUE(dec) << dec.error().to_string();
    auto& d = **dec;
    ASSERT_TRUE(d.start());
    ASSERT_TRUE(d.set_input_caps(*enc.caps));
    for (unsigned i = 5; i < 10; ++i) {
        ASSERT_EQ(d.push(enc.out[i]), Flow::ok) << "unit " << i;
    }
    d.push_event(Event::eos());
    EXPECT_TRUE(d.wait_eos());
    std::vector<ClockTime> decoded;
    while (auto picture = d.pull(500ms)) {
        decoded.push_back(picture->meta().pts());
    }
    EXPECT_EQ(decoded, (std::vector<ClockTime>{pts_of(5), pts_of(6), pts_of(7), pts_of(8), pts_of(9)}));
    EXPECT_FALSE(d.error());
    for (const Message& m : d.messages()) {
        EXPECT_NE(m.type, MessageType::warning) << m.to_string();
    }
}

TEST_P(KeyUnitRequestsTest, OtherUpstreamEventsAreNotTakenAsRequests) {
    Encoder enc(GetParam());
    enc.harness->push_event(Event::latency(ClockTime::from_ms(5)));
    enc.push_until(4);
    EXPECT_EQ(enc.key_frames(), (std::vector<unsigned>{0}));
    EXPECT_TRUE(enc.announced.empty());
}

TEST_P(KeyUnitRequestsTest, StopForgetsPendingRequests) {
    Encoder enc(GetParam());
    enc.push_until(1);
    ASSERT_TRUE(enc.harness->push_event(request(pts_of(3), 1)));
    ASSERT_TRUE(enc.harness->stop());
    ASSERT_TRUE(enc.harness->start());
    ASSERT_TRUE(enc.harness->set_input_caps(enc.info.to_caps()));
    enc.push_until(6);
    EXPECT_EQ(enc.key_frames(), (std::vector<unsigned>{0, 1}));
    EXPECT_TRUE(enc.announced.empty());
}

INSTANTIATE_TEST_SUITE_P(Encoders, KeyUnitRequestsTest, ::testing::ValuesIn(codecs),
                         [](const ::testing::TestParamInfo<Codec>& p) { return std::string(p.param.name); });

// libaom writes the sequence header into every key temporal unit: a forced
// key frame carries it in band (all-headers), as the first one does.
TEST(KeyUnitRequestsAv1Test, ForcedKeyFrameCarriesTheSequenceHeader) {
    Encoder enc(codecs[0]);
    enc.push_until(3);
    ASSERT_TRUE(enc.harness->push_event(request(ClockTime::none(), 1)));
    enc.push_until(5);
    ASSERT_EQ(enc.out.size(), 5U);
    for (unsigned i = 0; i < enc.out.size(); ++i) {
        const auto* data = reinterpret_cast<const std::uint8_t*>(enc.out[i].data().data());
        auto obus = av1::split_obus(std::span(data, enc.out[i].size()));
        ASSERT_TRUE(obus) << obus.error().to_string();
        bool has_sequence_header = false;
        for (const av1::Obu& o : *obus) {
            has_sequence_header = has_sequence_header || o.type == av1::ObuType::sequence_header;
        }
        EXPECT_EQ(has_sequence_header, i == 0 || i == 3) << "temporal unit " << i;
    }
}

// OpenH264 writes SPS and PPS before every IDR picture.
TEST(KeyUnitRequestsH264Test, ForcedIdrCarriesSpsAndPps) {
    Encoder enc(codecs[1]);
    enc.push_until(3);
    ASSERT_TRUE(enc.harness->push_event(request(ClockTime::none(), 1)));
    enc.push_until(5);
    ASSERT_EQ(enc.out.size(), 5U);
    const auto nal_types = [](const Buffer& b) {
        std::vector<int> types;
        const auto bytes = b.data();
        for (std::size_t i = 0; i + 3 < bytes.size(); ++i) {
            if (bytes[i] == std::byte{0} && bytes[i + 1] == std::byte{0} && bytes[i + 2] == std::byte{1}) {
                types.push_back(std::to_integer<int>(bytes[i + 3]) & 0x1f);
            }
        }
        return types;
    };
    EXPECT_EQ(nal_types(enc.out[3]), (std::vector<int>{7, 8, 5}));
    EXPECT_EQ(nal_types(enc.out[2]), (std::vector<int>{1}));
}

} // namespace
} // namespace parallax::key_unit_requests_test
