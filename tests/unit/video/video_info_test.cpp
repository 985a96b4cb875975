#include <parallax/video/video_info.hpp>

#include "support/caps_helpers.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace parallax::video_info_test {
namespace {

using check::frac;
using check::parsed;

VideoInfo info_of(std::string_view caps, VideoAlignment alignment = {}) {
    auto info = VideoInfo::from_caps(parsed(caps), alignment);
    EXPECT_TRUE(info) << caps << ": " << (info ? "" : info.error().to_string());
    return info ? *info : VideoInfo::make(VideoFormat::gray8, 1, 1).value();
}

Error error_of(std::string_view caps) {
    auto info = VideoInfo::from_caps(parsed(caps));
    EXPECT_FALSE(info) << caps;
    return info ? Error(Errc::failed, "no error") : info.error();
}

TEST(VideoInfoTest, I420OfEvenSizeIsTightlyPacked) {
    auto info = VideoInfo::make(VideoFormat::i420, 320, 240);
    ASSERT_TRUE(info) << info.error().to_string();
    EXPECT_EQ(info->size(), 115200U);
    EXPECT_EQ(info->n_planes(), 3U);
    EXPECT_EQ(info->stride(0), 320U);
    EXPECT_EQ(info->stride(1), 160U);
    EXPECT_EQ(info->stride(2), 160U);
    EXPECT_EQ(info->offset(0), 0U);
    EXPECT_EQ(info->offset(1), 76800U);
    EXPECT_EQ(info->offset(2), 96000U);
    EXPECT_EQ(info->plane_rows(0), 240U);
    EXPECT_EQ(info->plane_rows(1), 120U);
    EXPECT_EQ(info->row_size(1), 160U);
    EXPECT_EQ(info->component_width(video_comp::u), 160U);
    EXPECT_EQ(info->component_height(video_comp::u), 120U);
}

TEST(VideoInfoTest, I420OfOddSizeRoundsStridesAndLumaRows) {
    auto info = VideoInfo::make(VideoFormat::i420, 321, 241);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->stride(0), 324U);
    EXPECT_EQ(info->stride(1), 164U);
    EXPECT_EQ(info->stride(2), 164U);
    EXPECT_EQ(info->offset(1), 78408U); // 324 * 242: the luma plane gets an even number of rows
    EXPECT_EQ(info->offset(2), 98252U);
    EXPECT_EQ(info->size(), 118096U);
    EXPECT_EQ(info->plane_rows(0), 242U);
    EXPECT_EQ(info->plane_rows(1), 121U);
    EXPECT_EQ(info->row_size(0), 321U);
    EXPECT_EQ(info->row_size(1), 161U);
    EXPECT_EQ(info->component_width(video_comp::y), 321U);
    EXPECT_EQ(info->component_height(video_comp::y), 241U);
    EXPECT_EQ(info->component_width(video_comp::v), 161U);
    EXPECT_EQ(info->component_height(video_comp::v), 121U);
}

TEST(VideoInfoTest, LayoutsOfOtherFormats) {
    struct Case {
        VideoFormat format;
        std::uint32_t width, height;
        std::size_t size;
        std::size_t strides[3];
        std::size_t offsets[3];
    };
    // Values read off GStreamer 1.22 (gst_video_info_set_format).
    const Case cases[] = {
        {VideoFormat::nv12, 321, 241, 117612, {324, 324, 0}, {0, 78408, 0}},
        {VideoFormat::yuy2, 321, 241, 155204, {644, 0, 0}, {0, 0, 0}},
        {VideoFormat::uyvy, 3, 3, 24, {8, 0, 0}, {0, 0, 0}},
        {VideoFormat::y42b, 321, 241, 157132, {324, 164, 164}, {0, 78084, 117608}},
        {VideoFormat::y444, 5, 7, 168, {8, 8, 8}, {0, 56, 112}},
        {VideoFormat::i420_10le, 321, 241, 234256, {644, 324, 324}, {0, 155848, 195052}},
        {VideoFormat::p010_10le, 321, 241, 233772, {644, 644, 0}, {0, 155848, 0}},
        {VideoFormat::rgb, 1, 1, 4, {4, 0, 0}, {0, 0, 0}},
        {VideoFormat::bgr, 321, 241, 232324, {964, 0, 0}, {0, 0, 0}},
        {VideoFormat::rgba, 1921, 1081, 8306404, {7684, 0, 0}, {0, 0, 0}},
        {VideoFormat::gray8, 3, 3, 12, {4, 0, 0}, {0, 0, 0}},
        {VideoFormat::gray16_le, 5, 7, 84, {12, 0, 0}, {0, 0, 0}},
    };
    for (const Case& c : cases) {
        auto info = VideoInfo::make(c.format, c.width, c.height);
        ASSERT_TRUE(info);
        SCOPED_TRACE(info->to_string());
        EXPECT_EQ(info->size(), c.size);
        for (std::size_t p = 0; p < 3; ++p) {
            EXPECT_EQ(info->stride(p), c.strides[p]) << "plane " << p;
            EXPECT_EQ(info->offset(p), c.offsets[p]) << "plane " << p;
        }
    }
}

TEST(VideoInfoTest, LargerAlignmentRoundsEveryStride) {
    auto info = VideoInfo::make(VideoFormat::i420, 321, 241, VideoAlignment{64});
    ASSERT_TRUE(info);
    EXPECT_EQ(info->stride(0), 384U);
    EXPECT_EQ(info->stride(1), 192U);
    EXPECT_EQ(info->stride(2), 192U);
    EXPECT_EQ(info->offset(1), 384U * 242);
    EXPECT_EQ(info->offset(2), 384U * 242 + 192U * 121);
    EXPECT_EQ(info->size(), 384U * 242 + 2 * 192U * 121);
    EXPECT_EQ(info->alignment().stride_align, 64U);
    for (std::size_t p = 0; p < info->n_planes(); ++p) {
        EXPECT_EQ(info->offset(p) % 64, 0U);
    }
    // An already aligned width keeps GStreamer's layout.
    auto aligned = VideoInfo::make(VideoFormat::nv12, 1920, 1080, VideoAlignment{32});
    ASSERT_TRUE(aligned);
    EXPECT_EQ(aligned->size(), 3110400U);
}

TEST(VideoInfoTest, AlignmentMustBeAPowerOfTwoFrom4To4096) {
    for (std::uint32_t bad : {0U, 1U, 2U, 3U, 12U, 8192U}) {
        auto info = VideoInfo::make(VideoFormat::i420, 16, 16, VideoAlignment{bad});
        ASSERT_FALSE(info) << bad;
        EXPECT_TRUE(info.error().is(Errc::invalid_argument));
    }
    EXPECT_TRUE(VideoInfo::make(VideoFormat::i420, 16, 16, VideoAlignment{4096}));
}

TEST(VideoInfoTest, MakeRejectsEmptyAndHugeSizes) {
    EXPECT_TRUE(VideoInfo::make(VideoFormat::i420, 0, 240).error().is(Errc::invalid_argument));
    EXPECT_TRUE(VideoInfo::make(VideoFormat::i420, 320, 0).error().is(Errc::invalid_argument));
    EXPECT_TRUE(VideoInfo::make(VideoFormat::i420, 0x80000000U, 1).error().is(Errc::invalid_argument));
}

TEST(VideoInfoTest, HugeFramesAreAnOverflowErrorNotAWrap) {
    // RGBA 536870912 wide needs a 2^31-byte stride: one more than an int holds.
    auto wide = VideoInfo::make(VideoFormat::rgba, 536870912, 1);
    ASSERT_FALSE(wide);
    EXPECT_TRUE(wide.error().is(Errc::out_of_range));
    EXPECT_NE(wide.error().message().find("stride"), std::string::npos) << wide.error().message();
    EXPECT_TRUE(VideoInfo::make(VideoFormat::rgba, 536870911, 1));

    // The largest caps allow: 2^31 - 1 square. No format's luma stride fits
    // then; 3 planes of almost 2^62 bytes do not fit in a ptrdiff_t.
    const std::uint32_t max = 0x7fffffff;
    auto gray = VideoInfo::make(VideoFormat::gray8, max - 3, max);
    ASSERT_TRUE(gray) << gray.error().to_string();
    EXPECT_EQ(gray->size(), std::size_t{max - 3} * max);
    EXPECT_FALSE(VideoInfo::make(VideoFormat::gray8, max, 1)); // stride rounds up to 2^31
    for (const VideoFormatInfo& fi : video_format_table) {
        auto info = VideoInfo::make(fi.format, max, max);
        EXPECT_FALSE(info) << fi.name;
        auto tall = VideoInfo::make(fi.format, 1, max);
        ASSERT_TRUE(tall) << fi.name << ": " << tall.error().to_string();
        EXPECT_GE(tall->size(), std::size_t{max}) << fi.name;
    }
    auto y444 = VideoInfo::make(VideoFormat::y444, max - 3, max);
    ASSERT_FALSE(y444);
    EXPECT_TRUE(y444.error().is(Errc::out_of_range));
    EXPECT_NE(y444.error().message().find("frame size overflows"), std::string::npos) << y444.error().message();

    auto caps = VideoInfo::from_caps(parsed("video/x-raw, format=I420, width=2147483647, height=2147483647"));
    ASSERT_FALSE(caps);
    EXPECT_TRUE(caps.error().is(Errc::out_of_range));
}

TEST(VideoInfoTest, ExtremeSizesGiveAConsistentLayoutOrAnError) {
    const std::uint32_t max = 0x7fffffff;
    const std::uint32_t edges[] = {1, 2, 3, 4095, 65535, 65536, 0x1fffffff, 0x20000000, max - 4096, max - 1, max};
    for (const VideoFormatInfo& fi : video_format_table) {
        for (std::uint32_t align : {4U, 4096U}) {
            for (std::uint32_t width : edges) {
                for (std::uint32_t height : edges) {
                    auto info = VideoInfo::make(fi.format, width, height, VideoAlignment{align});
                    if (!info) {
                        EXPECT_TRUE(info.error().is(Errc::out_of_range)) << info.error().to_string();
                        continue;
                    }
                    SCOPED_TRACE(info->to_string());
                    std::size_t end = 0;
                    for (std::size_t p = 0; p < info->n_planes(); ++p) {
                        EXPECT_EQ(info->offset(p), end);
                        EXPECT_LE(info->stride(p), std::size_t{max});
                        EXPECT_EQ(info->stride(p) % align, 0U);
                        EXPECT_GE(info->stride(p), info->row_size(p));
                        end += info->plane_size(p);
                    }
                    EXPECT_EQ(info->size(), end);
                }
            }
        }
    }
}

TEST(VideoInfoTest, FromCapsReadsEveryField) {
    const VideoInfo info = info_of("video/x-raw, format=NV12, width=1280, height=720, framerate=30000/1001, "
                                   "pixel-aspect-ratio=4/3, interlace-mode=progressive, colorimetry=bt709, "
                                   "chroma-site=mpeg2");
    EXPECT_EQ(info.format(), VideoFormat::nv12);
    EXPECT_EQ(info.width(), 1280U);
    EXPECT_EQ(info.height(), 720U);
    EXPECT_EQ(info.framerate(), frac(30000, 1001));
    EXPECT_EQ(info.pixel_aspect_ratio(), frac(4, 3));
    EXPECT_EQ(info.colorimetry(), VideoColorimetry::bt709());
    EXPECT_EQ(info.chroma_site(), VideoChromaSite::mpeg2);
    EXPECT_EQ(info.size(), 1382400U);
}

TEST(VideoInfoTest, FromCapsFillsGStreamersDefaults) {
    const VideoInfo sd = info_of("video/x-raw, format=I420, width=720, height=576");
    EXPECT_EQ(sd.framerate(), Fraction());
    EXPECT_EQ(sd.pixel_aspect_ratio(), frac(1, 1));
    EXPECT_EQ(sd.colorimetry(), VideoColorimetry::bt601());
    EXPECT_EQ(sd.chroma_site(), VideoChromaSite::jpeg);

    const VideoInfo hd = info_of("video/x-raw, format=I420, width=720, height=577");
    EXPECT_EQ(hd.colorimetry(), VideoColorimetry::bt709());
    EXPECT_EQ(hd.chroma_site(), VideoChromaSite::mpeg2);

    // GStreamer 1.22 keeps bt709 for UHD.
    EXPECT_EQ(info_of("video/x-raw, format=P010_10LE, width=3840, height=2160").colorimetry(),
              VideoColorimetry::bt709());

    const VideoInfo rgb = info_of("video/x-raw, format=BGRA, width=64, height=64");
    EXPECT_EQ(rgb.colorimetry(), VideoColorimetry::srgb());
    EXPECT_EQ(rgb.chroma_site(), std::nullopt);

    const VideoInfo gray = info_of("video/x-raw, format=GRAY8, width=64, height=64");
    EXPECT_EQ(gray.colorimetry().to_string(), "1:4:0:0");
    EXPECT_EQ(gray.chroma_site(), std::nullopt);
}

TEST(VideoInfoTest, FromCapsAdjustsColorimetryThatContradictsTheFormat) {
    // RGB keeps range, transfer and primaries but takes the RGB matrix.
    EXPECT_EQ(info_of("video/x-raw, format=RGB, width=8, height=8, colorimetry=bt709").colorimetry().to_string(),
              "2:1:5:1");
    // YUV with the RGB or an unknown matrix gets the default.
    const VideoInfo yuv = info_of("video/x-raw, format=I420, width=8, height=8, colorimetry=sRGB");
    EXPECT_EQ(yuv.colorimetry(), VideoColorimetry::bt601());
    EXPECT_EQ(yuv.chroma_site(), VideoChromaSite::jpeg);
    EXPECT_EQ(info_of("video/x-raw, format=I420, width=8, height=8, colorimetry=2:0:0:0").colorimetry(),
              VideoColorimetry::bt601());
    // Gray with the RGB matrix gets the default; other values are kept.
    EXPECT_EQ(info_of("video/x-raw, format=GRAY8, width=8, height=8, colorimetry=sRGB").colorimetry().to_string(),
              "1:4:0:0");
    EXPECT_EQ(info_of("video/x-raw, format=GRAY8, width=8, height=8, colorimetry=bt709").colorimetry(),
              VideoColorimetry::bt709());
    // A consistent colorimetry is kept, and the chroma site is then unknown
    // unless given.
    const VideoInfo kept = info_of("video/x-raw, format=I420, width=8, height=8, colorimetry=1:4:0:0");
    EXPECT_EQ(kept.colorimetry().range, VideoColorRange::full);
    EXPECT_EQ(kept.chroma_site(), std::nullopt);
}

TEST(VideoInfoTest, ExplicitChromaSiteIsKept) {
    EXPECT_EQ(info_of("video/x-raw, format=I420, width=8, height=8, chroma-site=dv").chroma_site(),
              VideoChromaSite::dv);
    EXPECT_EQ(info_of("video/x-raw, format=I420, width=8, height=8, colorimetry=bt709, chroma-site=jpeg").chroma_site(),
              VideoChromaSite::jpeg);
}

TEST(VideoInfoTest, ToCapsWritesGStreamersFieldsInItsOrder) {
    auto info = VideoInfo::make(VideoFormat::i420, 320, 240);
    ASSERT_TRUE(info);
    ASSERT_TRUE(info->set_framerate(frac(30, 1)));
    EXPECT_EQ(info->to_caps().to_string(),
              "video/x-raw, format=(string)I420, width=(int)320, height=(int)240, "
              "interlace-mode=(string)progressive, pixel-aspect-ratio=(fraction)1/1, chroma-site=(string)jpeg, "
              "colorimetry=(string)bt601, framerate=(fraction)30/1");

    auto rgb = VideoInfo::make(VideoFormat::rgba, 3840, 2160);
    ASSERT_TRUE(rgb);
    EXPECT_EQ(rgb->to_caps().to_string(),
              "video/x-raw, format=(string)RGBA, width=(int)3840, height=(int)2160, "
              "interlace-mode=(string)progressive, pixel-aspect-ratio=(fraction)1/1, colorimetry=(string)sRGB, "
              "framerate=(fraction)0/1");

    info->set_colorimetry(VideoColorimetry{});
    info->set_chroma_site(std::nullopt);
    EXPECT_EQ(info->to_structure().get("colorimetry"), nullptr);
    EXPECT_EQ(info->to_structure().get("chroma-site"), nullptr);
}

TEST(VideoInfoTest, CapsRoundTrip) {
    for (const VideoFormatInfo& fi : video_format_table) {
        auto info = VideoInfo::make(fi.format, 33, 17);
        ASSERT_TRUE(info);
        ASSERT_TRUE(info->set_framerate(frac(25, 1)));
        ASSERT_TRUE(info->set_pixel_aspect_ratio(frac(16, 15)));
        auto back = VideoInfo::from_caps(info->to_caps());
        ASSERT_TRUE(back) << back.error().to_string();
        EXPECT_EQ(*back, *info) << fi.name;
        auto reparsed = VideoInfo::from_caps(parsed(info->to_caps().to_string()));
        ASSERT_TRUE(reparsed);
        EXPECT_EQ(*reparsed, *info) << fi.name;
    }
}

TEST(VideoInfoTest, SystemMemoryFeatureIsAccepted) {
    EXPECT_TRUE(VideoInfo::from_caps(parsed("video/x-raw(memory:SystemMemory), format=I420, width=2, height=2")));
    auto dmabuf = VideoInfo::from_caps(parsed("video/x-raw(memory:DMABuf), format=I420, width=2, height=2"));
    ASSERT_FALSE(dmabuf);
    EXPECT_TRUE(dmabuf.error().is(Errc::unsupported));
    EXPECT_NE(dmabuf.error().message().find("memory:DMABuf"), std::string::npos);
}

TEST(VideoInfoTest, ErrorsNameTheFieldAndTheValue) {
    EXPECT_EQ(error_of("video/x-raw, format=I42O, width=2, height=2").message(),
              "video/x-raw field 'format': unknown video format 'I42O'; did you mean I420?");
    EXPECT_EQ(error_of("video/x-raw, width=2, height=2").message(), "video/x-raw caps lack the field 'format'");
    EXPECT_EQ(error_of("video/x-raw, format=I420, height=2").message(), "video/x-raw caps lack the field 'width'");
    EXPECT_EQ(error_of("video/x-raw, format=I420, width=0, height=2").message(),
              "video/x-raw field 'width' is 0: it must be at least 1");
    EXPECT_EQ(error_of("video/x-raw, format=I420, width=2, height=-5").message(),
              "video/x-raw field 'height' is -5: it must be at least 1");
    EXPECT_EQ(error_of("video/x-raw, format=I420, width=(string)two, height=2").message(),
              "video/x-raw field 'width' is a string ('two'); expected an int");
    EXPECT_EQ(error_of("video/x-raw, format=I420, width=2, height=2, framerate=30").message(),
              "video/x-raw field 'framerate' is an int (30); expected a fraction");
    EXPECT_EQ(error_of("video/x-raw, format=I420, width=2, height=2, framerate=-30/1").message(),
              "video/x-raw field 'framerate' is -30/1: a frame rate cannot be negative (0/1 is a variable rate)");
    EXPECT_EQ(error_of("video/x-raw, format=I420, width=2, height=2, pixel-aspect-ratio=0/1").message(),
              "video/x-raw field 'pixel-aspect-ratio' is 0/1: a pixel aspect ratio must be positive");
    EXPECT_EQ(error_of("video/x-raw, format=I420, width=2, height=2, colorimetry=bt7O9").message(),
              "video/x-raw field 'colorimetry': unknown colorimetry 'bt7O9': expected a name (bt601, bt709, "
              "smpte240m, sRGB, bt2020, bt2020-10, bt2100-pq, bt2100-hlg) or range:matrix:transfer:primaries; "
              "did you mean bt709?");
    EXPECT_EQ(error_of("video/x-raw, format=I420, width=2, height=2, chroma-site=mpeg3").message(),
              "video/x-raw field 'chroma-site': unknown chroma-site 'mpeg3': expected jpeg, none, mpeg2, h-cosited, "
              "v-cosited, cosited, alt-line, dv or flags joined by '+'; did you mean mpeg2?");
}

TEST(VideoInfoTest, InterlacedVideoIsAClearError) {
    const Error error = error_of("video/x-raw, format=I420, width=2, height=2, interlace-mode=interleaved");
    EXPECT_TRUE(error.is(Errc::unsupported));
    EXPECT_EQ(error.message(),
              "video/x-raw field 'interlace-mode' is 'interleaved': only progressive video is supported");
    EXPECT_TRUE(error_of("video/x-raw, format=I420, width=2, height=2, interlace-mode=mixed").is(Errc::unsupported));
    EXPECT_TRUE(
        error_of("video/x-raw, format=I420, width=2, height=2, interlace-mode=sideways").is(Errc::invalid_argument));
}

TEST(VideoInfoTest, CapsMustBeOneFixedVideoStructure) {
    EXPECT_EQ(error_of("video/x-raw, format={ I420, NV12 }, width=2, height=2").message(),
              "video/x-raw caps are not fixed: field 'format' is a list ({ I420, NV12 })");
    EXPECT_EQ(error_of("video/x-raw, format=I420, width=[ 1, 100 ], height=2").message(),
              "video/x-raw caps are not fixed: field 'width' is an int range ([ 1, 100 ])");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE").message(), "expected video/x-raw caps, got audio/x-raw");
    EXPECT_EQ(error_of("ANY").message(), "expected fixed video/x-raw caps, got ANY");
    EXPECT_EQ(error_of("EMPTY").message(), "expected fixed video/x-raw caps, got EMPTY");
    EXPECT_EQ(
        error_of("video/x-raw, format=I420, width=2, height=2; video/x-raw, format=NV12, width=2, height=2").message(),
        "expected fixed video/x-raw caps with one structure, got 2");
}

TEST(VideoInfoTest, SettersCheckTheirValues) {
    auto info = VideoInfo::make(VideoFormat::i420, 2, 2);
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->set_framerate(frac(-1, 1)));
    EXPECT_TRUE(info->set_framerate(frac(0, 1)));
    EXPECT_FALSE(info->set_pixel_aspect_ratio(frac(0, 1)));
    EXPECT_FALSE(info->set_pixel_aspect_ratio(frac(-1, 2)));
    EXPECT_TRUE(info->set_pixel_aspect_ratio(frac(10, 11)));
    EXPECT_EQ(info->pixel_aspect_ratio(), frac(10, 11));
}

TEST(VideoInfoTest, BufferSizeCheckNamesBothSizes) {
    auto info = VideoInfo::make(VideoFormat::i420, 320, 240);
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->check_buffer_size(115200));
    EXPECT_TRUE(info->check_buffer_size(200000));
    auto small = info->check_buffer_size(115199);
    ASSERT_FALSE(small);
    EXPECT_TRUE(small.error().is(Errc::out_of_range));
    EXPECT_EQ(small.error().message(),
              "buffer of 115199 bytes is too small for a I420 320x240 frame: expected at least 115200 bytes");
    Error attached = small.error();
    attached.at_element("videoinvert0");
    EXPECT_EQ(attached.element(), "videoinvert0");
}

TEST(VideoInfoTest, AccessorsOfMissingPlanesAndComponentsAreZero) {
    auto info = VideoInfo::make(VideoFormat::gray8, 8, 8);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->stride(1), 0U);
    EXPECT_EQ(info->offset(7), 0U);
    EXPECT_EQ(info->plane_size(3), 0U);
    EXPECT_EQ(info->component_width(1), 0U);
    EXPECT_EQ(info->component_height(9), 0U);
}

} // namespace
} // namespace parallax::video_info_test
