// pngenc: every input format survives pngenc then pngdec byte for byte;
// ffprobe and ffmpeg read what pngenc writes as the same picture; output
// buffers are key frames with the input's timestamps; compression-level is
// checked; snapshot ends the stream after one image. The ffmpeg checks are
// skipped, saying why, without ffmpeg.

#include <parallax/check/harness.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "integration/gst_compare_support.hpp"
#include "video_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace parallax::pngenc_test {
namespace {

namespace fs = std::filesystem;
using check::Harness;
using check::info_of;
using check::last_caps;
using check::pattern_frame;
using check::read_file;
using check::run_program;
using check::ScratchDir;

bool have_ffmpeg() {
    static const bool found =
        run_program({"ffmpeg", "-hide_banner", "-version"}) && run_program({"ffprobe", "-hide_banner", "-version"});
    return found;
}

Caps raw_caps(const VideoInfo& vi) {
    return vi.to_caps();
}

// The image pngenc makes of `frame` (a buffer of `h`'s arenas).
std::vector<std::byte> encode(Harness& h, const VideoInfo& vi, Buffer frame) {
    EXPECT_EQ(h.push(std::move(frame)), Flow::ok) << (h.error() ? h.error()->to_string() : "");
    auto out = h.pull();
    if (!out) {
        ADD_FAILURE() << "pngenc made no image";
        return {};
    }
    static_cast<void>(vi);
    const auto bytes = out->data();
    return {bytes.begin(), bytes.end()};
}

// The rows of `frame` without their padding, as ffmpeg's rawvideo lays them.
std::vector<std::byte> packed_rows(const VideoFrame& frame) {
    std::vector<std::byte> out;
    for (std::uint32_t y = 0; y < frame.info().height(); ++y) {
        const auto row = frame.row(0, y);
        out.insert(out.end(), row.begin(), row.end());
    }
    return out;
}

TEST(PngEncTest, EveryFormatRoundTripsThroughPngdecByteForByte) {
    for (const VideoFormat format : {VideoFormat::rgba, VideoFormat::rgb, VideoFormat::gray8, VideoFormat::gray16_le}) {
        // An odd width, so that RGB and gray rows carry stride padding.
        const VideoInfo vi = info_of(format, 37, 23);
        SCOPED_TRACE(vi.to_caps().to_string());

        auto enc = Harness::create("pngenc").value();
        ASSERT_TRUE(enc->start());
        ASSERT_TRUE(enc->set_input_caps(raw_caps(vi)));
        Buffer in = pattern_frame(*enc, vi);
        in.meta().set_pts(ClockTime::from_ns(40'000'000));
        in.meta().set_duration(ClockTime::from_ns(33'000'000));
        in.meta().set_flag(BufferFlags::delta);
        const Buffer kept = in;
        ASSERT_EQ(enc->push(std::move(in)), Flow::ok);
        auto png = enc->pull();
        ASSERT_TRUE(png);
        EXPECT_EQ(png->meta().pts().ns(), 40'000'000U);
        EXPECT_EQ(png->meta().duration().ns(), 33'000'000U);
        EXPECT_TRUE(png->meta().has_flag(BufferFlags::keyframe));
        EXPECT_FALSE(png->meta().has_flag(BufferFlags::delta));
        const auto enc_caps = last_caps(*enc);
        ASSERT_TRUE(enc_caps);
        EXPECT_EQ(enc_caps->structure(0).name(), "image/png");
        EXPECT_EQ(enc_caps->structure(0).get_int("width"), 37);
        EXPECT_EQ(enc_caps->structure(0).get_int("height"), 23);

        auto dec = Harness::create("pngdec").value();
        ASSERT_TRUE(dec->start());
        ASSERT_TRUE(dec->set_input_caps(*enc_caps));
        ASSERT_EQ(dec->push(std::move(*png)), Flow::ok) << (dec->error() ? dec->error()->to_string() : "");
        auto raw = dec->pull();
        ASSERT_TRUE(raw);
        const auto dec_caps = last_caps(*dec);
        ASSERT_TRUE(dec_caps);
        const VideoInfo out_vi = VideoInfo::from_caps(*dec_caps).value();
        EXPECT_EQ(out_vi.format(), format);
        EXPECT_EQ(out_vi.width(), 37U);
        EXPECT_EQ(out_vi.height(), 23U);
        EXPECT_EQ(out_vi.framerate(), vi.framerate());
        EXPECT_EQ(raw->meta().pts().ns(), 40'000'000U);

        const auto a = VideoFrame::map(vi, kept).value();
        const auto b = VideoFrame::map(out_vi, *raw).value();
        EXPECT_EQ(packed_rows(a), packed_rows(b));
    }
}

TEST(PngEncTest, FfprobeAndFfmpegReadTheImageAsTheSamePicture) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg or ffprobe is not installed: no outside reader to check the PNG against";
    }
    ScratchDir dir("PngEncTest", "ffmpeg");
    const VideoInfo vi = info_of(VideoFormat::rgba, 64, 48);
    auto enc = Harness::create("pngenc compression-level=9").value();
    ASSERT_TRUE(enc->start());
    ASSERT_TRUE(enc->set_input_caps(raw_caps(vi)));
    Buffer in = pattern_frame(*enc, vi);
    const Buffer kept = in;
    const auto png = encode(*enc, vi, std::move(in));
    ASSERT_FALSE(png.empty());
    const fs::path file = dir.path() / "f.png";
    check::write_file(file, png);

    std::string probe;
    ASSERT_TRUE(run_program({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                             "stream=codec_name,width,height", "-of", "csv=p=0", file.string()},
                            &probe));
    EXPECT_EQ(probe, "png,64,48\n");

    const fs::path raw = dir.path() / "f.rgba";
    ASSERT_TRUE(run_program(
        {"ffmpeg", "-v", "error", "-y", "-i", file.string(), "-f", "rawvideo", "-pix_fmt", "rgba", raw.string()}));
    EXPECT_EQ(read_file(raw), packed_rows(VideoFrame::map(vi, kept).value()));
}

TEST(PngEncTest, HigherCompressionLevelMakesSmallerImages) {
    const VideoInfo vi = info_of(VideoFormat::rgb, 64, 64);
    std::size_t sizes[2] = {};
    int i = 0;
    for (const char* level : {"0", "9"}) {
        auto enc = Harness::create(fmt::format("pngenc compression-level={}", level)).value();
        ASSERT_TRUE(enc->start());
        ASSERT_TRUE(enc->set_input_caps(raw_caps(vi)));
        sizes[i++] = encode(*enc, vi, pattern_frame(*enc, vi)).size();
    }
    // Level 0 stores the rows uncompressed: at least the raw bytes.
    EXPECT_GE(sizes[0], 64U * 64U * 3U);
    EXPECT_LT(sizes[1], sizes[0]);
}

TEST(PngEncTest, CompressionLevelOutOfRangeIsRejected) {
    auto bad = Harness::create("pngenc compression-level=10");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("compression-level"), std::string::npos) << bad.error().to_string();

    auto enc = Harness::create("pngenc").value();
    auto set = enc->element().set_property("compression-level", "-1");
    ASSERT_FALSE(set);
    EXPECT_NE(set.error().to_string().find("compression-level"), std::string::npos) << set.error().to_string();
    EXPECT_EQ(enc->element().get_property("compression-level").value(), "6");
}

TEST(PngEncTest, SnapshotEndsTheStreamAfterTheFirstImage) {
    const VideoInfo vi = info_of(VideoFormat::gray8, 16, 16);
    auto enc = Harness::create("pngenc snapshot=true").value();
    ASSERT_TRUE(enc->start());
    ASSERT_TRUE(enc->set_input_caps(raw_caps(vi)));
    EXPECT_EQ(enc->push(pattern_frame(*enc, vi)), Flow::eos);
    EXPECT_TRUE(enc->eos());
    EXPECT_EQ(enc->push(pattern_frame(*enc, vi)), Flow::eos);
    EXPECT_EQ(enc->buffers_out(), 1U);
}

TEST(PngEncTest, UnsupportedFormatIsRefused) {
    auto enc = Harness::create("pngenc").value();
    EXPECT_FALSE(enc->set_input_caps(info_of(VideoFormat::i420, 16, 16).to_caps()));
}

} // namespace
} // namespace parallax::pngenc_test
