// videoconvert and videoscale against GStreamer 1.22's own, byte by byte.
//
// gst-launch-1.0 renders one 320x240 SMPTE bars frame in I420; GStreamer
// (filesrc ! rawvideoparse ! videoconvert or videoscale ! filesink) and
// libparallax (filesrc blocksize=... ! capsfilter ! videoconvert or
// videoscale ! capsfilter ! filesink) convert that same file, and the
// outputs are compared component by component. Where the two differ by
// design, the test says so and checks each against the equations:
//
// - Lossless repacking (I420 to NV12, NV21, YV12, YUY2, UYVY with
//   GStreamer's chroma-mode=none, i.e. chroma repeated as libparallax
//   does): identical.
// - YUV to RGB: libparallax within 0.56 of the exact BT.601 equations
//   (computed here from the I420 file), GStreamer within 5 of them (its
//   8-bit fast path rounds down), so the two within 5 of each other.
// - RGB to YUV: within 2.
// - GStreamer's chroma interpolation (its default; for Y42B and Y444 even
//   with chroma-mode=none): within 5 (RGB) or 2 (YUV) away from the bars'
//   colour edges (3 pixels); next to them the outputs differ by design.
// - GRAY8: libparallax maps limited-range luma onto the full range GRAY8's
//   colorimetry (1:4:0:0) says; GStreamer copies luma unchanged.
// - I420_10LE: libparallax shifts (235 -> 940, the BT.2020 / BT.709 10-bit
//   white); GStreamer replicates bits (235 -> 943): within 3. The same for
//   I422_10LE, Y444_10LE, I420_12LE, I422_12LE and Y444_12LE (12 bits: 3760
//   against 3774, within 15).
// - Those five formats (GStreamer's own SMPTE bars in each) to RGBA:
//   libparallax within 0.5 of the BT.601 equations computed from the
//   samples, GStreamer within 2 (1.14 measured), the two within 1. To I420:
//   libparallax rounds luma to nearest, GStreamer truncates: within 1;
//   chroma within 1 away from colour edges (GStreamer's chroma-mode=none
//   takes one of the samples a 4:2:0 sample covers, libparallax their mean).
// - Scaling: nearest-neighbour identical for a half and a double; bilinear
//   within 1 for a half, within 2 (4 for RGBA by 1.6) away from edges
//   otherwise: libparallax's bilinear takes 2 taps each way, GStreamer's
//   widens its kernel when downscaling.
//
// Skipped when gst-launch-1.0 is not installed.

#include <parallax/pipeline/pipeline.hpp>

#include "integration/gst_compare_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int width = 320;
constexpr int height = 240;
constexpr std::size_t i420_size = 115200;

using Bytes = std::vector<std::uint8_t>;

class VideoGstCompareTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        scratch_.emplace("video-convert-gst", "suite");
        have_gst_ = check::run_program({"gst-launch-1.0", "--version"}) &&
                    check::gst_launch(fmt::format("videotestsrc num-buffers=1 pattern=smpte ! "
                                                  "video/x-raw,format=I420,width={},height={} ! filesink location={}",
                                                  width, height, input().string()));
    }
    static void TearDownTestSuite() { scratch_.reset(); }
    void SetUp() override {
        if (!have_gst_) {
            GTEST_SKIP() << "gst-launch-1.0 is not installed (or cannot render videotestsrc)";
        }
        ASSERT_EQ(read(input()).size(), i420_size);
    }

    static const fs::path& dir() { return scratch_->path(); }
    static fs::path input() { return dir() / "smpte.i420"; }

    static Bytes read(const fs::path& p) { return check::read_file<std::uint8_t>(p); }

    // GStreamer's output of `element` for the raw file `src` (a
    // rawvideoparse format nick and size) into `out_caps`.
    static Bytes with_gstreamer(const fs::path& src, const std::string& parse, const std::string& element,
                                const std::string& out_caps, const std::string& name) {
        const fs::path out = dir() / ("gst-" + name);
        EXPECT_TRUE(
            check::gst_launch(fmt::format("filesrc location={} ! rawvideoparse {} ! {} ! {} ! filesink location={}",
                                          src.string(), parse, element, out_caps, out.string())));
        return read(out);
    }
    static Bytes with_gstreamer(const std::string& element, const std::string& out_caps, const std::string& name) {
        return with_gstreamer(input(), fmt::format("format=i420 width={} height={}", width, height), element, out_caps,
                              name);
    }

    // libparallax's, from the same file.
    static Bytes with_parallax(const fs::path& src, std::size_t frame, const std::string& in_caps,
                               const std::string& element, const std::string& out_caps, const std::string& name) {
        const fs::path out = dir() / ("plx-" + name);
        const std::string text = fmt::format("filesrc location={} blocksize={} ! {} ! {} ! {} ! filesink location={}",
                                             src.string(), frame, in_caps, element, out_caps, out.string());
        auto p = Pipeline::parse(text);
        EXPECT_TRUE(p) << (p ? "" : format_pipeline_error(text, p.error()));
        if (!p) {
            return {};
        }
        auto ok = (*p)->run(30s);
        EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
        return read(out);
    }
    static Bytes with_parallax(const std::string& element, const std::string& out_caps, const std::string& name) {
        return with_parallax(input(), i420_size,
                             fmt::format("video/x-raw,format=I420,width={},height={}", width, height), element,
                             out_caps, name);
    }

    static inline std::optional<check::ScratchDir> scratch_;
    static inline bool have_gst_ = false;
};

// --- comparing ---------------------------------------------------------------

// A plane of samples: `channels` interleaved per site, `bytes` each.
struct Plane {
    std::size_t offset = 0;
    int w = 0;
    int h = 0;
    int channels = 1;
    int bytes = 1;
};

int sample(const Bytes& b, const Plane& p, int x, int y, int c) {
    const std::size_t at = p.offset + static_cast<std::size_t>(((y * p.w + x) * p.channels + c) * p.bytes);
    return p.bytes == 2 ? b[at] | (b[at + 1] << 8) : b[at];
}

struct Stats {
    int max = 0;           // everywhere
    int max_flat = 0;      // away from edges of the reference
    std::size_t over2 = 0; // components differing by more than 2
    std::size_t edge = 0;  // components next to an edge
    std::size_t total = 0;

    [[nodiscard]] std::string text() const {
        return fmt::format("max difference {} ({} away from edges); {} of {} components differ by more than 2; {} "
                           "lie next to an edge",
                           max, max_flat, over2, total, edge);
    }
};

// Compares planes of `a` (the reference) and `b`; a component is next to an
// edge when a sample of the same channel within `radius` sites differs from
// it by more than 8 in `a`.
Stats compare(const Bytes& a, const Bytes& b, const std::vector<Plane>& planes, int radius = 3) {
    Stats s;
    for (const Plane& p : planes) {
        for (int y = 0; y < p.h; ++y) {
            for (int x = 0; x < p.w; ++x) {
                for (int c = 0; c < p.channels; ++c) {
                    const int va = sample(a, p, x, y, c);
                    const int diff = std::abs(va - sample(b, p, x, y, c));
                    bool edge = false;
                    for (int dy = -radius; dy <= radius && !edge; ++dy) {
                        for (int dx = -radius; dx <= radius && !edge; ++dx) {
                            const int xx = std::clamp(x + dx, 0, p.w - 1);
                            const int yy = std::clamp(y + dy, 0, p.h - 1);
                            edge = std::abs(sample(a, p, xx, yy, c) - va) > 8 * (p.bytes == 2 ? 4 : 1);
                        }
                    }
                    ++s.total;
                    s.max = std::max(s.max, diff);
                    s.over2 += diff > 2 ? 1 : 0;
                    s.edge += edge ? 1 : 0;
                    if (!edge) {
                        s.max_flat = std::max(s.max_flat, diff);
                    }
                }
            }
        }
    }
    return s;
}

std::vector<Plane> packed(int w, int h, int channels) {
    return {Plane{0, w, h, channels, 1}};
}

// Planar YUV: Y, then U and V subsampled by 2^xs across and 2^ys down.
std::vector<Plane> yuv_planar(int w, int h, int xs, int ys, int bytes = 1) {
    const int cw = (w + (1 << xs) - 1) >> xs;
    const int ch = (h + (1 << ys) - 1) >> ys;
    const auto y = static_cast<std::size_t>(w * h * bytes);
    const auto c = static_cast<std::size_t>(cw * ch * bytes);
    return {Plane{0, w, h, 1, bytes}, Plane{y, cw, ch, 1, bytes}, Plane{y + c, cw, ch, 1, bytes}};
}

std::vector<Plane> i420(int w, int h, int bytes = 1) {
    return yuv_planar(w, h, 1, 1, bytes);
}

void report(const std::string& what, const Stats& s) {
    std::printf("[ compare  ] %-44s %s\n", what.c_str(), s.text().c_str());
}

// --- the tests ---------------------------------------------------------------

TEST_F(VideoGstCompareTest, RepackingIsByteForByteGStreamers) {
    struct Case {
        const char* format;
        std::size_t size;
    };
    // (Y42B and Y444 are not here: GStreamer interpolates their chroma
    // horizontally even with chroma-mode=none; see the edge test.)
    for (const Case& k : {Case{"NV12", 115200}, Case{"NV21", 115200}, Case{"YV12", 115200}, Case{"YUY2", 153600},
                          Case{"UYVY", 153600}}) {
        SCOPED_TRACE(k.format);
        const std::string caps = fmt::format("video/x-raw,format={}", k.format);
        const Bytes g = with_gstreamer("videoconvert chroma-mode=none dither=none", caps, k.format);
        const Bytes p = with_parallax("videoconvert", caps, k.format);
        ASSERT_EQ(g.size(), k.size);
        ASSERT_EQ(p.size(), k.size);
        const Stats s = compare(g, p, packed(static_cast<int>(k.size), 1, 1), 0);
        EXPECT_EQ(s.max, 0) << s.text();
        report(fmt::format("I420 -> {} (chroma-mode=none)", k.format), s);
    }
}

// The BT.601 limited-range equations: R'G'B' codes (unrounded, clamped) of
// 8-bit Y'CbCr codes (fractional for deeper samples).
std::array<double, 3> bt601_rgb(double yy, double u, double v) {
    const double kr = 0.299;
    const double kb = 0.114;
    const double yn = (yy - 16.0) / 219.0;
    const double r = yn + 2.0 * (1.0 - kr) * (v - 128.0) / 224.0;
    const double b = yn + 2.0 * (1.0 - kb) * (u - 128.0) / 224.0;
    const double g = (yn - kr * r - kb * b) / (1.0 - kr - kb);
    return {std::clamp(r * 255.0, 0.0, 255.0), std::clamp(g * 255.0, 0.0, 255.0), std::clamp(b * 255.0, 0.0, 255.0)};
}

// The BT.601 limited-range equations, from the I420 file: R'G'B' codes
// (unrounded) of pixel (x, y), chroma repeated.
std::array<double, 3> exact_rgb(const Bytes& i420_bytes, int x, int y) {
    const double yy = i420_bytes[static_cast<std::size_t>(y * width + x)];
    const std::size_t c = static_cast<std::size_t>((y / 2) * (width / 2) + x / 2);
    const double u = i420_bytes[static_cast<std::size_t>(width * height) + c];
    const double v = i420_bytes[static_cast<std::size_t>(width * height + width * height / 4) + c];
    return bt601_rgb(yy, u, v);
}

TEST_F(VideoGstCompareTest, YuvToRgbIsWithinFiveOfGStreamerAndCloserToTheEquations) {
    struct Case {
        const char* format;
        int bytes;
        std::array<int, 3> rgb; // byte offsets of R, G, B
    };
    const Bytes src = read(input());
    for (const Case& k : {Case{"RGBA", 4, {0, 1, 2}}, Case{"BGRx", 4, {2, 1, 0}}, Case{"ARGB", 4, {1, 2, 3}},
                          Case{"RGB", 3, {0, 1, 2}}, Case{"BGR", 3, {2, 1, 0}}}) {
        SCOPED_TRACE(k.format);
        const std::string caps = fmt::format("video/x-raw,format={}", k.format);
        const Bytes g = with_gstreamer("videoconvert chroma-mode=none dither=none", caps, k.format);
        const Bytes p = with_parallax("videoconvert", caps, k.format);
        ASSERT_EQ(g.size(), static_cast<std::size_t>(width * height * k.bytes));
        ASSERT_EQ(p.size(), g.size());
        double plx_error = 0.0;
        double gst_error = 0.0;
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                const auto exact = exact_rgb(src, x, y);
                for (std::size_t c = 0; c < 3; ++c) {
                    const std::size_t at = static_cast<std::size_t>((y * width + x) * k.bytes + k.rgb[c]);
                    plx_error = std::max(plx_error, std::abs(p[at] - exact[c]));
                    gst_error = std::max(gst_error, std::abs(g[at] - exact[c]));
                }
            }
        }
        const Stats s = compare(g, p, packed(width, height, k.bytes));
        EXPECT_LE(plx_error, 0.56);
        EXPECT_LE(gst_error, 5.5);
        EXPECT_LE(s.max, 5) << s.text();
        report(fmt::format("I420 -> {} (chroma-mode=none)", k.format), s);
        std::printf("[ compare  ] %-44s libparallax within %.2f of the BT.601 equations, GStreamer within %.2f\n",
                    (std::string("I420 -> ") + k.format).c_str(), plx_error, gst_error);
    }
}

TEST_F(VideoGstCompareTest, RgbToYuvIsWithinTwoOfGStreamer) {
    // Both sides convert the same RGBA (GStreamer's) to YUV.
    const Bytes rgba =
        with_gstreamer("videoconvert chroma-mode=none dither=none", "video/x-raw,format=RGBA", "rgba-src");
    ASSERT_EQ(rgba.size(), 307200U);
    const fs::path src = dir() / "gst-rgba-src";
    const std::string parse = fmt::format("format=rgba width={} height={}", width, height);
    const std::string in_caps = fmt::format("video/x-raw,format=RGBA,width={},height={}", width, height);
    struct Case {
        const char* format;
        std::vector<Plane> planes;
    };
    for (const Case& k : {Case{"I420", i420(width, height)}, Case{"NV12", packed(width * height * 3 / 2, 1, 1)},
                          Case{"Y444", packed(width * height * 3, 1, 1)}}) {
        SCOPED_TRACE(k.format);
        const std::string caps = fmt::format("video/x-raw,format={}", k.format);
        const Bytes g = with_gstreamer(src, parse, "videoconvert dither=none", caps, std::string("back-") + k.format);
        const Bytes p = with_parallax(src, 307200, in_caps, "videoconvert", caps, std::string("back-") + k.format);
        ASSERT_EQ(g.size(), p.size());
        const Stats s = compare(g, p, k.planes);
        EXPECT_LE(s.max, 2) << s.text();
        report(fmt::format("RGBA -> {}", k.format), s);
    }
}

TEST_F(VideoGstCompareTest, GStreamersChromaInterpolationDiffersOnlyAtColourEdges) {
    struct Case {
        const char* format;
        std::vector<Plane> planes;
        int flat;
    };
    for (const Case& k :
         {Case{"Y444",
               {Plane{0, width, height, 1, 1}, Plane{76800, width, height, 1, 1}, Plane{153600, width, height, 1, 1}},
               2},
          Case{"Y42B",
               {Plane{0, width, height, 1, 1}, Plane{76800, width / 2, height, 1, 1},
                Plane{115200, width / 2, height, 1, 1}},
               2},
          Case{"RGBA", packed(width, height, 4), 5}}) {
        SCOPED_TRACE(k.format);
        const std::string caps = fmt::format("video/x-raw,format={}", k.format);
        const Bytes g = with_gstreamer("videoconvert dither=none", caps, std::string(k.format) + "-default");
        const Bytes p = with_parallax("videoconvert", caps, std::string(k.format) + "-default");
        ASSERT_EQ(g.size(), p.size());
        const Stats s = compare(g, p, k.planes);
        EXPECT_LE(s.max_flat, k.flat) << s.text();
        report(fmt::format("I420 -> {} (GStreamer's defaults)", k.format), s);
    }
}

TEST_F(VideoGstCompareTest, GrayIsFullRangeWhereGStreamerCopiesLuma) {
    const Bytes src = read(input());
    const Bytes g = with_gstreamer("videoconvert", "video/x-raw,format=GRAY8", "gray");
    const Bytes p = with_parallax("videoconvert", "video/x-raw,format=GRAY8", "gray");
    ASSERT_EQ(g.size(), 76800U);
    ASSERT_EQ(p.size(), 76800U);
    int gst_copy = 0;
    int plx_off = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
        gst_copy = std::max(gst_copy, std::abs(g[i] - src[i]));
        const double full = std::clamp((src[i] - 16.0) * 255.0 / 219.0, 0.0, 255.0);
        plx_off = std::max(plx_off, static_cast<int>(std::lround(std::abs(p[i] - full) * 100)));
    }
    EXPECT_EQ(gst_copy, 0);
    EXPECT_LE(plx_off, 50); // within half a level of the full-range value
    std::printf("[ compare  ] I420 -> GRAY8: GStreamer copies Y (max difference %d), libparallax within %.2f of "
                "(Y - 16) * 255 / 219\n",
                gst_copy, plx_off / 100.0);
}

TEST_F(VideoGstCompareTest, TenBitIsShiftedWhereGStreamerReplicatesBits) {
    const Bytes src = read(input());
    const Bytes g = with_gstreamer("videoconvert dither=none", "video/x-raw,format=I420_10LE", "i010");
    const Bytes p = with_parallax("videoconvert", "video/x-raw,format=I420_10LE", "i010");
    ASSERT_EQ(g.size(), 230400U);
    ASSERT_EQ(p.size(), 230400U);
    const Stats s = compare(g, p, i420(width, height, 2), 0);
    EXPECT_LE(s.max, 3) << s.text();
    for (std::size_t i = 0; i < i420_size; ++i) {
        const int ours = p[2 * i] | (p[2 * i + 1] << 8);
        const int theirs = g[2 * i] | (g[2 * i + 1] << 8);
        ASSERT_EQ(ours, src[i] << 2) << i;
        ASSERT_EQ(theirs, (src[i] << 2) | (src[i] >> 6)) << i;
    }
    report("I420 -> I420_10LE (10-bit units)", s);
}

// The high-depth formats dav1ddec gives, as rawvideoparse names them.
struct HighDepth {
    const char* format;
    const char* nick;
    int xs;
    int ys;
    int depth;
    std::size_t size; // of a 320x240 frame
};
constexpr std::array<HighDepth, 5> high_depth{{{"I422_10LE", "i422-10le", 1, 0, 10, 307200},
                                               {"Y444_10LE", "y444-10le", 0, 0, 10, 460800},
                                               {"I420_12LE", "i420-12le", 1, 1, 12, 230400},
                                               {"I422_12LE", "i422-12le", 1, 0, 12, 307200},
                                               {"Y444_12LE", "y444-12le", 0, 0, 12, 460800}}};

// The BT.601 limited-range equations for pixel (x, y) of a high-depth
// frame (chroma repeated): R'G'B' codes, unrounded.
std::array<double, 3> exact_rgb_deep(const Bytes& frame, const HighDepth& k, int x, int y) {
    const auto planes = yuv_planar(width, height, k.xs, k.ys, 2);
    const double step = std::ldexp(1.0, k.depth - 8);
    const double yy = sample(frame, planes[0], x, y, 0) / step;
    const double u = sample(frame, planes[1], x >> k.xs, y >> k.ys, 0) / step;
    const double v = sample(frame, planes[2], x >> k.xs, y >> k.ys, 0) / step;
    return bt601_rgb(yy, u, v);
}

class VideoGstHighDepthTest : public VideoGstCompareTest {
protected:
    struct Outputs {
        Bytes frame; // GStreamer's SMPTE bars in the high-depth format
        Bytes gst;
        Bytes plx;
    };

    // GStreamer's SMPTE bars in `k`'s format (its videotestsrc draws them at
    // that depth), and both libraries' conversion of them into `out_format`
    // (GStreamer with chroma-mode=none dither=none).
    static Outputs convert(const HighDepth& k, const std::string& out_format) {
        const fs::path src = dir() / fmt::format("smpte-{}.raw", k.nick);
        if (!fs::exists(src)) {
            EXPECT_TRUE(check::gst_launch(fmt::format("videotestsrc num-buffers=1 pattern=smpte ! "
                                                      "video/x-raw,format={},width={},height={} ! filesink location={}",
                                                      k.format, width, height, src.string())));
        }
        Outputs o;
        o.frame = read(src);
        EXPECT_EQ(o.frame.size(), k.size);
        const std::string parse = fmt::format("format={} width={} height={}", k.nick, width, height);
        const std::string in_caps = fmt::format("video/x-raw,format={},width={},height={}", k.format, width, height);
        const std::string out_caps = "video/x-raw,format=" + out_format;
        const std::string name = std::string(k.nick) + "-" + out_format;
        o.gst = with_gstreamer(src, parse, "videoconvert chroma-mode=none dither=none", out_caps, name);
        o.plx = with_parallax(src, k.size, in_caps, "videoconvert", out_caps, name);
        return o;
    }
};

TEST_F(VideoGstHighDepthTest, HighDepthToRgbaIsWithinRoundingOfTheEquationsAndNearGStreamer) {
    for (const HighDepth& k : high_depth) {
        SCOPED_TRACE(k.format);
        const auto [frame, g, p] = convert(k, "RGBA");
        ASSERT_EQ(frame.size(), k.size);
        ASSERT_EQ(g.size(), static_cast<std::size_t>(width * height * 4));
        ASSERT_EQ(p.size(), g.size());
        double plx_error = 0.0;
        double gst_error = 0.0;
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                const auto exact = exact_rgb_deep(frame, k, x, y);
                for (std::size_t c = 0; c < 3; ++c) {
                    const std::size_t at = static_cast<std::size_t>((y * width + x) * 4) + c;
                    plx_error = std::max(plx_error, std::abs(p[at] - exact[c]));
                    gst_error = std::max(gst_error, std::abs(g[at] - exact[c]));
                }
            }
        }
        const Stats s = compare(g, p, packed(width, height, 4));
        EXPECT_LE(plx_error, 0.56);
        EXPECT_LE(gst_error, 2.0);
        EXPECT_LE(s.max, 1) << s.text();
        report(fmt::format("{} -> RGBA (chroma-mode=none)", k.format), s);
        std::printf("[ compare  ] %-44s libparallax within %.2f of the BT.601 equations, GStreamer within %.2f\n",
                    (std::string(k.format) + " -> RGBA").c_str(), plx_error, gst_error);
    }
}

TEST_F(VideoGstHighDepthTest, HighDepthToI420RoundsWhereGStreamerTruncates) {
    // Luma: libparallax rounds each sample to nearest (v / 2^(depth - 8));
    // GStreamer drops the low bits, so within 1. Chroma: GStreamer with
    // chroma-mode=none takes one of the samples a 4:2:0 sample covers,
    // libparallax their mean: the same away from colour edges.
    for (const HighDepth& k : high_depth) {
        SCOPED_TRACE(k.format);
        const auto [frame, g, p] = convert(k, "I420");
        ASSERT_EQ(frame.size(), k.size);
        ASSERT_EQ(g.size(), i420_size);
        ASSERT_EQ(p.size(), i420_size);
        const auto deep = yuv_planar(width, height, k.xs, k.ys, 2);
        const int half = 1 << (k.depth - 9);
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                const int v = sample(frame, deep[0], x, y, 0);
                ASSERT_EQ(p[static_cast<std::size_t>(y * width + x)], std::min((v + half) >> (k.depth - 8), 255))
                    << x << "," << y;
            }
        }
        const Stats luma = compare(g, p, {i420(width, height)[0]}, 0);
        EXPECT_LE(luma.max, 1) << luma.text();
        const auto planes = i420(width, height);
        const Stats chroma = compare(g, p, {planes[1], planes[2]});
        EXPECT_LE(chroma.max_flat, 1) << chroma.text();
        report(fmt::format("{} -> I420 luma", k.format), luma);
        report(fmt::format("{} -> I420 chroma (chroma-mode=none)", k.format), chroma);
    }
}

TEST_F(VideoGstCompareTest, EightBitToHighDepthIsShiftedWhereGStreamerReplicatesBits) {
    // As for I420_10LE: 235 becomes 940 or 3760 here, 943 or 3774 in
    // GStreamer (bits repeated), so within 2^(depth - 8) - 1.
    const Bytes src = read(input());
    for (const HighDepth& k : high_depth) {
        SCOPED_TRACE(k.format);
        const std::string caps = fmt::format("video/x-raw,format={}", k.format);
        const std::string name = std::string("i420-") + k.nick;
        const Bytes g = with_gstreamer("videoconvert chroma-mode=none dither=none", caps, name);
        const Bytes p = with_parallax("videoconvert", caps, name);
        ASSERT_EQ(g.size(), k.size);
        ASSERT_EQ(p.size(), k.size);
        const int s = k.depth - 8;
        const auto planes = yuv_planar(width, height, k.xs, k.ys, 2);
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                const int v = src[static_cast<std::size_t>(y * width + x)];
                ASSERT_EQ(sample(p, planes[0], x, y, 0), v << s) << x << "," << y;
            }
        }
        const Stats luma = compare(g, p, {planes[0]}, 0);
        EXPECT_LE(luma.max, (1 << s) - 1) << luma.text();
        // Same subsampling: chroma shifted the same way. Otherwise GStreamer
        // interpolates the upsampled chroma (even with chroma-mode=none).
        const Stats chroma = compare(g, p, {planes[1], planes[2]});
        EXPECT_LE(k.xs == 1 && k.ys == 1 ? chroma.max : chroma.max_flat, (1 << s) - 1) << chroma.text();
        report(fmt::format("I420 -> {} luma ({}-bit units)", k.format, k.depth), luma);
        report(fmt::format("I420 -> {} chroma ({}-bit units)", k.format, k.depth), chroma);
    }
}

TEST_F(VideoGstCompareTest, ScalingIsWithinTwoOfGStreamerAwayFromEdges) {
    struct Case {
        const char* method;
        const char* format;
        int w;
        int h;
        int max;      // everywhere (-1: not bounded)
        int max_flat; // away from edges
    };
    const fs::path rgba_src = dir() / "gst-rgba-scale-src";
    const Bytes rgba =
        with_gstreamer("videoconvert chroma-mode=none dither=none", "video/x-raw,format=RGBA", "rgba-scale-src");
    ASSERT_EQ(rgba.size(), 307200U);
    for (const Case& k : {Case{"nearest-neighbour", "I420", 160, 120, 0, 0}, Case{"bilinear", "I420", 160, 120, 1, 1},
                          Case{"bilinear", "I420", 480, 360, -1, 2}, Case{"bilinear", "I420", 200, 150, -1, 2},
                          // GStreamer's bilinear widens its kernel when downscaling by
                          // a non-integer factor: gentle slopes differ a little too.
                          Case{"bilinear", "RGBA", 200, 150, -1, 4}, Case{"nearest-neighbour", "RGBA", 640, 480, 0, 0},
                          Case{"bilinear", "RGBA", 480, 360, -1, 2}}) {
        const std::string name = fmt::format("{}-{}-{}x{}", k.method, k.format, k.w, k.h);
        SCOPED_TRACE(name);
        const std::string caps = fmt::format("video/x-raw,width={},height={}", k.w, k.h);
        const std::string element = std::string("videoscale method=") + k.method;
        const bool is_rgba = std::string_view(k.format) == "RGBA";
        const Bytes g = is_rgba ? with_gstreamer(rgba_src, fmt::format("format=rgba width={} height={}", width, height),
                                                 element, caps, name)
                                : with_gstreamer(element, caps, name);
        const Bytes p = is_rgba
                            ? with_parallax(rgba_src, 307200,
                                            fmt::format("video/x-raw,format=RGBA,width={},height={}", width, height),
                                            element, caps, name)
                            : with_parallax(element, caps, name);
        ASSERT_FALSE(g.empty());
        ASSERT_EQ(g.size(), p.size());
        const Stats s = compare(g, p, is_rgba ? packed(k.w, k.h, 4) : i420(k.w, k.h));
        if (k.max >= 0) {
            EXPECT_LE(s.max, k.max) << s.text();
        }
        EXPECT_LE(s.max_flat, k.max_flat) << s.text();
        report(name, s);
    }
}

} // namespace
} // namespace parallax
