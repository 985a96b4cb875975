#include <parallax/caps/caps.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/element/registry.hpp>

#include "integration/audio_analysis.hpp"
#include "integration/audio_pipeline.hpp"
#include "unit/elements/opus_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace parallax {
namespace {

using test::Packet;
using test::packet_of;
using test::sine_bytes;

struct Stream {
    Caps caps;
    std::vector<Packet> buffers;
    std::vector<Message> messages;
    std::optional<Error> error;
};

// Runs `buffers` through `description` with input caps `caps`, then eos.
Stream run(const std::string& description, const Caps& caps, const std::vector<Packet>& buffers) {
    Stream s;
    auto h = check::Harness::create(description);
    EXPECT_TRUE(h) << (h ? "" : h.error().to_string());
    if (!h) {
        return s;
    }
    EXPECT_TRUE((*h)->start());
    EXPECT_TRUE((*h)->set_input_caps(caps));
    for (const Packet& b : buffers) {
        auto copy = (*h)->make_buffer(b.data()).value();
        copy.meta() = b.meta();
        if (!is_success((*h)->push(std::move(copy)))) {
            break;
        }
    }
    (*h)->push_event(Event::eos());
    (*h)->wait_eos();
    while (auto out = (*h)->pull(std::chrono::milliseconds(1))) {
        s.buffers.push_back(packet_of(*out));
    }
    for (const Event& ev : (*h)->take_events()) {
        if (ev.type() == EventType::caps) {
            s.caps = *ev.caps_value();
        }
    }
    s.messages = (*h)->messages();
    s.error = (*h)->error();
    return s;
}

Stream encode(const std::string& props, const std::string& raw_caps, const std::vector<std::byte>& bytes) {
    auto h = check::Harness::create("opusenc " + props).value();
    Stream s;
    EXPECT_TRUE(h->start());
    EXPECT_TRUE(h->set_input_caps(Caps::parse_static(raw_caps)));
    auto b = h->make_buffer(bytes).value();
    b.meta().set_pts(ClockTime::from_ns(0));
    EXPECT_EQ(h->push(std::move(b)), Flow::ok);
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    while (auto out = h->pull(std::chrono::milliseconds(1))) {
        s.buffers.push_back(packet_of(*out));
    }
    for (const Event& ev : h->take_events()) {
        if (ev.type() == EventType::caps) {
            s.caps = *ev.caps_value();
        }
    }
    return s;
}

// Channel `c` of the decoded stream, as doubles.
std::vector<double> channel(const Stream& s, std::size_t c) {
    const auto info = AudioInfo::from_caps(s.caps).value();
    std::vector<double> out;
    for (const Packet& b : s.buffers) {
        auto v = check::decode_channel(info.format(), info.channels(), false, b.data(), c);
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

std::size_t frames_of(const Stream& s) {
    const auto info = AudioInfo::from_caps(s.caps).value();
    std::size_t n = 0;
    for (const Packet& b : s.buffers) {
        n += b.size() / info.bytes_per_frame();
    }
    return n;
}

const std::string stereo48 = "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=2";

TEST(OpusDecTest, HasGStreamersProperties) {
    auto e = Registry::global().create("opusdec");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("apply-gain").value(), "true");
    EXPECT_EQ((*e)->get_property("plc").value(), "false");
    EXPECT_EQ((*e)->get_property("use-inband-fec").value(), "false");
    EXPECT_EQ((*e)->get_property("phase-inversion").value(), "false");
    EXPECT_EQ((*e)->get_property("max-errors").value(), "-1");
    auto bad = (*e)->set_property("max-errors", "-2");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("max-errors"), std::string::npos);
}

// 1 s of 1 kHz at 64 kbit/s: the decoded stream has exactly the input's
// samples (pre-skip and end trimming right), the same frequency, the same
// phase (the alignment is right) and an SNR of at least 30 dB.
TEST(OpusDecTest, DecodesStereoS16BackToTheSameSine) {
    const Stream enc = encode("bitrate=64000", stereo48, sine_bytes(false, 48000, {1000, 1000}, 48000));
    const Stream dec = run("opusdec", enc.caps, enc.buffers);
    ASSERT_FALSE(dec.error) << dec.error->to_string();
    EXPECT_EQ(dec.caps.to_string(), "audio/x-raw, format=(string)S16LE, layout=(string)interleaved, rate=(int)48000, "
                                    "channels=(int)2, channel-mask=(bitmask)0x0000000000000003");
    EXPECT_EQ(frames_of(dec), 48000U);
    for (std::size_t c = 0; c < 2; ++c) {
        const auto x = channel(dec, c);
        EXPECT_NEAR(check::zero_crossing_frequency(x, 48000), 1000.0, 1.0);
        const check::SineFit fit = check::fit_sine(x, 1000, 48000);
        EXPECT_GE(fit.snr_db, 30.0); // measured: about 39 dB stereo, 42 dB mono
        RecordProperty(fmt::format("snr_db_channel_{}", c), std::to_string(fit.snr_db));
        EXPECT_NEAR(fit.amplitude, 0.5, 0.05);
        EXPECT_NEAR(fit.phase, 0.0, 0.2) << "a phase off means the pre-skip was wrong";
    }
    // Output timestamps follow the input's.
    ASSERT_FALSE(dec.buffers.empty());
    EXPECT_EQ(dec.buffers.front().meta().pts().ns(), 0U);
    EXPECT_EQ(dec.buffers.back().meta().pts().ns() + dec.buffers.back().meta().duration().ns(), 1'000'000'000U);
}

TEST(OpusDecTest, DecodesMonoF32BackToTheSameSine) {
    const Stream enc = encode("", "audio/x-raw, format=F32LE, layout=interleaved, rate=48000, channels=1",
                              sine_bytes(true, 48000, {1000}, 48000));
    const Stream dec = run("opusdec", enc.caps, enc.buffers);
    ASSERT_FALSE(dec.error) << dec.error->to_string();
    EXPECT_EQ(AudioInfo::from_caps(dec.caps).value().channels(), 1U);
    EXPECT_EQ(frames_of(dec), 48000U);
    const auto x = channel(dec, 0);
    EXPECT_NEAR(check::zero_crossing_frequency(x, 48000), 1000.0, 1.0);
    const check::SineFit fit = check::fit_sine(x, 1000, 48000);
    EXPECT_GE(fit.snr_db, 30.0); // measured: about 39 dB stereo, 42 dB mono
    RecordProperty("snr_db", std::to_string(fit.snr_db));
    EXPECT_NEAR(fit.phase, 0.0, 0.2);
}

TEST(OpusDecTest, EveryFrameSizeDecodesToTheInputLength) {
    for (const char* size : {"2.5", "5", "10", "20", "40", "60"}) {
        SCOPED_TRACE(size);
        const Stream enc =
            encode(fmt::format("frame-size={}", size), stereo48, sine_bytes(false, 48000, {1000, 1000}, 10007));
        const Stream dec = run("opusdec", enc.caps, enc.buffers);
        EXPECT_EQ(frames_of(dec), 10007U);
    }
}

TEST(OpusDecTest, SurroundKeepsEachChannelInItsPosition) {
    // 5.1 in GStreamer's order FL FR FC LFE RL RR, each channel its own tone.
    const std::vector<double> freqs = {400, 600, 800, 100, 1200, 1400};
    const Stream enc = encode("bitrate=256000",
                              "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=6, "
                              "channel-mask=(bitmask)0x3f",
                              sine_bytes(false, 48000, freqs, 24000));
    const Stream dec = run("opusdec", enc.caps, enc.buffers);
    ASSERT_FALSE(dec.error) << dec.error->to_string();
    const auto info = AudioInfo::from_caps(dec.caps).value();
    EXPECT_EQ(info.channels(), 6U);
    EXPECT_EQ(info.channel_mask(), 0x3fU);
    EXPECT_EQ(frames_of(dec), 24000U);
    for (std::size_t c = 0; c < freqs.size(); ++c) {
        EXPECT_NEAR(check::zero_crossing_frequency(channel(dec, c), 48000), freqs[c], freqs[c] * 0.02) << c;
    }
}

TEST(OpusDecTest, ConcealsALostPacketWithPlc) {
    const Stream enc = encode("", stereo48, sine_bytes(false, 48000, {1000, 1000}, 48000));
    std::vector<Packet> lossy = enc.buffers;
    lossy.erase(lossy.begin() + 10);
    const Stream with_plc = run("opusdec plc=true", enc.caps, lossy);
    EXPECT_EQ(frames_of(with_plc), 48000U) << "the 20 ms gap is concealed";
    const Stream without = run("opusdec", enc.caps, lossy);
    EXPECT_EQ(frames_of(without), 48000U - 960U);
    const Stream with_fec = run("opusdec plc=true use-inband-fec=true", enc.caps, lossy);
    EXPECT_EQ(frames_of(with_fec), 48000U);
    // A buffer flagged gap stands for a lost packet of its duration.
    std::vector<Packet> flagged = enc.buffers;
    auto& gap = flagged[10];
    Metadata m = gap.meta();
    m.set_flag(BufferFlags::gap);
    gap.meta() = m;
    const Stream concealed = run("opusdec", enc.caps, flagged);
    EXPECT_EQ(frames_of(concealed), 48000U);
}

TEST(OpusDecTest, CorruptPacketWarnsAndIsConcealedOrFailsWithMaxErrors) {
    const Stream enc = encode("", stereo48, sine_bytes(false, 48000, {1000, 1000}, 9600));
    std::vector<Packet> bad = enc.buffers;
    // A code 3 packet with a frame count of 0, in place of packet 3.
    bad[3].bytes = {std::byte{0xfb}, std::byte{0x00}};

    // GStreamer's default (max-errors=-1): a warning, and the packet's
    // duration is concealed.
    const Stream tolerant = run("opusdec", enc.caps, bad);
    EXPECT_FALSE(tolerant.error);
    bool warned = false;
    for (const Message& m : tolerant.messages) {
        if (m.type == MessageType::warning && m.error && m.error->message().find("packet 3") != std::string::npos &&
            m.error->message().find("opusdec") != std::string::npos) {
            warned = true;
        }
    }
    EXPECT_TRUE(warned);
    EXPECT_EQ(frames_of(tolerant), 9600U);

    const Stream strict = run("opusdec max-errors=0", enc.caps, bad);
    ASSERT_TRUE(strict.error);
    EXPECT_FALSE(strict.error->element().empty());
    EXPECT_NE(strict.error->message().find("opusdec"), std::string::npos) << strict.error->to_string();
    EXPECT_NE(strict.error->message().find("packet 3"), std::string::npos) << strict.error->to_string();
    EXPECT_NE(strict.error->message().find("frame count of 0"), std::string::npos) << strict.error->to_string();
}

TEST(OpusDecTest, RepeatedCapsDoNotApplyPreSkipAgain) {
    const Stream enc = encode("", stereo48, sine_bytes(false, 48000, {1000, 1000}, 9600));
    auto h = check::Harness::create("opusdec").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(enc.caps));
    std::size_t frames = 0;
    for (std::size_t i = 0; i < enc.buffers.size(); ++i) {
        if (i == 5) {
            ASSERT_TRUE(h->set_input_caps(enc.caps));
        }
        auto b = h->make_buffer(enc.buffers[i].data()).value();
        b.meta() = enc.buffers[i].meta();
        ASSERT_EQ(h->push(std::move(b)), Flow::ok);
    }
    while (auto out = h->pull(std::chrono::milliseconds(1))) {
        frames += out->size() / 4;
    }
    EXPECT_EQ(frames, 9600U);
}

TEST(OpusDecTest, RefusesCapsWithoutAHeader) {
    auto h = check::Harness::create("opusdec").value();
    ASSERT_TRUE(h->start());
    EXPECT_FALSE(h->set_input_caps(Caps::parse_static("audio/x-opus, channels=6, channel-mapping-family=1")));
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("channel-mapping-family"), std::string::npos) << h->error()->to_string();
}

TEST(OpusDecTest, NegotiatesFloatAtALowerRateDownstream) {
    auto run_result = check::run_audio("audiotestsrc num-buffers=50 samplesperbuffer=960 freq=1000 ! "
                                       "audio/x-raw,rate=48000,channels=2 ! opusenc ! opusdec ! "
                                       "audio/x-raw,format=F32LE,rate=16000 ! appsink name=sink");
    ASSERT_TRUE(run_result) << run_result.error().to_string();
    const auto info = AudioInfo::from_caps(run_result->caps()).value();
    EXPECT_EQ(info.format(), AudioFormat::f32le);
    EXPECT_EQ(info.rate(), 16000U);
    const auto x = check::channel_of(*run_result, 0);
    EXPECT_EQ(x.size(), 16000U); // 1 s at 16 kHz
    EXPECT_NEAR(check::zero_crossing_frequency(x, 16000), 1000.0, 2.0);
}

} // namespace
} // namespace parallax
