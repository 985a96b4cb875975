// qtdemux against FFmpeg: 2 s of video (testsrc, 320x240 at 25 fps; AV1
// from libaom or H.264 baseline from libx264) and 2 s of Opus (48 kHz)
// written by ffmpeg as a plain file (moov after mdat), with
// -movflags +faststart (moov first) and fragmented (frag_keyframe+
// empty_moov), read by qtdemux: each stream must give as many packets as
// `ffprobe -show_packets` counts, with its key-frame flags, and the pts
// ffprobe reports converted to nanoseconds (pts * 1e9 * time_base,
// truncated as qtdemux truncates; compared within 1 us). ffprobe shows the
// Opus pre-skip as a negative pts for the first packet; the timing
// convention starts the kept audio at 0, so that packet is expected at 0.
//
// Each test is skipped, saying why, when ffmpeg, ffprobe or an encoder is
// missing.

#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "integration/gst_compare_support.hpp"
#include "integration/media_tools_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace parallax::qtdemux_tools_test {
namespace {

namespace fs = std::filesystem;
using check::have_tool;
using check::ScratchDir;
using check::shell;
using check::ShellRun;
using namespace std::chrono_literals;

struct Packet {
    std::int64_t pts_ns = 0;
    bool key = false;
};

// The packets of stream `selector` ("v:0", "a:0") as ffprobe reports them.
std::vector<Packet> ffprobe_packets(const fs::path& file, const std::string& selector) {
    const ShellRun tb = shell(fmt::format("ffprobe -v error -select_streams {} -show_entries stream=time_base -of "
                                          "csv=p=0 {}",
                                          selector, file.string()));
    EXPECT_TRUE(tb.ok) << tb.output;
    long long num = 0;
    long long den = 0;
    if (std::sscanf(tb.output.c_str(), "%lld/%lld", &num, &den) != 2 || num <= 0 || den <= 0) {
        ADD_FAILURE() << "time base: " << tb.output;
        return {};
    }
    const ShellRun r = shell(fmt::format("ffprobe -v error -select_streams {} -show_entries packet=pts,flags -of "
                                         "csv=p=0 {}",
                                         selector, file.string()));
    EXPECT_TRUE(r.ok) << r.output;
    std::vector<Packet> out;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
        const auto comma = line.find(',');
        if (line.empty() || comma == std::string::npos) {
            continue;
        }
        const long long pts = std::strtoll(line.c_str(), nullptr, 10);
        __extension__ using Wide = __int128;
        Packet p;
        p.pts_ns = pts <= 0 ? 0 : static_cast<std::int64_t>(static_cast<Wide>(pts) * num * 1'000'000'000 / den);
        p.key = line.find('K', comma) != std::string::npos;
        out.push_back(p);
    }
    return out;
}

struct Collected {
    std::mutex mutex;
    std::vector<Packet> video;
    std::vector<Packet> audio;
};

class QtDemuxToolsTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* tool : {"ffprobe", "ffmpeg"}) {
            if (!shell(fmt::format("{} -version", tool)).ok) {
                GTEST_SKIP() << tool << " is not installed (ffmpeg is needed)";
            }
        }
        dir_ = std::make_unique<ScratchDir>("qtdemux", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    }

    static bool has_encoder(const std::string& name) {
        const ShellRun r = shell("ffmpeg -hide_banner -encoders");
        return r.ok && r.output.find(" " + name + " ") != std::string::npos;
    }

    // ffmpeg's 2 s file with video `codec_args` and `movflags` ("" for none).
    fs::path make(const std::string& name, const std::string& codec_args, const std::string& movflags) {
        const fs::path out = dir_->path() / name;
        const ShellRun r = shell(fmt::format(
            "ffmpeg -nostdin -y -v error -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=f=440:r=48000 "
            "-t 2 {} -c:a libopus {} {}",
            codec_args, movflags.empty() ? "" : "-movflags " + movflags, out.string()));
        EXPECT_TRUE(r.ok) << r.output;
        return out;
    }

    // Demuxes `file` with qtdemux into two appsinks.
    static void demux(const fs::path& file, Collected& c) {
        const std::string text = fmt::format("filesrc location={} ! qtdemux name=d  d.video_0 ! appsink name=v "
                                             "sync=false  d.audio_0 ! appsink name=a sync=false",
                                             file.string());
        auto p = Pipeline::parse(text);
        ASSERT_TRUE(p) << p.error().to_string();
        auto v = (*p)->get<AppSink>("v");
        auto a = (*p)->get<AppSink>("a");
        ASSERT_TRUE(v && a);
        auto collect = [&c](std::vector<Packet>& into) {
            return [&c, &into](AppSink& s) {
                auto sample = s.pull_sample();
                if (!sample) {
                    return;
                }
                std::lock_guard lock(c.mutex);
                into.push_back(Packet{static_cast<std::int64_t>(sample->buffer.meta().pts().ns()),
                                      !sample->buffer.meta().has_flag(BufferFlags::delta)});
            };
        };
        (*v)->set_new_sample(collect(c.video));
        (*a)->set_new_sample(collect(c.audio));
        auto ok = (*p)->run(60s);
        EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    }

    static void expect_same(const std::vector<Packet>& ours, const std::vector<Packet>& ffprobe,
                            const std::string& what) {
        SCOPED_TRACE(what);
        ASSERT_FALSE(ffprobe.empty());
        ASSERT_EQ(ours.size(), ffprobe.size());
        for (std::size_t i = 0; i < ours.size(); ++i) {
            EXPECT_NEAR(static_cast<double>(ours[i].pts_ns), static_cast<double>(ffprobe[i].pts_ns), 1000.0)
                << "packet " << i;
            EXPECT_EQ(ours[i].key, ffprobe[i].key) << "packet " << i;
        }
    }

    void check(const std::string& name, const std::string& codec_args, const std::string& movflags) {
        const fs::path file = make(name, codec_args, movflags);
        ASSERT_TRUE(fs::exists(file));
        Collected c;
        demux(file, c);
        expect_same(c.video, ffprobe_packets(file, "v:0"), name + " video");
        expect_same(c.audio, ffprobe_packets(file, "a:0"), name + " audio");
    }

    std::unique_ptr<ScratchDir> dir_;
};

constexpr const char* av1_args = "-c:v libaom-av1 -cpu-used 8 -usage realtime";
constexpr const char* h264_args = "-c:v libx264 -profile:v baseline -pix_fmt yuv420p";

TEST_F(QtDemuxToolsTest, Av1AndOpusAsFfmpegWritesThem) {
    if (!has_encoder("libaom-av1") || !has_encoder("libopus")) {
        GTEST_SKIP() << "ffmpeg has no libaom-av1 or libopus encoder";
    }
    check("av1.mp4", av1_args, "");
    check("av1-faststart.mp4", av1_args, "+faststart");
    check("av1-fragmented.mp4", av1_args, "frag_keyframe+empty_moov");
}

TEST_F(QtDemuxToolsTest, H264AndOpusAsFfmpegWritesThem) {
    if (!has_encoder("libx264") || !has_encoder("libopus")) {
        GTEST_SKIP() << "ffmpeg has no libx264 or libopus encoder";
    }
    check("h264.mp4", h264_args, "");
    check("h264-faststart.mp4", h264_args, "+faststart");
    check("h264-fragmented.mp4", h264_args, "frag_keyframe+empty_moov");
}

} // namespace
} // namespace parallax::qtdemux_tools_test
