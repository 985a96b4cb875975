// mpegtsmux against FFmpeg and GStreamer. Muxed by libparallax:
//
// - H.264 + Opus: 2 s of 320x240 video at 25 fps (openh264enc, 50 frames)
//   and 2 s of 48 kHz stereo Opus (100 packets of 20 ms of input, plus one
//   for the encoder's pre-skip). ffprobe must show both streams with every
//   packet and 2 s durations; ffmpeg must decode the file without a word on
//   stderr; GStreamer's tsdemux must read it, decode the video to 50 frames
//   and the audio to 2 s (within 1 ms: GStreamer applies the Opus trims in
//   nanoseconds).
// - KLV next to video: ffprobe must see a klv data stream with every
//   packet, and ffmpeg must hand back exactly the KLV bytes that went in
//   (it reads ST 1402 access unit cells). GStreamer 1.22's tsdemux makes no
//   pad for stream type 0x15 (it reads only asynchronous KLV), so it is not
//   asked.
// - AV1: ffprobe must find the stream by its 'AV01' registration with every
//   packet (FFmpeg 5.1 and GStreamer 1.22 do not decode AV1 from TS; the
//   payload round trip is checked in tests/unit/elements/mpegtsmux_test.cpp).
//
// Each test is skipped, saying why, when an outside program it needs is
// missing (the README's test command installs them).

#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/klv/uas_local_set.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "integration/gst_compare_support.hpp"
#include "integration/media_tools_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace parallax {
namespace {

namespace fs = std::filesystem;
using check::ScratchDir;
using namespace std::chrono_literals;

void run_pipeline(const std::string& text) {
    auto p = Pipeline::parse(text);
    ASSERT_TRUE(p) << p.error().to_string();
    auto ok = (*p)->run(120s);
    ASSERT_TRUE(ok) << ok.error().to_string();
}

std::vector<std::uint8_t> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class MpegTsToolsTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* tool : {"ffprobe", "ffmpeg"}) {
            if (!check::have_tool(tool)) {
                GTEST_SKIP() << tool << " is not installed (ffmpeg is needed)";
            }
        }
    }
    ScratchDir dir{"mpegts-tools", ::testing::UnitTest::GetInstance()->current_test_info()->name()};
};

TEST_F(MpegTsToolsTest, H264AndOpusReadByFfmpegAndGStreamer) {
    const fs::path file = dir.path() / "av.ts";
    run_pipeline(fmt::format("mpegtsmux name=m ! filesink location={} "
                             "videotestsrc num-buffers=50 ! video/x-raw,format=I420,width=320,height=240,"
                             "framerate=25/1 ! openh264enc ! h264parse ! m. "
                             "audiotestsrc num-buffers=100 samplesperbuffer=960 freq=1000 ! audio/x-raw,rate=48000,"
                             "channels=2 ! opusenc ! m.",
                             file.string()));
    const auto streams = check::ffprobe_streams(file);
    ASSERT_EQ(streams.size(), 2U);
    bool saw_video = false;
    bool saw_audio = false;
    for (const auto& s : streams) {
        if (s.at("codec_name") == "h264") {
            saw_video = true;
            EXPECT_EQ(s.at("width"), "320");
            EXPECT_EQ(s.at("height"), "240");
            EXPECT_EQ(s.at("nb_read_packets"), "50");
            EXPECT_NEAR(std::strtod(s.at("duration").c_str(), nullptr), 2.0, 0.05);
        } else {
            saw_audio = true;
            EXPECT_EQ(s.at("codec_name"), "opus");
            EXPECT_EQ(s.at("sample_rate"), "48000");
            EXPECT_EQ(s.at("channels"), "2");
            EXPECT_EQ(s.at("nb_read_packets"), "101");
            EXPECT_NEAR(std::strtod(s.at("duration").c_str(), nullptr), 2.0, 0.05);
        }
    }
    EXPECT_TRUE(saw_video && saw_audio);
    const auto decode = check::shell(fmt::format("ffmpeg -v error -i {} -f null -", file.string()));
    EXPECT_TRUE(decode.ok);
    EXPECT_EQ(decode.output, "") << "ffmpeg complained while decoding";

    if (!check::have_tool("gst-launch-1.0") || !check::gstreamer_has("tsdemux") ||
        !check::gstreamer_has("openh264dec") || !check::gstreamer_has("opusdec") || !check::gstreamer_has("wavenc")) {
        GTEST_SKIP() << "GStreamer's tsdemux, openh264dec, opusdec or wavenc is not installed "
                        "(gstreamer1.0-plugins-base, -good and -bad)";
    }
    const fs::path wav = dir.path() / "audio.wav";
    const auto gst = check::shell(fmt::format(
        "timeout 120 gst-launch-1.0 -v filesrc location={} ! tsdemux name=d d. ! queue ! h264parse ! openh264dec ! "
        "identity silent=false ! fakesink d. ! queue ! opusparse ! opusdec ! audioconvert ! "
        "audio/x-raw,format=S16LE ! wavenc ! filesink location={} | grep -c 'chain.*identity0:sink'",
        file.string(), wav.string()));
    EXPECT_EQ(gst.output, "50\n") << "GStreamer decoded a different number of frames";
    const auto samples = static_cast<double>(fs::file_size(wav) - 44) / 4;
    EXPECT_NEAR(samples, 96000, 48) << "GStreamer decoded a different length of audio";
}

std::vector<std::uint8_t> klv_packet(int i) {
    klv::UasLocalSet set;
    EXPECT_TRUE(set.set_integer(klv::Tag::precision_time_stamp, 1'700'000'000'000'000ULL + i * 40'000ULL));
    EXPECT_TRUE(set.set_platform_heading(i * 7.5));
    EXPECT_TRUE(set.set_platform_roll(-45.0 + i));
    EXPECT_TRUE(set.set_mission_id("TOOLS"));
    return set.encode().value();
}

TEST_F(MpegTsToolsTest, KlvIsReadBackByFfmpeg) {
    const fs::path file = dir.path() / "klv.ts";
    auto p = Pipeline::parse(fmt::format("mpegtsmux name=m ! filesink location={} appsrc name=klv "
                                         "caps=meta/x-klv,parsed=true format=time ! m. videotestsrc num-buffers=25 ! "
                                         "video/x-raw,format=I420,width=160,height=120,framerate=25/1 ! openh264enc ! "
                                         "h264parse ! m.",
                                         file.string()));
    ASSERT_TRUE(p) << p.error().to_string();
    auto src = (*p)->get<AppSrc>("klv");
    ASSERT_TRUE(src);
    std::vector<std::uint8_t> all;
    for (int i = 0; i < 25; ++i) {
        const auto bytes = klv_packet(i);
        all.insert(all.end(), bytes.begin(), bytes.end());
        auto b = (*src)->allocate(bytes.size()).value();
        std::memcpy(b.map_writable().value().data(), bytes.data(), bytes.size());
        b.meta().set_pts(ClockTime::from_ns(static_cast<std::uint64_t>(i) * 40'000'000));
        ASSERT_TRUE((*src)->push_buffer(std::move(b)));
    }
    ASSERT_TRUE((*src)->end_of_stream());
    auto ok = (*p)->run(120s);
    ASSERT_TRUE(ok) << ok.error().to_string();

    const auto streams = check::ffprobe_streams(file);
    ASSERT_EQ(streams.size(), 2U);
    const check::Fields* klv = nullptr;
    for (const auto& s : streams) {
        if (s.at("codec_name") == "klv") {
            klv = &s;
        }
    }
    ASSERT_NE(klv, nullptr) << "ffprobe found no KLV stream";
    EXPECT_EQ(klv->at("nb_read_packets"), "25");
    const fs::path out = dir.path() / "ffmpeg.klv";
    const auto copy =
        check::shell(fmt::format("ffmpeg -v error -i {} -map 0:d -c copy -f data {}", file.string(), out.string()));
    ASSERT_TRUE(copy.ok) << copy.output;
    EXPECT_EQ(read_file(out), all) << "ffmpeg did not get the KLV bytes back";
}

TEST_F(MpegTsToolsTest, Av1IsFoundByItsRegistration) {
    const fs::path file = dir.path() / "av1.ts";
    run_pipeline(fmt::format("videotestsrc num-buffers=20 ! video/x-raw,format=I420,width=160,height=120,"
                             "framerate=25/1 ! av1enc cpu-used=9 ! mpegtsmux ! filesink location={}",
                             file.string()));
    const auto streams = check::ffprobe_streams(file);
    ASSERT_EQ(streams.size(), 1U);
    EXPECT_EQ(streams[0].at("codec_tag_string"), "AV01");
    EXPECT_EQ(streams[0].at("nb_read_packets"), "20");
}

} // namespace
} // namespace parallax
