// mp4mux against FFmpeg and GStreamer: 2 s of AV1 video (50 frames of
// 320x240 at 25 fps) and 2 s of Opus (48 kHz stereo, 100 packets of 20 ms
// of input) muxed by libparallax, as a plain file and as a fragmented one
// (fragment-duration=500), must
//
// - show in ffprobe two streams, av1 320x240 and opus 48000 Hz stereo, with
//   every packet: 50 video packets and ceil((96000 + pre-skip) / 960) = 101
//   audio packets (the Opus track keeps the pre-skip samples, the edit list
//   hides them), and durations of 2 s (within 50 ms: a container may count
//   the last frame or packet differently);
// - decode with ffmpeg without a word on stderr;
// - demux with GStreamer's qtdemux, both streams;
// - (fragmented) give packets whose pts rise in each stream.
//
// The box structure itself is checked in tests/unit/elements/mp4mux_test.cpp.
// Each test is skipped, saying why, when a tool or element it needs is
// missing.

#include <parallax/element/registry.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "integration/gst_compare_support.hpp"
#include "integration/media_tools_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace parallax {
namespace {

namespace fs = std::filesystem;
using check::ffprobe_pts;
using check::ffprobe_streams;
using check::Fields;
using check::have_tool;
using check::ScratchDir;
using check::shell;
using check::ShellRun;
using namespace std::chrono_literals;

class Mp4ToolsTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* tool : {"ffprobe", "ffmpeg"}) {
            if (!have_tool(tool)) {
                GTEST_SKIP() << tool << " is not installed (ffmpeg is needed)";
            }
        }
        for (const char* element : {"av1enc", "opusenc"}) {
            ASSERT_NE(Registry::global().find(element), nullptr) << element << " is not registered";
        }
        dir_ = std::make_unique<ScratchDir>("mp4", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    }

    // Muxes the test streams into `name` with mp4mux `props`.
    fs::path mux(const std::string& name, const std::string& props) {
        const fs::path out = dir_->path() / name;
        const std::string text = fmt::format(
            "videotestsrc num-buffers=50 ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 ! av1enc ! "
            "mp4mux name=m {} ! filesink location={}  audiotestsrc num-buffers=100 samplesperbuffer=960 ! "
            "audio/x-raw,rate=48000,channels=2 ! opusenc ! m.",
            props, out.string());
        auto p = Pipeline::parse(text);
        EXPECT_TRUE(p) << (p ? "" : format_pipeline_error(text, p.error()));
        if (p) {
            auto ok = (*p)->run(120s);
            EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
        }
        return out;
    }

    static void expect_two_streams(const fs::path& file) {
        const auto streams = ffprobe_streams(file);
        ASSERT_EQ(streams.size(), 2U);
        const Fields* video = nullptr;
        const Fields* audio = nullptr;
        for (const Fields& s : streams) {
            (s.at("codec_name") == "av1" ? video : audio) = &s;
        }
        ASSERT_NE(video, nullptr);
        ASSERT_NE(audio, nullptr);
        EXPECT_EQ(video->at("width"), "320");
        EXPECT_EQ(video->at("height"), "240");
        EXPECT_EQ(video->at("nb_read_packets"), "50");
        EXPECT_EQ(audio->at("codec_name"), "opus");
        EXPECT_EQ(audio->at("sample_rate"), "48000");
        EXPECT_EQ(audio->at("channels"), "2");
        EXPECT_EQ(audio->at("nb_read_packets"), "101");
        EXPECT_NEAR(std::strtod(video->at("duration").c_str(), nullptr), 2.0, 0.05);
        EXPECT_NEAR(std::strtod(audio->at("duration").c_str(), nullptr), 2.0, 0.05);
    }

    static void expect_clean_decode(const fs::path& file) {
        const ShellRun r = shell(fmt::format("ffmpeg -nostdin -v error -i {} -f null -", file.string()));
        EXPECT_TRUE(r.ok);
        EXPECT_EQ(r.output, "");
        if (!check::gstreamer_has("qtdemux")) {
            std::cout << "[ NOTE ] GStreamer's qtdemux is not installed: not read with GStreamer\n";
            return;
        }
        EXPECT_TRUE(check::gst_launch(fmt::format("filesrc location={} ! qtdemux name=d d.video_0 ! queue ! fakesink "
                                                  "d.audio_0 ! queue ! fakesink",
                                                  file.string())));
    }

    std::unique_ptr<ScratchDir> dir_;
};

TEST_F(Mp4ToolsTest, PlainFileIsReadByFfprobeFfmpegAndGStreamer) {
    const fs::path file = mux("plain.mp4", "");
    ASSERT_TRUE(fs::exists(file));
    expect_two_streams(file);
    expect_clean_decode(file);
    // moov-first: the bytes after ftyp are the moov.
    const ShellRun r = shell(fmt::format("head -c 40 {} | od -An -c", file.string()));
    EXPECT_NE(r.output.find("m   o   o   v"), std::string::npos) << r.output;
}

TEST_F(Mp4ToolsTest, FragmentedFileIsReadByFfprobeFfmpegAndGStreamer) {
    const fs::path file = mux("fragmented.mp4", "fragment-duration=500");
    ASSERT_TRUE(fs::exists(file));
    expect_two_streams(file);
    expect_clean_decode(file);
    for (const int index : {0, 1}) {
        const std::vector<double> pts = ffprobe_pts(file, index);
        ASSERT_FALSE(pts.empty());
        for (std::size_t i = 1; i < pts.size(); ++i) {
            EXPECT_GT(pts[i], pts[i - 1]) << "stream " << index << " packet " << i;
        }
    }
}

} // namespace
} // namespace parallax
