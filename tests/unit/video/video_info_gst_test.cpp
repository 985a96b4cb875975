// VideoInfo against GStreamer's own gst_video_info_from_caps: the same caps
// must give the same plane layout, frame size, colorimetry and chroma site,
// and our caps must read back in GStreamer as what we meant.

#include <parallax/video/video_info.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <gst/gst.h>
#include <gst/video/video.h>
#include <optional>
#include <string>

namespace parallax::video_info_gst_test {
namespace {

void init_gstreamer() {
    static const bool initialized = [] {
        gst_init(nullptr, nullptr);
        return true;
    }();
    static_cast<void>(initialized);
}

// GStreamer's reading of a caps string, or nullopt when it refuses it.
std::optional<GstVideoInfo> gst_info_of(const std::string& caps_text) {
    init_gstreamer();
    GstCaps* caps = gst_caps_from_string(caps_text.c_str());
    if (caps == nullptr) {
        return std::nullopt;
    }
    GstVideoInfo info;
    const bool ok = gst_video_info_from_caps(&info, caps) != 0;
    gst_caps_unref(caps);
    if (!ok) {
        return std::nullopt;
    }
    return info;
}

struct Size {
    std::uint32_t width;
    std::uint32_t height;
};

// Odd and even sizes, tiny ones, and the common ones.
constexpr Size sizes[] = {{1, 1},       {2, 2},       {3, 3},       {5, 7},      {17, 1},    {1, 17},
                          {320, 240},   {321, 241},   {640, 479},   {720, 576},  {720, 577}, {1280, 720},
                          {1920, 1080}, {1921, 1081}, {3840, 2160}, {4095, 2161}};

TEST(VideoInfoGstTest, LayoutMatchesGStreamerForEveryFormatAndSize) {
    for (const VideoFormatInfo& fi : video_format_table) {
        for (const Size& size : sizes) {
            auto info = VideoInfo::make(fi.format, size.width, size.height);
            ASSERT_TRUE(info) << info.error().to_string();
            const std::string caps = info->to_caps().to_string();
            SCOPED_TRACE(caps);
            auto gst = gst_info_of(caps);
            ASSERT_TRUE(gst.has_value());
            EXPECT_EQ(GST_VIDEO_INFO_FORMAT(&*gst), gst_video_format_from_string(std::string(fi.name).c_str()));
            EXPECT_EQ(info->size(), gst->size);
            ASSERT_EQ(info->n_planes(), GST_VIDEO_INFO_N_PLANES(&*gst));
            for (std::size_t p = 0; p < info->n_planes(); ++p) {
                EXPECT_EQ(info->stride(p), static_cast<std::size_t>(gst->stride[p])) << "plane " << p;
                EXPECT_EQ(info->offset(p), gst->offset[p]) << "plane " << p;
            }
            for (std::size_t c = 0; c < info->n_components(); ++c) {
                EXPECT_EQ(info->component_width(c), static_cast<std::uint32_t>(GST_VIDEO_INFO_COMP_WIDTH(&*gst, c)))
                    << "component " << c;
                EXPECT_EQ(info->component_height(c), static_cast<std::uint32_t>(GST_VIDEO_INFO_COMP_HEIGHT(&*gst, c)))
                    << "component " << c;
            }
        }
    }
}

TEST(VideoInfoGstTest, FormatTableMatchesGStreamer) {
    init_gstreamer();
    for (const VideoFormatInfo& fi : video_format_table) {
        SCOPED_TRACE(fi.name);
        const GstVideoFormat gst_format = gst_video_format_from_string(std::string(fi.name).c_str());
        ASSERT_NE(gst_format, GST_VIDEO_FORMAT_UNKNOWN);
        const GstVideoFormatInfo* gst = gst_video_format_get_info(gst_format);
        EXPECT_EQ(fi.n_components, GST_VIDEO_FORMAT_INFO_N_COMPONENTS(gst));
        EXPECT_EQ(fi.n_planes, GST_VIDEO_FORMAT_INFO_N_PLANES(gst));
        EXPECT_EQ(fi.is_yuv(), GST_VIDEO_FORMAT_INFO_IS_YUV(gst) != 0);
        EXPECT_EQ(fi.is_rgb(), GST_VIDEO_FORMAT_INFO_IS_RGB(gst) != 0);
        EXPECT_EQ(fi.is_gray(), GST_VIDEO_FORMAT_INFO_IS_GRAY(gst) != 0);
        EXPECT_EQ(fi.has_alpha, GST_VIDEO_FORMAT_INFO_HAS_ALPHA(gst) != 0);
        if (fi.bits > 8) {
            EXPECT_EQ(fi.little_endian, GST_VIDEO_FORMAT_INFO_IS_LE(gst) != 0);
        }
        for (std::size_t c = 0; c < fi.n_components; ++c) {
            SCOPED_TRACE(c);
            const VideoComponentInfo& comp = fi.components[c];
            EXPECT_EQ(comp.plane, GST_VIDEO_FORMAT_INFO_PLANE(gst, c));
            EXPECT_EQ(comp.pixel_stride, GST_VIDEO_FORMAT_INFO_PSTRIDE(gst, c));
            EXPECT_EQ(comp.depth, GST_VIDEO_FORMAT_INFO_DEPTH(gst, c));
            EXPECT_EQ(comp.shift, GST_VIDEO_FORMAT_INFO_SHIFT(gst, c));
            EXPECT_EQ(comp.x_sub, GST_VIDEO_FORMAT_INFO_W_SUB(gst, c));
            EXPECT_EQ(comp.y_sub, GST_VIDEO_FORMAT_INFO_H_SUB(gst, c));
            if (fi.format == VideoFormat::p010_10le && c == video_comp::v) {
                // GStreamer 1.22 lists 1 here, though its own P010 packing
                // puts V in the second 16-bit word of each pair: byte 2.
                EXPECT_EQ(comp.offset, 2);
            } else {
                EXPECT_EQ(comp.offset, GST_VIDEO_FORMAT_INFO_POFFSET(gst, c));
            }
        }
    }
}

TEST(VideoInfoGstTest, DefaultsMatchGStreamer) {
    for (const VideoFormatInfo& fi : video_format_table) {
        for (const Size& size : sizes) {
            const std::string caps =
                fmt::format("video/x-raw, format={}, width={}, height={}", fi.name, size.width, size.height);
            SCOPED_TRACE(caps);
            auto ours = VideoInfo::from_caps(Caps::parse(caps).value());
            ASSERT_TRUE(ours) << ours.error().to_string();
            auto gst = gst_info_of(caps);
            ASSERT_TRUE(gst.has_value());
            const VideoColorimetry& c = ours->colorimetry();
            EXPECT_EQ(static_cast<int>(c.range), static_cast<int>(gst->colorimetry.range));
            EXPECT_EQ(static_cast<int>(c.matrix), static_cast<int>(gst->colorimetry.matrix));
            EXPECT_EQ(static_cast<int>(c.transfer), static_cast<int>(gst->colorimetry.transfer));
            EXPECT_EQ(static_cast<int>(c.primaries), static_cast<int>(gst->colorimetry.primaries));
            const int site = ours->chroma_site() ? static_cast<int>(*ours->chroma_site()) : 0;
            EXPECT_EQ(site, static_cast<int>(gst->chroma_site));
            EXPECT_EQ(ours->framerate().num(), GST_VIDEO_INFO_FPS_N(&*gst));
            EXPECT_EQ(ours->framerate().den(), GST_VIDEO_INFO_FPS_D(&*gst));
            EXPECT_EQ(ours->pixel_aspect_ratio().num(), GST_VIDEO_INFO_PAR_N(&*gst));
            EXPECT_EQ(ours->pixel_aspect_ratio().den(), GST_VIDEO_INFO_PAR_D(&*gst));
        }
    }
}

TEST(VideoInfoGstTest, ToCapsIsWhatGStreamerWrites) {
    for (const VideoFormatInfo& fi : video_format_table) {
        for (const char* extra : {"", ", framerate=30000/1001, pixel-aspect-ratio=16/15",
                                  ", colorimetry=bt709, chroma-site=mpeg2", ", colorimetry=1:4:0:0"}) {
            const std::string caps = fmt::format("video/x-raw, format={}, width=322, height=242{}", fi.name, extra);
            SCOPED_TRACE(caps);
            auto ours = VideoInfo::from_caps(Caps::parse(caps).value());
            ASSERT_TRUE(ours) << ours.error().to_string();
            auto gst = gst_info_of(caps);
            ASSERT_TRUE(gst.has_value());
            GstCaps* gst_caps = gst_video_info_to_caps(&*gst);
            gchar* text = gst_caps_to_string(gst_caps);
            EXPECT_EQ(ours->to_caps().to_string(), text);
            g_free(text);
            gst_caps_unref(gst_caps);
        }
    }
}

TEST(VideoInfoGstTest, ColorimetryStringsMatchGStreamer) {
    init_gstreamer();
    for (const char* text : {"bt601", "bt709", "bt2020", "bt2020-10", "bt2100-pq", "bt2100-hlg", "smpte240m", "sRGB",
                             "1:4:0:0", "2:4:16:4", "1:3:5:1", "2:6:13:7", "1:1:7:1", "0:3:0:0", "2:5:6:3"}) {
        SCOPED_TRACE(text);
        auto ours = VideoColorimetry::parse(text);
        ASSERT_TRUE(ours) << ours.error().to_string();
        GstVideoColorimetry gst;
        ASSERT_TRUE(gst_video_colorimetry_from_string(&gst, text));
        EXPECT_EQ(static_cast<int>(ours->range), static_cast<int>(gst.range));
        EXPECT_EQ(static_cast<int>(ours->matrix), static_cast<int>(gst.matrix));
        EXPECT_EQ(static_cast<int>(ours->transfer), static_cast<int>(gst.transfer));
        EXPECT_EQ(static_cast<int>(ours->primaries), static_cast<int>(gst.primaries));
        gchar* printed = gst_video_colorimetry_to_string(&gst);
        EXPECT_EQ(ours->to_string(), printed);
        g_free(printed);
    }
}

TEST(VideoInfoGstTest, ChromaSiteStringsMatchGStreamer) {
    init_gstreamer();
    for (const char* text : {"jpeg", "mpeg2", "dv", "none", "cosited", "v-cosited", "h-cosited", "alt-line",
                             "v-cosited+alt-line", "h-cosited+alt-line", "cosited+alt-line"}) {
        SCOPED_TRACE(text);
        auto ours = parse_video_chroma_site(text);
        ASSERT_TRUE(ours) << ours.error().to_string();
        const GstVideoChromaSite gst = gst_video_chroma_site_from_string(text);
        EXPECT_EQ(static_cast<int>(*ours), static_cast<int>(gst));
        gchar* printed = gst_video_chroma_site_to_string(gst);
        EXPECT_EQ(to_string(*ours), printed);
        g_free(printed);
    }
}

} // namespace
} // namespace parallax::video_info_gst_test
