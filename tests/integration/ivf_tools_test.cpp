// ivfparse, av1parse and ivfmux against the AV1 tools: an IVF made by
// aomenc (and one made by ffmpeg with libaom) goes through
//
//     filesrc ! ivfparse ! av1parse ! ivfmux ! filesink
//
// and then
// - ivfparse reads the same number of frames, with the same timestamps and
//   key frames, as ffprobe -show_packets reads from the input;
// - ffprobe reads the same packets (pts, size, key flag) from the output as
//   from the input;
// - the output's file header counts the 10 frames (filesink says it can
//   seek, so ivfmux sends the header again at EOS and filesink writes it
//   over the first), and ffprobe reads that count
//   as the stream's duration;
// - dav1d decodes every frame of the output, to the same md5 as the input;
// - ffmpeg decodes the output without a word on stderr;
// - muxed into a pipe through fdsink, the stream comes out whole, with
//   frame count 0 and no warning (the muxer asks whether downstream can
//   seek before it sends its header again).
// Each check is skipped, saying why, when its tool is missing.

#include <parallax/container/ivf.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "integration/gst_compare_support.hpp"
#include "integration/media_tools_support.hpp"
#include "support/files.hpp"
#include "unit/elements/mux_output_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace parallax {
namespace {

namespace fs = std::filesystem;
using check::have_tool;
using check::ScratchDir;
using check::shell;
using check::ShellRun;
using namespace std::chrono_literals;

// Runs a shell command; its standard output and error, and whether it
// exited with 0. Arguments here are paths made by the test, without quotes.
// 10 frames of 64x64 I420 with moving gradients, as y4m at 25 fps.
void write_y4m(const fs::path& path) {
    std::ofstream out(path, std::ios::binary);
    out << "YUV4MPEG2 W64 H64 F25:1 Ip A1:1 C420jpeg\n";
    for (int f = 0; f < 10; ++f) {
        out << "FRAME\n";
        for (int y = 0; y < 64; ++y) {
            for (int x = 0; x < 64; ++x) {
                out.put(static_cast<char>((x * 3 + y + 7 * f) & 0xff));
            }
        }
        for (int i = 0; i < 32 * 32; ++i) {
            out.put(static_cast<char>(100 + f * 4));
        }
        for (int i = 0; i < 32 * 32; ++i) {
            out.put(static_cast<char>((i + f * 9) & 0xff));
        }
    }
}

struct Packet {
    std::int64_t pts_us = 0; // microseconds
    std::uint64_t size = 0;
    bool key = false;
    friend bool operator==(const Packet&, const Packet&) = default;
};

std::ostream& operator<<(std::ostream& os, const Packet& p) {
    return os << "{pts " << p.pts_us << "us, " << p.size << " bytes" << (p.key ? ", key" : "") << "}";
}

// The frame count of an IVF file's header.
std::uint32_t header_frame_count(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    auto header = ivf::parse_file_header(bytes);
    EXPECT_TRUE(header) << file << ": " << header.error().to_string();
    return header ? header->frame_count : 0;
}

// ffprobe's packets: pts_time in microseconds, size, K flag.
std::vector<Packet> ffprobe_packets(const fs::path& file) {
    const ShellRun r =
        shell(fmt::format("ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,size,flags "
                          "-of csv=p=0 {}",
                          file.string()));
    EXPECT_TRUE(r.ok) << r.output;
    std::vector<Packet> packets;
    std::stringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) {
            continue;
        }
        std::stringstream fields(line);
        std::string pts, size, flags;
        std::getline(fields, pts, ',');
        std::getline(fields, size, ',');
        std::getline(fields, flags, ',');
        Packet p;
        p.pts_us = std::llround(std::stod(pts) * 1e6);
        p.size = std::stoull(size);
        p.key = flags.find('K') != std::string::npos;
        packets.push_back(p);
    }
    return packets;
}

// What ivfparse reads from `file`, through a pipeline.
std::vector<Packet> ivfparse_packets(const fs::path& file) {
    const std::string text =
        fmt::format("filesrc location={} blocksize=100 ! ivfparse ! appsink name=sink sync=false", file.string());
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << (p ? "" : format_pipeline_error(text, p.error()));
    if (!p) {
        return {};
    }
    std::mutex mutex;
    std::vector<Packet> packets;
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
        std::lock_guard lock(mutex);
        packets.push_back({static_cast<std::int64_t>((m.pts().ns() + 500) / 1000), sample->buffer.size(),
                           m.has_flag(BufferFlags::keyframe)});
    });
    auto ok = (*p)->run(60s);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    std::lock_guard lock(mutex);
    return packets;
}

std::string dav1d_md5(const fs::path& file) {
    const ShellRun r = shell(fmt::format("dav1d -q -i {} --muxer md5 -o -", file.string()));
    EXPECT_TRUE(r.ok) << r.output;
    std::string md5 = r.output;
    while (!md5.empty() && (md5.back() == '\n' || md5.back() == '\r')) {
        md5.pop_back();
    }
    return md5;
}

// Frames dav1d decodes from `file` (raw I420 64x64 or as sized).
std::uint64_t dav1d_frames(const fs::path& file, const fs::path& yuv, std::uint64_t frame_bytes) {
    const ShellRun r = shell(fmt::format("dav1d -q -i {} --muxer yuv -o {}", file.string(), yuv.string()));
    EXPECT_TRUE(r.ok) << r.output;
    std::error_code ec;
    const auto size = fs::file_size(yuv, ec);
    EXPECT_EQ(size % frame_bytes, 0U);
    return ec ? 0 : size / frame_bytes;
}

class IvfToolsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(IvfToolsTest, RemuxedFileMatchesTheToolsReadings) {
    const std::string maker = GetParam();
    if (!have_tool(maker == "aomenc" ? "aomenc" : "ffmpeg")) {
        GTEST_SKIP() << maker << " is not installed: no AV1 file to test with";
    }
    ScratchDir dir("ivf-tools", maker);
    const fs::path in = dir.path() / "in.ivf";
    const fs::path out = dir.path() / "out.ivf";
    std::uint64_t width = 64;
    std::uint64_t height = 64;
    if (maker == "aomenc") {
        const fs::path y4m = dir.path() / "in.y4m";
        write_y4m(y4m);
        const ShellRun r =
            shell(fmt::format("aomenc -q --limit=10 --cpu-used=8 --ivf -o {} {}", in.string(), y4m.string()));
        ASSERT_TRUE(r.ok) << r.output;
    } else {
        width = 128;
        height = 96;
        const ShellRun r = shell(fmt::format("ffmpeg -v error -y -f lavfi -i testsrc=size=128x96:rate=25 -frames:v 10 "
                                             "-pix_fmt yuv420p -c:v libaom-av1 -cpu-used 8 {}",
                                             in.string()));
        if (!r.ok && r.output.find("libaom") != std::string::npos) {
            GTEST_SKIP() << "ffmpeg cannot encode with libaom-av1: " << r.output;
        }
        ASSERT_TRUE(r.ok) << r.output;
    }

    const std::string text = fmt::format("filesrc location={} blocksize=333 ! ivfparse ! av1parse ! ivfmux ! "
                                         "filesink location={}",
                                         in.string(), out.string());
    auto p = Pipeline::parse(text);
    ASSERT_TRUE(p) << format_pipeline_error(text, p.error());
    auto ok = (*p)->run(60s);
    ASSERT_TRUE(ok) << ok.error().to_string();

    // ivfparse reads what ffprobe reads, in the input and in the output.
    const std::vector<Packet> ours_in = ivfparse_packets(in);
    const std::vector<Packet> ours_out = ivfparse_packets(out);
    EXPECT_EQ(ours_in.size(), 10U);
    EXPECT_EQ(header_frame_count(out), 10U);
    if (have_tool("ffprobe")) {
        // FFmpeg's IVF demuxer takes the header's frame count as the duration
        // in frames.
        const ShellRun d = shell(fmt::format(
            "ffprobe -v error -select_streams v:0 -show_entries stream=duration_ts -of csv=p=0 {}", out.string()));
        ASSERT_TRUE(d.ok) << d.output;
        EXPECT_EQ(d.output, "10\n");
        const std::vector<Packet> probe_in = ffprobe_packets(in);
        const std::vector<Packet> probe_out = ffprobe_packets(out);
        EXPECT_EQ(probe_in.size(), 10U);
        EXPECT_EQ(ours_in, probe_in);
        EXPECT_EQ(probe_out, probe_in);
        EXPECT_EQ(ours_out, probe_in);
    } else {
        EXPECT_EQ(ours_out, ours_in);
        std::cout << "[ NOTE ] ffprobe is not installed: timestamps compared with ivfparse's own reading\n";
    }

    if (have_tool("dav1d")) {
        const std::string md5_in = dav1d_md5(in);
        EXPECT_EQ(md5_in.size(), 32U) << md5_in;
        EXPECT_EQ(dav1d_md5(out), md5_in);
        EXPECT_EQ(dav1d_frames(out, dir.path() / "out.yuv", width * height * 3 / 2), 10U);
    } else {
        std::cout << "[ NOTE ] dav1d is not installed: decoding not checked with it\n";
    }

    if (have_tool("ffmpeg")) {
        const ShellRun r = shell(fmt::format("ffmpeg -v error -i {} -f null -", out.string()));
        EXPECT_TRUE(r.ok);
        EXPECT_EQ(r.output, "") << "ffmpeg complained about the remuxed file";
    }

    // Into a pipe (`ivfmux ! fdsink fd=1 | ...`): fdsink says it cannot
    // seek, so ivfmux leaves its header with count 0 and nothing warns; the
    // stream decodes all the same.
    const fs::path piped = dir.path() / "piped.ivf";
    {
        test::PipeReader pipe;
        EXPECT_EQ(
            test::run_counting_warnings(fmt::format("filesrc location={} ! ivfparse ! av1parse ! ivfmux ! fdsink fd={}",
                                                    in.string(), pipe.write_fd()),
                                        60s),
            0);
        const std::vector<std::uint8_t> bytes = pipe.finish();
        check::write_file(piped, std::as_bytes(std::span(bytes)));
    }
    EXPECT_EQ(header_frame_count(piped), 0U);
    EXPECT_EQ(ivfparse_packets(piped), ours_in);
    if (have_tool("dav1d")) {
        EXPECT_EQ(dav1d_md5(piped), dav1d_md5(in));
    }
}

INSTANTIATE_TEST_SUITE_P(Makers, IvfToolsTest, ::testing::Values("aomenc", "ffmpeg"),
                         [](const auto& param_info) { return param_info.param; });

} // namespace
} // namespace parallax
