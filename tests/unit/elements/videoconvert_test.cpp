// videoconvert: colour equations checked against values computed here from
// the standards (75% colour bars in BT.601 and BT.709, limited and full
// range), every pair of formats round-tripped, the paths chosen, depth
// changes of the 10- and 12-bit formats against the rounded exact values,
// videotestsrc's and ffmpeg's SMPTE bars at high depth (the latter decoded
// by dav1ddec in a pipeline), and the element in pipelines (metadata,
// pass-through, short buffers, automatic insertion, output format choice).
// Timeouts only guard against hangs.

#include <parallax/caps/caps_ops.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "integration/gst_compare_support.hpp"
#include "unit/elements/video_test_support.hpp"
#include "video/video_convert_core.hpp"
#include "video/videotestsrc_paint.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace parallax::videoconvert_test {
namespace {

using namespace std::chrono_literals;
using check::info_of;
using check::PlainFrame;
using detail::VideoConverter;
using detail::VideoConvertPath;

constexpr auto hang_guard = 10s;

PlainFrame convert(const PlainFrame& in, const VideoInfo& out_info, VideoConvertPath* path = nullptr) {
    auto c = VideoConverter::make(in.info, out_info);
    EXPECT_TRUE(c) << (c ? "" : c.error().to_string());
    PlainFrame out(out_info);
    if (c) {
        (*c)->convert(in.view(), out.edit());
        if (path != nullptr) {
            *path = (*c)->path();
        }
    }
    return out;
}

// --- the colour equations, written out again -----------------------------------

struct Matrix {
    double kr;
    double kb;
};
constexpr Matrix bt601{0.299, 0.114};
constexpr Matrix bt709{0.2126, 0.0722};

// 8-bit Y'CbCr to R'G'B' codes (unrounded).
std::array<double, 3> ycbcr_to_rgb(Matrix m, bool full, double y, double u, double v) {
    const double yn = full ? y / 255.0 : (y - 16.0) / 219.0;
    const double pb = full ? (u - 128.0) / 255.0 : (u - 128.0) / 224.0;
    const double pr = full ? (v - 128.0) / 255.0 : (v - 128.0) / 224.0;
    const double kg = 1.0 - m.kr - m.kb;
    const double r = yn + 2.0 * (1.0 - m.kr) * pr;
    const double b = yn + 2.0 * (1.0 - m.kb) * pb;
    const double g = (yn - m.kr * r - m.kb * b) / kg;
    return {r * 255.0, g * 255.0, b * 255.0};
}

// 8-bit R'G'B' to Y'CbCr codes (unrounded).
std::array<double, 3> rgb_to_ycbcr(Matrix m, bool full, double r, double g, double b) {
    r /= 255.0;
    g /= 255.0;
    b /= 255.0;
    const double y = m.kr * r + (1.0 - m.kr - m.kb) * g + m.kb * b;
    const double pb = (b - y) / (2.0 * (1.0 - m.kb));
    const double pr = (r - y) / (2.0 * (1.0 - m.kr));
    if (full) {
        return {y * 255.0, 128.0 + pb * 255.0, 128.0 + pr * 255.0};
    }
    return {16.0 + 219.0 * y, 128.0 + 224.0 * pb, 128.0 + 224.0 * pr};
}

double clamp255(double v) {
    return std::clamp(v, 0.0, 255.0);
}

// The 75% colour bars (white, yellow, cyan, green, magenta, red, blue):
// R'G'B' 191 or 0, and their published limited-range Y'CbCr.
constexpr std::array<std::array<int, 3>, 7> bars_rgb{
    {{191, 191, 191}, {191, 191, 0}, {0, 191, 191}, {0, 191, 0}, {191, 0, 191}, {191, 0, 0}, {0, 0, 191}}};
constexpr std::array<std::array<int, 3>, 7> bars_601{
    {{180, 128, 128}, {162, 44, 142}, {131, 156, 44}, {112, 72, 58}, {84, 184, 198}, {65, 100, 212}, {35, 212, 114}}};
constexpr std::array<std::array<int, 3>, 7> bars_709{
    {{180, 128, 128}, {168, 44, 136}, {145, 147, 44}, {133, 63, 52}, {63, 193, 204}, {51, 109, 212}, {28, 212, 120}}};

// An I420 frame of 7 bars, 4 pixels wide each.
PlainFrame bars_i420(const VideoInfo& info, const std::array<std::array<int, 3>, 7>& bars) {
    PlainFrame f(info);
    for (std::uint32_t y = 0; y < info.height(); ++y) {
        for (std::uint32_t x = 0; x < info.width(); ++x) {
            const auto& bar = bars[std::min<std::size_t>(x / 4, 6)];
            for (std::size_t c = 0; c < 3; ++c) {
                f.set(c, x, y, static_cast<std::uint32_t>(bar[c]));
            }
        }
    }
    return f;
}

// The kernels round to nearest up to their coefficients' precision: within
// 0.5 of the exact value, plus this.
constexpr double rounding_slack = 0.06;

void expect_bars_to_rgb(std::string_view caps, const std::array<std::array<int, 3>, 7>& bars, Matrix m) {
    const PlainFrame in = bars_i420(info_of(caps), bars);
    VideoConvertPath path{};
    const PlainFrame out = convert(in, info_of(VideoFormat::rgba, in.info.width(), in.info.height()), &path);
    EXPECT_EQ(path, VideoConvertPath::yuv_to_rgb);
    for (std::size_t i = 0; i < 7; ++i) {
        SCOPED_TRACE("bar " + std::to_string(i));
        const auto exact = ycbcr_to_rgb(m, false, bars[i][0], bars[i][1], bars[i][2]);
        for (std::size_t c = 0; c < 3; ++c) {
            const double got = out.get(c, static_cast<std::uint32_t>(4 * i + 1), 1);
            EXPECT_LE(std::abs(got - clamp255(exact[c])), 0.5 + rounding_slack) << "component " << c;
            // And the nominal 75% bar within the rounding of the published table.
            EXPECT_LE(std::abs(got - bars_rgb[i][c]), 2.0) << "component " << c;
        }
        EXPECT_EQ(out.get(3, static_cast<std::uint32_t>(4 * i + 1), 1), 255U);
    }
}

TEST(VideoConvertTest, Bt601BarsBecomeTheRgbTheEquationsGive) {
    expect_bars_to_rgb("video/x-raw, format=I420, width=28, height=2, colorimetry=bt601", bars_601, bt601);
}

TEST(VideoConvertTest, Bt709BarsBecomeTheRgbTheEquationsGive) {
    // libyuv's own BT.709 constants give blue 182 here instead of 191.
    expect_bars_to_rgb("video/x-raw, format=I420, width=28, height=2, colorimetry=bt709", bars_709, bt709);
}

void expect_rgb_bars_to_yuv(std::string_view caps, const std::array<std::array<int, 3>, 7>& published, Matrix m) {
    const VideoInfo yuv = info_of(caps);
    PlainFrame rgb(info_of(VideoFormat::rgbx, yuv.width(), yuv.height()));
    for (std::uint32_t y = 0; y < yuv.height(); ++y) {
        for (std::uint32_t x = 0; x < yuv.width(); ++x) {
            for (std::size_t c = 0; c < 3; ++c) {
                rgb.set(c, x, y, static_cast<std::uint32_t>(bars_rgb[std::min<std::size_t>(x / 4, 6)][c]));
            }
        }
    }
    const PlainFrame out = convert(rgb, yuv);
    for (std::size_t i = 0; i < 7; ++i) {
        SCOPED_TRACE("bar " + std::to_string(i));
        const auto exact = rgb_to_ycbcr(m, false, bars_rgb[i][0], bars_rgb[i][1], bars_rgb[i][2]);
        for (std::size_t c = 0; c < 3; ++c) {
            const double got = out.get(c, static_cast<std::uint32_t>(4 * i + 1), 1);
            EXPECT_LE(std::abs(got - exact[c]), 0.5 + rounding_slack) << "component " << c;
            // 191 is 74.9%, not 75%: the published values are within one.
            EXPECT_LE(std::abs(got - published[i][c]), 1.0) << "component " << c;
        }
    }
}

TEST(VideoConvertTest, RgbBarsBecomeTheBt601YuvTheEquationsGive) {
    expect_rgb_bars_to_yuv("video/x-raw, format=I420, width=28, height=2, colorimetry=bt601", bars_601, bt601);
}

TEST(VideoConvertTest, RgbBarsBecomeTheBt709YuvTheEquationsGive) {
    expect_rgb_bars_to_yuv("video/x-raw, format=I420, width=28, height=2, colorimetry=bt709", bars_709, bt709);
}

TEST(VideoConvertTest, BarsSurviveYuvToRgbAndBack) {
    for (const auto* caps : {"video/x-raw, format=I420, width=28, height=2, colorimetry=bt601",
                             "video/x-raw, format=I420, width=28, height=2, colorimetry=bt709"}) {
        SCOPED_TRACE(caps);
        const bool is709 = std::string_view(caps).find("bt709") != std::string_view::npos;
        const PlainFrame in = bars_i420(info_of(caps), is709 ? bars_709 : bars_601);
        for (VideoFormat rgb : {VideoFormat::rgba, VideoFormat::bgrx, VideoFormat::rgb, VideoFormat::abgr}) {
            const PlainFrame back = convert(convert(in, info_of(rgb, 28, 2)), in.info);
            for (std::uint32_t x = 1; x < 28; x += 4) {
                for (std::size_t c = 0; c < 3; ++c) {
                    EXPECT_LE(std::abs(static_cast<int>(back.get(c, x, 1)) - static_cast<int>(in.get(c, x, 1))), 1)
                        << to_string(rgb) << " x " << x << " component " << c;
                }
            }
        }
    }
}

TEST(VideoConvertTest, FullAndLimitedRangeMapBlackAndWhiteToTheEnds) {
    struct Case {
        const char* caps;
        std::uint32_t black;
        std::uint32_t white;
    };
    for (const Case& k : {Case{"video/x-raw, format=I420, width=4, height=2, colorimetry=bt601", 16, 235},
                          Case{"video/x-raw, format=I420, width=4, height=2, colorimetry=1:4:0:0", 0, 255},
                          Case{"video/x-raw, format=I420, width=4, height=2, colorimetry=bt709", 16, 235},
                          Case{"video/x-raw, format=I420, width=4, height=2, colorimetry=1:3:5:1", 0, 255}}) {
        SCOPED_TRACE(k.caps);
        PlainFrame yuv(info_of(k.caps));
        for (std::uint32_t x = 0; x < 4; ++x) {
            for (std::uint32_t y = 0; y < 2; ++y) {
                yuv.set(0, x, y, x < 2 ? k.black : k.white);
                yuv.set(1, x, y, 128);
                yuv.set(2, x, y, 128);
            }
        }
        const PlainFrame rgb = convert(yuv, info_of(VideoFormat::rgba, 4, 2));
        for (std::size_t c = 0; c < 3; ++c) {
            EXPECT_EQ(rgb.get(c, 0, 0), 0U);
            EXPECT_EQ(rgb.get(c, 3, 1), 255U);
        }
        // And back: RGB white and black land on the range's ends.
        const PlainFrame again = convert(rgb, yuv.info);
        EXPECT_EQ(again.get(0, 0, 0), k.black);
        EXPECT_EQ(again.get(0, 3, 0), k.white);
        EXPECT_EQ(again.get(1, 0, 0), 128U);
        EXPECT_EQ(again.get(2, 3, 0), 128U);
    }
    // Full-range BT.601 bars computed with the full-range equations.
    PlainFrame full(info_of("video/x-raw, format=Y444, width=1, height=1, colorimetry=1:4:0:0"));
    full.set(0, 0, 0, 105);
    full.set(1, 0, 0, 212);
    full.set(2, 0, 0, 75);
    const PlainFrame rgb = convert(full, info_of(VideoFormat::rgb, 1, 1));
    const auto exact = ycbcr_to_rgb(bt601, true, 105, 212, 75);
    for (std::size_t c = 0; c < 3; ++c) {
        EXPECT_LE(std::abs(rgb.get(c, 0, 0) - clamp255(exact[c])), 0.5 + rounding_slack);
    }
}

TEST(VideoConvertTest, TheYuvToRgbKernelRoundsEveryInputAndWidth) {
    // Odd widths reach the kernel's tail; random values reach every lane.
    std::uint32_t seed = 12345;
    const auto next = [&] {
        seed = seed * 1664525U + 1013904223U;
        return (seed >> 24) & 0xff;
    };
    for (std::uint32_t w : {1U, 15U, 16U, 17U, 33U, 64U}) {
        for (VideoFormat f : {VideoFormat::i420, VideoFormat::y444, VideoFormat::nv21, VideoFormat::yuy2}) {
            PlainFrame in(info_of(f, w, 4));
            for (std::uint32_t y = 0; y < 4; ++y) {
                for (std::uint32_t x = 0; x < w; ++x) {
                    for (std::size_t c = 0; c < 3; ++c) {
                        in.set(c, x, y, next());
                    }
                }
            }
            for (VideoFormat o : {VideoFormat::argb, VideoFormat::bgr}) {
                const PlainFrame out = convert(in, info_of(o, w, 4));
                for (std::uint32_t y = 0; y < 4; ++y) {
                    for (std::uint32_t x = 0; x < w; ++x) {
                        const auto exact =
                            ycbcr_to_rgb(bt601, false, in.get(0, x, y), in.get(1, x, y), in.get(2, x, y));
                        for (std::size_t c = 0; c < 3; ++c) {
                            ASSERT_LE(std::abs(out.get(c, x, y) - clamp255(exact[c])), 0.5 + rounding_slack)
                                << to_string(f) << " to " << to_string(o) << " width " << w << " at " << x << "," << y
                                << " component " << c;
                        }
                    }
                }
            }
        }
    }
}

TEST(VideoConvertTest, EachPairTakesTheExpectedPath) {
    struct Case {
        VideoFormat in;
        VideoFormat out;
        VideoConvertPath path;
    };
    for (const Case& k : {Case{VideoFormat::i420, VideoFormat::i420, VideoConvertPath::copy},
                          Case{VideoFormat::i420, VideoFormat::nv12, VideoConvertPath::repack_yuv},
                          Case{VideoFormat::yuy2, VideoFormat::y444, VideoConvertPath::repack_yuv},
                          Case{VideoFormat::gray8, VideoFormat::i420, VideoConvertPath::generic}, // full vs limited
                          Case{VideoFormat::rgba, VideoFormat::bgr, VideoConvertPath::repack_rgb},
                          Case{VideoFormat::i420_10le, VideoFormat::p010_10le, VideoConvertPath::repack_10bit},
                          Case{VideoFormat::nv12, VideoFormat::rgbx, VideoConvertPath::yuv_to_rgb},
                          Case{VideoFormat::gray8, VideoFormat::bgra, VideoConvertPath::yuv_to_rgb},
                          Case{VideoFormat::rgba, VideoFormat::i420, VideoConvertPath::generic},
                          Case{VideoFormat::i420_10le, VideoFormat::rgba, VideoConvertPath::generic},
                          Case{VideoFormat::i422_12le, VideoFormat::i422_12le, VideoConvertPath::copy},
                          Case{VideoFormat::i422_10le, VideoFormat::i420, VideoConvertPath::repack_depth},
                          Case{VideoFormat::y444_12le, VideoFormat::i420_10le, VideoConvertPath::repack_depth},
                          Case{VideoFormat::nv12, VideoFormat::i420_12le, VideoConvertPath::repack_depth},
                          Case{VideoFormat::i420_12le, VideoFormat::p010_10le, VideoConvertPath::repack_depth},
                          Case{VideoFormat::yuy2, VideoFormat::i422_10le, VideoConvertPath::generic},
                          Case{VideoFormat::y444_10le, VideoFormat::bgra, VideoConvertPath::generic},
                          Case{VideoFormat::rgba, VideoFormat::i422_12le, VideoConvertPath::generic},
                          Case{VideoFormat::gray16_le, VideoFormat::gray8, VideoConvertPath::generic}}) {
        auto c = VideoConverter::make(info_of(k.in, 8, 8), info_of(k.out, 8, 8));
        ASSERT_TRUE(c);
        EXPECT_EQ((*c)->path(), k.path) << to_string(k.in) << " to " << to_string(k.out) << ": "
                                        << detail::to_string((*c)->path());
    }
}

TEST(VideoConvertTest, RepackingIsLossless) {
    // Random samples: any rounding would show.
    PlainFrame in(info_of(VideoFormat::i420, 33, 17));
    std::uint32_t seed = 7;
    for (auto& b : in.bytes) {
        seed = seed * 1664525U + 1013904223U;
        b = static_cast<std::byte>(seed >> 24);
    }
    for (VideoFormat f : {VideoFormat::yv12, VideoFormat::nv12, VideoFormat::nv21, VideoFormat::y444}) {
        const PlainFrame back = convert(convert(in, info_of(f, 33, 17)), in.info);
        for (std::uint32_t y = 0; y < 17; ++y) {
            for (std::uint32_t x = 0; x < 33; ++x) {
                for (std::size_t c = 0; c < 3; ++c) {
                    ASSERT_EQ(back.get(c, x, y), in.get(c, x, y)) << to_string(f) << " " << x << "," << y;
                }
            }
        }
    }
    PlainFrame rgba(info_of(VideoFormat::rgba, 9, 3));
    for (auto& b : rgba.bytes) {
        seed = seed * 1664525U + 1013904223U;
        b = static_cast<std::byte>(seed >> 24);
    }
    for (VideoFormat f : {VideoFormat::bgra, VideoFormat::argb, VideoFormat::abgr}) {
        EXPECT_EQ(convert(convert(rgba, info_of(f, 9, 3)), rgba.info).bytes, rgba.bytes) << to_string(f);
    }
    PlainFrame ten(info_of(VideoFormat::i420_10le, 6, 4));
    for (std::uint32_t y = 0; y < 4; ++y) {
        for (std::uint32_t x = 0; x < 6; ++x) {
            for (std::size_t c = 0; c < 3; ++c) {
                ten.set(c, x, y, (x * 97 + y * 31 + c * 500) % 1024);
            }
        }
    }
    const PlainFrame p010 = convert(ten, info_of(VideoFormat::p010_10le, 6, 4));
    EXPECT_EQ(p010.get(0, 5, 3), ten.get(0, 5, 3));
    EXPECT_EQ(convert(p010, ten.info).bytes, ten.bytes);
}

// A smooth picture (slow gradients, alpha too) inside limited range, so
// that subsampling and rounding stay small.
PlainFrame smooth_rgba(std::uint32_t w, std::uint32_t h) {
    PlainFrame f(info_of(VideoFormat::rgba, w, h));
    for (std::uint32_t y = 0; y < h; ++y) {
        for (std::uint32_t x = 0; x < w; ++x) {
            f.set(0, x, y, 60 + x);
            f.set(1, x, y, 200 - y);
            f.set(2, x, y, 90 + (x + y) / 2);
            f.set(3, x, y, 120 + x);
        }
    }
    return f;
}

constexpr std::array<VideoFormat, 25> all_formats{
    VideoFormat::i420,      VideoFormat::yv12,      VideoFormat::nv12,      VideoFormat::nv21,
    VideoFormat::yuy2,      VideoFormat::uyvy,      VideoFormat::y42b,      VideoFormat::y444,
    VideoFormat::i420_10le, VideoFormat::p010_10le, VideoFormat::i422_10le, VideoFormat::y444_10le,
    VideoFormat::i420_12le, VideoFormat::i422_12le, VideoFormat::y444_12le, VideoFormat::rgb,
    VideoFormat::bgr,       VideoFormat::rgba,      VideoFormat::bgra,      VideoFormat::argb,
    VideoFormat::abgr,      VideoFormat::rgbx,      VideoFormat::bgrx,      VideoFormat::gray8,
    VideoFormat::gray16_le};

// A component as an 8-bit value (deeper samples scaled down, unrounded).
double as8(const PlainFrame& f, std::size_t c, std::uint32_t x, std::uint32_t y) {
    return f.get(c, x, y) / std::ldexp(1.0, f.info.format_info().depth - 8);
}

// Every format A to every format B and back to A: within 3 (8-bit levels)
// of A itself, for what B can carry (no colour through gray, no alpha
// through formats without it).
TEST(VideoConvertTest, EveryPairRoundTripsWithinThreeLevels) {
    for (std::uint32_t w : {20U, 13U}) {
        const std::uint32_t h = w == 20 ? 12 : 7;
        const PlainFrame truth = smooth_rgba(w, h);
        int pairs = 0;
        for (VideoFormat a : all_formats) {
            const PlainFrame fa = convert(truth, info_of(a, w, h));
            const VideoFormatInfo& ia = fa.info.format_info();
            for (VideoFormat b : all_formats) {
                const VideoFormatInfo& ib = video_format_info(b);
                const PlainFrame back = convert(convert(fa, info_of(b, w, h)), fa.info);
                ++pairs;
                const bool colour = !ib.is_gray() || ia.is_gray();
                for (std::size_t c = 0; c < ia.n_components; ++c) {
                    if ((c == 3 && !ib.has_alpha) || (!colour && (c == 1 || c == 2 || ia.is_rgb()))) {
                        continue;
                    }
                    double worst = 0.0;
                    for (std::uint32_t y = 0; y < h; ++y) {
                        for (std::uint32_t x = 0; x < w; ++x) {
                            worst = std::max(worst, std::abs(as8(back, c, x, y) - as8(fa, c, x, y)));
                        }
                    }
                    EXPECT_LE(worst, 3.0) << to_string(a) << " -> " << to_string(b) << " -> " << to_string(a)
                                          << " component " << c << " at " << w << "x" << h;
                }
                if (!colour && ia.is_rgb()) {
                    // Through gray an RGB picture becomes gray: R = G = B.
                    for (std::uint32_t x = 0; x < w; ++x) {
                        EXPECT_LE(std::abs(static_cast<int>(back.get(0, x, 0)) - static_cast<int>(back.get(2, x, 0))),
                                  1);
                    }
                }
            }
        }
        EXPECT_EQ(pairs, 625);
    }
}

// --- high-depth YUV (I422_10LE, Y444_10LE, I420_12LE, I422_12LE, Y444_12LE) ---

constexpr std::array<VideoFormat, 5> high_depth_formats{VideoFormat::i422_10le, VideoFormat::y444_10le,
                                                        VideoFormat::i420_12le, VideoFormat::i422_12le,
                                                        VideoFormat::y444_12le};

// The value the depth path must give for output sample (x, y) of
// component c: the mean of the input samples it covers (chroma repeated
// when the output has more), times 2^(output depth - input depth), rounded
// to nearest with halves up, clamped; computed in floating point.
std::uint32_t expected_depth_sample(const PlainFrame& in, const VideoInfo& out, std::size_t c, std::uint32_t x,
                                    std::uint32_t y) {
    const VideoComponentInfo& ci = in.info.format_info().components[c];
    const VideoComponentInfo& co = out.format_info().components[c];
    const auto covered = [](std::uint32_t i, unsigned from_sub, unsigned to_sub, std::uint32_t n) {
        if (from_sub > to_sub) {
            return std::array<std::uint32_t, 2>{i / 2, i / 2};
        }
        if (from_sub < to_sub) {
            return std::array<std::uint32_t, 2>{std::min(2 * i, n - 1), std::min(2 * i + 1, n - 1)};
        }
        return std::array<std::uint32_t, 2>{i, i};
    };
    const auto cols = covered(x, ci.x_sub, co.x_sub, in.info.component_width(c));
    const auto rows = covered(y, ci.y_sub, co.y_sub, in.info.component_height(c));
    double sum = 0.0;
    int n = 0;
    for (std::uint32_t r : {rows[0], rows[1]}) {
        for (std::uint32_t col : {cols[0], cols[1]}) {
            sum += in.sample(c, col, r);
            ++n;
        }
    }
    const int change = static_cast<int>(out.format_info().depth) - static_cast<int>(in.info.format_info().depth);
    const double exact = sum / n * std::ldexp(1.0, change);
    const double max = std::ldexp(1.0, out.format_info().depth) - 1.0;
    return static_cast<std::uint32_t>(std::min(std::floor(exact + 0.5), max));
}

TEST(VideoConvertTest, DepthChangesShiftEverySampleAndRoundToNearest) {
    // Random samples over the whole range (and the largest, which rounds
    // past the top when bits are dropped), odd sizes, every YUV layout the
    // depth path takes on either side.
    const std::array<VideoFormat, 13> layouts{VideoFormat::i420,      VideoFormat::yv12,      VideoFormat::nv12,
                                              VideoFormat::nv21,      VideoFormat::y42b,      VideoFormat::y444,
                                              VideoFormat::i420_10le, VideoFormat::p010_10le, VideoFormat::i422_10le,
                                              VideoFormat::y444_10le, VideoFormat::i420_12le, VideoFormat::i422_12le,
                                              VideoFormat::y444_12le};
    std::uint32_t seed = 2024;
    for (VideoFormat a : high_depth_formats) {
        PlainFrame in(info_of(a, 13, 7));
        const std::uint32_t top = (1U << in.info.format_info().depth) - 1;
        in.fill([&](std::size_t, std::uint32_t x, std::uint32_t y) {
            seed = seed * 1664525U + 1013904223U;
            return x == 0 && y == 0 ? top : (seed >> 8) % (top + 1);
        });
        for (VideoFormat b : layouts) {
            if (a == b) {
                continue;
            }
            const VideoInfo out_info = info_of(b, 13, 7);
            VideoConvertPath path{};
            const PlainFrame out = convert(in, out_info, &path);
            EXPECT_EQ(path, VideoConvertPath::repack_depth) << to_string(a) << " to " << to_string(b);
            const PlainFrame back = convert(out, in.info, &path);
            EXPECT_EQ(path, VideoConvertPath::repack_depth) << to_string(b) << " to " << to_string(a);
            for (std::size_t c = 0; c < 3; ++c) {
                for (std::uint32_t y = 0; y < out_info.component_height(c); ++y) {
                    for (std::uint32_t x = 0; x < out_info.component_width(c); ++x) {
                        ASSERT_EQ(out.sample(c, x, y), expected_depth_sample(in, out_info, c, x, y))
                            << to_string(a) << " to " << to_string(b) << " component " << c << " at " << x << "," << y;
                    }
                }
                for (std::uint32_t y = 0; y < in.info.component_height(c); ++y) {
                    for (std::uint32_t x = 0; x < in.info.component_width(c); ++x) {
                        ASSERT_EQ(back.sample(c, x, y), expected_depth_sample(out, in.info, c, x, y))
                            << to_string(b) << " to " << to_string(a) << " component " << c << " at " << x << "," << y;
                    }
                }
            }
        }
    }
}

TEST(VideoConvertTest, LimitedRangeLevelsLandOnEachDepthsLevels) {
    // Black, white and neutral chroma: 16, 235, 128 at 8 bits; 64, 940, 512
    // at 10; 256, 3760, 2048 at 12. And the half-way values round up.
    PlainFrame i420(info_of(VideoFormat::i420, 4, 2));
    i420.fill([](std::size_t c, std::uint32_t x, std::uint32_t) { return c == 0 ? (x < 2 ? 16U : 235U) : 128U; });
    const PlainFrame twelve = convert(i420, info_of(VideoFormat::i420_12le, 4, 2));
    EXPECT_EQ(twelve.get(0, 0, 0), 256U);
    EXPECT_EQ(twelve.get(0, 3, 1), 3760U);
    EXPECT_EQ(twelve.get(1, 0, 0), 2048U);
    EXPECT_EQ(twelve.get(2, 3, 1), 2048U);
    const PlainFrame ten = convert(twelve, info_of(VideoFormat::y444_10le, 4, 2));
    EXPECT_EQ(ten.get(0, 0, 1), 64U);
    EXPECT_EQ(ten.get(0, 2, 0), 940U);
    EXPECT_EQ(ten.get(1, 3, 1), 512U);

    PlainFrame deep(info_of(VideoFormat::y444_12le, 4, 1));
    const std::array<std::uint32_t, 4> luma{2055, 2056, 4095, 0}; // 128.44, 128.5, 255.94, 0 at 8 bits
    deep.fill([&](std::size_t c, std::uint32_t x, std::uint32_t) { return c == 0 ? luma[x] : 2048U; });
    const PlainFrame eight = convert(deep, info_of(VideoFormat::y444, 4, 1));
    EXPECT_EQ(eight.get(0, 0, 0), 128U);
    EXPECT_EQ(eight.get(0, 1, 0), 129U);
    EXPECT_EQ(eight.get(0, 2, 0), 255U); // clamped, not wrapped to 0
    EXPECT_EQ(eight.get(0, 3, 0), 0U);
    const PlainFrame ten_bits = convert(deep, info_of(VideoFormat::y444_10le, 4, 1));
    EXPECT_EQ(ten_bits.get(0, 0, 0), 514U); // 513.75
    EXPECT_EQ(ten_bits.get(0, 1, 0), 514U);
    EXPECT_EQ(ten_bits.get(0, 2, 0), 1023U);
}

TEST(VideoConvertTest, FullRangeDepthChangesScaleToTheWholeRange) {
    // Full range is 0 to 2^depth - 1 at every depth, not a shift: the
    // generic path; white stays white and neutral chroma stays neutral.
    PlainFrame in(info_of("video/x-raw, format=I422_12LE, width=4, height=2, colorimetry=1:4:0:0"));
    in.fill([](std::size_t c, std::uint32_t x, std::uint32_t) { return c == 0 ? (x < 2 ? 0U : 4095U) : 2048U; });
    VideoConvertPath path{};
    const PlainFrame out =
        convert(in, info_of("video/x-raw, format=I420, width=4, height=2, colorimetry=1:4:0:0"), &path);
    EXPECT_EQ(path, VideoConvertPath::generic);
    EXPECT_EQ(out.get(0, 0, 0), 0U);
    EXPECT_EQ(out.get(0, 3, 1), 255U);
    EXPECT_EQ(out.get(1, 0, 0), 128U);
    EXPECT_EQ(out.get(2, 2, 1), 128U);
}

// A frame of videotestsrc's SMPTE pattern in `info`'s format.
PlainFrame smpte_frame(const VideoInfo& info) {
    PlainFrame f(info);
    detail::VtsPainter painter(info);
    painter.paint(f.bytes, detail::VtsFrameParams{});
    return f;
}

TEST(VideoConvertTest, SmpteBarsInEachHighDepthFormatBecomeTheRgbOfTheBars) {
    // 70x40: the seven top bars are 10 pixels wide; their centres are flat.
    const PlainFrame rgba_bars = smpte_frame(info_of(VideoFormat::rgba, 70, 40));
    for (VideoFormat f : high_depth_formats) {
        SCOPED_TRACE(std::string(to_string(f)));
        for (const char* colorimetry : {"bt601", "bt709", "bt2020"}) {
            SCOPED_TRACE(colorimetry);
            const VideoInfo info = info_of(
                fmt::format("video/x-raw, format={}, width=70, height=40, colorimetry={}", to_string(f), colorimetry));
            const PlainFrame bars = smpte_frame(info);
            const PlainFrame rgba = convert(bars, rgba_bars.info);
            const PlainFrame back = convert(rgba, info);
            const double level = std::ldexp(1.0, info.format_info().depth - 8);
            for (std::uint32_t bar = 0; bar < 7; ++bar) {
                const std::uint32_t x = 10 * bar + 5;
                for (std::size_t c = 0; c < 4; ++c) {
                    // videotestsrc's own RGBA bars: the same colours, rounded at 8 bits.
                    EXPECT_LE(std::abs(static_cast<int>(rgba.get(c, x, 5)) - static_cast<int>(rgba_bars.get(c, x, 5))),
                              1)
                        << "bar " << bar << " component " << c;
                }
                for (std::size_t c = 0; c < 3; ++c) {
                    // And back: within the one 8-bit level RGBA rounded to.
                    EXPECT_LE(std::abs(static_cast<double>(back.get(c, x, 5)) - bars.get(c, x, 5)), level)
                        << "bar " << bar << " component " << c << " back";
                }
            }
        }
    }
}

TEST(VideoConvertTest, HighDepthBarsMatchTheEightBitBarsConverted) {
    // The same picture from I420 and from each high-depth format, to RGBA:
    // the deeper samples differ from the 8-bit ones by their rounding only.
    const VideoInfo i420_info = info_of("video/x-raw, format=I420, width=70, height=40, colorimetry=bt709");
    const PlainFrame from_i420 = convert(smpte_frame(i420_info), info_of(VideoFormat::bgra, 70, 40));
    for (VideoFormat f : high_depth_formats) {
        const VideoInfo info =
            info_of(fmt::format("video/x-raw, format={}, width=70, height=40, colorimetry=bt709", to_string(f)));
        const PlainFrame from_deep = convert(smpte_frame(info), from_i420.info);
        for (std::uint32_t bar = 0; bar < 7; ++bar) {
            for (std::size_t c = 0; c < 4; ++c) {
                EXPECT_LE(std::abs(static_cast<int>(from_deep.get(c, 10 * bar + 5, 5)) -
                                   static_cast<int>(from_i420.get(c, 10 * bar + 5, 5))),
                          1)
                    << to_string(f) << " bar " << bar << " component " << c;
            }
        }
    }
}

TEST(VideoConvertTest, OddSizedHighDepthFramesKeepTheirLastColumnAndRow) {
    // 7x5: the last chroma column (and row, in 4:2:0) covers one pixel, and
    // odd-height I422_10LE and I422_12LE frames carry a spare row. The
    // corner sample comes back unchanged through 4:2:0 and 4:4:4 (it covers
    // one pixel, and the samples are whole 8-bit levels), and within the
    // rounding of 8-bit RGB through RGBA.
    for (VideoFormat f : high_depth_formats) {
        PlainFrame in(info_of(f, 7, 5));
        const std::uint32_t step = 1U << (in.info.format_info().depth - 8);
        in.fill([&](std::size_t c, std::uint32_t x, std::uint32_t y) {
            return (c == 0 ? 60 + 15 * x + 5 * y : (c == 1 ? 120 + x + y : 130 - x - y)) * step;
        });
        for (VideoFormat to : {VideoFormat::i420, VideoFormat::y444, VideoFormat::rgba}) {
            const PlainFrame out = convert(in, info_of(to, 7, 5));
            const PlainFrame back = convert(out, in.info);
            for (std::size_t c = 0; c < 3; ++c) {
                const std::uint32_t cw = in.info.component_width(c);
                const std::uint32_t ch = in.info.component_height(c);
                const double got = back.sample(c, cw - 1, ch - 1) / static_cast<double>(step);
                const double want = in.sample(c, cw - 1, ch - 1) / static_cast<double>(step);
                EXPECT_LE(std::abs(got - want), to == VideoFormat::rgba ? 1.5 : 0.0)
                    << to_string(f) << " through " << to_string(to) << " component " << c;
            }
        }
    }
}

TEST(VideoConvertTest, HighDepthFramesOfAnotherSizeOrTooShortAreRefused) {
    auto c = VideoConverter::make(info_of(VideoFormat::i422_12le, 8, 6), info_of(VideoFormat::i420, 8, 4));
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find("use videoscale"), std::string::npos) << c.error().message();
    // 320x240 I422_12LE is 307200 bytes.
    check::expect_short_buffer_error(
        "appsrc name=src caps=\"video/x-raw, format=I422_12LE, width=320, height=240\" ! videoconvert name=conv ! "
        "appsink name=sink caps=\"video/x-raw, format=I420\"",
        "conv", 153600, "buffer of 153600 bytes is too small for a I422_12LE 320x240 frame");
}

TEST(VideoConvertTest, DecoderFormatsNegotiateAndConvertInAPipeline) {
    // What dav1ddec gives, into sinks that want 8-bit or 10-bit 4:2:0 or RGB.
    for (const char* format : {"I422_10LE", "Y444_10LE", "I420_12LE", "I422_12LE", "Y444_12LE"}) {
        SCOPED_TRACE(format);
        const std::string in_caps =
            fmt::format("video/x-raw, format={}, width=70, height=40, colorimetry=bt709", format);
        auto a = check::start_app_pipeline(fmt::format("appsrc name=src caps=\"{}\" ! videoconvert name=conv ! "
                                                       "appsink name=sink sync=false caps=\"video/x-raw, format=RGBA\"",
                                                       in_caps));
        ASSERT_NE(a.src, nullptr);
        const PlainFrame bars = smpte_frame(info_of(in_caps));
        ASSERT_TRUE(a.src->push_buffer(check::app_buffer(*a.src, bars.bytes)));
        auto s = a.sink->try_pull_sample(hang_guard);
        ASSERT_TRUE(s) << s.error().to_string();
        ASSERT_EQ(s->buffer.size(), 70U * 40 * 4);
        const auto* px = reinterpret_cast<const std::uint8_t*>(s->buffer.data().data());
        // The yellow bar (x 15) and the blue one (x 65), as videotestsrc
        // draws them: full intensity.
        EXPECT_GE(px[4 * 15 + 0], 254);
        EXPECT_GE(px[4 * 15 + 1], 254);
        EXPECT_LE(px[4 * 15 + 2], 1);
        EXPECT_LE(px[4 * 65 + 0], 1);
        EXPECT_LE(px[4 * 65 + 1], 1);
        EXPECT_GE(px[4 * 65 + 2], 254);
        EXPECT_TRUE(a.pipeline->set_state(State::idle));
    }
    // Between depths: 12-bit 4:2:0 into a sink of 8- and 10-bit 4:2:0 takes 10 bits.
    auto b = check::start_app_pipeline(
        "appsrc name=src caps=\"video/x-raw, format=I420_12LE, width=16, height=8\" ! videoconvert name=conv ! "
        "appsink name=sink sync=false caps=\"video/x-raw, format={ I420, I420_10LE }\"");
    ASSERT_NE(b.pipeline, nullptr);
    const Caps out = b.pipeline->find("conv")->pad("src")->negotiated_caps();
    EXPECT_EQ(out.structure(0).get_string("format"), "I420_10LE") << out.to_string();
    EXPECT_TRUE(b.pipeline->set_state(State::idle));
    // And inserted by negotiation where nobody wrote it.
    auto c = check::start_app_pipeline("appsrc name=src caps=\"video/x-raw, format=Y444_12LE, width=16, height=8\" ! "
                                       "appsink name=sink sync=false caps=\"video/x-raw, format=I420\"");
    ASSERT_NE(c.pipeline, nullptr);
    ASSERT_EQ(c.pipeline->negotiation().inserted.size(), 1U);
    EXPECT_EQ(c.pipeline->negotiation().inserted[0].factory, "videoconvert");
    EXPECT_TRUE(c.pipeline->set_state(State::idle));
}

TEST(VideoConvertTest, Dav1dDecPicturesOfEveryHighDepthFormatConvertInAPipeline) {
    // ffmpeg encodes SMPTE bars in each format with libaom; filesrc !
    // ivfparse ! dav1ddec ! videoconvert gives RGBA that is exactly
    // ffmpeg's own dav1d decode converted here, and the bars' colours.
    if (!check::run_program({"ffmpeg", "-hide_banner", "-version"})) {
        GTEST_SKIP() << "ffmpeg is not installed";
    }
    struct Case {
        const char* pix_fmt;
        const char* format;
    };
    for (const Case& k :
         {Case{"yuv422p10le", "I422_10LE"}, Case{"yuv444p10le", "Y444_10LE"}, Case{"yuv420p12le", "I420_12LE"},
          Case{"yuv422p12le", "I422_12LE"}, Case{"yuv444p12le", "Y444_12LE"}}) {
        SCOPED_TRACE(k.format);
        check::ScratchDir dir("videoconvert-dav1d", k.pix_fmt);
        const std::string stream = (dir.path() / "bars.ivf").string();
        const std::string raw = (dir.path() / "bars.yuv").string();
        ASSERT_TRUE(check::run_program({"ffmpeg",    "-v",         "error",     "-y",
                                        "-f",        "lavfi",      "-i",        "smptebars=size=140x80:rate=25",
                                        "-frames:v", "2",          "-pix_fmt",  k.pix_fmt,
                                        "-c:v",      "libaom-av1", "-cpu-used", "8",
                                        "-crf",      "4",          "-f",        "ivf",
                                        stream}));
        ASSERT_TRUE(check::run_program({"ffmpeg", "-v", "error", "-y", "-c:v", "libdav1d", "-i", stream, "-f",
                                        "rawvideo", "-pix_fmt", k.pix_fmt, raw}));
        const auto reference = check::read_file<std::byte>(raw);

        auto p = Pipeline::parse(fmt::format("filesrc location={} ! ivfparse ! dav1ddec ! videoconvert name=conv ! "
                                             "video/x-raw, format=RGBA ! appsink name=sink sync=false",
                                             stream));
        ASSERT_TRUE(p) << p.error().to_string();
        AppSink* sink = *(*p)->get<AppSink>("sink");
        ASSERT_TRUE((*p)->set_state(State::running));
        for (std::size_t i = 0; i < 2; ++i) {
            auto s = sink->try_pull_sample(hang_guard);
            ASSERT_TRUE(s) << s.error().to_string();
            const Caps in_caps = (*p)->find("conv")->pad("sink")->current_caps();
            auto in_info = VideoInfo::from_caps(in_caps);
            ASSERT_TRUE(in_info) << in_caps.to_string();
            ASSERT_EQ(to_string(in_info->format()), std::string_view(k.format));
            ASSERT_EQ(reference.size(), 2 * in_info->size());
            PlainFrame decoded(*in_info);
            std::copy_n(reference.begin() + static_cast<std::ptrdiff_t>(i * in_info->size()), in_info->size(),
                        decoded.bytes.begin());
            const PlainFrame want = convert(decoded, info_of(VideoFormat::rgba, 140, 80));
            ASSERT_EQ(s->buffer.size(), want.bytes.size());
            EXPECT_TRUE(std::equal(want.bytes.begin(), want.bytes.end(),
                                   reinterpret_cast<const std::byte*>(s->buffer.data().data())))
                << "frame " << i;
            // ffmpeg's bars are 75%: R'G'B' 191 or 0 (within what the encoding changed).
            for (std::uint32_t bar = 0; bar < 7; ++bar) {
                for (std::size_t c = 0; c < 3; ++c) {
                    const int got = static_cast<int>(want.get(c, 20 * bar + 10, 10));
                    EXPECT_LE(std::abs(got - bars_rgb[bar][c]), 4) << "bar " << bar << " component " << c;
                }
            }
        }
        EXPECT_TRUE((*p)->set_state(State::idle));
    }
}

// --- the element ---------------------------------------------------------------

TEST(VideoConvertTest, IsRegisteredAsAConverter) {
    const ElementFactory* f = Registry::global().find("videoconvert");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().klass, "Filter/Converter/Video");
    EXPECT_EQ(f->info().convert_cost, 10U);
}

TEST(VideoConvertTest, ConvertsInAPipelineAndKeepsTheMetadata) {
    auto a = check::start_app_pipeline(
        "appsrc name=src caps=\"video/x-raw, format=I420, width=28, height=2, colorimetry=bt601\" ! "
        "videoconvert name=conv ! appsink name=sink sync=false caps=\"video/x-raw, format=RGBA\"");
    ASSERT_NE(a.src, nullptr);
    const PlainFrame in =
        bars_i420(info_of("video/x-raw, format=I420, width=28, height=2, colorimetry=bt601"), bars_601);
    Buffer b = check::app_buffer(*a.src, in.bytes);
    b.meta().set_pts(ClockTime::from_ns(40'000'000));
    b.meta().set_dts(ClockTime::from_ns(20'000'000));
    b.meta().set_duration(ClockTime::from_ns(33'333'333));
    b.meta().set_flag(BufferFlags::discont);
    ASSERT_TRUE(a.src->push_buffer(std::move(b)));
    auto s = a.sink->try_pull_sample(hang_guard);
    ASSERT_TRUE(s) << s.error().to_string();
    EXPECT_EQ(s->caps.structure(0).get_string("format"), "RGBA");
    EXPECT_EQ(s->buffer.size(), 28U * 2 * 4);
    EXPECT_EQ(s->buffer.meta().pts().ns(), 40'000'000U);
    EXPECT_EQ(s->buffer.meta().dts().ns(), 20'000'000U);
    EXPECT_EQ(s->buffer.meta().duration().ns(), 33'333'333U);
    EXPECT_TRUE(s->buffer.meta().has_flag(BufferFlags::discont));
    const auto* px = reinterpret_cast<const std::uint8_t*>(s->buffer.data().data());
    EXPECT_EQ(px[4 * 5 + 0], 192); // yellow: R, G, B (see Bt601BarsBecomeTheRgbTheEquationsGive)
    EXPECT_NEAR(px[4 * 5 + 1], 191, 1);
    EXPECT_LE(px[4 * 5 + 2], 2);
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(VideoConvertTest, EqualCapsPassTheSameSlotThrough) {
    check::expect_same_slot_through("videoconvert", Caps::parse_static("video/x-raw, format=NV12, width=4, height=2"),
                                    12);
}

TEST(VideoConvertTest, WithNothingDownstreamToPleaseItPassesTheInputThrough) {
    // ABGR and RGBA lose nothing either way; converting would still cost a
    // pass over every pixel.
    auto p = Pipeline::parse("videotestsrc num-buffers=1 ! video/x-raw,format=ABGR ! videoconvert name=c ! fakesink");
    ASSERT_TRUE(p) << p.error().to_string();
    ASSERT_TRUE((*p)->set_state(State::idle));
    Element* c = (*p)->find("c");
    ASSERT_NE(c, nullptr);
    const Caps in = c->pad("sink")->negotiated_caps();
    const Caps out = c->pad("src")->negotiated_caps();
    EXPECT_TRUE(is_equal(in, out)) << in.to_string() << " -> " << out.to_string();
}

TEST(VideoConvertTest, AShortBufferIsAnErrorNamingTheElement) {
    check::expect_short_buffer_error("appsrc name=src caps=\"video/x-raw, format=I420, width=320, height=240\" ! "
                                     "videoconvert name=conv ! appsink name=sink caps=\"video/x-raw, format=RGBA\"",
                                     "conv", 1000, "buffer of 1000 bytes is too small for a I420 320x240 frame");
}

TEST(VideoConvertTest, NegotiationInsertsItWhereFormatsDiffer) {
    auto a = check::start_app_pipeline(
        "appsrc name=src caps=\"video/x-raw, format=I420, width=28, height=2, colorimetry=bt709\" ! "
        "appsink name=sink sync=false caps=\"video/x-raw, format=RGBA\"");
    ASSERT_NE(a.src, nullptr);
    ASSERT_EQ(a.pipeline->negotiation().inserted.size(), 1U);
    EXPECT_EQ(a.pipeline->negotiation().inserted[0].name, "auto-videoconvert0");
    EXPECT_EQ(a.pipeline->negotiation().inserted[0].factory, "videoconvert");
    const PlainFrame in =
        bars_i420(info_of("video/x-raw, format=I420, width=28, height=2, colorimetry=bt709"), bars_709);
    ASSERT_TRUE(a.src->push_buffer(check::app_buffer(*a.src, in.bytes)));
    auto s = a.sink->try_pull_sample(hang_guard);
    ASSERT_TRUE(s) << s.error().to_string();
    const auto* px = reinterpret_cast<const std::uint8_t*>(s->buffer.data().data());
    // The blue bar, through the BT.709 matrix its colorimetry names.
    EXPECT_NEAR(px[4 * 25 + 2], 191, 1);
    EXPECT_LE(px[4 * 25 + 0], 1);
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(VideoConvertTest, FixationPicksTheFormatThatLosesLeastAndCarriesTheColorimetry) {
    auto a = check::start_app_pipeline(
        "appsrc name=src caps=\"video/x-raw, format=I420, width=16, height=8, colorimetry=bt709, "
        "chroma-site=mpeg2\" ! videoconvert name=conv ! appsink name=sink sync=false "
        "caps=\"video/x-raw, format={ RGBA, NV12, GRAY8 }\"");
    ASSERT_NE(a.pipeline, nullptr);
    const Caps out = a.pipeline->find("conv")->pad("src")->negotiated_caps();
    ASSERT_TRUE(out.is_fixed()) << out.to_string();
    EXPECT_EQ(out.structure(0).get_string("format"), "NV12") << out.to_string();
    EXPECT_EQ(out.structure(0).get_string("colorimetry"), "bt709") << out.to_string();
    EXPECT_EQ(out.structure(0).get_string("chroma-site"), "mpeg2") << out.to_string();
    EXPECT_TRUE(a.pipeline->set_state(State::idle));

    // YUV to RGB: the output's own range and matrix, the input's transfer and primaries.
    auto b = check::start_app_pipeline(
        "appsrc name=src caps=\"video/x-raw, format=I420, width=16, height=8, colorimetry=bt709\" ! "
        "videoconvert name=conv ! appsink name=sink sync=false caps=\"video/x-raw, format={ RGBA, BGRA }\"");
    ASSERT_NE(b.pipeline, nullptr);
    const Caps rgb = b.pipeline->find("conv")->pad("src")->negotiated_caps();
    EXPECT_EQ(rgb.structure(0).get_string("format"), "RGBA") << rgb.to_string();
    EXPECT_EQ(rgb.structure(0).get_string("colorimetry"), "1:1:5:1") << rgb.to_string();
    EXPECT_TRUE(b.pipeline->set_state(State::idle));
}

} // namespace
} // namespace parallax::videoconvert_test
