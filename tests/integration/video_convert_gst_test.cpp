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
//   white); GStreamer replicates bits (235 -> 943): within 3.
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

std::vector<Plane> i420(int w, int h, int bytes = 1) {
    const int cw = (w + 1) / 2;
    const int ch = (h + 1) / 2;
    const auto y = static_cast<std::size_t>(w * h * bytes);
    const auto c = static_cast<std::size_t>(cw * ch * bytes);
    return {Plane{0, w, h, 1, bytes}, Plane{y, cw, ch, 1, bytes}, Plane{y + c, cw, ch, 1, bytes}};
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

// The BT.601 limited-range equations, from the I420 file: R'G'B' codes
// (unrounded) of pixel (x, y), chroma repeated.
std::array<double, 3> exact_rgb(const Bytes& i420_bytes, int x, int y) {
    const double yy = i420_bytes[static_cast<std::size_t>(y * width + x)];
    const std::size_t c = static_cast<std::size_t>((y / 2) * (width / 2) + x / 2);
    const double u = i420_bytes[static_cast<std::size_t>(width * height) + c];
    const double v = i420_bytes[static_cast<std::size_t>(width * height + width * height / 4) + c];
    const double kr = 0.299;
    const double kb = 0.114;
    const double yn = (yy - 16.0) / 219.0;
    const double r = yn + 2.0 * (1.0 - kr) * (v - 128.0) / 224.0;
    const double b = yn + 2.0 * (1.0 - kb) * (u - 128.0) / 224.0;
    const double g = (yn - kr * r - kb * b) / (1.0 - kr - kb);
    return {std::clamp(r * 255.0, 0.0, 255.0), std::clamp(g * 255.0, 0.0, 255.0), std::clamp(b * 255.0, 0.0, 255.0)};
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
