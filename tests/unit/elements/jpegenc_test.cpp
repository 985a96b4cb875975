// jpegenc: GStreamer's properties and ranges; every input format round-trips
// through jpegdec at quality 85 with a PSNR of 35 dB or more, odd sizes
// included; limited-range input is expanded to JPEG's full range;
// timestamps are kept and snapshot ends the stream; ffprobe and ffmpeg read
// the images (skipped, saying why, without them).

#include <parallax/check/harness.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "integration/gst_compare_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace parallax::jpegenc_test {
namespace {

namespace fs = std::filesystem;
using check::read_file;
using check::run_program;
using check::ScratchDir;

bool have_ffmpeg() {
    static const bool found =
        run_program({"ffmpeg", "-hide_banner", "-version"}) && run_program({"ffprobe", "-hide_banner", "-version"});
    return found;
}

VideoInfo video_info(std::string_view format, std::uint32_t w, std::uint32_t h, std::string_view extra = "") {
    const std::string text =
        fmt::format("video/x-raw, format={}, width={}, height={}, framerate=25/1{}", format, w, h, extra);
    return VideoInfo::from_caps(Caps::parse(text).value()).value();
}

// A smooth picture with some edges, sample values of component c at (x, y).
unsigned picture_sample(std::size_t c, std::uint32_t x, std::uint32_t y) {
    const double v = 128.0 + 90.0 * std::sin(0.11 * x + 1.3 * static_cast<double>(c)) * std::cos(0.07 * y) +
                     ((x / 8 + y / 8) % 5 == 0 ? 20.0 : 0.0);
    return static_cast<unsigned>(std::clamp(std::lround(v), 0L, 255L));
}

// A frame of `info` holding picture_sample (or `fill` when given).
template <class F>
Buffer make_frame(check::Harness& h, const VideoInfo& info, F fill) {
    auto b = h.make_buffer(info.size(), 0);
    EXPECT_TRUE(b);
    auto f = WritableVideoFrame::map(info, *b);
    EXPECT_TRUE(f);
    for (std::size_t c = 0; c < info.n_components(); ++c) {
        for (std::uint32_t y = 0; y < info.component_height(c); ++y) {
            auto row = f->component_row(c, y);
            for (std::uint32_t x = 0; x < info.component_width(c); ++x) {
                row[x * f->component_pixel_stride(c)] = static_cast<std::byte>(fill(c, x, y));
            }
        }
    }
    return std::move(*b);
}

using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(const Buffer& b) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(b.data().data());
    return {p, p + b.size()};
}

struct Encoded {
    std::vector<Bytes> images;
    std::optional<Caps> caps;
    std::vector<ClockTime> pts;
    std::vector<ClockTime> durations;
    std::vector<bool> key;
    bool eos = false;
};

// `frames` frames of `info` through `jpegenc <props>`.
template <class F>
Encoded encode(const VideoInfo& info, F fill, int frames = 1, const std::string& props = "") {
    Encoded e;
    auto h = check::Harness::create("jpegenc " + props);
    EXPECT_TRUE(h) << (h ? "" : h.error().message());
    if (!h) {
        return e;
    }
    auto& harness = **h;
    EXPECT_TRUE(harness.set_input_caps(info.to_caps()));
    EXPECT_TRUE(harness.start());
    for (int i = 0; i < frames; ++i) {
        Buffer b = make_frame(harness, info, fill);
        b.meta().set_pts(ClockTime::from_ms(static_cast<std::uint64_t>(40 * i)));
        b.meta().set_duration(ClockTime::from_ms(40));
        if (!is_success(harness.push(std::move(b)))) {
            break;
        }
    }
    harness.push_event(Event::eos());
    e.eos = harness.wait_eos(std::chrono::seconds(5));
    while (harness.buffers_out() > 0) {
        auto out = harness.pull();
        if (!out) {
            break;
        }
        e.images.push_back(bytes_of(*out));
        e.pts.push_back(out->meta().pts());
        e.durations.push_back(out->meta().duration());
        e.key.push_back(!out->meta().has_flag(BufferFlags::delta));
    }
    for (const Event& ev : harness.take_events()) {
        if (const Caps* c = ev.caps_value()) {
            e.caps = *c;
        }
    }
    EXPECT_FALSE(harness.error()) << harness.error()->message();
    return e;
}

struct Decoded {
    std::optional<VideoInfo> info;
    Bytes frame;
};

// One image through `jpegdec <props>`.
Decoded decode(const Bytes& image, const std::string& props = "") {
    Decoded d;
    auto h = check::Harness::create("jpegdec " + props);
    EXPECT_TRUE(h) << (h ? "" : h.error().message());
    if (!h) {
        return d;
    }
    auto& harness = **h;
    EXPECT_TRUE(harness.set_input_caps(Caps::parse_static("image/jpeg, framerate=25/1")));
    EXPECT_TRUE(harness.start());
    auto b = harness.make_buffer(std::as_bytes(std::span(image)));
    EXPECT_TRUE(b);
    EXPECT_EQ(harness.push(std::move(*b)), Flow::ok);
    auto out = harness.pull();
    EXPECT_TRUE(out);
    if (out) {
        d.frame = bytes_of(*out);
    }
    for (const Event& ev : harness.take_events()) {
        if (const Caps* c = ev.caps_value()) {
            auto vi = VideoInfo::from_caps(*c);
            EXPECT_TRUE(vi) << c->to_string();
            if (vi) {
                d.info = *vi;
            }
        }
    }
    EXPECT_FALSE(harness.error()) << harness.error()->message();
    return d;
}

// Sample (x, y) of component c of a frame held in `bytes`.
unsigned sample_of(const VideoInfo& info, const Bytes& bytes, std::size_t c, std::uint32_t x, std::uint32_t y) {
    auto f = VideoFrame::map_bytes(info, std::as_bytes(std::span(bytes))).value();
    return std::to_integer<unsigned>(f.component_row(c, y)[x * f.component_pixel_stride(c)]);
}

double psnr(double squared_error, std::size_t samples) {
    if (squared_error == 0) {
        return 99.0;
    }
    return 10.0 * std::log10(255.0 * 255.0 * static_cast<double>(samples) / squared_error);
}

// PSNR of the decoded picture against picture_sample, over every component.
// For RGB input the decoded YCbCr (4:4:4) is converted back with JFIF's
// equations.
double round_trip_psnr(const VideoInfo& in, const Decoded& d) {
    double err = 0;
    std::size_t n = 0;
    const VideoInfo& out = *d.info;
    if (in.format_info().is_rgb()) {
        for (std::uint32_t y = 0; y < in.height(); ++y) {
            for (std::uint32_t x = 0; x < in.width(); ++x) {
                const double Y = sample_of(out, d.frame, 0, x, y);
                const double cb = sample_of(out, d.frame, 1, x, y) - 128.0;
                const double cr = sample_of(out, d.frame, 2, x, y) - 128.0;
                const double rgb[3] = {Y + 1.402 * cr, Y - 0.344136 * cb - 0.714136 * cr, Y + 1.772 * cb};
                for (std::size_t c = 0; c < 3; ++c) {
                    const double e = std::clamp(rgb[c], 0.0, 255.0) - picture_sample(c, x, y);
                    err += e * e;
                    ++n;
                }
            }
        }
        return psnr(err, n);
    }
    for (std::size_t c = 0; c < in.n_components(); ++c) {
        for (std::uint32_t y = 0; y < in.component_height(c); ++y) {
            for (std::uint32_t x = 0; x < in.component_width(c); ++x) {
                const double e = static_cast<double>(sample_of(out, d.frame, c, x, y)) - picture_sample(c, x, y);
                err += e * e;
                ++n;
            }
        }
    }
    return psnr(err, n);
}

TEST(JpegEncTest, IsRegisteredWithGStreamersProperties) {
    auto h = check::Harness::create("jpegenc");
    ASSERT_TRUE(h);
    Element& e = (*h)->element();
    EXPECT_EQ(e.get_property("quality").value(), "85");
    EXPECT_EQ(e.get_property("idct-method").value(), "ifast");
    EXPECT_EQ(e.get_property("snapshot").value(), "false");
    ASSERT_TRUE(e.set_property("idct-method", "2"));
    EXPECT_EQ(e.get_property("idct-method").value(), "float");
    ASSERT_TRUE(e.set_property("quality", "0"));
    ASSERT_TRUE(e.set_property("quality", "100"));
}

TEST(JpegEncTest, OutOfRangePropertiesAreRejectedNamingTheProperty) {
    for (const char* text : {"jpegenc quality=101", "jpegenc quality=-1", "jpegenc idct-method=fastest",
                             "jpegenc idct-method=3", "jpegenc snapshot=maybe"}) {
        auto h = check::Harness::create(text);
        ASSERT_FALSE(h) << text;
        const std::string property = std::string(text).substr(8, std::string(text).find('=') - 8);
        EXPECT_NE(h.error().message().find(property), std::string::npos) << h.error().message();
    }
}

struct RoundTripCase {
    const char* format;
    std::uint32_t width;
    std::uint32_t height;
    const char* decoded; // jpegdec's output format
};

class JpegEncRoundTripTest : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(JpegEncRoundTripTest, DecodesWithAPsnrOfAtLeast35Db) {
    const RoundTripCase rc = GetParam();
    // Full range, as JPEG holds it: nothing to expand.
    const bool rgb = std::string_view(rc.format).starts_with("RGB") || std::string_view(rc.format).starts_with("BGR");
    const VideoInfo in = video_info(rc.format, rc.width, rc.height, rgb ? "" : ", colorimetry=1:4:0:0");
    const Encoded e =
        encode(in, [&](std::size_t c, std::uint32_t x, std::uint32_t y) { return picture_sample(c, x, y); });
    ASSERT_EQ(e.images.size(), 1U);
    ASSERT_TRUE(e.caps);
    EXPECT_EQ(e.caps->to_string(),
              fmt::format("image/jpeg, width=(int){}, height=(int){}, framerate=(fraction)25/1, sof-marker=(int)0",
                          rc.width, rc.height));
    const Decoded d = decode(e.images[0]);
    ASSERT_TRUE(d.info);
    EXPECT_EQ(d.info->format_info().name, rc.decoded);
    EXPECT_EQ(d.info->width(), rc.width);
    EXPECT_EQ(d.info->height(), rc.height);
    const double db = round_trip_psnr(in, d);
    EXPECT_GE(db, 35.0) << rc.format << " " << rc.width << "x" << rc.height;
}

INSTANTIATE_TEST_SUITE_P(
    JpegEnc, JpegEncRoundTripTest,
    ::testing::Values(RoundTripCase{"I420", 128, 96, "I420"}, RoundTripCase{"YV12", 64, 48, "I420"},
                      RoundTripCase{"NV12", 64, 48, "I420"}, RoundTripCase{"NV21", 64, 48, "I420"},
                      RoundTripCase{"Y42B", 64, 48, "Y42B"}, RoundTripCase{"Y444", 128, 96, "Y444"},
                      RoundTripCase{"RGB", 128, 96, "Y444"}, RoundTripCase{"BGRx", 64, 48, "Y444"},
                      RoundTripCase{"GRAY8", 128, 96, "GRAY8"}, RoundTripCase{"I420", 33, 17, "I420"},
                      RoundTripCase{"NV12", 33, 17, "I420"}, RoundTripCase{"Y42B", 33, 17, "Y42B"},
                      RoundTripCase{"Y444", 33, 17, "Y444"}, RoundTripCase{"RGB", 33, 17, "Y444"},
                      RoundTripCase{"GRAY8", 33, 17, "GRAY8"}, RoundTripCase{"I420", 1, 1, "I420"},
                      RoundTripCase{"YUY2", 64, 48, "Y42B"}, RoundTripCase{"UYVY", 64, 48, "Y42B"},
                      RoundTripCase{"YUY2", 34, 17, "Y42B"}, RoundTripCase{"UYVY", 34, 17, "Y42B"}),
    [](const auto& p) { return fmt::format("{}_{}x{}", p.param.format, p.param.width, p.param.height); });

// YV12 and NV21 swap the chroma: the samples must land in the right
// components, not only look alike.
TEST(JpegEncTest, ChromaOrderOfYv12AndNv21IsKept) {
    for (const char* format : {"YV12", "NV21", "NV12"}) {
        const VideoInfo in = video_info(format, 32, 32, ", colorimetry=1:4:0:0");
        const Encoded e = encode(in, [](std::size_t c, std::uint32_t, std::uint32_t) {
            return c == 1 ? 60U : c == 2 ? 200U : 128U;
        });
        ASSERT_EQ(e.images.size(), 1U);
        const Decoded d = decode(e.images[0]);
        ASSERT_TRUE(d.info);
        EXPECT_NEAR(sample_of(*d.info, d.frame, 1, 5, 5), 60, 2) << format;
        EXPECT_NEAR(sample_of(*d.info, d.frame, 2, 5, 5), 200, 2) << format;
    }
}

// Packed 4:2:2 holds the same samples as Y42B: the images are byte for byte
// the same, whatever the byte order of the packing.
TEST(JpegEncTest, PackedYuy2AndUyvyEncodeAsY42BWithTheSameSamples) {
    const auto sample = [](std::size_t c, std::uint32_t x, std::uint32_t y) { return picture_sample(c, x, y); };
    const Encoded planar = encode(video_info("Y42B", 50, 30, ", colorimetry=1:4:0:0"), sample);
    ASSERT_EQ(planar.images.size(), 1U);
    for (const char* format : {"YUY2", "UYVY"}) {
        const Encoded packed = encode(video_info(format, 50, 30, ", colorimetry=1:4:0:0"), sample);
        ASSERT_EQ(packed.images.size(), 1U) << format;
        EXPECT_EQ(packed.images[0], planar.images[0]) << format;
    }
}

// bt601 caps mean limited range: black (16) and white (235) come back as 0
// and 255; chroma 240 as 255.
TEST(JpegEncTest, LimitedRangeInputIsExpandedToFullRange) {
    const VideoInfo in = video_info("I420", 32, 32, ", colorimetry=bt601");
    ASSERT_EQ(in.colorimetry().range, VideoColorRange::limited);
    const Encoded e = encode(
        in,
        [](std::size_t c, std::uint32_t, std::uint32_t y) {
            if (c == 0) {
                return y < 16 ? 16U : 235U;
            }
            return c == 1 ? 240U : 128U;
        },
        1, "quality=100");
    ASSERT_EQ(e.images.size(), 1U);
    const Decoded d = decode(e.images[0]);
    ASSERT_TRUE(d.info);
    EXPECT_EQ(d.info->colorimetry().range, VideoColorRange::full);
    EXPECT_NEAR(sample_of(*d.info, d.frame, 0, 4, 4), 0, 2);
    EXPECT_NEAR(sample_of(*d.info, d.frame, 0, 4, 28), 255, 2);
    EXPECT_NEAR(sample_of(*d.info, d.frame, 1, 4, 4), 255, 2);
    EXPECT_NEAR(sample_of(*d.info, d.frame, 2, 4, 4), 128, 2);
}

TEST(JpegEncTest, KeepsTimestampsAndMarksEveryImageKey) {
    const VideoInfo in = video_info("I420", 32, 16);
    const Encoded e = encode(in, picture_sample, 3);
    ASSERT_EQ(e.images.size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(e.pts[i], ClockTime::from_ms(40 * i));
        EXPECT_EQ(e.durations[i], ClockTime::from_ms(40));
        EXPECT_TRUE(e.key[i]);
        ASSERT_GE(e.images[i].size(), 4U);
        EXPECT_EQ(e.images[i][0], 0xFF);
        EXPECT_EQ(e.images[i][1], 0xD8);
        EXPECT_EQ(e.images[i][e.images[i].size() - 2], 0xFF);
        EXPECT_EQ(e.images[i].back(), 0xD9);
    }
    EXPECT_TRUE(e.eos);
}

TEST(JpegEncTest, SnapshotEndsTheStreamAfterOneImage) {
    const VideoInfo in = video_info("I420", 32, 16);
    const Encoded e = encode(in, picture_sample, 4, "snapshot=true");
    EXPECT_EQ(e.images.size(), 1U);
    EXPECT_TRUE(e.eos);
}

TEST(JpegEncTest, HigherQualityMakesLargerImages) {
    const VideoInfo in = video_info("I420", 64, 64);
    const Encoded low = encode(in, picture_sample, 1, "quality=10");
    const Encoded high = encode(in, picture_sample, 1, "quality=95 idct-method=islow");
    ASSERT_EQ(low.images.size(), 1U);
    ASSERT_EQ(high.images.size(), 1U);
    EXPECT_LT(low.images[0].size(), high.images[0].size());
}

TEST(JpegEncTest, RefusesFormatsItCannotEncode) {
    auto h = check::Harness::create("jpegenc");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->start());
    EXPECT_FALSE((*h)->set_input_caps(video_info("I420_10LE", 32, 32).to_caps()));
}

void write_file(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// ffprobe sees an MJPEG picture of the right size, and ffmpeg's decoding
// matches jpegdec's.
TEST(JpegEncTest, FfmpegReadsTheImages) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg or ffprobe is not installed";
    }
    ScratchDir dir("jpegenc", "ffmpeg");
    const VideoInfo in = video_info("I420", 66, 34, ", colorimetry=1:4:0:0");
    const Encoded e = encode(in, picture_sample);
    ASSERT_EQ(e.images.size(), 1U);
    const fs::path file = dir.path() / "f.jpg";
    write_file(file, e.images[0]);

    std::string probe;
    ASSERT_TRUE(run_program({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                             "stream=codec_name,width,height,pix_fmt", "-of", "csv=p=0", file.string()},
                            &probe));
    EXPECT_EQ(probe, "mjpeg,66,34,yuvj420p\n");

    const fs::path raw = dir.path() / "f.yuv";
    ASSERT_TRUE(run_program(
        {"ffmpeg", "-v", "error", "-y", "-i", file.string(), "-f", "rawvideo", "-pix_fmt", "yuvj420p", raw.string()}));
    const auto reference = read_file<std::uint8_t>(raw);
    const Decoded d = decode(e.images[0], "idct-method=islow");
    ASSERT_TRUE(d.info);
    // ffmpeg's raw I420 is packed (no row padding): compare sample by
    // sample. ffmpeg's MJPEG decoder has its own IDCT, not libjpeg's islow:
    // the two are both accurate to the standard's tolerance but round
    // differently, so samples agree within one level, not byte for byte.
    std::size_t at = 0;
    int worst = 0;
    for (std::size_t c = 0; c < 3; ++c) {
        for (std::uint32_t y = 0; y < d.info->component_height(c); ++y) {
            for (std::uint32_t x = 0; x < d.info->component_width(c); ++x, ++at) {
                ASSERT_LT(at, reference.size());
                worst = std::max(worst, std::abs(static_cast<int>(sample_of(*d.info, d.frame, c, x, y)) -
                                                 static_cast<int>(reference[at])));
            }
        }
    }
    EXPECT_EQ(at, reference.size());
    EXPECT_LE(worst, 1);
}

} // namespace
} // namespace parallax::jpegenc_test
