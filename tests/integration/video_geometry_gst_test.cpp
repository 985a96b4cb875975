// videoflip, videocrop and videorate against GStreamer 1.22's own.
//
// videoflip and videocrop: one raw I420 frame (a file in GStreamer's default
// layout) goes through
//
//     filesrc ! rawvideoparse format=i420 width=W height=H ! videoflip video-direction=D ! filesink
//
// in gst-launch-1.0 (videoflip and videocrop are in gstreamer1.0-plugins-good)
// and through `appsrc ! videoflip method=M ! appsink` here; every sample of
// every plane must be equal (the padding at the end of rows is not compared:
// neither side writes it). GStreamer's deprecated `method` property does not
// turn the caps in 1.22 when set on the command line, so its side uses
// `video-direction`, the same setting.
//
// videorate: `videotestsrc num-buffers=N ! framerate=A ! videorate !
// framerate=B ! fakesink silent=false` in gst-launch-1.0 -v against the same
// rates here; the output timestamps, durations and gap flags must be equal.
//
// Each test is skipped, saying why, when gst-launch-1.0 or the GStreamer
// element it needs is missing.

#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "integration/gst_compare_support.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <regex>
#include <string>
#include <vector>

namespace parallax::video_geometry_gst_test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using check::gstreamer_has;
using check::read_file;
using check::run_program;
using check::ScratchDir;

constexpr std::string_view scratch_suite = "video-geometry-gst";

// An I420 frame of w x h in the default layout whose samples all differ
// from their neighbours; padding bytes are set too, so that both sides read
// the same file.
std::vector<std::byte> input_frame(const VideoInfo& info) {
    std::vector<std::byte> bytes(info.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = static_cast<std::byte>((i * 37 + i / 61) & 0xff);
    }
    return bytes;
}

// The frame `element` makes of `input` here: appsrc ! element ! appsink.
struct Ours {
    std::vector<std::byte> bytes;
    Caps caps;
};

Ours ours(const VideoInfo& in, const std::vector<std::byte>& input, const std::string& element) {
    Ours o;
    const std::string text = fmt::format("appsrc name=src format=time caps=\"video/x-raw, format=I420, width={}, "
                                         "height={}, framerate=30/1\" ! {} ! appsink name=sink sync=false",
                                         in.width(), in.height(), element);
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << (p ? "" : format_pipeline_error(text, p.error()));
    if (!p) {
        return o;
    }
    auto src = *(*p)->get<AppSrc>("src");
    auto sink = *(*p)->get<AppSink>("sink");
    EXPECT_TRUE((*p)->set_state(State::running));
    auto b = src->allocate(input.size());
    EXPECT_TRUE(b);
    std::copy(input.begin(), input.end(), b->map_writable()->begin());
    b->meta().set_pts(ClockTime::zero());
    EXPECT_TRUE(src->push_buffer(std::move(*b)));
    EXPECT_TRUE(src->end_of_stream());
    auto sample = sink->try_pull_sample(10s);
    EXPECT_TRUE(sample) << (sample ? "" : sample.error().to_string());
    if (sample) {
        o.bytes.assign(sample->buffer.data().begin(), sample->buffer.data().end());
        o.caps = sample->caps;
    }
    EXPECT_TRUE((*p)->set_state(State::idle));
    return o;
}

// GStreamer's frame: filesrc ! rawvideoparse ! element ! filesink.
std::vector<std::byte> theirs(const ScratchDir& dir, const VideoInfo& in, const std::vector<std::byte>& input,
                              const std::vector<std::string>& element) {
    const fs::path in_path = dir.path() / "in.yuv";
    const fs::path out_path = dir.path() / "gst.yuv";
    {
        std::ofstream f(in_path, std::ios::binary);
        f.write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
    }
    std::vector<std::string> argv = {"gst-launch-1.0",
                                     "-q",
                                     "filesrc",
                                     "location=" + in_path.string(),
                                     fmt::format("blocksize={}", input.size()),
                                     "!",
                                     "rawvideoparse",
                                     "format=i420",
                                     fmt::format("width={}", in.width()),
                                     fmt::format("height={}", in.height()),
                                     "framerate=30/1",
                                     "!"};
    argv.insert(argv.end(), element.begin(), element.end());
    argv.insert(argv.end(), {"!", "filesink", "location=" + out_path.string()});
    EXPECT_TRUE(run_program(argv)) << fmt::format("{}", fmt::join(argv, " "));
    return read_file(out_path);
}

// Every sample of every plane of both frames of `out`, padding excluded.
void expect_same_frame(const VideoInfo& out, const std::vector<std::byte>& ours_bytes,
                       const std::vector<std::byte>& gst_bytes) {
    auto a = VideoFrame::map_bytes(out, ours_bytes);
    auto b = VideoFrame::map_bytes(out, gst_bytes);
    ASSERT_TRUE(a) << a.error().to_string();
    ASSERT_TRUE(b) << "GStreamer's frame: " << b.error().to_string();
    int wrong = 0;
    for (std::size_t p = 0; p < out.n_planes(); ++p) {
        const std::size_t rows = p == 0 ? out.height() : out.component_height(p);
        for (std::size_t y = 0; y < rows; ++y) {
            const auto ra = a->row(p, y);
            const auto rb = b->row(p, y);
            for (std::size_t x = 0; x < ra.size(); ++x) {
                if (ra[x] != rb[x] && ++wrong <= 5) {
                    ADD_FAILURE() << "plane " << p << " row " << y << " byte " << x << ": "
                                  << std::to_integer<int>(ra[x]) << ", GStreamer " << std::to_integer<int>(rb[x]);
                }
            }
        }
    }
    EXPECT_EQ(wrong, 0);
}

struct FlipCase {
    std::string method;    // ours
    std::string direction; // GStreamer's video-direction
    std::uint32_t width;
    std::uint32_t height;
};

void PrintTo(const FlipCase& c, std::ostream* os) {
    *os << c.method << " " << c.width << "x" << c.height;
}

class VideoFlipGstTest : public ::testing::TestWithParam<FlipCase> {};

TEST_P(VideoFlipGstTest, SameBytesAsGStreamer) {
    if (!gstreamer_has("videoflip") || !gstreamer_has("rawvideoparse")) {
        GTEST_SKIP() << "gst-launch-1.0 with videoflip (gstreamer1.0-plugins-good) and rawvideoparse is needed";
    }
    const FlipCase& c = GetParam();
    const VideoInfo in = VideoInfo::make(VideoFormat::i420, c.width, c.height).value();
    const auto input = input_frame(in);
    ScratchDir dir(scratch_suite, "flip-" + c.method);
    const Ours mine = ours(in, input, "videoflip method=" + c.method);
    ASSERT_FALSE(mine.bytes.empty());
    const VideoInfo out = VideoInfo::from_caps(mine.caps).value();
    const auto gst = theirs(dir, in, input, {"videoflip", "video-direction=" + c.direction});
    ASSERT_EQ(gst.size(), out.size()) << "GStreamer's frame is not " << out.to_string();
    expect_same_frame(out, mine.bytes, gst);
}

std::vector<FlipCase> flip_cases() {
    const std::pair<const char*, const char*> methods[] = {{"clockwise", "90r"},
                                                           {"rotate-180", "180"},
                                                           {"counterclockwise", "90l"},
                                                           {"horizontal-flip", "horiz"},
                                                           {"vertical-flip", "vert"},
                                                           {"upper-left-diagonal", "ul-lr"},
                                                           {"upper-right-diagonal", "ur-ll"}};
    std::vector<FlipCase> cases;
    for (const auto& [m, d] : methods) {
        cases.push_back({m, d, 64, 48});
        cases.push_back({m, d, 30, 22});
        cases.push_back({m, d, 33, 17});
    }
    return cases;
}

INSTANTIATE_TEST_SUITE_P(I420, VideoFlipGstTest, ::testing::ValuesIn(flip_cases()),
                         [](const ::testing::TestParamInfo<FlipCase>& p) {
                             std::string name = fmt::format("{}_{}x{}", p.param.method, p.param.width, p.param.height);
                             for (char& ch : name) {
                                 if (ch == '-') {
                                     ch = '_';
                                 }
                             }
                             return name;
                         });

struct CropCase {
    std::uint32_t width;
    std::uint32_t height;
    std::uint32_t left;
    std::uint32_t right;
    std::uint32_t top;
    std::uint32_t bottom;
};

void PrintTo(const CropCase& c, std::ostream* os) {
    *os << c.width << "x" << c.height << " l" << c.left << " r" << c.right << " t" << c.top << " b" << c.bottom;
}

class VideoCropGstTest : public ::testing::TestWithParam<CropCase> {};

TEST_P(VideoCropGstTest, SameBytesAsGStreamer) {
    if (!gstreamer_has("videocrop") || !gstreamer_has("rawvideoparse")) {
        GTEST_SKIP() << "gst-launch-1.0 with videocrop (gstreamer1.0-plugins-good) and rawvideoparse is needed";
    }
    const CropCase& c = GetParam();
    const VideoInfo in = VideoInfo::make(VideoFormat::i420, c.width, c.height).value();
    const auto input = input_frame(in);
    ScratchDir dir(scratch_suite, fmt::format("crop-{}-{}-{}-{}", c.left, c.right, c.top, c.bottom));
    const std::string props = fmt::format("left={} right={} top={} bottom={}", c.left, c.right, c.top, c.bottom);
    const Ours mine = ours(in, input, "videocrop " + props);
    ASSERT_FALSE(mine.bytes.empty());
    const VideoInfo out = VideoInfo::from_caps(mine.caps).value();
    EXPECT_EQ(out.width(), c.width - c.left - c.right);
    EXPECT_EQ(out.height(), c.height - c.top - c.bottom);
    const auto gst = theirs(dir, in, input,
                            {"videocrop", fmt::format("left={}", c.left), fmt::format("right={}", c.right),
                             fmt::format("top={}", c.top), fmt::format("bottom={}", c.bottom)});
    ASSERT_EQ(gst.size(), out.size()) << "GStreamer's frame is not " << out.to_string();
    expect_same_frame(out, mine.bytes, gst);
}

INSTANTIATE_TEST_SUITE_P(I420, VideoCropGstTest,
                         ::testing::Values(CropCase{64, 48, 2, 4, 6, 8}, CropCase{64, 48, 1, 0, 3, 0},
                                           CropCase{64, 48, 0, 5, 0, 7}, CropCase{30, 22, 1, 2, 3, 0},
                                           CropCase{33, 17, 3, 3, 1, 1}, CropCase{33, 17, 0, 32, 0, 16}),
                         [](const ::testing::TestParamInfo<CropCase>& p) {
                             const CropCase& c = p.param;
                             return fmt::format("{}x{}_l{}r{}t{}b{}", c.width, c.height, c.left, c.right, c.top,
                                                c.bottom);
                         });

// videorate: timestamps, durations and gap flags of the output.
struct Stamp {
    std::uint64_t pts;
    std::uint64_t duration;
    bool gap;
    friend bool operator==(const Stamp&, const Stamp&) = default;
};

void PrintTo(const Stamp& s, std::ostream* os) {
    *os << "{" << s.pts << ", " << s.duration << (s.gap ? ", gap}" : "}");
}

std::uint64_t parse_time(const std::string& text) {
    auto t = ClockTime::parse(text);
    return t ? t->ns() : ClockTime::none_ns;
}

std::vector<Stamp> gst_stamps(int frames, const std::string& in_rate, const std::string& props,
                              const std::string& out_rate) {
    std::string out;
    std::vector<std::string> argv = {"gst-launch-1.0",
                                     "-v",
                                     "videotestsrc",
                                     fmt::format("num-buffers={}", frames),
                                     "!",
                                     fmt::format("video/x-raw,format=GRAY8,width=4,height=4,framerate={}", in_rate),
                                     "!",
                                     "videorate"};
    if (!props.empty()) {
        argv.push_back(props);
    }
    argv.insert(argv.end(), {"!", fmt::format("video/x-raw,framerate={}", out_rate), "!", "fakesink", "silent=false"});
    EXPECT_TRUE(run_program(argv, &out));
    std::vector<Stamp> stamps;
    const std::regex line(R"(chain .*pts: ([0-9:.]+), duration: ([0-9:.]+),.* flags: ([0-9a-f]+))");
    for (std::sregex_iterator it(out.begin(), out.end(), line), end; it != end; ++it) {
        const unsigned long flags = std::stoul((*it)[3].str(), nullptr, 16);
        stamps.push_back({parse_time((*it)[1].str()), parse_time((*it)[2].str()), (flags & 0x800) != 0});
    }
    return stamps;
}

std::vector<Stamp> our_stamps(int frames, std::int64_t num, std::int64_t den, const std::string& in_rate,
                              const std::string& props, const std::string& out_rate) {
    const std::string text =
        fmt::format("appsrc name=src format=time caps=\"video/x-raw, format=GRAY8, width=4, height=4, "
                    "framerate={}\" ! videorate {} ! video/x-raw,framerate={} ! appsink name=sink sync=false",
                    in_rate, props, out_rate);
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << (p ? "" : format_pipeline_error(text, p.error()));
    std::vector<Stamp> stamps;
    if (!p) {
        return stamps;
    }
    auto src = *(*p)->get<AppSrc>("src");
    auto sink = *(*p)->get<AppSink>("sink");
    EXPECT_TRUE((*p)->set_state(State::running));
    // Stamped as videotestsrc stamps: frame i at i * den / num seconds.
    auto at = [&](std::int64_t i) {
        return static_cast<std::uint64_t>(i) * static_cast<std::uint64_t>(den) * 1'000'000'000ULL /
               static_cast<std::uint64_t>(num);
    };
    for (std::int64_t i = 0; i < frames; ++i) {
        auto b = src->allocate(16);
        EXPECT_TRUE(b);
        b->meta().set_pts(ClockTime(at(i)));
        b->meta().set_duration(ClockTime(at(i + 1) - at(i)));
        EXPECT_TRUE(src->push_buffer(std::move(*b)));
    }
    EXPECT_TRUE(src->end_of_stream());
    while (auto s = sink->try_pull_sample(10s)) {
        const Metadata& m = s->buffer.meta();
        stamps.push_back({m.pts().ns(), m.duration().ns(), m.has_flag(BufferFlags::gap)});
    }
    EXPECT_TRUE((*p)->set_state(State::idle));
    return stamps;
}

struct RateCase {
    int frames;
    std::int64_t num;
    std::int64_t den;
    std::string out_rate;
    std::string props = {};
};

void PrintTo(const RateCase& c, std::ostream* os) {
    *os << c.frames << " frames " << c.num << "/" << c.den << " to " << c.out_rate << " " << c.props;
}

class VideoRateGstTest : public ::testing::TestWithParam<RateCase> {};

TEST_P(VideoRateGstTest, SameTimestampsAsGStreamer) {
    if (!gstreamer_has("videorate") || !gstreamer_has("videotestsrc") || !gstreamer_has("fakesink")) {
        GTEST_SKIP()
            << "gst-launch-1.0 with videotestsrc, videorate (gstreamer1.0-plugins-base) and fakesink is needed";
    }
    const RateCase& c = GetParam();
    const std::string in_rate = fmt::format("{}/{}", c.num, c.den);
    const auto gst = gst_stamps(c.frames, in_rate, c.props, c.out_rate);
    ASSERT_FALSE(gst.empty()) << "no buffers read from gst-launch-1.0 -v";
    EXPECT_EQ(our_stamps(c.frames, c.num, c.den, in_rate, c.props, c.out_rate), gst);
}

INSTANTIATE_TEST_SUITE_P(
    Rates, VideoRateGstTest,
    ::testing::Values(RateCase{30, 30, 1, "15/1"}, RateCase{15, 15, 1, "30/1"}, RateCase{50, 25, 1, "30/1"},
                      RateCase{60, 30, 1, "25/1"}, RateCase{48, 24000, 1001, "30/1"}, RateCase{60, 30, 1, "24000/1001"},
                      RateCase{20, 10, 1, "60/1"}, RateCase{40, 60, 1, "7/1"},
                      RateCase{30, 30, 1, "15/1", "drop-only=true"}, RateCase{30, 25, 1, "10/1", "drop-only=true"},
                      RateCase{60, 60, 1, "24000/1001", "drop-only=true"}),
    [](const ::testing::TestParamInfo<RateCase>& p) {
        std::string name = fmt::format("{}_{}_{}_to_{}{}", p.param.frames, p.param.num, p.param.den, p.param.out_rate,
                                       p.param.props.empty() ? "" : "_drop_only");
        for (char& ch : name) {
            if (ch == '/') {
                ch = '_';
            }
        }
        return name;
    });

} // namespace
} // namespace parallax::video_geometry_gst_test
