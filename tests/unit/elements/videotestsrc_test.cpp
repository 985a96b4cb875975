// videotestsrc: pattern names and numbers, colour values per format and
// colorimetry, geometry, caps fixation through real pipelines, timestamps,
// num-buffers, live pacing, property errors. Timeouts only guard against
// hangs; nothing asserts on elapsed time.

#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "unit/elements/video_test_support.hpp"
#include "video/videotestsrc_paint.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

namespace parallax::videotestsrc_test {
namespace {

using namespace std::chrono_literals;

struct Received {
    Sample sample;
    ClockTime arrival; ///< Pipeline running time when the sample reached the appsink.
};

struct PipelineRun {
    std::vector<Received> frames;
    std::optional<Error> error;
};

// Runs `<source> ! appsink sync=false` to its end and returns what arrived.
PipelineRun run_pipeline(const std::string& source) {
    PipelineRun out;
    const std::string text = source + " ! appsink name=sink sync=false";
    auto p = Pipeline::parse(text);
    if (!p) {
        out.error = p.error();
        return out;
    }
    auto sink = (*p)->get<AppSink>("sink");
    EXPECT_TRUE(sink);
    if (!sink) {
        return out;
    }
    std::mutex mutex;
    Pipeline* pipeline = p->get();
    (*sink)->set_new_sample([&](AppSink& s) {
        auto sample = s.try_pull_sample(0ms);
        if (sample) {
            std::lock_guard lock(mutex);
            out.frames.push_back({std::move(*sample), pipeline->running_time()});
        }
    });
    if (auto ok = (*p)->run(20s); !ok) {
        out.error = ok.error();
    }
    (*sink)->set_new_sample({});
    return out;
}

// The frames of `videotestsrc <props> ! <caps>`, expecting success.
std::vector<Received> frames(const std::string& props, const std::string& caps, int count = 1) {
    PipelineRun r = run_pipeline(fmt::format("videotestsrc num-buffers={} {} ! {}", count, props, caps));
    EXPECT_FALSE(r.error) << r.error->to_string();
    EXPECT_EQ(r.frames.size(), static_cast<std::size_t>(count));
    return std::move(r.frames);
}

VideoInfo info_of(const Sample& s) {
    auto info = VideoInfo::from_caps(s.caps);
    EXPECT_TRUE(info) << info.error().to_string();
    return *info;
}

// The frame of a received sample.
Result<VideoFrame> frame_of(const Received& r) {
    return VideoFrame::map(info_of(r.sample), r.sample.buffer);
}

// Sample x, y of component `comp` (8- or 16-bit, little-endian), its value
// without the format's shift.
int sample_at(const VideoFrame& f, std::size_t comp, std::uint32_t x, std::uint32_t y) {
    return static_cast<int>(check::raw_sample(f, comp, x, y) >> f.info().format_info().components[comp].shift);
}

// The components of the pixel at x, y (chroma from the sample covering it).
std::vector<int> pixel_at(const VideoFrame& f, std::uint32_t x, std::uint32_t y) {
    std::vector<int> out;
    for (std::size_t c = 0; c < f.n_components(); ++c) {
        const VideoComponentInfo& ci = f.info().format_info().components[c];
        out.push_back(sample_at(f, c, x >> ci.x_sub, y >> ci.y_sub));
    }
    return out;
}

// --- the pattern property ---------------------------------------------------

TEST(VideoTestSrcTest, IsRegisteredAsASourceWithGStreamersName) {
    const ElementFactory* f = Registry::global().find("videotestsrc");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().klass, "Source/Video");
    auto e = f->create();
    ASSERT_TRUE(e);
    EXPECT_TRUE((*e)->is_source());
}

TEST(VideoTestSrcTest, PatternsHaveGStreamersNicksAndNumbers) {
    // gst-inspect-1.0 videotestsrc (GStreamer 1.22).
    const std::vector<std::pair<int, std::string>> gstreamer = {{0, "smpte"},
                                                                {1, "snow"},
                                                                {2, "black"},
                                                                {3, "white"},
                                                                {4, "red"},
                                                                {5, "green"},
                                                                {6, "blue"},
                                                                {7, "checkers-1"},
                                                                {8, "checkers-2"},
                                                                {9, "checkers-4"},
                                                                {10, "checkers-8"},
                                                                {11, "circular"},
                                                                {12, "blink"},
                                                                {13, "smpte75"},
                                                                {14, "zone-plate"},
                                                                {15, "gamut"},
                                                                {16, "chroma-zone-plate"},
                                                                {17, "solid-color"},
                                                                {18, "ball"},
                                                                {19, "smpte100"},
                                                                {20, "bar"},
                                                                {21, "pinwheel"},
                                                                {22, "spokes"},
                                                                {23, "gradient"},
                                                                {24, "colors"},
                                                                {25, "smpte-rp-219"}};
    auto e = Registry::global().create("videotestsrc");
    ASSERT_TRUE(e);
    PropertyBase* p = (*e)->property("pattern");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->default_string(), "smpte");
    ASSERT_EQ(p->enum_values().size(), gstreamer.size());
    for (std::size_t i = 0; i < gstreamer.size(); ++i) {
        EXPECT_EQ(p->enum_values()[i].value, gstreamer[i].first);
        EXPECT_EQ(p->enum_values()[i].nick, gstreamer[i].second);
    }
}

TEST(VideoTestSrcTest, TheRequiredPatternsAreSetByNickAndByNumber) {
    auto e = Registry::global().create("videotestsrc");
    ASSERT_TRUE(e);
    const std::vector<std::pair<int, std::string>> required = {
        {0, "smpte"},        {1, "snow"},      {2, "black"},      {3, "white"},      {4, "red"},
        {5, "green"},        {6, "blue"},      {7, "checkers-1"}, {8, "checkers-2"}, {9, "checkers-4"},
        {10, "checkers-8"},  {11, "circular"}, {12, "blink"},     {13, "smpte75"},   {14, "zone-plate"},
        {17, "solid-color"}, {18, "ball"},     {19, "smpte100"},  {20, "bar"},       {23, "gradient"}};
    for (const auto& [number, nick] : required) {
        SCOPED_TRACE(nick);
        ASSERT_TRUE((*e)->set_property("pattern", nick));
        EXPECT_EQ(*(*e)->get_property("pattern"), nick);
        ASSERT_TRUE((*e)->set_property("pattern", "smpte"));
        ASSERT_TRUE((*e)->set_property("pattern", std::to_string(number)));
        EXPECT_EQ(*(*e)->get_property("pattern"), nick);
    }
}

TEST(VideoTestSrcTest, PatternsItDoesNotDrawAreRefusedNamingThem) {
    auto e = Registry::global().create("videotestsrc");
    ASSERT_TRUE(e);
    ASSERT_TRUE((*e)->set_property("pattern", "ball"));
    for (const char* value : {"gamut", "chroma-zone-plate", "pinwheel", "spokes", "colors", "smpte-rp-219", "21"}) {
        SCOPED_TRACE(value);
        auto bad = (*e)->set_property("pattern", value);
        ASSERT_FALSE(bad);
        EXPECT_TRUE(bad.error().is(Errc::unsupported)) << bad.error().to_string();
        EXPECT_NE(bad.error().message().find("\"pattern\""), std::string::npos) << bad.error().message();
        EXPECT_NE(bad.error().message().find("does not draw"), std::string::npos) << bad.error().message();
        EXPECT_EQ(*(*e)->get_property("pattern"), "ball") << "a refused pattern must leave the previous one";
    }
    // Also in pipeline text.
    auto p = Pipeline::parse("videotestsrc pattern=pinwheel ! fakesink");
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().message().find("pinwheel"), std::string::npos) << p.error().message();
}

TEST(VideoTestSrcTest, BadPropertyValuesAreErrorsNamingTheProperty) {
    auto e = Registry::global().create("videotestsrc");
    ASSERT_TRUE(e);
    const std::vector<std::pair<std::string, std::string>> bad = {{"pattern", "plaid"},
                                                                  {"pattern", "99"},
                                                                  {"num-buffers", "-2"},
                                                                  {"num-buffers", "many"},
                                                                  {"is-live", "maybe"},
                                                                  {"foreground-color", "-1"},
                                                                  {"background-color", "0x1ffffffff"},
                                                                  {"horizontal-speed", "fast"},
                                                                  {"timestamp-offset", "-1"},
                                                                  {"animation-mode", "sometimes"},
                                                                  {"motion", "zigzag"},
                                                                  {"kx2", "1.5"}};
    for (const auto& [name, value] : bad) {
        SCOPED_TRACE(name + "=" + value);
        auto r = (*e)->set_property(name, value);
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().message().find(name), std::string::npos) << r.error().message();
    }
    EXPECT_TRUE((*e)->set_property("foreground-color", "0x80ff0000"));
    EXPECT_EQ(*(*e)->get_property("foreground-color"), std::to_string(0x80ff0000U));
}

// --- colours ----------------------------------------------------------------

TEST(VideoTestSrcTest, SmpteBarsInI420HaveTheBt601LimitedRangeValues) {
    auto got = frames("pattern=smpte", "video/x-raw,format=I420,width=320,height=240");
    ASSERT_EQ(got.size(), 1U);
    const VideoInfo info = info_of(got[0].sample);
    EXPECT_EQ(info.colorimetry(), VideoColorimetry::bt601());
    auto f = VideoFrame::map(info, got[0].sample.buffer);
    ASSERT_TRUE(f);
    // 100% bars (top two thirds), sampled mid-bar: white, yellow, cyan,
    // green, magenta, red, blue.
    const std::vector<std::vector<int>> top = {{235, 128, 128}, {210, 16, 146}, {170, 166, 16}, {145, 54, 34},
                                               {106, 202, 222}, {81, 90, 240},  {41, 240, 110}};
    for (std::uint32_t i = 0; i < 7; ++i) {
        EXPECT_EQ(pixel_at(*f, i * 320 / 7 + 20, 80), top[i]) << "bar " << i;
    }
    // Castellations: blue, black, magenta, black, cyan, black, white.
    const std::vector<std::vector<int>> middle = {{41, 240, 110}, {16, 128, 128}, {106, 202, 222}, {16, 128, 128},
                                                  {170, 166, 16}, {16, 128, 128}, {235, 128, 128}};
    for (std::uint32_t i = 0; i < 7; ++i) {
        EXPECT_EQ(pixel_at(*f, i * 320 / 7 + 20, 170), middle[i]) << "castellation " << i;
    }
    // Bottom: -I, white, +Q, then PLUGE super black, black, dark grey.
    EXPECT_EQ(pixel_at(*f, 20, 220), (std::vector<int>{16, 198, 21}));
    EXPECT_EQ(pixel_at(*f, 80, 220), (std::vector<int>{235, 128, 128}));
    EXPECT_EQ(pixel_at(*f, 130, 220), (std::vector<int>{16, 235, 198}));
    EXPECT_EQ(pixel_at(*f, 172, 220), (std::vector<int>{0, 128, 128}));
    EXPECT_EQ(pixel_at(*f, 198, 220), (std::vector<int>{16, 128, 128}));
    EXPECT_EQ(pixel_at(*f, 226, 220), (std::vector<int>{32, 128, 128}));
    // Between bars (pixels 44 and 45), chroma is the average of both.
    EXPECT_EQ(sample_at(*f, video_comp::u, 22, 0), (128 + 16) / 2);
}

TEST(VideoTestSrcTest, SmpteBarsInRgbaAreFullRangeRgb) {
    auto got = frames("pattern=smpte", "video/x-raw,format=RGBA,width=320,height=240");
    ASSERT_EQ(got.size(), 1U);
    auto f = frame_of(got[0]);
    ASSERT_TRUE(f);
    const std::vector<std::vector<int>> top = {{255, 255, 255, 255}, {255, 255, 0, 255}, {0, 255, 255, 255},
                                               {0, 255, 0, 255},     {255, 0, 255, 255}, {255, 0, 0, 255},
                                               {0, 0, 255, 255}};
    for (std::uint32_t i = 0; i < 7; ++i) {
        EXPECT_EQ(pixel_at(*f, i * 320 / 7 + 20, 80), top[i]) << "bar " << i;
    }
    EXPECT_EQ(pixel_at(*f, 20, 220), (std::vector<int>{0, 0, 128, 255}));    // -I (GStreamer's stand-in)
    EXPECT_EQ(pixel_at(*f, 130, 220), (std::vector<int>{0, 128, 255, 255})); // +Q
    EXPECT_EQ(pixel_at(*f, 172, 220), (std::vector<int>{0, 0, 0, 255}));     // super black, clamped
    EXPECT_EQ(pixel_at(*f, 226, 220), (std::vector<int>{19, 19, 19, 255}));  // 16/219 of full scale
}

TEST(VideoTestSrcTest, Smpte75AndSmpte100AreFullHeightBars) {
    auto got75 = frames("pattern=smpte75", "video/x-raw,format=Y444,width=320,height=240");
    auto got100 = frames("pattern=smpte100", "video/x-raw,format=RGB,width=320,height=240");
    ASSERT_EQ(got75.size(), 1U);
    ASSERT_EQ(got100.size(), 1U);
    auto f75 = frame_of(got75[0]);
    auto f100 = frame_of(got100[0]);
    ASSERT_TRUE(f75 && f100);
    const std::vector<std::vector<int>> bars75 = {{180, 128, 128}, {162, 44, 142}, {131, 156, 44}, {112, 72, 58},
                                                  {84, 184, 198},  {65, 100, 212}, {35, 212, 114}};
    for (std::uint32_t y : {0U, 170U, 239U}) {
        for (std::uint32_t i = 0; i < 7; ++i) {
            EXPECT_EQ(pixel_at(*f75, i * 320 / 7 + 20, y), bars75[i]) << "bar " << i << " row " << y;
        }
        EXPECT_EQ(pixel_at(*f100, 5 * 320 / 7 + 20, y), (std::vector<int>{255, 0, 0}));
    }
    EXPECT_EQ(pixel_at(*f100, 20, 239), (std::vector<int>{255, 255, 255}));
}

TEST(VideoTestSrcTest, ColoursFollowTheColorimetryOfTheCaps) {
    // HD defaults to BT.709.
    auto hd = frames("pattern=smpte", "video/x-raw,format=I420,width=1280,height=720");
    ASSERT_EQ(hd.size(), 1U);
    const VideoInfo hd_info = info_of(hd[0].sample);
    EXPECT_EQ(hd_info.colorimetry(), VideoColorimetry::bt709());
    auto f = VideoFrame::map(hd_info, hd[0].sample.buffer);
    ASSERT_TRUE(f);
    EXPECT_EQ(pixel_at(*f, 1 * 1280 / 7 + 40, 100), (std::vector<int>{219, 16, 138})); // yellow
    EXPECT_EQ(pixel_at(*f, 6 * 1280 / 7 + 40, 100), (std::vector<int>{32, 240, 118})); // blue

    // Full-range BT.601 and BT.2020 when the caps say so.
    auto full = frames("pattern=red", "video/x-raw,format=Y444,width=16,height=16,colorimetry=(string)1:4:0:0");
    auto f_full = frame_of(full[0]);
    ASSERT_TRUE(f_full);
    // Y' = 0.299: 76.2; Pb = -0.299 / 1.772: 128 - 43.0; Pr = 0.5: 255.5, clamped.
    EXPECT_EQ(pixel_at(*f_full, 3, 3), (std::vector<int>{76, 85, 255}));
    auto bt2020 = frames("pattern=red", "video/x-raw,format=Y444,width=16,height=16,colorimetry=bt2020");
    auto f2020 = frame_of(bt2020[0]);
    ASSERT_TRUE(f2020);
    // Kr 0.2627, Kb 0.0593: Y 16 + 219 x 0.2627; Cb 128 - 224 x 0.2627 / 1.8814.
    EXPECT_EQ(pixel_at(*f2020, 3, 3), (std::vector<int>{74, 97, 240}));
    // Limited-range RGB.
    auto studio = frames("pattern=white", "video/x-raw,format=RGB,width=16,height=16,colorimetry=(string)2:1:0:0");
    auto f_studio = frame_of(studio[0]);
    ASSERT_TRUE(f_studio);
    EXPECT_EQ(pixel_at(*f_studio, 3, 3), (std::vector<int>{235, 235, 235}));
}

struct FormatRed {
    const char* format;
    std::vector<int> red; ///< The components of `red`, at 64x48 (BT.601 for YUV).
};

class VideoTestSrcFormatTest : public ::testing::TestWithParam<FormatRed> {};

// Red (1, 0, 0): BT.601 limited range Y 81, U 90, V 240 at 8 bits (and
// 326, 361, 960 at 10 bits: 4 x 81.48, 4 x 90.2, 4 x 240); RGB formats
// 255, 0, 0 and alpha 255; gray formats are full range (1:4:0:0): Y' =
// 0.299, so 76 at 8 bits and 19595 at 16 bits.
TEST_P(VideoTestSrcFormatTest, RedFillsEveryPixelWithTheFormatsCodes) {
    const FormatRed& param = GetParam();
    for (const auto& [w, h] : {std::pair{64U, 48U}, std::pair{33U, 17U}}) {
        SCOPED_TRACE(fmt::format("{} {}x{}", param.format, w, h));
        auto got = frames("pattern=red", fmt::format("video/x-raw,format={},width={},height={}", param.format, w, h));
        ASSERT_EQ(got.size(), 1U);
        const VideoInfo info = info_of(got[0].sample);
        EXPECT_EQ(info.format_info().name, param.format);
        EXPECT_EQ(got[0].sample.buffer.size(), info.size());
        auto f = VideoFrame::map(info, got[0].sample.buffer);
        ASSERT_TRUE(f);
        std::size_t wrong = 0;
        for (std::size_t c = 0; c < f->n_components(); ++c) {
            for (std::uint32_t y = 0; y < f->component_height(c); ++y) {
                for (std::uint32_t x = 0; x < f->component_width(c); ++x) {
                    wrong += sample_at(*f, c, x, y) != param.red[c] ? 1 : 0;
                }
            }
        }
        EXPECT_EQ(wrong, 0U) << "first pixel: " << fmt::format("{}", fmt::join(pixel_at(*f, 0, 0), ", "));
        // The unused byte of RGBx and BGRx is 0xff, stride padding is 0.
        if (info.format() == VideoFormat::rgbx || info.format() == VideoFormat::bgrx) {
            EXPECT_EQ(std::to_integer<int>(f->row(0, 0)[3]), 0xff);
        }
        for (std::size_t p = 0; p < f->n_planes(); ++p) {
            auto plane = f->plane(p);
            for (std::size_t r = 0; r < info.plane_rows(p); ++r) {
                for (std::size_t i = info.row_size(p); i < info.stride(p); ++i) {
                    ASSERT_EQ(std::to_integer<int>(plane[r * info.stride(p) + i]), 0) << "padding of plane " << p;
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(EveryFormat, VideoTestSrcFormatTest,
                         ::testing::Values(FormatRed{"I420", {81, 90, 240}}, FormatRed{"YV12", {81, 90, 240}},
                                           FormatRed{"NV12", {81, 90, 240}}, FormatRed{"NV21", {81, 90, 240}},
                                           FormatRed{"YUY2", {81, 90, 240}}, FormatRed{"UYVY", {81, 90, 240}},
                                           FormatRed{"Y42B", {81, 90, 240}}, FormatRed{"Y444", {81, 90, 240}},
                                           FormatRed{"I420_10LE", {326, 361, 960}},
                                           FormatRed{"P010_10LE", {326, 361, 960}}, FormatRed{"RGB", {255, 0, 0}},
                                           FormatRed{"BGR", {255, 0, 0}}, FormatRed{"RGBA", {255, 0, 0, 255}},
                                           FormatRed{"BGRA", {255, 0, 0, 255}}, FormatRed{"ARGB", {255, 0, 0, 255}},
                                           FormatRed{"ABGR", {255, 0, 0, 255}}, FormatRed{"RGBx", {255, 0, 0}},
                                           FormatRed{"BGRx", {255, 0, 0}}, FormatRed{"GRAY8", {76}},
                                           FormatRed{"GRAY16_LE", {19595}}),
                         [](const ::testing::TestParamInfo<FormatRed>& p) { return std::string(p.param.format); });

TEST(VideoTestSrcTest, EveryFormatIsOfferedAndDrawsWhiteAndBlack) {
    for (const VideoFormatInfo& fi : video_format_table) {
        SCOPED_TRACE(fi.name);
        const std::string caps = fmt::format("video/x-raw,format={},width=8,height=4", fi.name);
        auto white = frames("pattern=white", caps);
        auto black = frames("pattern=black", caps);
        ASSERT_EQ(white.size(), 1U);
        ASSERT_EQ(black.size(), 1U);
        auto fw = frame_of(white[0]);
        auto fb = frame_of(black[0]);
        ASSERT_TRUE(fw && fb);
        const int max = (1 << fi.depth) - 1;
        const int scale = 1 << (fi.depth - 8);
        const bool limited = fi.is_yuv();
        EXPECT_EQ(sample_at(*fw, 0, 5, 3), limited ? 235 * scale : max);
        EXPECT_EQ(sample_at(*fb, 0, 5, 3), limited ? 16 * scale : 0);
        if (fi.is_yuv()) {
            EXPECT_EQ(sample_at(*fw, video_comp::u, 1, 1), 128 * scale);
            EXPECT_EQ(sample_at(*fb, video_comp::v, 1, 1), 128 * scale);
        }
    }
}

TEST(VideoTestSrcTest, SolidColorUsesTheForegroundColourAndItsAlpha) {
    auto got = frames("pattern=solid-color foreground-color=0x80102030", "video/x-raw,format=RGBA,width=4,height=2");
    ASSERT_EQ(got.size(), 1U);
    auto f = frame_of(got[0]);
    ASSERT_TRUE(f);
    EXPECT_EQ(pixel_at(*f, 3, 1), (std::vector<int>{0x10, 0x20, 0x30, 0x80}));
}

// --- geometry ---------------------------------------------------------------

TEST(VideoTestSrcTest, CheckersAreRedAndGreenSquaresOfTheirSize) {
    for (std::uint32_t size : {1U, 2U, 4U, 8U}) {
        SCOPED_TRACE(size);
        auto got = frames(fmt::format("pattern=checkers-{}", size), "video/x-raw,format=RGBx,width=37,height=29");
        ASSERT_EQ(got.size(), 1U);
        auto f = frame_of(got[0]);
        ASSERT_TRUE(f);
        std::size_t wrong = 0;
        for (std::uint32_t y = 0; y < 29; ++y) {
            for (std::uint32_t x = 0; x < 37; ++x) {
                const bool red = ((x / size) + (y / size)) % 2 == 0;
                wrong += pixel_at(*f, x, y) != (red ? std::vector<int>{255, 0, 0} : std::vector<int>{0, 255, 0});
            }
        }
        EXPECT_EQ(wrong, 0U);
    }
}

TEST(VideoTestSrcTest, BarIsASeventhWideAndScrollsWithHorizontalSpeed) {
    auto got = frames("pattern=bar horizontal-speed=5 foreground-color=0xff00ff00 background-color=0xff0000ff",
                      "video/x-raw,format=RGB,width=100,height=4", 3);
    ASSERT_EQ(got.size(), 3U);
    auto row_of = [&](std::size_t n) {
        auto f = frame_of(got[n]);
        EXPECT_TRUE(f);
        std::string row;
        for (std::uint32_t x = 0; x < 100; ++x) {
            row += pixel_at(*f, x, 2)[1] == 255 ? 'F' : (pixel_at(*f, x, 2)[2] == 255 ? 'b' : '?');
        }
        return row;
    };
    // Frame 0: pixels 0-13 (100 / 7 = 14); frame n shows what was 5n pixels
    // to the right, wrapping around.
    EXPECT_EQ(row_of(0), std::string(14, 'F') + std::string(86, 'b'));
    EXPECT_EQ(row_of(1), std::string(9, 'F') + std::string(86, 'b') + std::string(5, 'F'));
    EXPECT_EQ(row_of(2), std::string(4, 'F') + std::string(86, 'b') + std::string(10, 'F'));
}

TEST(VideoTestSrcTest, GradientRunsFromBackgroundAtTheTopToForegroundAtTheBottom) {
    auto got = frames("pattern=gradient", "video/x-raw,format=GRAY8,width=4,height=256");
    ASSERT_EQ(got.size(), 1U);
    auto f = frame_of(got[0]);
    ASSERT_TRUE(f);
    for (std::uint32_t y = 0; y < 256; ++y) {
        // Row y is y * 255 / 256 of the way (in 8-bit steps, rounded down).
        EXPECT_EQ(sample_at(*f, 0, 2, y), static_cast<int>(y * 255 / 256)) << y;
    }
}

TEST(VideoTestSrcTest, BlinkAlternatesBackgroundAndForeground) {
    auto got = frames("pattern=blink", "video/x-raw,format=GRAY8,width=4,height=4", 4);
    ASSERT_EQ(got.size(), 4U);
    for (std::size_t n = 0; n < 4; ++n) {
        auto f = frame_of(got[n]);
        ASSERT_TRUE(f);
        EXPECT_EQ(sample_at(*f, 0, 1, 1), n % 2 == 0 ? 0 : 255) << n;
    }
}

TEST(VideoTestSrcTest, SnowIsDeterministicPerFrameAndDiffersBetweenFrames) {
    auto a = frames("pattern=snow", "video/x-raw,format=GRAY8,width=64,height=64", 2);
    auto b = frames("pattern=snow", "video/x-raw,format=GRAY8,width=64,height=64", 2);
    ASSERT_EQ(a.size(), 2U);
    ASSERT_EQ(b.size(), 2U);
    auto bytes = [](const Received& r) {
        auto d = r.sample.buffer.data();
        return std::vector<std::byte>(d.begin(), d.end());
    };
    EXPECT_EQ(bytes(a[0]), bytes(b[0]));
    EXPECT_EQ(bytes(a[1]), bytes(b[1]));
    EXPECT_NE(bytes(a[0]), bytes(a[1]));
    // Roughly uniform: the mean of 4096 random bytes is near 127.5.
    double sum = 0;
    for (std::byte x : a[0].sample.buffer.data()) {
        sum += std::to_integer<int>(x);
    }
    EXPECT_NEAR(sum / 4096.0, 127.5, 10.0);
}

TEST(VideoTestSrcTest, BallMovesWithTheFrameCount) {
    auto got = frames("pattern=ball", "video/x-raw,format=GRAY8,width=240,height=240,framerate=30/1", 16);
    ASSERT_EQ(got.size(), 16U);
    // The centre of the lit pixels.
    auto centre = [&](std::size_t n) {
        auto f = frame_of(got[n]);
        EXPECT_TRUE(f);
        double sx = 0;
        double sy = 0;
        double count = 0;
        for (std::uint32_t y = 0; y < 240; ++y) {
            for (std::uint32_t x = 0; x < 240; ++x) {
                if (sample_at(*f, 0, x, y) > 127) {
                    sx += x;
                    sy += y;
                    ++count;
                }
            }
        }
        // A disc of radius 240 / 12 = 20 pixels.
        EXPECT_NEAR(count, 3.14159 * 20 * 20, 60.0);
        return std::pair{sx / count, sy / count};
    };
    const auto [x0, y0] = centre(0);
    const auto [x15, y15] = centre(15);
    EXPECT_NEAR(x0, 119.5, 1.0); // starts in the middle
    EXPECT_NEAR(y0, 119.5, 1.0);
    EXPECT_GT(std::hypot(x15 - x0, y15 - y0), 20.0) << "half a second later the ball moved";
}

TEST(VideoTestSrcTest, ZonePlateFollowsItsCoefficients) {
    // kx = 1: the level steps through the sine table, a cycle per 256 pixels.
    auto got = frames("pattern=zone-plate kx=1", "video/x-raw,format=GRAY8,width=256,height=2");
    ASSERT_EQ(got.size(), 1U);
    auto f = frame_of(got[0]);
    ASSERT_TRUE(f);
    EXPECT_EQ(sample_at(*f, 0, 0, 0), 128);
    EXPECT_EQ(sample_at(*f, 0, 64, 1), 255);
    EXPECT_EQ(sample_at(*f, 0, 192, 1), 0);
    // Defaults: a flat mid grey.
    auto flat = frames("pattern=zone-plate", "video/x-raw,format=RGB,width=8,height=8");
    auto ff = frame_of(flat[0]);
    ASSERT_TRUE(ff);
    EXPECT_EQ(pixel_at(*ff, 7, 7), (std::vector<int>{128, 128, 128}));
}

TEST(VideoTestSrcTest, CircularIsBrightInTheMiddleAndBackgroundOutsideTheCircle) {
    auto got = frames("pattern=circular", "video/x-raw,format=GRAY8,width=64,height=32");
    ASSERT_EQ(got.size(), 1U);
    auto f = frame_of(got[0]);
    ASSERT_TRUE(f);
    EXPECT_GT(sample_at(*f, 0, 32, 16), 250);
    // The corners lie outside the circle of radius 32.
    EXPECT_EQ(sample_at(*f, 0, 0, 0), 0);
    EXPECT_EQ(sample_at(*f, 0, 63, 31), 0);
}

// --- caps -------------------------------------------------------------------

TEST(VideoTestSrcTest, UnconstrainedCapsFixateAsGStreamers) {
    PipelineRun r = run_pipeline("videotestsrc num-buffers=1");
    ASSERT_FALSE(r.error) << r.error->to_string();
    ASSERT_EQ(r.frames.size(), 1U);
    const Caps& caps = r.frames[0].sample.caps;
    ASSERT_TRUE(caps.is_fixed()) << caps.to_string();
    const Structure& s = caps.structure(0);
    EXPECT_EQ(s.name(), "video/x-raw");
    // GStreamer 1.22 picks the first format of its list, ABGR64_LE; of ours
    // the first in that list is ABGR.
    EXPECT_EQ(s.get_string("format"), "ABGR");
    EXPECT_EQ(s.get_int("width"), 320);
    EXPECT_EQ(s.get_int("height"), 240);
    EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(30, 1).value());
    EXPECT_EQ(s.get_fraction("pixel-aspect-ratio"), Fraction::make(1, 1).value());
    EXPECT_EQ(s.get_string("interlace-mode"), "progressive");
    EXPECT_EQ(r.frames[0].sample.buffer.size(), 320U * 240U * 4U);
}

TEST(VideoTestSrcTest, ConstrainedCapsKeepWhatDownstreamAsks) {
    PipelineRun r = run_pipeline("videotestsrc num-buffers=1 ! video/x-raw,format=NV12,width=64,height=48");
    ASSERT_FALSE(r.error) << r.error->to_string();
    ASSERT_EQ(r.frames.size(), 1U);
    const VideoInfo info = info_of(r.frames[0].sample);
    EXPECT_EQ(info.format(), VideoFormat::nv12);
    EXPECT_EQ(info.width(), 64U);
    EXPECT_EQ(info.height(), 48U);
    EXPECT_EQ(info.framerate(), Fraction::make(30, 1).value());
    EXPECT_EQ(r.frames[0].sample.buffer.size(), 64U * 48U * 3U / 2U);

    // Ranges fixate as near the defaults as they allow (GStreamer gives the
    // same: 20/1 and 400).
    PipelineRun ranged = run_pipeline(
        "videotestsrc num-buffers=1 ! video/x-raw,framerate=[ 10/1, 20/1 ],width=[ 400, 500 ],format={ I420, RGBA }");
    ASSERT_FALSE(ranged.error) << ranged.error->to_string();
    ASSERT_EQ(ranged.frames.size(), 1U);
    const VideoInfo ri = info_of(ranged.frames[0].sample);
    EXPECT_EQ(ri.framerate(), Fraction::make(20, 1).value());
    EXPECT_EQ(ri.width(), 400U);
    EXPECT_EQ(ri.height(), 240U);
    EXPECT_EQ(ri.format(), VideoFormat::rgba); // first in GStreamer's order, as gst-launch-1.0 picks
}

TEST(VideoTestSrcTest, UnsupportedCapsFailToNegotiateNamingTheLink) {
    PipelineRun r = run_pipeline("videotestsrc num-buffers=1 ! video/x-raw,format=I420,width=0,height=48");
    ASSERT_TRUE(r.error);
    EXPECT_TRUE(r.error->is(Errc::not_negotiated) || r.error->is(Errc::invalid_argument)) << r.error->to_string();
}

TEST(VideoTestSrcTest, AHarnessGetsTheDefaultsToo) {
    auto h = check::Harness::create("videotestsrc num-buffers=2 pattern=black");
    ASSERT_TRUE(h) << h.error().to_string();
    ASSERT_TRUE((*h)->start());
    auto first = (*h)->pull();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->size(), 320U * 240U * 4U);
    ASSERT_TRUE((*h)->wait_eos());
    bool caps_seen = false;
    for (const Event& e : (*h)->take_events()) {
        if (const Caps* c = e.caps_value()) {
            caps_seen = true;
            EXPECT_EQ(c->structure(0).get_string("format"), "ABGR");
        }
    }
    EXPECT_TRUE(caps_seen);
    EXPECT_TRUE((*h)->stop());
}

TEST(VideoTestSrcTest, APatternChangedWhileRunningShowsInLaterFrames) {
    // Live at 30/1, so that frames are still to come when the change is made.
    auto h = check::Harness::create("videotestsrc pattern=black is-live=true num-buffers=30");
    ASSERT_TRUE(h) << h.error().to_string();
    ASSERT_TRUE((*h)->start());
    auto first = (*h)->pull();
    ASSERT_TRUE(first);
    // ABGR: black is 255, 0, 0, 0.
    EXPECT_EQ(std::to_integer<int>(first->data()[1]), 0);
    ASSERT_TRUE((*h)->element().set_property("pattern", "white"));
    std::optional<Buffer> last;
    while (auto b = (*h)->pull(2s)) {
        last = std::move(b);
        if (last->meta().sequence() == 29) {
            break;
        }
    }
    ASSERT_TRUE(last);
    EXPECT_EQ(last->meta().sequence(), 29U);
    EXPECT_EQ(std::to_integer<int>(last->data()[1]), 255);
    EXPECT_TRUE((*h)->stop());
}

// --- time -------------------------------------------------------------------

TEST(VideoTestSrcTest, TimestampsCountFramesFromTheOffset) {
    auto got = frames("timestamp-offset=1000", "video/x-raw,format=GRAY8,width=8,height=8,framerate=7/1", 3);
    ASSERT_EQ(got.size(), 3U);
    // As GStreamer: pts = offset + n * 1 s / 7 rounded down, duration the
    // difference to the next.
    const std::uint64_t pts[] = {1000, 142'858'142, 285'715'285};
    const std::uint64_t durations[] = {142'857'142, 142'857'143, 142'857'143};
    for (std::size_t n = 0; n < 3; ++n) {
        const Metadata& m = got[n].sample.buffer.meta();
        EXPECT_EQ(m.pts().ns(), pts[n]) << n;
        EXPECT_EQ(m.duration().ns(), durations[n]) << n;
        EXPECT_EQ(m.sequence(), n);
        EXPECT_EQ(m.has_flag(BufferFlags::discont), n == 0);
        EXPECT_FALSE(m.has_flag(BufferFlags::live));
    }
}

TEST(VideoTestSrcTest, AFrameRateOfZeroGivesOneStillFrame) {
    PipelineRun r = run_pipeline("videotestsrc timestamp-offset=5 ! video/x-raw,framerate=0/1,width=8,height=8");
    ASSERT_FALSE(r.error) << r.error->to_string();
    ASSERT_EQ(r.frames.size(), 1U);
    const Metadata& m = r.frames[0].sample.buffer.meta();
    EXPECT_EQ(m.pts().ns(), 5U);
    EXPECT_TRUE(m.duration().is_none());
}

TEST(VideoTestSrcTest, NumBuffersEndsTheStream) {
    for (int n : {0, 1, 5}) {
        PipelineRun r = run_pipeline(fmt::format("videotestsrc num-buffers={} ! video/x-raw,width=16,height=16", n));
        ASSERT_FALSE(r.error) << r.error->to_string();
        EXPECT_EQ(r.frames.size(), static_cast<std::size_t>(n));
    }
}

TEST(VideoTestSrcTest, ALiveSourceDeliversEachFrameNoSoonerThanItsTime) {
    PipelineRun r =
        run_pipeline("videotestsrc is-live=true num-buffers=6 ! video/x-raw,width=16,height=16,framerate=50/1");
    ASSERT_FALSE(r.error) << r.error->to_string();
    ASSERT_EQ(r.frames.size(), 6U);
    for (const Received& f : r.frames) {
        const Metadata& m = f.sample.buffer.meta();
        EXPECT_TRUE(m.has_flag(BufferFlags::live));
        // The source waited for the pipeline clock: a frame arrives at its
        // pts or later (frame 5 at 100 ms), never all at once.
        EXPECT_GE(f.arrival, m.pts()) << "frame " << m.sequence();
    }
    EXPECT_GE(r.frames.back().arrival, ClockTime::from_ms(100));
}

TEST(VideoTestSrcTest, AnswersTheLatencyQueryWithOneFrame) {
    for (const bool live : {false, true}) {
        auto h = check::Harness::create(fmt::format("videotestsrc is-live={} num-buffers=1", live));
        ASSERT_TRUE(h) << h.error().to_string();
        ASSERT_TRUE((*h)->start());
        ASSERT_TRUE((*h)->pull());
        Query q = Query::latency();
        ASSERT_TRUE((*h)->output()->peer()->peer_query(q));
        EXPECT_EQ(q.live(), live);
        EXPECT_EQ(q.min_latency().ns(), 33'333'333U); // one frame at 30/1
        EXPECT_TRUE(q.max_latency().is_none());
        EXPECT_TRUE((*h)->stop());
    }
}

// --- the painter on its own -------------------------------------------------

TEST(VideoTestSrcPainterTest, EveryByteOfTheFrameIsWrittenWhateverTheBufferHeld) {
    // Pool buffers come back with old contents: two buffers filled with
    // different bytes must come out equal, padding and spare rows included.
    for (const VideoFormatInfo& fi : video_format_table) {
        SCOPED_TRACE(fi.name);
        auto info = VideoInfo::make(fi.format, 45, 31);
        ASSERT_TRUE(info);
        detail::VtsPainter painter(*info);
        std::vector<std::byte> a(info->size(), std::byte{0xaa});
        std::vector<std::byte> b(info->size(), std::byte{0x55});
        for (auto pattern : {detail::VtsPattern::smpte, detail::VtsPattern::checkers_4, detail::VtsPattern::ball,
                             detail::VtsPattern::gradient, detail::VtsPattern::snow, detail::VtsPattern::circular,
                             detail::VtsPattern::zone_plate}) {
            detail::VtsFrameParams params;
            params.pattern = pattern;
            params.frame = 3;
            params.seconds = 0.7;
            params.zone_plate.kx2 = 20;
            params.zone_plate.ky2 = 20;
            painter.paint(a, params);
            painter.paint(b, params);
            EXPECT_EQ(a, b) << "pattern " << static_cast<int>(pattern);
        }
    }
}

TEST(VideoTestSrcPainterTest, ExtremeSettingsAreDefined) {
    // Coefficients, frame numbers, times and scrolls at their limits: no
    // overflow (UBSan builds check), every frame drawn.
    auto info = VideoInfo::make(VideoFormat::i420, 33, 17);
    ASSERT_TRUE(info);
    detail::VtsPainter painter(*info);
    std::vector<std::byte> frame(info->size());
    constexpr std::int32_t lo = std::numeric_limits<std::int32_t>::min();
    constexpr std::int32_t hi = std::numeric_limits<std::int32_t>::max();
    for (auto pattern : {detail::VtsPattern::zone_plate, detail::VtsPattern::ball, detail::VtsPattern::blink,
                         detail::VtsPattern::snow}) {
        detail::VtsFrameParams params;
        params.pattern = pattern;
        params.frame = std::numeric_limits<std::uint64_t>::max();
        params.seconds = 1e300;
        params.flip = true;
        params.scroll = std::numeric_limits<std::int64_t>::min();
        params.zone_plate = {hi, lo, hi, lo, hi, lo, hi, lo, hi, lo, hi, lo};
        painter.paint(frame, params);
    }
    SUCCEED();
}

} // namespace
} // namespace parallax::videotestsrc_test
