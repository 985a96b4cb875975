// videoscale: known patterns scaled with each method (nearest exact, bilinear
// within one level of the exact filter, box the exact mean), every format,
// 10- and 12-bit samples kept within their depth, the border geometry, the method property, size fixation, and the
// element in pipelines (borders drawn, pass-through, short buffers, automatic insertion next to videoconvert). Timeouts
// only guard against hangs.

#include <parallax/caps/caps_ops.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "unit/elements/video_test_support.hpp"
#include "video/video_scale_core.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace parallax::videoscale_test {
namespace {

using namespace std::chrono_literals;
using check::info_of;
using check::PlainFrame;
using detail::keep_aspect_rect;
using detail::VideoRect;
using detail::VideoScaleMethod;
using detail::VideoScaler;

constexpr auto hang_guard = 10s;

PlainFrame scale(const PlainFrame& in, const VideoInfo& out_info, VideoScaleMethod method,
                 std::optional<VideoRect> rect = {}) {
    auto s = VideoScaler::make(in.info, out_info, method,
                               rect.value_or(VideoRect{0, 0, out_info.width(), out_info.height()}));
    EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
    PlainFrame out(out_info);
    if (s) {
        (*s)->scale(in.view(), out.edit());
    }
    return out;
}

// A 1-pixel checkerboard of 40 and 200.
PlainFrame checkerboard(VideoFormat f, std::uint32_t w, std::uint32_t h) {
    PlainFrame in(info_of(f, w, h));
    in.fill([](std::size_t, std::uint32_t x, std::uint32_t y) { return (x + y) % 2 == 0 ? 40U : 200U; });
    return in;
}

TEST(VideoScaleTest, NearestNeighbourPicksThePixelUnderEachCentre) {
    for (VideoFormat f : {VideoFormat::gray8, VideoFormat::rgba, VideoFormat::rgb, VideoFormat::gray16_le,
                          VideoFormat::nv12, VideoFormat::y444, VideoFormat::i422_10le, VideoFormat::y444_12le}) {
        SCOPED_TRACE(std::string(to_string(f)));
        const PlainFrame in = checkerboard(f, 16, 12);
        // Down by 2: the centre of output x lies in input 2x + 1.
        const PlainFrame down = scale(in, info_of(f, 8, 6), VideoScaleMethod::nearest);
        for (std::uint32_t y = 0; y < 6; ++y) {
            for (std::uint32_t x = 0; x < 8; ++x) {
                EXPECT_EQ(down.sample(0, x, y), in.sample(0, 2 * x + 1, 2 * y + 1));
            }
        }
        // Up by 3: every input pixel becomes a 3x3 block.
        const PlainFrame up = scale(in, info_of(f, 48, 36), VideoScaleMethod::nearest);
        for (std::uint32_t y = 0; y < 36; ++y) {
            for (std::uint32_t x = 0; x < 48; ++x) {
                ASSERT_EQ(up.sample(0, x, y), in.sample(0, x / 3, y / 3)) << x << "," << y;
            }
        }
    }
}

// The exact bilinear value of a plane at output sample (x, y), centres aligned.
double bilinear_at(const PlainFrame& in, std::size_t c, std::uint32_t sw, std::uint32_t sh, std::uint32_t dw,
                   std::uint32_t dh, std::uint32_t x, std::uint32_t y) {
    const auto pos = [](std::uint32_t i, std::uint32_t s, std::uint32_t d) {
        return std::clamp((i + 0.5) * s / d - 0.5, 0.0, s - 1.0);
    };
    const double px = pos(x, sw, dw);
    const double py = pos(y, sh, dh);
    const auto x0 = static_cast<std::uint32_t>(px);
    const auto y0 = static_cast<std::uint32_t>(py);
    const std::uint32_t x1 = std::min(x0 + 1, sw - 1);
    const std::uint32_t y1 = std::min(y0 + 1, sh - 1);
    const double fx = px - x0;
    const double fy = py - y0;
    const auto v = [&](std::uint32_t xx, std::uint32_t yy) { return static_cast<double>(in.sample(c, xx, yy)); };
    return (v(x0, y0) * (1 - fx) + v(x1, y0) * fx) * (1 - fy) + (v(x0, y1) * (1 - fx) + v(x1, y1) * fx) * fy;
}

TEST(VideoScaleTest, BilinearIsTheCentreAlignedInterpolationRounded) {
    // Every layout, up and down: within rounding (and 7-bit positions) of
    // the exact value, centres aligned.
    for (VideoFormat f :
         {VideoFormat::gray8, VideoFormat::rgba, VideoFormat::bgr, VideoFormat::nv21, VideoFormat::i420,
          VideoFormat::gray16_le, VideoFormat::p010_10le, VideoFormat::uyvy, VideoFormat::i422_10le,
          VideoFormat::y444_10le, VideoFormat::i420_12le, VideoFormat::i422_12le, VideoFormat::y444_12le}) {
        SCOPED_TRACE(std::string(to_string(f)));
        PlainFrame in(info_of(f, 64, 32));
        const bool deep = in.info.format_info().depth > 8;
        in.fill([&](std::size_t c, std::uint32_t x, std::uint32_t y) {
            return (20 + 2 * x + y + 10 * static_cast<std::uint32_t>(c)) * (deep ? 4U : 1U);
        });
        for (auto [dw, dh] : {std::pair{40U, 24U}, std::pair{100U, 50U}, std::pair{33U, 77U}}) {
            const PlainFrame out = scale(in, info_of(f, dw, dh), VideoScaleMethod::bilinear);
            for (std::size_t c = 0; c < in.info.n_components(); ++c) {
                const std::uint32_t sw = in.info.component_width(c);
                const std::uint32_t sh = in.info.component_height(c);
                const std::uint32_t ow = out.info.component_width(c);
                const std::uint32_t oh = out.info.component_height(c);
                for (std::uint32_t y = 0; y < oh; ++y) {
                    for (std::uint32_t x = 0; x < ow; ++x) {
                        const double exact = bilinear_at(in, c, sw, sh, ow, oh, x, y);
                        ASSERT_LE(std::abs(out.sample(c, x, y) - exact), 0.6)
                            << dw << "x" << dh << " component " << c << " at " << x << "," << y;
                    }
                }
            }
        }
    }
}

TEST(VideoScaleTest, ABoxDownscaleIsTheRoundedMeanOfEachBlock) {
    for (VideoFormat f : {VideoFormat::gray8, VideoFormat::rgbx, VideoFormat::gray16_le, VideoFormat::nv12,
                          VideoFormat::i420_12le, VideoFormat::y444_10le, VideoFormat::i422_12le}) {
        SCOPED_TRACE(std::string(to_string(f)));
        PlainFrame in(info_of(f, 24, 12));
        std::uint32_t seed = 99;
        const std::uint32_t max = (1U << in.info.format_info().depth) - 1;
        in.fill([&](std::size_t, std::uint32_t, std::uint32_t) {
            seed = seed * 1664525U + 1013904223U;
            return (seed >> 8) % (max + 1);
        });
        // 3x3 blocks for luma (24x12 -> 8x4); 4:2:0 chroma 12x6 -> 4x2 and
        // 4:2:2 chroma 12x12 -> 4x4: 3x3 too.
        const PlainFrame out = scale(in, info_of(f, 8, 4), VideoScaleMethod::box);
        for (std::size_t c = 0; c < in.info.n_components(); ++c) {
            for (std::uint32_t y = 0; y < out.info.component_height(c); ++y) {
                for (std::uint32_t x = 0; x < out.info.component_width(c); ++x) {
                    std::uint64_t sum = 0;
                    for (std::uint32_t j = 0; j < 3; ++j) {
                        for (std::uint32_t i = 0; i < 3; ++i) {
                            sum += in.sample(c, 3 * x + i, 3 * y + j);
                        }
                    }
                    EXPECT_EQ(out.sample(c, x, y), (sum + 4) / 9) << "component " << c << " at " << x << "," << y;
                }
            }
        }
    }
}

TEST(VideoScaleTest, ABoxOverFractionalBlocksWeighsByArea) {
    // 3 -> 2: output 0 covers input 0 and half of input 1.
    PlainFrame in(info_of(VideoFormat::gray8, 3, 1));
    in.set_sample(0, 0, 0, 30);
    in.set_sample(0, 1, 0, 90);
    in.set_sample(0, 2, 0, 150);
    const PlainFrame out = scale(in, info_of(VideoFormat::gray8, 2, 1), VideoScaleMethod::box);
    EXPECT_EQ(out.sample(0, 0, 0), 50U);  // (30 + 90 / 2) / 1.5
    EXPECT_EQ(out.sample(0, 1, 0), 130U); // (90 / 2 + 150) / 1.5
}

TEST(VideoScaleTest, EveryFormatAndMethodKeepsAFlatColourExactly) {
    // What libyuv's own interleaved bilinear filter does not: 255 stays 255.
    for (std::size_t i = 0; i < video_format_table.size(); ++i) {
        const VideoFormat f = video_format_table[i].format;
        for (VideoScaleMethod m : {VideoScaleMethod::nearest, VideoScaleMethod::bilinear, VideoScaleMethod::box}) {
            SCOPED_TRACE(std::string(to_string(f)) + " method " + std::to_string(static_cast<int>(m)));
            PlainFrame in(info_of(f, 37, 23));
            const std::uint32_t depth = in.info.format_info().depth;
            const std::array<std::uint32_t, 4> flat{(200U << depth) >> 8, (60U << depth) >> 8, (255U << depth) >> 8,
                                                    255};
            in.fill([&](std::size_t c, std::uint32_t, std::uint32_t) { return flat[c]; });
            for (auto [dw, dh] : {std::pair{20U, 11U}, std::pair{53U, 41U}}) {
                const PlainFrame out = scale(in, info_of(f, dw, dh), m);
                for (std::size_t c = 0; c < out.info.n_components(); ++c) {
                    for (std::uint32_t y = 0; y < out.info.component_height(c); ++y) {
                        for (std::uint32_t x = 0; x < out.info.component_width(c); ++x) {
                            ASSERT_EQ(out.sample(c, x, y), flat[c])
                                << dw << "x" << dh << " component " << c << " at " << x << "," << y;
                        }
                    }
                }
            }
        }
    }
}

TEST(VideoScaleTest, P010KeepsItsSamplesInTheHighBits) {
    PlainFrame in(info_of(VideoFormat::p010_10le, 30, 20));
    in.fill([](std::size_t c, std::uint32_t x, std::uint32_t y) { return 100 + 7 * x + 3 * y + 50 * c; });
    for (VideoScaleMethod m : {VideoScaleMethod::nearest, VideoScaleMethod::bilinear, VideoScaleMethod::box}) {
        const PlainFrame out = scale(in, info_of(VideoFormat::p010_10le, 17, 9), m);
        for (std::size_t i = 0; i + 1 < out.bytes.size(); i += 2) {
            ASSERT_EQ(std::to_integer<int>(out.bytes[i]) & 0x3f, 0)
                << "method " << static_cast<int>(m) << " byte " << i;
        }
    }
}

TEST(VideoScaleTest, HighDepthSamplesStayWithinTheirDepth) {
    // A checkerboard of black and the largest sample (1023, 4095) in every
    // plane: the sharpest input there is. Every method, up, down and
    // between, keeps every sample within the depth; a box halving gives the
    // rounded mean of the two values.
    for (VideoFormat f : {VideoFormat::i422_10le, VideoFormat::y444_10le, VideoFormat::i420_12le,
                          VideoFormat::i422_12le, VideoFormat::y444_12le}) {
        SCOPED_TRACE(std::string(to_string(f)));
        PlainFrame in(info_of(f, 16, 12));
        const std::uint32_t max = (1U << in.info.format_info().depth) - 1;
        in.fill([&](std::size_t, std::uint32_t x, std::uint32_t y) { return (x + y) % 2 == 0 ? 0U : max; });
        for (VideoScaleMethod m : {VideoScaleMethod::nearest, VideoScaleMethod::bilinear, VideoScaleMethod::box}) {
            for (auto [dw, dh] : {std::pair{8U, 6U}, std::pair{7U, 5U}, std::pair{40U, 30U}, std::pair{23U, 12U}}) {
                const PlainFrame out = scale(in, info_of(f, dw, dh), m);
                std::uint32_t highest = 0;
                for (std::size_t c = 0; c < 3; ++c) {
                    for (std::uint32_t y = 0; y < out.info.component_height(c); ++y) {
                        for (std::uint32_t x = 0; x < out.info.component_width(c); ++x) {
                            // The whole 16-bit word: no bit above the depth may be set.
                            highest = std::max(highest, check::raw_sample(out.view(), c, x, y));
                        }
                    }
                }
                EXPECT_LE(highest, max) << "method " << static_cast<int>(m) << " to " << dw << "x" << dh;
                if (m == VideoScaleMethod::box && dw == 8) {
                    for (std::size_t c = 0; c < 3; ++c) {
                        EXPECT_EQ(out.sample(c, 1, 1), (max + 1) / 2) << "component " << c;
                    }
                }
            }
        }
    }
}

TEST(VideoScaleTest, SmpteBarsInHighDepthFormatsKeepTheirColoursWhenScaled) {
    // videotestsrc's bars at 140x80, halved: the centre of each top bar is
    // flat, so every method gives the bar's own samples there.
    for (const char* format : {"I422_10LE", "Y444_10LE", "I420_12LE", "I422_12LE", "Y444_12LE"}) {
        for (const char* method : {"nearest-neighbour", "bilinear", "box"}) {
            SCOPED_TRACE(std::string(format) + " " + method);
            auto p = Pipeline::parse(
                fmt::format("videotestsrc num-buffers=1 ! video/x-raw, format={}, width=140, height=80 ! "
                            "videoscale method={} ! video/x-raw, width=70, height=40 ! appsink name=sink sync=false",
                            format, method));
            ASSERT_TRUE(p) << p.error().to_string();
            AppSink* sink = *(*p)->get<AppSink>("sink");
            ASSERT_TRUE((*p)->set_state(State::running));
            auto s = sink->try_pull_sample(hang_guard);
            ASSERT_TRUE(s) << s.error().to_string();
            const VideoInfo out_info = info_of(fmt::format("video/x-raw, format={}, width=70, height=40", format));
            auto frame = VideoFrame::map(out_info, s->buffer);
            ASSERT_TRUE(frame) << frame.error().to_string();
            // The same bars drawn at 70x40 directly.
            auto q = Pipeline::parse(fmt::format("videotestsrc num-buffers=1 ! video/x-raw, format={}, width=70, "
                                                 "height=40 ! appsink name=sink sync=false",
                                                 format));
            ASSERT_TRUE(q) << q.error().to_string();
            AppSink* direct_sink = *(*q)->get<AppSink>("sink");
            ASSERT_TRUE((*q)->set_state(State::running));
            auto d = direct_sink->try_pull_sample(hang_guard);
            ASSERT_TRUE(d) << d.error().to_string();
            auto direct = VideoFrame::map(out_info, d->buffer);
            ASSERT_TRUE(direct) << direct.error().to_string();
            for (std::uint32_t bar = 0; bar < 7; ++bar) {
                for (std::size_t c = 0; c < 3; ++c) {
                    const VideoComponentInfo& ci = out_info.format_info().components[c];
                    const std::uint32_t x = (10 * bar + 5) >> ci.x_sub;
                    const std::uint32_t y = 6U >> ci.y_sub;
                    EXPECT_EQ(check::raw_sample(*frame, c, x, y), check::raw_sample(*direct, c, x, y))
                        << "bar " << bar << " component " << c;
                }
            }
            EXPECT_TRUE((*p)->set_state(State::idle));
            EXPECT_TRUE((*q)->set_state(State::idle));
        }
    }
}

TEST(VideoScaleTest, AShortHighDepthBufferIsAnErrorNamingTheElement) {
    // 64x48 Y444_12LE is 18432 bytes; a buffer the size of an 8-bit frame is not one.
    check::expect_short_buffer_error("appsrc name=src caps=\"video/x-raw, format=Y444_12LE, width=64, height=48\" ! "
                                     "videoscale name=scale ! appsink name=sink caps=\"video/x-raw, width=32, "
                                     "height=24\"",
                                     "scale", 9216, "buffer of 9216 bytes is too small for a Y444_12LE 64x48 frame");
}

TEST(VideoScaleTest, YuyvScalesThroughPlanarChroma) {
    PlainFrame in(info_of(VideoFormat::yuy2, 8, 2));
    in.fill([](std::size_t c, std::uint32_t x, std::uint32_t) { return c == 0 ? 20 * x + 10 : 100 + 10 * x; });
    const PlainFrame out = scale(in, info_of(VideoFormat::yuy2, 4, 1), VideoScaleMethod::box);
    for (std::uint32_t x = 0; x < 4; ++x) {
        EXPECT_EQ(out.sample(0, x, 0), (in.sample(0, 2 * x, 0) + in.sample(0, 2 * x + 1, 0) + 1) / 2);
    }
    for (std::uint32_t x = 0; x < 2; ++x) {
        EXPECT_EQ(out.sample(1, x, 0), (in.sample(1, 2 * x, 0) + in.sample(1, 2 * x + 1, 0) + 1) / 2);
    }
}

TEST(VideoScaleTest, TheAspectRectangleLetterboxesAndPillarboxes) {
    // 4:3 into 16:9 square pixels: 960x720 in the middle.
    EXPECT_EQ(keep_aspect_rect(info_of(VideoFormat::i420, 640, 480), info_of(VideoFormat::i420, 1280, 720)),
              (VideoRect{160, 0, 960, 720}));
    // 16:9 into 4:3: 640x360, 60 rows above and below.
    EXPECT_EQ(keep_aspect_rect(info_of(VideoFormat::rgba, 1280, 720), info_of(VideoFormat::rgba, 640, 480)),
              (VideoRect{0, 60, 640, 360}));
    // The same shape: the whole frame.
    EXPECT_EQ(keep_aspect_rect(info_of(VideoFormat::nv12, 320, 240), info_of(VideoFormat::nv12, 640, 480)),
              (VideoRect{0, 0, 640, 480}));
    // Anamorphic input (720x576 at 16:15 is 4:3) into 1024x576 square pixels: 768 wide.
    VideoInfo pal = info_of(VideoFormat::i420, 720, 576);
    ASSERT_TRUE(pal.set_pixel_aspect_ratio(*Fraction::make(16, 15)));
    EXPECT_EQ(keep_aspect_rect(pal, info_of(VideoFormat::i420, 1024, 576)), (VideoRect{128, 0, 768, 576}));
    // Edges on whole chroma samples: 4:3 into 101x50 I420 gives an even width at an even x.
    const VideoRect r = keep_aspect_rect(info_of(VideoFormat::i420, 4, 3), info_of(VideoFormat::i420, 101, 50));
    EXPECT_EQ(r.x % 2, 0U);
    EXPECT_EQ(r.width % 2, 0U);
    EXPECT_EQ(r.height, 50U);
    EXPECT_NEAR(r.width, 66.7, 1.5);
}

TEST(VideoScaleTest, BordersAreBlackInTheOutputFormat) {
    for (VideoFormat f : {VideoFormat::i420, VideoFormat::rgba, VideoFormat::p010_10le, VideoFormat::uyvy,
                          VideoFormat::i422_12le, VideoFormat::y444_10le, VideoFormat::i420_12le}) {
        SCOPED_TRACE(std::string(to_string(f)));
        PlainFrame in(info_of(f, 8, 6));
        const unsigned up = in.info.format_info().depth - 8U; // limited-range levels, shifted
        const std::uint32_t white = 235U << up;
        in.fill([&](std::size_t c, std::uint32_t, std::uint32_t) {
            return in.info.format_info().is_rgb() ? 255U : (c == 0 ? white : 128U << up);
        });
        const VideoInfo out_info = info_of(f, 16, 6);
        const VideoRect r = keep_aspect_rect(in.info, out_info);
        ASSERT_EQ(r, (VideoRect{4, 0, 8, 6}));
        const PlainFrame out = scale(in, out_info, VideoScaleMethod::bilinear, r);
        const bool rgb = in.info.format_info().is_rgb();
        const std::uint32_t black_y = rgb ? 0 : 16U << up;
        for (std::uint32_t y = 0; y < 6; ++y) {
            for (std::uint32_t x = 0; x < 16; ++x) {
                const bool inside = x >= 4 && x < 12;
                const std::uint32_t luma_row = y;
                EXPECT_EQ(out.sample(0, x, luma_row), inside ? (rgb ? 255 : white) : black_y) << x << "," << y;
            }
        }
        if (rgb) {
            EXPECT_EQ(out.sample(3, 0, 0), 255U); // opaque black
        } else {
            const std::uint32_t mid = 128U << up;
            EXPECT_EQ(out.sample(1, 0, 0), mid);
            EXPECT_EQ(out.sample(2, 7, 0), mid);
        }
    }
}

TEST(VideoScaleTest, ARectangleThatDoesNotFitIsRefused) {
    auto s = VideoScaler::make(info_of(VideoFormat::i420, 8, 8), info_of(VideoFormat::i420, 16, 16),
                               VideoScaleMethod::bilinear, VideoRect{1, 0, 8, 8});
    ASSERT_FALSE(s); // odd x in 4:2:0
    auto t = VideoScaler::make(info_of(VideoFormat::i420, 8, 8), info_of(VideoFormat::rgba, 16, 16),
                               VideoScaleMethod::bilinear, VideoRect{0, 0, 16, 16});
    ASSERT_FALSE(t);
    EXPECT_NE(t.error().message().find("use videoconvert"), std::string::npos);
}

// --- the element ---------------------------------------------------------------

TEST(VideoScaleTest, MethodsUseGStreamersNumbersAndRefuseTheOnesNotImplemented) {
    auto e = Registry::global().create("videoscale");
    ASSERT_TRUE(e);
    EXPECT_EQ(*(*e)->get_property("method"), "bilinear");
    EXPECT_EQ(*(*e)->get_property("add-borders"), "true");
    ASSERT_TRUE((*e)->set_property("method", "0"));
    EXPECT_EQ(*(*e)->get_property("method"), "nearest-neighbour");
    ASSERT_TRUE((*e)->set_property("method", "box"));
    EXPECT_EQ(*(*e)->get_property("method"), "box");
    auto refused = (*e)->set_property("method", "4-tap");
    ASSERT_FALSE(refused);
    EXPECT_TRUE(refused.error().is(Errc::unsupported));
    EXPECT_NE(refused.error().message().find("method 4-tap (2) is GStreamer's and not implemented"), std::string::npos)
        << refused.error().message();
    EXPECT_EQ(*(*e)->get_property("method"), "box"); // unchanged
    EXPECT_FALSE((*e)->set_property("method", "9"));
    auto parsed = Pipeline::parse("fakesrc ! videoscale method=lanczos ! fakesink");
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().message().find("lanczos"), std::string::npos) << parsed.error().message();
}

Caps out_caps(const check::AppPipeline& a, std::string_view element = "scale") {
    return a.pipeline->find(element)->pad("src")->negotiated_caps();
}

TEST(VideoScaleTest, FixationKeepsTheInputSizeAndTheDisplayAspectRatio) {
    const std::string src = "appsrc name=src caps=\"video/x-raw, format=I420, width=640, height=480\" ! videoscale "
                            "name=scale ! appsink name=sink caps=\"";
    struct Case {
        const char* sink;
        const char* want;
    };
    // The values GStreamer 1.22's videoscale chooses for the same caps: one
    // dimension given keeps the other and the shape through the pixel
    // aspect ratio, unless that ratio is fixed too.
    for (const Case& k :
         {Case{"video/x-raw", "video/x-raw, format=(string)I420, width=(int)640, height=(int)480"},
          Case{"video/x-raw, width=1280",
               "video/x-raw, format=(string)I420, width=(int)1280, height=(int)480, pixel-aspect-ratio=(fraction)1/2"},
          Case{"video/x-raw, height=240",
               "video/x-raw, format=(string)I420, width=(int)640, height=(int)240, pixel-aspect-ratio=(fraction)1/2"},
          Case{"video/x-raw, width=[ 1, 400 ]",
               "video/x-raw, format=(string)I420, width=(int)400, height=(int)480, pixel-aspect-ratio=(fraction)8/5"},
          Case{"video/x-raw, width=[ 1, 400 ], pixel-aspect-ratio=1/1",
               "video/x-raw, format=(string)I420, width=(int)400, height=(int)300, pixel-aspect-ratio=(fraction)1/1"},
          Case{"video/x-raw, width=1280, pixel-aspect-ratio=1/1",
               "video/x-raw, format=(string)I420, width=(int)1280, height=(int)960, pixel-aspect-ratio=(fraction)1/1"},
          Case{"video/x-raw, height=720, pixel-aspect-ratio=1/1",
               "video/x-raw, format=(string)I420, width=(int)960, height=(int)720, pixel-aspect-ratio=(fraction)1/1"},
          // Both given: fixed before fixation, square pixels (add-borders
          // letterboxes; GStreamer would choose 3/4 pixels instead).
          Case{"video/x-raw, width=1280, height=720",
               "video/x-raw, format=(string)I420, width=(int)1280, height=(int)720"},
          // Pixel aspect ratio given: the height follows.
          Case{"video/x-raw, width=720, pixel-aspect-ratio=16/15",
               "video/x-raw, format=(string)I420, width=(int)720, height=(int)576, "
               "pixel-aspect-ratio=(fraction)16/15"}}) {
        SCOPED_TRACE(k.sink);
        auto a = check::start_app_pipeline(src + k.sink + "\"");
        ASSERT_NE(a.pipeline, nullptr);
        const Caps got = out_caps(a);
        EXPECT_TRUE(is_subset(got, Caps::parse_static(k.want)) && got.is_fixed()) << got.to_string();
        EXPECT_EQ(got.structure(0).has("pixel-aspect-ratio"),
                  Caps::parse_static(k.want).structure(0).has("pixel-aspect-ratio"))
            << got.to_string();
        EXPECT_TRUE(a.pipeline->set_state(State::idle));
    }
}

TEST(VideoScaleTest, AddBordersLetterboxesInAPipeline) {
    auto a = check::start_app_pipeline(
        "appsrc name=src caps=\"video/x-raw, format=I420, width=8, height=6\" ! videoscale name=scale ! "
        "appsink name=sink sync=false caps=\"video/x-raw, width=16, height=6, pixel-aspect-ratio=1/1\"");
    ASSERT_NE(a.src, nullptr);
    PlainFrame in(info_of(VideoFormat::i420, 8, 6));
    in.fill([](std::size_t c, std::uint32_t, std::uint32_t) { return c == 0 ? 200U : 90U; });
    Buffer b = check::app_buffer(*a.src, in.bytes);
    b.meta().set_pts(ClockTime::from_ns(5));
    ASSERT_TRUE(a.src->push_buffer(std::move(b)));
    auto s = a.sink->try_pull_sample(hang_guard);
    ASSERT_TRUE(s) << s.error().to_string();
    EXPECT_EQ(s->buffer.meta().pts().ns(), 5U);
    const auto* y = reinterpret_cast<const std::uint8_t*>(s->buffer.data().data());
    for (std::uint32_t x = 0; x < 16; ++x) {
        EXPECT_EQ(y[16 * 3 + x], x >= 4 && x < 12 ? 200 : 16) << x;
    }
    EXPECT_TRUE(a.pipeline->set_state(State::idle));

    // Without borders the picture is stretched over the whole width.
    auto n = check::start_app_pipeline(
        "appsrc name=src caps=\"video/x-raw, format=I420, width=8, height=6\" ! videoscale name=scale "
        "add-borders=false ! appsink name=sink sync=false caps=\"video/x-raw, width=16, height=6, "
        "pixel-aspect-ratio=1/1\"");
    ASSERT_NE(n.src, nullptr);
    ASSERT_TRUE(n.src->push_buffer(check::app_buffer(*n.src, in.bytes)));
    auto t = n.sink->try_pull_sample(hang_guard);
    ASSERT_TRUE(t) << t.error().to_string();
    EXPECT_EQ(reinterpret_cast<const std::uint8_t*>(t->buffer.data().data())[0], 200);
    EXPECT_TRUE(n.pipeline->set_state(State::idle));
}

TEST(VideoScaleTest, EqualCapsPassTheSameSlotThrough) {
    check::expect_same_slot_through("videoscale", Caps::parse_static("video/x-raw, format=RGBA, width=4, height=2"),
                                    32);
}

TEST(VideoScaleTest, AShortBufferIsAnErrorNamingTheElement) {
    check::expect_short_buffer_error("appsrc name=src caps=\"video/x-raw, format=NV12, width=64, height=48\" ! "
                                     "videoscale name=scale ! appsink name=sink caps=\"video/x-raw, width=32, "
                                     "height=24\"",
                                     "scale", 100, "buffer of 100 bytes is too small for a NV12 64x48 frame");
}

TEST(VideoScaleTest, NegotiationInsertsConvertAndScaleWhereFormatAndSizeDiffer) {
    auto a = check::start_app_pipeline(
        "appsrc name=src caps=\"video/x-raw, format=I420, width=32, height=24\" ! appsink name=sink "
        "sync=false caps=\"video/x-raw, format=RGBA, width=64, height=48\"");
    ASSERT_NE(a.src, nullptr);
    std::vector<std::string> kinds;
    for (const auto& c : a.pipeline->negotiation().inserted) {
        kinds.push_back(c.factory);
    }
    std::sort(kinds.begin(), kinds.end());
    EXPECT_EQ(kinds, (std::vector<std::string>{"videoconvert", "videoscale"}));
    EXPECT_NE(a.pipeline->find("auto-videoconvert0"), nullptr);
    EXPECT_NE(a.pipeline->find("auto-videoscale0"), nullptr);
    PlainFrame in(info_of(VideoFormat::i420, 32, 24));
    in.fill([](std::size_t c, std::uint32_t, std::uint32_t) { return c == 0 ? 235U : 128U; });
    ASSERT_TRUE(a.src->push_buffer(check::app_buffer(*a.src, in.bytes)));
    auto s = a.sink->try_pull_sample(hang_guard);
    ASSERT_TRUE(s) << s.error().to_string();
    ASSERT_EQ(s->buffer.size(), 64U * 48 * 4);
    const auto* px = reinterpret_cast<const std::uint8_t*>(s->buffer.data().data());
    for (std::size_t i = 0; i < 64 * 48 * 4; ++i) {
        ASSERT_EQ(px[i], 255) << i; // white, opaque
    }
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

} // namespace
} // namespace parallax::videoscale_test
