// jpegdec: JPEGs written by ffmpeg decode to their own layout (4:2:0, 4:2:2,
// 4:4:4, gray) and to ffmpeg's own decoding within one level; a file cut in
// pieces, with two images in it, gives two frames; a new size sends new
// caps; truncated, garbage and broken input give a warning or an error
// naming the element, never a crash. The ffmpeg tests are skipped, saying
// why, without ffmpeg.

#include <parallax/check/harness.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "integration/gst_compare_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <jpeglib.h>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace parallax::jpegdec_test {
namespace {

namespace fs = std::filesystem;
using check::read_file;
using check::run_program;
using check::ScratchDir;
using Bytes = std::vector<std::uint8_t>;

bool have_ffmpeg() {
    static const bool found = run_program({"ffmpeg", "-hide_banner", "-version"});
    return found;
}

// One picture of ffmpeg's testsrc2 as a JPEG of `pix_fmt`.
bool ffmpeg_jpeg(const fs::path& out, std::string_view size, std::string_view pix_fmt) {
    return run_program({"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", fmt::format("testsrc2=size={}", size),
                        "-frames:v", "1", "-pix_fmt", std::string(pix_fmt), "-q:v", "3", out.string()});
}

// A JPEG made by jpegenc from a flat I420 frame of `w` x `h`.
Bytes our_jpeg(std::uint32_t w, std::uint32_t h, std::uint8_t luma) {
    auto hr = check::Harness::create("jpegenc");
    EXPECT_TRUE(hr);
    auto& harness = **hr;
    const VideoInfo info = VideoInfo::make(VideoFormat::i420, w, h).value();
    EXPECT_TRUE(harness.set_input_caps(info.to_caps()));
    EXPECT_TRUE(harness.start());
    auto b = harness.make_buffer(info.size(), luma);
    EXPECT_TRUE(b);
    EXPECT_EQ(harness.push(std::move(*b)), Flow::ok);
    auto out = harness.pull();
    EXPECT_TRUE(out);
    const auto* p = reinterpret_cast<const std::uint8_t*>(out->data().data());
    return {p, p + out->size()};
}

// A JPEG written straight with libjpeg, for the kinds no tool here writes:
// `w` x `h` pixels of `in_components` samples each from fill(x, y, c), in
// `in_space`, stored as `jpeg_space`; `setup` adjusts the rest.
Bytes libjpeg_image(std::uint32_t w, std::uint32_t h, J_COLOR_SPACE in_space, int in_components,
                    J_COLOR_SPACE jpeg_space,
                    const std::function<std::uint8_t(std::uint32_t, std::uint32_t, int)>& fill,
                    const std::function<void(jpeg_compress_struct&)>& setup = {}) {
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr err{};
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_compress(&cinfo);
    unsigned char* out = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &out, &size);
    cinfo.image_width = w;
    cinfo.image_height = h;
    cinfo.in_color_space = in_space;
    cinfo.input_components = in_components;
    jpeg_set_defaults(&cinfo);
    jpeg_set_colorspace(&cinfo, jpeg_space);
    jpeg_set_quality(&cinfo, 95, TRUE);
    if (setup) {
        setup(cinfo);
    }
    jpeg_start_compress(&cinfo, TRUE);
    std::vector<std::uint8_t> row(static_cast<std::size_t>(w) * static_cast<std::size_t>(in_components));
    while (cinfo.next_scanline < h) {
        for (std::uint32_t x = 0; x < w; ++x) {
            for (int c = 0; c < in_components; ++c) {
                row[x * static_cast<std::uint32_t>(in_components) + static_cast<std::uint32_t>(c)] =
                    fill(x, cinfo.next_scanline, c);
            }
        }
        JSAMPROW r = row.data();
        jpeg_write_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    Bytes bytes(out, out + size);
    std::free(out);
    return bytes;
}

struct Decoded {
    std::vector<VideoInfo> infos; // every caps event, in order
    std::vector<Bytes> frames;
    std::vector<ClockTime> pts;
    std::optional<Error> error;
    std::vector<std::string> warnings;
};

// `bytes` through `jpegdec <props>` in pieces of `chunk` bytes (0: one
// buffer), then EOS.
Decoded decode(const Bytes& bytes, std::size_t chunk = 0, const std::string& props = "") {
    Decoded d;
    auto h = check::Harness::create("jpegdec " + props);
    EXPECT_TRUE(h) << (h ? "" : h.error().message());
    if (!h) {
        return d;
    }
    auto& harness = **h;
    EXPECT_TRUE(harness.set_input_caps(Caps::parse_static("image/jpeg")));
    EXPECT_TRUE(harness.start());
    const std::size_t step = chunk == 0 ? std::max<std::size_t>(bytes.size(), 1) : chunk;
    bool failed = false;
    for (std::size_t at = 0; at < bytes.size() && !failed; at += step) {
        const std::size_t n = std::min(step, bytes.size() - at);
        auto b = harness.make_buffer(std::as_bytes(std::span(bytes).subspan(at, n)));
        EXPECT_TRUE(b);
        failed = harness.push(std::move(*b)) != Flow::ok;
    }
    if (!failed) {
        EXPECT_TRUE(harness.push_event(Event::eos()));
        EXPECT_TRUE(harness.wait_eos());
    }
    while (harness.buffers_out() > 0) {
        auto out = harness.pull();
        if (!out) {
            break;
        }
        const auto* p = reinterpret_cast<const std::uint8_t*>(out->data().data());
        d.frames.emplace_back(p, p + out->size());
        d.pts.push_back(out->meta().pts());
    }
    for (const Event& e : harness.take_events()) {
        if (const Caps* c = e.caps_value()) {
            auto vi = VideoInfo::from_caps(*c);
            EXPECT_TRUE(vi) << c->to_string();
            if (vi) {
                d.infos.push_back(*vi);
            }
        }
    }
    for (const Message& m : harness.messages()) {
        if (m.type == MessageType::warning) {
            d.warnings.push_back(m.error ? m.error->message() : m.to_string());
        }
    }
    d.error = harness.error();
    return d;
}

struct FormatCase {
    const char* pix_fmt; // ffmpeg's
    const char* format;  // jpegdec's output
};

class JpegDecFormatTest : public ::testing::TestWithParam<FormatCase> {};

// ffmpeg's MJPEG decoder has its own IDCT, not libjpeg's: both are accurate
// to the standard's tolerance but round differently, so samples agree
// within one level (with idct-method=islow), not byte for byte.
TEST_P(JpegDecFormatTest, DecodesToItsLayoutAsFfmpegDoes) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed";
    }
    const FormatCase fc = GetParam();
    ScratchDir dir("jpegdec", fc.pix_fmt);
    const fs::path file = dir.path() / "f.jpg";
    if (std::string_view(fc.pix_fmt) == "gray") {
        // ffmpeg's MJPEG encoder writes no grayscale JPEG; GStreamer's does.
        if (!run_program({"gst-launch-1.0", "--version"})) {
            GTEST_SKIP() << "gst-launch-1.0 is not installed (ffmpeg cannot write grayscale JPEGs)";
        }
        ASSERT_TRUE(run_program({"gst-launch-1.0", "-q", "videotestsrc", "num-buffers=1", "pattern=smpte", "!",
                                 "video/x-raw,format=GRAY8,width=70,height=42", "!", "jpegenc", "!", "filesink",
                                 "location=" + file.string()}));
    } else {
        ASSERT_TRUE(ffmpeg_jpeg(file, "70x42", fc.pix_fmt)) << "ffmpeg could not write " << fc.pix_fmt;
    }
    const Bytes image = read_file<std::uint8_t>(file);

    const Decoded d = decode(image, 0, "idct-method=islow");
    ASSERT_FALSE(d.error) << d.error->message();
    ASSERT_EQ(d.infos.size(), 1U);
    ASSERT_EQ(d.frames.size(), 1U);
    const VideoInfo& info = d.infos[0];
    EXPECT_EQ(info.format_info().name, fc.format);
    EXPECT_EQ(info.width(), 70U);
    EXPECT_EQ(info.height(), 42U);
    EXPECT_EQ(info.colorimetry().range, VideoColorRange::full);
    EXPECT_EQ(info.colorimetry().matrix, VideoColorMatrix::bt601);

    const fs::path raw = dir.path() / "f.raw";
    ASSERT_TRUE(run_program(
        {"ffmpeg", "-v", "error", "-y", "-i", file.string(), "-f", "rawvideo", "-pix_fmt", fc.pix_fmt, raw.string()}));
    const Bytes reference = read_file<std::uint8_t>(raw);
    const auto frame = VideoFrame::map_bytes(info, std::as_bytes(std::span(d.frames[0]))).value();
    std::size_t at = 0;
    int worst = 0;
    for (std::size_t c = 0; c < info.n_components(); ++c) {
        for (std::uint32_t y = 0; y < info.component_height(c); ++y) {
            const auto row = frame.component_row(c, y);
            for (std::uint32_t x = 0; x < info.component_width(c); ++x, ++at) {
                ASSERT_LT(at, reference.size());
                worst = std::max(worst, std::abs(std::to_integer<int>(row[x]) - static_cast<int>(reference[at])));
            }
        }
    }
    EXPECT_EQ(at, reference.size());
    EXPECT_LE(worst, 1);
}

INSTANTIATE_TEST_SUITE_P(JpegDec, JpegDecFormatTest,
                         ::testing::Values(FormatCase{"yuvj420p", "I420"}, FormatCase{"yuvj422p", "Y42B"},
                                           FormatCase{"yuvj444p", "Y444"}, FormatCase{"gray", "GRAY8"}),
                         [](const auto& p) { return std::string(p.param.pix_fmt); });

TEST(JpegDecTest, IsRegisteredWithGStreamersProperties) {
    auto h = check::Harness::create("jpegdec");
    ASSERT_TRUE(h);
    EXPECT_EQ((*h)->element().get_property("idct-method").value(), "ifast");
    auto bad = check::Harness::create("jpegdec idct-method=fastest");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("idct-method"), std::string::npos) << bad.error().message();
}

// A file read in pieces (as filesrc gives it), two images back to back:
// two frames, whichever way the pieces fall.
TEST(JpegDecTest, ChunkedInputWithTwoImagesGivesTwoFrames) {
    Bytes file = our_jpeg(48, 32, 40);
    const Bytes second = our_jpeg(48, 32, 200);
    file.insert(file.end(), second.begin(), second.end());
    for (const std::size_t chunk :
         {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{100}, std::size_t{4096}}) {
        const Decoded d = decode(file, chunk);
        ASSERT_FALSE(d.error) << d.error->message();
        ASSERT_EQ(d.frames.size(), 2U) << "chunks of " << chunk;
        EXPECT_TRUE(d.warnings.empty()) << d.warnings.front();
        ASSERT_EQ(d.infos.size(), 1U);
        // jpegenc took the frames as limited range (the default for I420)
        // and expanded them: 40 -> 28, 200 -> 214.
        EXPECT_NEAR(d.frames[0][0], 28, 2);
        EXPECT_NEAR(d.frames[1][0], 214, 2);
    }
}

// Bytes before, between and after the images are skipped with a warning.
TEST(JpegDecTest, GarbageAroundImagesIsSkippedWithAWarning) {
    const Bytes image = our_jpeg(16, 16, 90);
    Bytes stream = {0x00, 0x12, 0xFF, 0x34};
    stream.insert(stream.end(), image.begin(), image.end());
    stream.insert(stream.end(), {0xAB, 0xCD, 0xFF});
    stream.insert(stream.end(), image.begin(), image.end());
    const Decoded d = decode(stream, 5);
    ASSERT_FALSE(d.error) << d.error->message();
    EXPECT_EQ(d.frames.size(), 2U);
    EXPECT_FALSE(d.warnings.empty());
}

TEST(JpegDecTest, ANewSizeSendsNewCaps) {
    Bytes stream = our_jpeg(32, 32, 50);
    const Bytes other = our_jpeg(17, 9, 50);
    stream.insert(stream.end(), other.begin(), other.end());
    const Decoded d = decode(stream);
    ASSERT_FALSE(d.error) << d.error->message();
    ASSERT_EQ(d.infos.size(), 2U);
    EXPECT_EQ(d.infos[0].width(), 32U);
    EXPECT_EQ(d.infos[1].width(), 17U);
    EXPECT_EQ(d.infos[1].height(), 9U);
    EXPECT_EQ(d.frames.size(), 2U);
}

// An image cut off in its entropy-coded data decodes as far as it goes,
// with libjpeg's warning; one cut off in its headers is an error naming
// the image and what is missing.
TEST(JpegDecTest, TruncatedImageGivesAWarningOrAnError) {
    const Bytes image = our_jpeg(64, 64, 120);
    const Bytes cut(image.begin(), image.end() - 6);
    const Decoded d = decode(cut, 50);
    ASSERT_FALSE(d.error) << d.error->message();
    EXPECT_EQ(d.frames.size(), 1U);
    ASSERT_FALSE(d.warnings.empty());
    EXPECT_NE(d.warnings[0].find("jpegdec"), std::string::npos) << d.warnings[0];
    EXPECT_NE(d.warnings[0].find("image 0"), std::string::npos) << d.warnings[0];

    const Bytes headers_only(image.begin(), image.begin() + 100);
    const Decoded h = decode(headers_only, 30);
    ASSERT_TRUE(h.error);
    EXPECT_NE(h.error->message().find("jpegdec"), std::string::npos) << h.error->message();
    EXPECT_NE(h.error->message().find("image 0"), std::string::npos) << h.error->message();
    EXPECT_TRUE(h.frames.empty());
}

TEST(JpegDecTest, GarbageAloneGivesAWarningAndNoFrame) {
    Bytes garbage(3000);
    for (std::size_t i = 0; i < garbage.size(); ++i) {
        garbage[i] = static_cast<std::uint8_t>((i * 2654435761U) >> 13);
    }
    const Decoded d = decode(garbage, 512);
    EXPECT_FALSE(d.error);
    EXPECT_TRUE(d.frames.empty());
    EXPECT_FALSE(d.warnings.empty());
}

// A frame header that says 0 rows: libjpeg refuses the image; the error
// names the element, the image and libjpeg's reason.
TEST(JpegDecTest, BrokenHeaderIsAnErrorNamingTheImage) {
    Bytes image = our_jpeg(16, 16, 90);
    bool patched = false;
    for (std::size_t i = 2; i + 8 < image.size(); ++i) {
        if (image[i] == 0xFF && image[i + 1] == 0xC0) {
            image[i + 5] = 0; // height, high byte
            image[i + 6] = 0; // height, low byte
            patched = true;
            break;
        }
    }
    ASSERT_TRUE(patched);
    const Decoded d = decode(image);
    ASSERT_TRUE(d.error);
    EXPECT_NE(d.error->message().find("jpegdec"), std::string::npos) << d.error->message();
    EXPECT_NE(d.error->message().find("image 0"), std::string::npos) << d.error->message();
    EXPECT_TRUE(d.frames.empty());
}

// The image after a broken one decodes: nothing of the broken one stays.
TEST(JpegDecTest, AnImageAfterABrokenOneDecodes) {
    Bytes broken = our_jpeg(16, 16, 90);
    for (std::size_t i = 2; i + 8 < broken.size(); ++i) {
        if (broken[i] == 0xFF && broken[i + 1] == 0xC0) {
            broken[i + 5] = 0;
            broken[i + 6] = 0;
            break;
        }
    }
    const Bytes good = our_jpeg(24, 8, 90);
    auto h = check::Harness::create("jpegdec");
    ASSERT_TRUE(h);
    auto& harness = **h;
    ASSERT_TRUE(harness.set_input_caps(Caps::parse_static("image/jpeg")));
    ASSERT_TRUE(harness.start());
    // The broken image ends in the middle of a buffer, with the start of
    // the good one after it.
    Bytes first = broken;
    first.insert(first.end(), good.begin(), good.begin() + 40);
    auto b = harness.make_buffer(std::as_bytes(std::span(first)));
    ASSERT_TRUE(b);
    EXPECT_EQ(harness.push(std::move(*b)), Flow::error);
    auto g = harness.make_buffer(std::as_bytes(std::span(good)));
    ASSERT_TRUE(g);
    EXPECT_EQ(harness.push(std::move(*g)), Flow::ok);
    auto out = harness.pull();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->size(), VideoInfo::make(VideoFormat::i420, 24, 8).value().size());
}

// An unknown SOF marker (here SOF3, lossless, which this libjpeg does not
// decode) in place of baseline SOF0.
TEST(JpegDecTest, UnsupportedMarkerIsAnErrorOrAWarning) {
    Bytes image = our_jpeg(16, 16, 90);
    for (std::size_t i = 2; i + 1 < image.size(); ++i) {
        if (image[i] == 0xFF && image[i + 1] == 0xC0) {
            image[i + 1] = 0xC3;
            break;
        }
    }
    const Decoded d = decode(image);
    EXPECT_TRUE(d.error || !d.warnings.empty());
}

struct KindCase {
    const char* name;
    J_COLOR_SPACE in_space;
    int in_components;
    J_COLOR_SPACE jpeg_space;
    int luma_h; // sampling factors of the first component (others 1x1)
    int luma_v;
    bool progressive;
    const char* format; // jpegdec's output
};

// gtest would print the bytes of the struct, padding included.
void PrintTo(const KindCase& k, std::ostream* os) {
    *os << k.name;
}

class JpegDecKindTest : public ::testing::TestWithParam<KindCase> {};

// A flat orange (255, 128, 0) in every kind of JPEG comes out orange: in
// RGB for RGB, CMYK and 4:4:0 images, in YCbCr for the rest.
TEST_P(JpegDecKindTest, DecodesAFlatColour) {
    const KindCase k = GetParam();
    const std::uint8_t rgb[3] = {255, 128, 0};
    // Adobe CMYK is stored inverted: 255 - ink. Orange: no cyan, half
    // magenta, full yellow, no black.
    const std::uint8_t cmyk[4] = {255, 127, 0, 255};
    const Bytes image = libjpeg_image(
        37, 21, k.in_space, k.in_components, k.jpeg_space,
        [&](std::uint32_t, std::uint32_t, int c) { return k.in_components == 4 ? cmyk[c] : rgb[c]; },
        [&](jpeg_compress_struct& cinfo) {
            if (k.luma_h > 0) {
                cinfo.comp_info[0].h_samp_factor = k.luma_h;
                cinfo.comp_info[0].v_samp_factor = k.luma_v;
            }
            if (k.progressive) {
                jpeg_simple_progression(&cinfo);
            }
        });
    const Decoded d = decode(image, 9);
    ASSERT_FALSE(d.error) << d.error->message();
    ASSERT_EQ(d.frames.size(), 1U);
    ASSERT_EQ(d.infos.size(), 1U);
    const VideoInfo& info = d.infos[0];
    EXPECT_EQ(info.format_info().name, k.format);
    EXPECT_EQ(info.width(), 37U);
    EXPECT_EQ(info.height(), 21U);
    const auto frame = VideoFrame::map_bytes(info, std::as_bytes(std::span(d.frames[0]))).value();
    // JFIF's RGB to YCbCr of orange.
    const int ycc[3] = {151, 43, 201};
    for (std::uint32_t y : {0U, 10U, 20U}) {
        for (std::uint32_t x : {0U, 18U, 36U}) {
            for (std::size_t c = 0; c < 3; ++c) {
                const bool is_rgb = info.format_info().is_rgb();
                const std::uint32_t cx = is_rgb || c == 0 ? x : x * info.component_width(c) / info.width();
                const std::uint32_t cy = is_rgb || c == 0 ? y : y * info.component_height(c) / info.height();
                const auto row = frame.component_row(c, cy);
                const int got = std::to_integer<int>(row[cx * frame.component_pixel_stride(c)]);
                EXPECT_NEAR(got, is_rgb ? rgb[c] : ycc[c], 4)
                    << k.name << " component " << c << " at " << x << "," << y;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(JpegDec, JpegDecKindTest,
                         ::testing::Values(KindCase{"rgb", JCS_RGB, 3, JCS_RGB, 0, 0, false, "RGB"},
                                           KindCase{"cmyk", JCS_CMYK, 4, JCS_CMYK, 0, 0, false, "RGB"},
                                           KindCase{"ycck", JCS_CMYK, 4, JCS_YCCK, 0, 0, false, "RGB"},
                                           KindCase{"s440", JCS_RGB, 3, JCS_YCbCr, 1, 2, false, "RGB"},
                                           KindCase{"s411", JCS_RGB, 3, JCS_YCbCr, 4, 1, false, "RGB"},
                                           KindCase{"s420", JCS_RGB, 3, JCS_YCbCr, 2, 2, false, "I420"},
                                           KindCase{"progressive420", JCS_RGB, 3, JCS_YCbCr, 2, 2, true, "I420"},
                                           KindCase{"progressive422", JCS_RGB, 3, JCS_YCbCr, 2, 1, true, "Y42B"}),
                         [](const auto& p) { return std::string(p.param.name); });

// Restart markers inside the entropy-coded data (and 0xFF stuffing in a
// busy picture) do not end an image early, however the pieces fall.
TEST(JpegDecTest, RestartMarkersAndStuffingDoNotSplitAnImage) {
    const Bytes image = libjpeg_image(
        64, 48, JCS_RGB, 3, JCS_YCbCr,
        [](std::uint32_t x, std::uint32_t y, int c) {
            return static_cast<std::uint8_t>((x * 37 + y * 91 + static_cast<std::uint32_t>(c) * 53) * 2654435761U >>
                                             24);
        },
        [](jpeg_compress_struct& cinfo) { cinfo.restart_interval = 1; });
    Bytes two = image;
    two.insert(two.end(), image.begin(), image.end());
    const Decoded whole = decode(image);
    ASSERT_FALSE(whole.error) << whole.error->message();
    ASSERT_EQ(whole.frames.size(), 1U);
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
        const Decoded d = decode(two, chunk);
        ASSERT_FALSE(d.error) << d.error->message();
        ASSERT_EQ(d.frames.size(), 2U) << "chunks of " << chunk;
        EXPECT_TRUE(d.warnings.empty()) << d.warnings.front();
        EXPECT_TRUE(d.frames[0] == whole.frames[0]);
        EXPECT_TRUE(d.frames[1] == whole.frames[0]);
    }
}

TEST(JpegDecTest, TimestampsOfWholeImageBuffersAreKept) {
    auto h = check::Harness::create("jpegdec");
    ASSERT_TRUE(h);
    auto& harness = **h;
    ASSERT_TRUE(harness.set_input_caps(Caps::parse_static("image/jpeg, framerate=10/1")));
    ASSERT_TRUE(harness.start());
    const Bytes image = our_jpeg(16, 16, 90);
    for (int i = 0; i < 3; ++i) {
        auto b = harness.make_buffer(std::as_bytes(std::span(image)));
        ASSERT_TRUE(b);
        b->meta().set_pts(ClockTime::from_ms(static_cast<std::uint64_t>(100 * i)));
        ASSERT_EQ(harness.push(std::move(*b)), Flow::ok);
    }
    for (int i = 0; i < 3; ++i) {
        auto out = harness.pull();
        ASSERT_TRUE(out);
        EXPECT_EQ(out->meta().pts(), ClockTime::from_ms(static_cast<std::uint64_t>(100 * i)));
        EXPECT_EQ(out->meta().duration(), ClockTime::from_ms(100));
    }
}

} // namespace
} // namespace parallax::jpegdec_test
