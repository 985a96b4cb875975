// videotestsrc against GStreamer's: for every pattern both define without
// randomness, the same pipeline
//
//     videotestsrc pattern=X num-buffers=1 ! video/x-raw,format=F,width=W,height=H ! filesink
//
// runs in libparallax (in this process) and in gst-launch-1.0 (GStreamer 1.22
// with gstreamer1.0-plugins-base), and the two files are compared byte by
// byte. Skipped, saying why, when gst-launch-1.0 or its videotestsrc is
// missing.
//
// Tolerance: none. Every byte must be equal, except
// - the snow in the bottom right corner of `smpte` (x >= w/2 + w/4,
//   y >= 3h/4, and the chroma samples whose filter reaches into it): both
//   draw random gray there, from different generators;
// - odd-width YUY2 and UYVY: GStreamer leaves the V of the last pair (and
//   the luma past the picture) at 0; libparallax writes that pixel's V;
// - GRAY8 with its default caps: GRAY8's colorimetry is full range
//   (1:4:0:0), and libparallax draws full range there while GStreamer draws
//   limited-range luma whatever the caps say. Those frames are compared
//   after mapping GStreamer's 16..235 onto 0..255, within 1 (the mapping
//   rounds GStreamer's already rounded value a second time). With
//   colorimetry=2:4:0:0 in the caps both draw limited range, and that case
//   is compared exactly.

#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "integration/gst_compare_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace parallax::videotestsrc_gst_test {
namespace {

namespace fs = std::filesystem;

using check::read_file;
using check::ScratchDir;

struct Case {
    std::string pattern;
    std::string format;
    std::uint32_t width = 320;
    std::uint32_t height = 240;
    std::string extra; // more caps fields, e.g. ",colorimetry=bt709"
};

// For gtest's messages.
void PrintTo(const Case& c, std::ostream* os) {
    *os << c.pattern << " " << c.format << " " << c.width << "x" << c.height << c.extra;
}

std::string caps_text(const Case& c) {
    return fmt::format("video/x-raw,format={},width={},height={}{}", c.format, c.width, c.height, c.extra);
}

std::string case_name(const Case& c) {
    std::string name = fmt::format("{}_{}_{}x{}{}", c.pattern, c.format, c.width, c.height, c.extra);
    for (char& ch : name) {
        if (std::isalnum(static_cast<unsigned char>(ch)) == 0) {
            ch = '_';
        }
    }
    return name;
}

// Our frame, through the same pipeline text.
std::vector<std::byte> ours(const Case& c, const ScratchDir& dir) {
    const fs::path out = dir.path() / "parallax.raw";
    const std::string text = fmt::format("videotestsrc pattern={} num-buffers=1 ! {} ! filesink location={}", c.pattern,
                                         caps_text(c), out.string());
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << (p ? "" : format_pipeline_error(text, p.error()));
    if (!p) {
        return {};
    }
    auto ok = (*p)->run(std::chrono::seconds(30));
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    return read_file(out);
}

std::vector<std::byte> theirs(const Case& c, const ScratchDir& dir) {
    const fs::path out = dir.path() / "gstreamer.raw";
    const std::vector<std::string> argv = {
        "gst-launch-1.0", "-q", "videotestsrc", fmt::format("pattern={}", c.pattern),    "num-buffers=1", "!",
        caps_text(c),     "!",  "filesink",     fmt::format("location={}", out.string())};
    // GStreamer's first run after a plugin change rebuilds its registry, and
    // programs running at the same moment can fail: try again before giving up.
    bool ok = false;
    for (int attempt = 0; attempt < 3 && !ok; ++attempt) {
        ok = check::run_program(argv);
    }
    EXPECT_TRUE(ok) << "gst-launch-1.0 failed for " << caps_text(c);
    return read_file(out);
}

// True when GStreamer's packing of odd-width YUY2 and UYVY applies: it
// leaves the V of the last pair (a pixel of the picture) at 0.
bool odd_packed_422(const VideoInfo& info) {
    return (info.format() == VideoFormat::yuy2 || info.format() == VideoFormat::uyvy) && info.width() % 2 == 1;
}

// True when sample `x` of row `y` of component `comp` may differ: for smpte,
// samples whose pixels (with the chroma filter's neighbours) reach the snow
// (from w/2 + w/4 and 3h/4 on); the V of the last pair of odd-width YUY2
// and UYVY.
bool excluded(const Case& c, const VideoInfo& info, std::size_t comp, std::uint32_t x, std::uint32_t y) {
    if (odd_packed_422(info) && comp == video_comp::v && x + 1 == info.component_width(comp)) {
        return true;
    }
    if (c.pattern != "smpte") {
        return false;
    }
    const VideoComponentInfo& ci = info.format_info().components[comp];
    const std::uint64_t right =
        (std::uint64_t{x} << ci.x_sub) + (ci.x_sub != 0 ? 2 : 0); // last pixel a filter tap reaches
    const std::uint64_t bottom = ((std::uint64_t{y} + 1) << ci.y_sub) - 1;
    const std::uint64_t w = info.width();
    return right >= w / 2 + w / 4 && bottom >= std::uint64_t{info.height()} * 3 / 4;
}

class VideoTestSrcGstTest : public ::testing::TestWithParam<Case> {};

TEST_P(VideoTestSrcGstTest, OutputMatchesGStreamer) {
    if (!check::gstreamer_has("videotestsrc")) {
        GTEST_SKIP() << "gst-launch-1.0 with videotestsrc (gstreamer1.0-plugins-base) is not installed";
    }
    const Case& c = GetParam();
    const ScratchDir dir("videotestsrc-gst", case_name(c));
    const std::vector<std::byte> a = ours(c, dir);
    const std::vector<std::byte> b = theirs(c, dir);
    auto caps = Caps::parse(caps_text(c));
    ASSERT_TRUE(caps);
    auto info = VideoInfo::from_caps(*caps);
    ASSERT_TRUE(info) << info.error().to_string();
    ASSERT_EQ(a.size(), info->size());
    ASSERT_EQ(b.size(), info->size());

    // GRAY8 at its default (full-range) colorimetry: GStreamer's limited
    // luma mapped to full range, within 1.
    const bool gray_mapped = c.format == "GRAY8" && c.extra.empty();
    const int tolerance = gray_mapped ? 1 : 0;

    auto fa = VideoFrame::map_bytes(*info, std::span<const std::byte>(a));
    auto fb = VideoFrame::map_bytes(*info, std::span<const std::byte>(b));
    ASSERT_TRUE(fa && fb);
    std::size_t compared = 0;
    std::size_t differing = 0;
    std::string first;
    for (std::size_t comp = 0; comp < info->n_components(); ++comp) {
        const std::size_t step = fa->component_pixel_stride(comp);
        for (std::uint32_t y = 0; y < fa->component_height(comp); ++y) {
            auto ra = fa->component_row(comp, y);
            auto rb = fb->component_row(comp, y);
            for (std::uint32_t x = 0; x < fa->component_width(comp); ++x) {
                if (excluded(c, *info, comp, x, y)) {
                    continue;
                }
                const int va = std::to_integer<int>(ra[x * step]);
                int vb = std::to_integer<int>(rb[x * step]);
                if (gray_mapped) {
                    vb = std::clamp(static_cast<int>(std::lround((vb - 16) * 255.0 / 219.0)), 0, 255);
                }
                ++compared;
                if (std::abs(va - vb) > tolerance) {
                    if (differing++ == 0) {
                        first = fmt::format("component {} at ({}, {}): ours {}, GStreamer's {}", comp, x, y, va, vb);
                    }
                }
            }
        }
    }
    EXPECT_EQ(differing, 0U) << differing << " of " << compared << " samples differ; first: " << first;
    // Unused bytes inside each row too (RGBx's x byte). The stride padding
    // after a row is left out: GStreamer's frames come from the heap and it
    // never writes those bytes, so they hold whatever was there before.
    if (!gray_mapped && c.pattern != "smpte" && !odd_packed_422(*info)) {
        std::string where;
        for (std::size_t plane = 0; plane < info->n_planes() && where.empty(); ++plane) {
            for (std::size_t row = 0; row < info->plane_rows(plane) && where.empty(); ++row) {
                const std::size_t at = info->offset(plane) + row * info->stride(plane);
                for (std::size_t i = 0; i < info->row_size(plane); ++i) {
                    if (a[at + i] != b[at + i]) {
                        where = fmt::format("plane {} row {} byte {}: ours {}, GStreamer's {}", plane, row, i,
                                            std::to_integer<int>(a[at + i]), std::to_integer<int>(b[at + i]));
                        break;
                    }
                }
            }
        }
        EXPECT_TRUE(where.empty()) << "the samples agree but other bytes of the frame differ; first: " << where;
    }
}

std::vector<Case> cases() {
    std::vector<Case> out;
    const char* patterns[] = {"smpte",      "smpte75",    "smpte100", "black",      "white",
                              "red",        "green",      "blue",     "checkers-1", "checkers-2",
                              "checkers-4", "checkers-8", "bar",      "gradient",   "zone-plate"};
    const char* formats[] = {"I420", "NV12", "RGBA", "BGRx", "YUY2", "GRAY8"};
    for (const char* p : patterns) {
        for (const char* f : formats) {
            out.push_back({p, f, 320, 240, ""});
        }
    }
    // Odd sizes (bar edges, chroma of the last column and row), BT.709, the
    // co-sited chroma of HD, and GRAY8 told to be limited range.
    for (const char* p : {"smpte", "smpte75", "checkers-1", "gradient", "bar"}) {
        for (const char* f : {"I420", "NV12", "YUY2", "RGB"}) {
            out.push_back({p, f, 321, 239, ""});
        }
        out.push_back({p, "I420", 320, 240, ",colorimetry=bt709"});
        out.push_back({p, "I420", 1280, 720, ""});
        out.push_back({p, "NV12", 1281, 719, ""});
        out.push_back({p, "GRAY8", 320, 240, ",colorimetry=(string)2:4:0:0"});
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Patterns, VideoTestSrcGstTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& param) { return case_name(param.param); });

} // namespace
} // namespace parallax::videotestsrc_gst_test
