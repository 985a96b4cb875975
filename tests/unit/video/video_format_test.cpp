#include <parallax/video/video_format.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace parallax {
namespace {

TEST(VideoFormatTest, TableFollowsTheEnumAndHasUniqueNames) {
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < video_format_table.size(); ++i) {
        const VideoFormatInfo& info = video_format_table[i];
        EXPECT_EQ(static_cast<std::size_t>(info.format), i);
        EXPECT_TRUE(names.insert(info.name).second) << info.name;
        EXPECT_FALSE(info.description.empty()) << info.name;
    }
    EXPECT_EQ(names.size(), 25U);
}

TEST(VideoFormatTest, EveryNameReadsBackAsItsFormat) {
    for (const VideoFormatInfo& info : video_format_table) {
        auto format = video_format_from_string(info.name);
        ASSERT_TRUE(format) << format.error().to_string();
        EXPECT_EQ(*format, info.format);
        EXPECT_EQ(to_string(info.format), info.name);
    }
}

TEST(VideoFormatTest, UnknownNameSuggestsTheClosestFormat) {
    auto format = video_format_from_string("I42O");
    ASSERT_FALSE(format);
    EXPECT_TRUE(format.error().is(Errc::invalid_argument));
    EXPECT_EQ(format.error().message(), "unknown video format 'I42O'; did you mean I420?");

    EXPECT_EQ(video_format_from_string("nv12").error().message(), "unknown video format 'nv12'; did you mean NV12?");
    EXPECT_EQ(video_format_from_string("RGBX").error().message(), "unknown video format 'RGBX'; did you mean RGBx?");
    EXPECT_EQ(video_format_from_string("P010").error().message(),
              "unknown video format 'P010'; did you mean P010_10LE?");
}

TEST(VideoFormatTest, UnknownNameFarFromAnyFormatListsTheKnownOnes) {
    auto format = video_format_from_string("H264-BYTESTREAM");
    ASSERT_FALSE(format);
    EXPECT_NE(format.error().message().find("known formats: I420, YV12, NV12"), std::string::npos)
        << format.error().message();
    EXPECT_FALSE(video_format_from_string(""));
}

TEST(VideoFormatTest, DescribesPlanarYuv) {
    constexpr const VideoFormatInfo& i420 = video_format_info(VideoFormat::i420);
    static_assert(i420.n_planes == 3 && i420.n_components == 3);
    EXPECT_TRUE(i420.is_yuv());
    EXPECT_TRUE(i420.is_planar());
    EXPECT_FALSE(i420.has_alpha);
    EXPECT_EQ(i420.depth, 8);
    EXPECT_EQ(i420.chroma_subsampling(), "4:2:0");
    EXPECT_EQ(i420.components[video_comp::u].plane, 1);
    EXPECT_EQ(i420.components[video_comp::v].plane, 2);

    const VideoFormatInfo& yv12 = video_format_info(VideoFormat::yv12);
    EXPECT_EQ(yv12.components[video_comp::u].plane, 2);
    EXPECT_EQ(yv12.components[video_comp::v].plane, 1);

    EXPECT_EQ(video_format_info(VideoFormat::y42b).chroma_subsampling(), "4:2:2");
    EXPECT_EQ(video_format_info(VideoFormat::y444).chroma_subsampling(), "4:4:4");
}

TEST(VideoFormatTest, DescribesSemiPlanarYuv) {
    const VideoFormatInfo& nv12 = video_format_info(VideoFormat::nv12);
    EXPECT_EQ(nv12.n_planes, 2);
    EXPECT_EQ(nv12.planes[1].pixel_stride, 2);
    EXPECT_EQ(nv12.components[video_comp::u].offset, 0);
    EXPECT_EQ(nv12.components[video_comp::v].offset, 1);
    const VideoFormatInfo& nv21 = video_format_info(VideoFormat::nv21);
    EXPECT_EQ(nv21.components[video_comp::u].offset, 1);
    EXPECT_EQ(nv21.components[video_comp::v].offset, 0);

    const VideoFormatInfo& p010 = video_format_info(VideoFormat::p010_10le);
    EXPECT_EQ(p010.depth, 10);
    EXPECT_EQ(p010.bits, 16);
    EXPECT_TRUE(p010.little_endian);
    EXPECT_EQ(p010.planes[0].pixel_stride, 2);
    EXPECT_EQ(p010.planes[1].pixel_stride, 4);
    EXPECT_EQ(p010.components[video_comp::v].offset, 2);
    EXPECT_EQ(p010.components[video_comp::y].shift, 6);
    EXPECT_EQ(video_format_info(VideoFormat::i420_10le).components[video_comp::y].shift, 0);
}

TEST(VideoFormatTest, DescribesPackedFormats) {
    const VideoFormatInfo& yuy2 = video_format_info(VideoFormat::yuy2);
    EXPECT_TRUE(yuy2.packed);
    EXPECT_EQ(yuy2.chroma_subsampling(), "4:2:2");
    EXPECT_EQ(yuy2.planes[0].group, 2);
    EXPECT_EQ(yuy2.components[video_comp::y].pixel_stride, 2);
    EXPECT_EQ(yuy2.components[video_comp::u].pixel_stride, 4);
    EXPECT_EQ(yuy2.components[video_comp::v].offset, 3);
    EXPECT_EQ(video_format_info(VideoFormat::uyvy).components[video_comp::y].offset, 1);

    const VideoFormatInfo& argb = video_format_info(VideoFormat::argb);
    EXPECT_TRUE(argb.is_rgb());
    EXPECT_TRUE(argb.has_alpha);
    EXPECT_EQ(argb.n_components, 4);
    EXPECT_EQ(argb.components[video_comp::a].offset, 0);
    EXPECT_EQ(argb.components[video_comp::r].offset, 1);
    EXPECT_EQ(argb.chroma_subsampling(), "");

    const VideoFormatInfo& bgrx = video_format_info(VideoFormat::bgrx);
    EXPECT_FALSE(bgrx.has_alpha);
    EXPECT_EQ(bgrx.n_components, 3);
    EXPECT_EQ(bgrx.planes[0].pixel_stride, 4);
    EXPECT_EQ(bgrx.components[video_comp::b].offset, 0);
    EXPECT_EQ(bgrx.components[video_comp::r].offset, 2);

    EXPECT_EQ(video_format_info(VideoFormat::rgb).planes[0].pixel_stride, 3);
}

TEST(VideoFormatTest, DescribesGray) {
    const VideoFormatInfo& gray8 = video_format_info(VideoFormat::gray8);
    EXPECT_TRUE(gray8.is_gray());
    EXPECT_EQ(gray8.n_components, 1);
    EXPECT_FALSE(gray8.little_endian);
    const VideoFormatInfo& gray16 = video_format_info(VideoFormat::gray16_le);
    EXPECT_EQ(gray16.depth, 16);
    EXPECT_EQ(gray16.planes[0].pixel_stride, 2);
    EXPECT_TRUE(gray16.little_endian);
}

TEST(VideoFormatTest, ComponentsLieInsideTheirPlanes) {
    for (const VideoFormatInfo& info : video_format_table) {
        for (std::size_t c = 0; c < info.n_components; ++c) {
            const VideoComponentInfo& comp = info.components[c];
            ASSERT_LT(comp.plane, info.n_planes) << info.name;
            const VideoPlaneInfo& plane = info.planes[comp.plane];
            EXPECT_LE(comp.offset + info.bits / 8, comp.pixel_stride) << info.name << " component " << c;
            // A component's samples are no denser than its plane's sites.
            EXPECT_GE(comp.x_sub, plane.x_sub) << info.name;
            EXPECT_EQ(comp.y_sub, plane.y_sub) << info.name;
        }
    }
}

} // namespace
} // namespace parallax
