#include <parallax/video/video_colorimetry.hpp>

#include <gtest/gtest.h>

#include <string>

namespace parallax {
namespace {

TEST(VideoColorimetryTest, NamedColorimetriesHaveGStreamersValues) {
    struct Case {
        const char* name;
        const char* numeric;
    };
    // Read off GStreamer 1.22's gst_video_colorimetry_from_string.
    const Case cases[] = {
        {"bt601", "2:4:16:4"},     {"bt709", "2:3:5:1"},       {"bt2020", "2:6:11:7"},   {"bt2020-10", "2:6:13:7"},
        {"bt2100-pq", "2:6:14:7"}, {"bt2100-hlg", "2:6:15:7"}, {"smpte240m", "2:5:6:5"}, {"sRGB", "1:1:7:1"},
    };
    for (const Case& c : cases) {
        auto named = VideoColorimetry::parse(c.name);
        ASSERT_TRUE(named) << c.name << ": " << named.error().to_string();
        auto numeric = VideoColorimetry::parse(c.numeric);
        ASSERT_TRUE(numeric) << c.numeric;
        EXPECT_EQ(*named, *numeric) << c.name;
        EXPECT_EQ(named->to_string(), c.name);
        EXPECT_EQ(numeric->to_string(), c.name);
    }
    EXPECT_EQ(VideoColorimetry::parse("bt601").value(), VideoColorimetry::bt601());
    EXPECT_EQ(VideoColorimetry::parse("bt709").value(), VideoColorimetry::bt709());
    EXPECT_EQ(VideoColorimetry::parse("bt2020").value(), VideoColorimetry::bt2020());
    EXPECT_EQ(VideoColorimetry::parse("sRGB").value(), VideoColorimetry::srgb());
}

TEST(VideoColorimetryTest, OtherCombinationsUseTheNumericForm) {
    auto full_601 = VideoColorimetry::parse("1:4:0:0");
    ASSERT_TRUE(full_601);
    EXPECT_EQ(full_601->range, VideoColorRange::full);
    EXPECT_EQ(full_601->matrix, VideoColorMatrix::bt601);
    EXPECT_EQ(full_601->transfer, VideoTransferFunction::unknown);
    EXPECT_EQ(full_601->primaries, VideoColorPrimaries::unknown);
    EXPECT_EQ(full_601->to_string(), "1:4:0:0");

    // Full-range BT.709 is not bt709.
    VideoColorimetry full_709 = VideoColorimetry::bt709();
    full_709.range = VideoColorRange::full;
    EXPECT_EQ(full_709.to_string(), "1:3:5:1");
    EXPECT_EQ(VideoColorimetry::parse("1:3:5:1").value(), full_709);

    EXPECT_EQ(VideoColorimetry::parse("02:4:16:4").value(), VideoColorimetry::bt601());
}

TEST(VideoColorimetryTest, AllUnknownPrintsNothing) {
    EXPECT_TRUE(VideoColorimetry{}.is_unknown());
    EXPECT_EQ(VideoColorimetry{}.to_string(), "");
    EXPECT_EQ(VideoColorimetry::parse("0:0:0:0").value(), VideoColorimetry{});
}

TEST(VideoColorimetryTest, MalformedStringsAreErrorsNamingThePart) {
    EXPECT_EQ(VideoColorimetry::parse("3:4:16:4").error().message(),
              "colorimetry '3:4:16:4': range 3 is not a known value (0 to 2)");
    EXPECT_EQ(VideoColorimetry::parse("2:7:16:4").error().message(),
              "colorimetry '2:7:16:4': matrix 7 is not a known value (0 to 6)");
    EXPECT_EQ(VideoColorimetry::parse("2:4:17:4").error().message(),
              "colorimetry '2:4:17:4': transfer 17 is not a known value (0 to 16)");
    EXPECT_EQ(VideoColorimetry::parse("2:4:16:13").error().message(),
              "colorimetry '2:4:16:13': primaries 13 is not a known value (0 to 12)");
    EXPECT_EQ(VideoColorimetry::parse("2:x:16:4").error().message(),
              "colorimetry '2:x:16:4': the matrix 'x' is not a number");
    EXPECT_EQ(VideoColorimetry::parse("2:-4:16:4").error().message(),
              "colorimetry '2:-4:16:4': the matrix '-4' is not a number");
    for (const char* bad : {"", "2:4:16", "2:4:16:4:1", " 2:4:16:4", "BT709", "2::16:4", "4294967298:0:0:0"}) {
        auto parsed = VideoColorimetry::parse(bad);
        ASSERT_FALSE(parsed) << bad;
        EXPECT_TRUE(parsed.error().is(Errc::invalid_argument)) << bad;
    }
    EXPECT_NE(VideoColorimetry::parse("srgb").error().message().find("did you mean sRGB?"), std::string::npos);
}

TEST(VideoColorimetryTest, ChromaSitesReadAndPrintAsInGStreamer) {
    struct Case {
        const char* text;
        VideoChromaSite site;
        const char* printed;
    };
    const Case cases[] = {
        {"jpeg", VideoChromaSite::jpeg, "jpeg"},
        {"none", VideoChromaSite::jpeg, "jpeg"},
        {"mpeg2", VideoChromaSite::mpeg2, "mpeg2"},
        {"h-cosited", VideoChromaSite::mpeg2, "mpeg2"},
        {"v-cosited", VideoChromaSite::v_cosited, "v-cosited"},
        {"cosited", VideoChromaSite::cosited, "cosited"},
        {"h-cosited+v-cosited", VideoChromaSite::cosited, "cosited"},
        {"alt-line", VideoChromaSite::alt_line, "alt-line"},
        {"h-cosited+alt-line", VideoChromaSite::h_cosited_alt_line, "h-cosited+alt-line"},
        {"mpeg2+alt-line", VideoChromaSite::h_cosited_alt_line, "h-cosited+alt-line"},
        {"v-cosited+alt-line", VideoChromaSite::v_cosited_alt_line, "v-cosited+alt-line"},
        {"cosited+alt-line", VideoChromaSite::dv, "dv"},
        {"dv", VideoChromaSite::dv, "dv"},
    };
    for (const Case& c : cases) {
        auto site = parse_video_chroma_site(c.text);
        ASSERT_TRUE(site) << c.text << ": " << site.error().to_string();
        EXPECT_EQ(*site, c.site) << c.text;
        EXPECT_EQ(to_string(*site), c.printed) << c.text;
    }
    for (const char* bad : {"", "unknown", "jpeg+alt-line", "none+alt-line", "left", "mpeg2+", "+dv"}) {
        auto site = parse_video_chroma_site(bad);
        ASSERT_FALSE(site) << bad;
        EXPECT_TRUE(site.error().is(Errc::invalid_argument)) << bad;
    }
}

TEST(VideoColorimetryTest, H273CodePointsMapToGStreamersNames) {
    EXPECT_EQ(video_color_matrix_from_iso(0), VideoColorMatrix::rgb);
    EXPECT_EQ(video_color_matrix_from_iso(1), VideoColorMatrix::bt709);
    EXPECT_EQ(video_color_matrix_from_iso(5), VideoColorMatrix::bt601);
    EXPECT_EQ(video_color_matrix_from_iso(6), VideoColorMatrix::bt601);
    EXPECT_EQ(video_color_matrix_from_iso(9), VideoColorMatrix::bt2020);
    EXPECT_EQ(video_color_matrix_from_iso(2), VideoColorMatrix::unknown); // "unspecified"
    EXPECT_EQ(video_transfer_function_from_iso(1), VideoTransferFunction::bt709);
    EXPECT_EQ(video_transfer_function_from_iso(16), VideoTransferFunction::smpte2084);
    EXPECT_EQ(video_transfer_function_from_iso(18), VideoTransferFunction::arib_std_b67);
    EXPECT_EQ(video_transfer_function_from_iso(255), VideoTransferFunction::unknown);
    EXPECT_EQ(video_color_primaries_from_iso(1), VideoColorPrimaries::bt709);
    EXPECT_EQ(video_color_primaries_from_iso(9), VideoColorPrimaries::bt2020);
    EXPECT_EQ(video_color_primaries_from_iso(6), VideoColorPrimaries::smpte170m);
    EXPECT_EQ(video_color_primaries_from_iso(1000), VideoColorPrimaries::unknown);
}

} // namespace
} // namespace parallax
