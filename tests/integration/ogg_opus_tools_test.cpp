// oggdemux and oggmux against opus-tools and FFmpeg:
//
// - a real Ogg Opus file from the opusenc CLI (1 s of a 1 kHz sine, 48 kHz
//   stereo) is demuxed by a libparallax pipeline; its packets and times
//   must be ffprobe's (same count; pts within one sample; ffprobe's first
//   pts is -pre_skip, ours the start of the audio kept, 0);
// - the same file remuxed (filesrc ! oggdemux ! oggmux ! filesink) must
//   decode with opusdec to as many samples as the original (pre-skip and
//   end trimming kept), pass opusinfo without errors or warnings, and
//   decode with ffmpeg without a word on stderr (and with GStreamer's
//   oggdemux ! opusdec when it is installed);
// - when libparallax has opusenc: audiotestsrc ! opusenc ! oggmux gives a
//   file that opusdec and ffprobe read, with every input sample.
//
// Each test is skipped, saying why, when a tool it needs is missing.

#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "integration/gst_compare_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace parallax::ogg_opus_tools_test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using check::ScratchDir;

struct Output {
    bool ok = false;
    std::string text; // stdout and stderr together
};

// Runs `command` in a shell (the paths used here have no spaces).
Output run(const std::string& command) {
    Output out;
    FILE* f = ::popen(("(" + command + ") 2>&1").c_str(), "r");
    if (f == nullptr) {
        return out;
    }
    char chunk[4096];
    std::size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
        out.text.append(chunk, n);
    }
    out.ok = ::pclose(f) == 0;
    return out;
}

bool have(const std::string& tool) {
    return run(fmt::format("command -v {}", tool)).ok;
}

// 1 s of a 1 kHz sine, 48 kHz, 16-bit stereo.
void write_sine_wav(const fs::path& path) {
    constexpr std::uint32_t rate = 48000;
    constexpr std::uint32_t frames = rate;
    constexpr std::uint16_t channels = 2;
    std::vector<std::uint8_t> data;
    auto u16 = [&](std::uint16_t v) {
        data.push_back(static_cast<std::uint8_t>(v));
        data.push_back(static_cast<std::uint8_t>(v >> 8));
    };
    auto u32 = [&](std::uint32_t v) {
        u16(static_cast<std::uint16_t>(v));
        u16(static_cast<std::uint16_t>(v >> 16));
    };
    auto tag = [&](const char* t) { data.insert(data.end(), t, t + 4); };
    const std::uint32_t bytes = frames * channels * 2;
    tag("RIFF");
    u32(36 + bytes);
    tag("WAVE");
    tag("fmt ");
    u32(16);
    u16(1);
    u16(channels);
    u32(rate);
    u32(rate * channels * 2);
    u16(channels * 2);
    u16(16);
    tag("data");
    u32(bytes);
    for (std::uint32_t i = 0; i < frames; ++i) {
        const double v = 0.5 * std::sin(2.0 * 3.14159265358979323846 * 1000.0 * i / rate);
        const auto s = static_cast<std::int16_t>(std::lround(v * 32767.0));
        for (int c = 0; c < channels; ++c) {
            u16(static_cast<std::uint16_t>(s));
        }
    }
    std::ofstream os(path, std::ios::binary);
    os.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

struct Packet {
    std::int64_t pts = 0; // samples at 48 kHz
    std::int64_t duration = 0;
};

// ffprobe's packets of audio stream `stream`, in samples (time base 1/48000).
std::vector<Packet> ffprobe_packets(const fs::path& file, int stream = 0) {
    const Output r = run(fmt::format("ffprobe -v error -select_streams a:{} -show_entries packet=pts,duration "
                                     "-of csv=p=0 {}",
                                     stream, file.string()));
    EXPECT_TRUE(r.ok) << r.text;
    std::vector<Packet> out;
    std::istringstream lines(r.text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string pts;
        std::string duration;
        if (!std::getline(fields, pts, ',') || !std::getline(fields, duration, ',') || pts.empty()) {
            continue;
        }
        out.push_back({std::stoll(pts), std::stoll(duration)});
    }
    return out;
}

// What oggdemux pushes for `file`, read in pieces of 777 bytes, in samples.
// The funnel is there because a pipeline does not start while an always
// sink pad (appsink's) is unlinked, and the demuxer's pad appears only once
// data flows; funnel's sink pads are made on request, when it appears.
std::vector<Packet> parallax_packets(const fs::path& file, std::string* caps_out = nullptr) {
    const std::string text = fmt::format("filesrc location={} blocksize=777 ! oggdemux ! funnel ! appsink name=sink "
                                         "sync=false",
                                         file.string());
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << (p ? "" : format_pipeline_error(text, p.error()));
    if (!p) {
        return {};
    }
    std::mutex mutex;
    std::vector<Packet> packets;
    std::string caps;
    auto sink = (*p)->get<AppSink>("sink");
    EXPECT_TRUE(sink);
    if (!sink) {
        return {};
    }
    (*sink)->set_new_sample([&](AppSink& s) {
        auto sample = s.pull_sample();
        if (!sample) {
            return;
        }
        const Metadata& m = sample->buffer.meta();
        const auto to_samples = [](ClockTime t) {
            return static_cast<std::int64_t>(std::llround(static_cast<double>(t.ns()) * 48000.0 / 1e9));
        };
        std::lock_guard lock(mutex);
        packets.push_back({to_samples(m.pts()), to_samples(m.duration())});
        caps = sample->caps.to_string();
    });
    auto ok = (*p)->run(60s);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    std::lock_guard lock(mutex);
    if (caps_out != nullptr) {
        *caps_out = caps;
    }
    return packets;
}

// Samples in a WAV file opusdec wrote (from its data chunk's size).
std::int64_t wav_frames(const fs::path& file) {
    std::ifstream is(file, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
    // Find the "data" chunk; its size over the frame size (channels * 2).
    const std::string whole(bytes.begin(), bytes.end());
    const auto fmt_at = whole.find("fmt ");
    const auto data_at = whole.find("data");
    if (fmt_at == std::string::npos || data_at == std::string::npos || data_at + 8 > whole.size()) {
        ADD_FAILURE() << "no WAV chunks in " << file;
        return -1;
    }
    auto le = [&](std::size_t at, int n) {
        std::uint32_t v = 0;
        for (int i = 0; i < n; ++i) {
            v |= static_cast<std::uint32_t>(static_cast<unsigned char>(whole[at + static_cast<std::size_t>(i)]))
                 << (8 * i);
        }
        return v;
    };
    const std::uint32_t block_align = le(fmt_at + 8 + 12, 2);
    const std::uint32_t size = le(data_at + 4, 4);
    if (block_align == 0) {
        ADD_FAILURE() << "block align 0 in " << file;
        return -1;
    }
    // opusdec writes a file here, so the size is exact unless the file is cut.
    const std::uint64_t available = whole.size() - (data_at + 8);
    return static_cast<std::int64_t>(std::min<std::uint64_t>(size, available) / block_align);
}

class OggOpusToolsTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* tool : {"opusenc", "opusdec", "opusinfo", "ffprobe", "ffmpeg"}) {
            if (!have(tool)) {
                GTEST_SKIP() << tool << " is not installed (opus-tools and ffmpeg are needed)";
            }
        }
        dir_ =
            std::make_unique<ScratchDir>("ogg-opus", ::testing::UnitTest::GetInstance()->current_test_info()->name());
        wav_ = dir_->path() / "sine.wav";
        original_ = dir_->path() / "sine.opus";
        write_sine_wav(wav_);
        const Output r = run(fmt::format("opusenc --quiet {} {}", wav_.string(), original_.string()));
        ASSERT_TRUE(r.ok) << r.text;
    }

    std::unique_ptr<ScratchDir> dir_;
    fs::path wav_;
    fs::path original_;
};

TEST_F(OggOpusToolsTest, DemuxedPacketsMatchFfprobe) {
    const std::vector<Packet> theirs = ffprobe_packets(original_);
    std::string caps;
    const std::vector<Packet> ours = parallax_packets(original_, &caps);
    ASSERT_FALSE(theirs.empty());
    ASSERT_EQ(ours.size(), theirs.size());
    EXPECT_NE(caps.find("audio/x-opus"), std::string::npos) << caps;
    EXPECT_NE(caps.find("channels=(int)2"), std::string::npos) << caps;
    std::int64_t ours_total = 0;
    for (std::size_t i = 0; i < ours.size(); ++i) {
        // ffprobe gives the first packet pts -pre_skip and its whole
        // duration; the convention gives the part kept after pre-skip.
        const std::int64_t their_end = theirs[i].pts + theirs[i].duration;
        const std::int64_t their_pts = std::max<std::int64_t>(theirs[i].pts, 0);
        EXPECT_NEAR(ours[i].pts, their_pts, 1) << "packet " << i;
        EXPECT_NEAR(ours[i].pts + ours[i].duration, their_end, 1) << "packet " << i;
        ours_total += ours[i].duration;
    }
    EXPECT_NEAR(ours_total, 48000, 1) << "1 s of audio, pre-skip and end trimming applied";
}

TEST_F(OggOpusToolsTest, RemuxedFileDecodesLikeTheOriginal) {
    const fs::path remuxed = dir_->path() / "remuxed.opus";
    const std::string text = fmt::format("filesrc location={} blocksize=1000 ! oggdemux ! oggmux ! filesink "
                                         "location={}",
                                         original_.string(), remuxed.string());
    auto p = Pipeline::parse(text);
    ASSERT_TRUE(p) << format_pipeline_error(text, p.error());
    auto ok = (*p)->run(60s);
    ASSERT_TRUE(ok) << ok.error().to_string();

    const fs::path a = dir_->path() / "original.wav";
    const fs::path b = dir_->path() / "remuxed.wav";
    Output r = run(fmt::format("opusdec --quiet {} {}", original_.string(), a.string()));
    ASSERT_TRUE(r.ok) << r.text;
    r = run(fmt::format("opusdec --quiet {} {}", remuxed.string(), b.string()));
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_EQ(wav_frames(b), wav_frames(a));
    EXPECT_EQ(wav_frames(a), 48000);

    r = run(fmt::format("opusinfo {}", remuxed.string()));
    EXPECT_TRUE(r.ok) << r.text;
    EXPECT_EQ(r.text.find("WARNING"), std::string::npos) << r.text;
    EXPECT_EQ(r.text.find("ERROR"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("Playback length: 0m:01.000s"), std::string::npos) << r.text;

    r = run(fmt::format("ffmpeg -nostdin -v error -i {} -f null -", remuxed.string()));
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.text, "");

    // GStreamer reads it too, when it is installed with its Ogg and Opus plugins.
    if (check::gstreamer_has("oggdemux") && check::gstreamer_has("opusdec")) {
        EXPECT_TRUE(
            check::gst_launch(fmt::format("filesrc location={} ! oggdemux ! opusdec ! fakesink", remuxed.string())));
    }

    // The same packets at the same times, read back by ffprobe.
    const auto before = ffprobe_packets(original_);
    const auto after = ffprobe_packets(remuxed);
    ASSERT_EQ(after.size(), before.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
        EXPECT_EQ(after[i].pts, before[i].pts) << "packet " << i;
        EXPECT_EQ(after[i].duration, before[i].duration) << "packet " << i;
    }
}

TEST_F(OggOpusToolsTest, MultiplexedStreamsSurviveARemux) {
    // A second stream (0.5 s mono, 440 Hz) beside the first, multiplexed by ffmpeg.
    const fs::path second = dir_->path() / "second.opus";
    const fs::path two = dir_->path() / "two.ogg";
    Output r = run(fmt::format("ffmpeg -nostdin -v error -y -f lavfi -i sine=frequency=440:sample_rate=48000:"
                               "duration=0.5 -ac 1 {0}.wav && opusenc --quiet {0}.wav {0} && ffmpeg -nostdin -v "
                               "error -y -i {1} -i {0} -map 0 -map 1 -c copy {2}",
                               second.string(), original_.string(), two.string()));
    ASSERT_TRUE(r.ok) << r.text;

    const fs::path remuxed = dir_->path() / "remuxed.ogg";
    const std::string text = fmt::format("filesrc location={} blocksize=4096 ! oggdemux name=d ! oggmux name=m ! "
                                         "filesink location={}  d. ! m.",
                                         two.string(), remuxed.string());
    auto p = Pipeline::parse(text);
    ASSERT_TRUE(p) << format_pipeline_error(text, p.error());
    auto ok = (*p)->run(60s);
    ASSERT_TRUE(ok) << ok.error().to_string();

    r = run(fmt::format("opusinfo {}", remuxed.string()));
    EXPECT_TRUE(r.ok) << r.text;
    EXPECT_EQ(r.text.find("WARNING"), std::string::npos) << r.text;
    EXPECT_EQ(r.text.find("ERROR"), std::string::npos) << r.text;
    r = run(fmt::format("ffmpeg -nostdin -v error -i {} -map 0 -f null -", remuxed.string()));
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.text, "");
    // Every packet of both streams, at its time (stream order may differ).
    const auto in_a = ffprobe_packets(two, 0);
    const auto in_b = ffprobe_packets(two, 1);
    auto out_a = ffprobe_packets(remuxed, 0);
    auto out_b = ffprobe_packets(remuxed, 1);
    if (out_a.size() != in_a.size()) {
        std::swap(out_a, out_b);
    }
    ASSERT_EQ(out_a.size(), in_a.size());
    ASSERT_EQ(out_b.size(), in_b.size());
    EXPECT_NE(in_a.size(), in_b.size());
    EXPECT_EQ(out_a.back().pts, in_a.back().pts);
    EXPECT_EQ(out_b.back().pts, in_b.back().pts);
    EXPECT_EQ(out_b.back().duration, in_b.back().duration);
}

TEST_F(OggOpusToolsTest, DemuxedAndDecodedGivesEveryOriginalSample) {
    ASSERT_NE(Registry::global().find("opusdec"), nullptr);
    const std::string text = fmt::format("filesrc location={} blocksize=500 ! oggdemux ! funnel ! opusdec ! "
                                         "audio/x-raw,format=S16LE ! appsink name=sink sync=false",
                                         original_.string());
    auto p = Pipeline::parse(text);
    ASSERT_TRUE(p) << format_pipeline_error(text, p.error());
    auto sink = (*p)->get<AppSink>("sink");
    ASSERT_TRUE(sink);
    std::mutex mutex;
    std::uint64_t frames = 0;
    std::uint64_t duration_ns = 0;
    (*sink)->set_new_sample([&](AppSink& s) {
        auto sample = s.pull_sample();
        if (!sample || sample->caps.size() == 0) {
            return;
        }
        const auto channels = sample->caps.structure(0).get_int("channels").value_or(0);
        std::lock_guard lock(mutex);
        if (channels > 0) {
            frames += sample->buffer.size() / (2U * static_cast<unsigned>(channels));
        }
        duration_ns += sample->buffer.meta().duration().ns();
    });
    auto ok = (*p)->run(60s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    std::lock_guard lock(mutex);
    EXPECT_EQ(frames, 48000U) << "pre-skip and end trimming as opusdec (the CLI) applies them";
    EXPECT_NEAR(static_cast<double>(duration_ns), 1e9, 1e9 / 48000);
}

TEST_F(OggOpusToolsTest, EncodedTestSoundKeepsEverySample) {
    ASSERT_NE(Registry::global().find("opusenc"), nullptr);
    ASSERT_NE(Registry::global().find("audiotestsrc"), nullptr);
    constexpr int buffers = 50;
    constexpr int samples_per_buffer = 1024;
    const fs::path out = dir_->path() / "tone.opus";
    const std::string text = fmt::format("audiotestsrc num-buffers={} samplesperbuffer={} ! "
                                         "audio/x-raw,rate=48000,channels=1 ! opusenc ! oggmux ! filesink "
                                         "location={}",
                                         buffers, samples_per_buffer, out.string());
    auto p = Pipeline::parse(text);
    ASSERT_TRUE(p) << format_pipeline_error(text, p.error());
    auto ok = (*p)->run(60s);
    ASSERT_TRUE(ok) << ok.error().to_string();

    const fs::path wav = dir_->path() / "tone.wav";
    Output r = run(fmt::format("opusdec --quiet {} {}", out.string(), wav.string()));
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_EQ(wav_frames(wav), buffers * samples_per_buffer);

    r = run(fmt::format("opusinfo {}", out.string()));
    EXPECT_TRUE(r.ok) << r.text;
    EXPECT_EQ(r.text.find("WARNING"), std::string::npos) << r.text;

    const auto packets = ffprobe_packets(out);
    ASSERT_FALSE(packets.empty());
    const std::int64_t end = packets.back().pts + packets.back().duration;
    EXPECT_EQ(end, buffers * samples_per_buffer) << "ffprobe's end of the last packet";
}

} // namespace
} // namespace parallax::ogg_opus_tools_test
