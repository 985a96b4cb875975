#include <parallax/caps/caps.hpp>
#include <parallax/caps/caps_ops.hpp>

#include "support/caps_helpers.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace parallax {
namespace {

using check::frac;
using check::parsed;

// The value of field `field` of the only structure of `text`.
CapsValue field_of(std::string_view text, std::string_view field) {
    const Caps caps = parsed(text);
    EXPECT_EQ(caps.size(), 1U) << text;
    const CapsValue* v = caps.size() == 1 ? caps.structure(0).get(field) : nullptr;
    EXPECT_NE(v, nullptr) << text;
    return v != nullptr ? *v : CapsValue("missing");
}

// --- The data model ------------------------------------------------------------

TEST(CapsTest, DefaultAndEmptyAreEmpty) {
    EXPECT_TRUE(Caps().is_empty());
    EXPECT_TRUE(Caps::empty().is_empty());
    EXPECT_FALSE(Caps::empty().is_any());
    EXPECT_EQ(Caps::empty().size(), 0U);
    EXPECT_EQ(Caps(), Caps::empty());
}

TEST(CapsTest, AnyIsNeitherEmptyNorFixed) {
    const Caps any = Caps::any();
    EXPECT_TRUE(any.is_any());
    EXPECT_FALSE(any.is_empty());
    EXPECT_FALSE(any.is_fixed());
    EXPECT_EQ(any.size(), 0U);
    EXPECT_NE(any, Caps::empty());
}

TEST(CapsTest, AppendAddsStructuresWithFeatures) {
    Caps caps;
    Structure video("video/x-raw");
    video.set("width", 640);
    caps.append(video, {"memory:SystemMemory"});
    caps.append(Structure("audio/x-raw"));
    ASSERT_EQ(caps.size(), 2U);
    EXPECT_FALSE(caps.is_empty());
    EXPECT_EQ(caps.structure(0), video);
    EXPECT_EQ(caps.features(0), CapsFeatures{"memory:SystemMemory"});
    EXPECT_EQ(caps.structure(1).name(), "audio/x-raw");
    EXPECT_TRUE(caps.features(1).empty());
}

TEST(CapsTest, AppendToAnyLeavesAny) {
    Caps caps = Caps::any();
    caps.append(Structure("video/x-raw"));
    EXPECT_TRUE(caps.is_any());
    EXPECT_EQ(caps.size(), 0U);
}

TEST(CapsTest, AppendAbortsOnAnInvalidFeature) {
    Caps caps;
    EXPECT_DEATH(caps.append(Structure("video/x-raw"), {"not a feature"}), "invalid caps feature 'not a feature'");
}

TEST(CapsTest, IsFixedNeedsOneStructureOfFixedFields) {
    EXPECT_TRUE(parsed("video/x-raw, format=I420, width=640").is_fixed());
    EXPECT_TRUE(parsed("video/x-raw").is_fixed());
    EXPECT_FALSE(parsed("video/x-raw, width=[ 1, 2 ]").is_fixed());
    EXPECT_FALSE(parsed("video/x-raw, format={ I420, NV12 }").is_fixed());
    EXPECT_FALSE(parsed("video/x-raw; video/x-bayer").is_fixed());
    EXPECT_FALSE(Caps::empty().is_fixed());
}

TEST(CapsTest, EqualityIsStrict) {
    EXPECT_EQ(parsed("video/x-raw, width=640"), parsed("video/x-raw,width=(int)640"));
    EXPECT_NE(parsed("video/x-raw, width=640"), parsed("video/x-raw, width=641"));
    EXPECT_NE(parsed("video/x-raw; audio/x-raw"), parsed("audio/x-raw; video/x-raw"));
    EXPECT_NE(parsed("video/x-raw(memory:SystemMemory)"), parsed("video/x-raw"));
    EXPECT_NE(parsed("video/x-raw(a:b, c:d)"), parsed("video/x-raw(c:d, a:b)"));
}

// --- Printing --------------------------------------------------------------------

TEST(CapsTest, PrintsAnyAndEmptyAsKeywords) {
    EXPECT_EQ(Caps::any().to_string(), "ANY");
    EXPECT_EQ(Caps::empty().to_string(), "EMPTY");
}

TEST(CapsTest, PrintsTheCanonicalForm) {
    EXPECT_EQ(parsed("video/x-raw(memory:SystemMemory),format=I420,width=640,framerate=30/1;audio/x-raw").to_string(),
              "video/x-raw(memory:SystemMemory), format=(string)I420, width=(int)640, framerate=(fraction)30/1; "
              "audio/x-raw");
    EXPECT_EQ(parsed("video/x-raw(memory:GLMemory,meta:GstVideoOverlayComposition)").to_string(),
              "video/x-raw(memory:GLMemory, meta:GstVideoOverlayComposition)");
    EXPECT_EQ(parsed("video/x-raw,format={I420,NV12},width=[1,100],framerate=[0/1,30/1],r=(double)[1,2.5]").to_string(),
              "video/x-raw, format=(string){ I420, NV12 }, width=(int)[ 1, 100 ], framerate=(fraction)[ 0/1, 30/1 ], "
              "r=(double)[ 1, 2.5 ]");
    EXPECT_EQ(parsed("a/b, s=\"a b\\\"c\", e=6/4, m=(bitmask)0x3, f=(float)30").to_string(),
              "a/b, s=(string)\"a\\ b\\\"c\", e=(fraction)3/2, m=(bitmask)0x0000000000000003, f=(double)30");
}

// --- Parsing -----------------------------------------------------------------------

TEST(CapsTest, ParsesKeywordsAndEmptyText) {
    EXPECT_TRUE(parsed("ANY").is_any());
    EXPECT_TRUE(parsed("  ANY\n").is_any());
    EXPECT_TRUE(parsed("EMPTY").is_empty());
    EXPECT_TRUE(parsed("NONE").is_empty());
    EXPECT_TRUE(parsed("").is_empty());
    EXPECT_TRUE(parsed(" \t ").is_empty());
    EXPECT_EQ(parsed("any").structure(0).name(), "any"); // keywords are upper case, as in GStreamer
}

TEST(CapsTest, ParsesStructuresFeaturesAndFields) {
    const Caps caps = parsed("  video/x-raw(memory:DMABuf , meta:Foo) , width = 640 ,height=480 ; audio/x-raw ; ");
    ASSERT_EQ(caps.size(), 2U);
    EXPECT_EQ(caps.structure(0).name(), "video/x-raw");
    EXPECT_EQ(caps.features(0), (CapsFeatures{"memory:DMABuf", "meta:Foo"}));
    EXPECT_EQ(caps.structure(0).get_int("width"), 640);
    EXPECT_EQ(caps.structure(0).get_int("height"), 480);
    EXPECT_EQ(caps.structure(1).name(), "audio/x-raw");
    EXPECT_TRUE(caps.structure(1).empty());
}

TEST(CapsTest, ARepeatedFieldKeepsTheLastValue) {
    const Caps caps = parsed("video/x-raw, width=1, height=2, width=3");
    ASSERT_EQ(caps.structure(0).size(), 2U);
    EXPECT_EQ(caps.structure(0).fields()[0].name, "width");
    EXPECT_EQ(caps.structure(0).get_int("width"), 3);
}

TEST(CapsTest, InfersUntypedValuesAsGStreamerDoes) {
    EXPECT_EQ(field_of("a/b, v=640", "v"), CapsValue(640));
    EXPECT_EQ(field_of("a/b, v=-7", "v"), CapsValue(-7));
    EXPECT_EQ(field_of("a/b, v=+7", "v"), CapsValue(7));
    EXPECT_EQ(field_of("a/b, v=0x10", "v"), CapsValue(16));
    EXPECT_EQ(field_of("a/b, v=1.5", "v"), CapsValue(1.5));
    EXPECT_EQ(field_of("a/b, v=.5", "v"), CapsValue(0.5));
    EXPECT_EQ(field_of("a/b, v=2e3", "v"), CapsValue(2000.0));
    EXPECT_EQ(field_of("a/b, v=-1.5E-1", "v"), CapsValue(-0.15));
    EXPECT_EQ(field_of("a/b, v=30000/1001", "v"), CapsValue(frac(30000, 1001)));
    EXPECT_EQ(field_of("a/b, v=true", "v"), CapsValue(true));
    EXPECT_EQ(field_of("a/b, v=FALSE", "v"), CapsValue(false));
    EXPECT_EQ(field_of("a/b, v=yes", "v"), CapsValue(true));
    EXPECT_EQ(field_of("a/b, v=no", "v"), CapsValue(false));
    EXPECT_EQ(field_of("a/b, v=I420", "v"), CapsValue("I420"));
    EXPECT_EQ(field_of("a/b, v=inf", "v"), CapsValue("inf")); // no inf or nan doubles
    EXPECT_EQ(field_of("a/b, v=1.2.3", "v"), CapsValue("1.2.3"));
    EXPECT_EQ(field_of("a/b, v=\"12\"", "v"), CapsValue("12")); // quoted is a string
}

TEST(CapsTest, ParsesEveryTypePrefix) {
    for (const char* t : {"int", "i", "gint"}) {
        EXPECT_EQ(field_of(std::string("a/b, v=(") + t + ")5", "v"), CapsValue(5)) << t;
    }
    for (const char* t : {"double", "d", "gdouble", "float", "f", "gfloat"}) {
        EXPECT_EQ(field_of(std::string("a/b, v=(") + t + ")5", "v"), CapsValue(5.0)) << t;
    }
    for (const char* t : {"boolean", "bool", "b", "gboolean"}) {
        EXPECT_EQ(field_of(std::string("a/b, v=(") + t + ")1", "v"), CapsValue(true)) << t;
    }
    for (const char* t : {"string", "str", "s", "gchararray"}) {
        EXPECT_EQ(field_of(std::string("a/b, v=(") + t + ")5", "v"), CapsValue("5")) << t;
    }
    for (const char* t : {"fraction", "GstFraction"}) {
        EXPECT_EQ(field_of(std::string("a/b, v=(") + t + ")5", "v"), CapsValue(frac(5, 1))) << t;
    }
    for (const char* t : {"bitmask", "GstBitmask"}) {
        EXPECT_EQ(field_of(std::string("a/b, v=(") + t + ")0xff", "v"), CapsValue(Bitmask{255})) << t;
    }
    EXPECT_EQ(field_of("a/b, v=( int ) 5", "v"), CapsValue(5));
    EXPECT_EQ(field_of("a/b, v=(double)1.25", "v"), CapsValue(1.25));
    EXPECT_EQ(field_of("a/b, v=(double)0x10", "v"), CapsValue(16.0));
    EXPECT_EQ(field_of("a/b, v=(boolean)f", "v"), CapsValue(false));
    EXPECT_EQ(field_of("a/b, v=(string)\"a b\"", "v"), CapsValue("a b"));
    EXPECT_EQ(field_of("a/b, v=(string)true", "v"), CapsValue("true"));
    EXPECT_EQ(field_of("a/b, v=(fraction)-6/4", "v"), CapsValue(frac(-3, 2)));
    EXPECT_EQ(field_of("a/b, v=(bitmask)18446744073709551615", "v"), CapsValue(Bitmask{~std::uint64_t{0}}));
    EXPECT_EQ(field_of("a/b, v=(int)-2147483648", "v"), CapsValue(-2147483647 - 1));
    for (const char* t : {"buffer", "GstBuffer"}) {
        EXPECT_EQ(field_of(std::string("a/b, v=(") + t + ")0aFf81", "v"), CapsValue(Bytes{{0x0a, 0xff, 0x81}})) << t;
    }
    EXPECT_EQ(field_of("a/b, v=(buffer)\"\"", "v"), CapsValue(Bytes{}));
}

TEST(CapsTest, PrintsBuffersAsHexadecimalThatReadsBack) {
    Structure s("video/x-av1");
    s.set("codec_data", Bytes{{0x81, 0x00, 0x0c, 0x00}});
    s.set("empty", Bytes{});
    Caps caps;
    caps.append(s);
    EXPECT_EQ(caps.to_string(), "video/x-av1, codec_data=(buffer)81000c00, empty=(buffer)\"\"");
    EXPECT_EQ(parsed(caps.to_string()), caps);
    // A buffer is fixed and intersects only with an equal buffer.
    EXPECT_TRUE(caps.is_fixed());
    EXPECT_FALSE(can_intersect(parsed("video/x-av1, codec_data=(buffer)81000c00"),
                               parsed("video/x-av1, codec_data=(buffer)81000c01")));
    EXPECT_TRUE(can_intersect(caps, parsed("video/x-av1")));
}

TEST(CapsTest, UnescapesQuotedStrings) {
    EXPECT_EQ(field_of(R"(a/b, v="say \"hi\"")", "v"), CapsValue("say \"hi\""));
    EXPECT_EQ(field_of(R"(a/b, v="a\\b")", "v"), CapsValue("a\\b"));
    EXPECT_EQ(field_of(R"(a/b, v="\x\ \,")", "v"), CapsValue("x ,"));
    EXPECT_EQ(field_of(R"(a/b, v="\303\251\011")", "v"), CapsValue("\xc3\xa9\t"));
    EXPECT_EQ(field_of(R"(a/b, v="")", "v"), CapsValue(""));
    EXPECT_EQ(field_of("a/b, v=\"a;b,c=d\"", "v"), CapsValue("a;b,c=d"));
}

TEST(CapsTest, ParsesRanges) {
    EXPECT_EQ(field_of("a/b, v=[ 1, 100 ]", "v"), CapsValue(IntRange::make(1, 100).value()));
    EXPECT_EQ(field_of("a/b, v=(int)[1,100]", "v"), CapsValue(IntRange::make(1, 100).value()));
    EXPECT_EQ(field_of("a/b, v=[ 0.5, 2.5 ]", "v"), CapsValue(DoubleRange::make(0.5, 2.5).value()));
    EXPECT_EQ(field_of("a/b, v=(double)[ 1, 2 ]", "v"), CapsValue(DoubleRange::make(1, 2).value()));
    EXPECT_EQ(field_of("a/b, v=[ 0/1, 30/1 ]", "v"), CapsValue(FractionRange::make(frac(0, 1), frac(30, 1)).value()));
    EXPECT_EQ(field_of("a/b, v=(fraction)[ 0, 30 ]", "v"),
              CapsValue(FractionRange::make(frac(0, 1), frac(30, 1)).value()));
}

TEST(CapsTest, ParsesLists) {
    EXPECT_EQ(field_of("a/b, v={ I420, NV12 }", "v"), CapsValue::list({CapsValue("I420"), CapsValue("NV12")}).value());
    EXPECT_EQ(field_of("a/b, v=(string){ I420, \"NV 12\" }", "v"),
              CapsValue::list({CapsValue("I420"), CapsValue("NV 12")}).value());
    EXPECT_EQ(field_of("a/b, v={ (string)I420, (string)NV12 }", "v"),
              CapsValue::list({CapsValue("I420"), CapsValue("NV12")}).value());
    EXPECT_EQ(field_of("a/b, v=(int){1,2,3}", "v"),
              CapsValue::list({CapsValue(1), CapsValue(2), CapsValue(3)}).value());
    EXPECT_EQ(field_of("a/b, v=(double){ 1, 2.5 }", "v"), CapsValue::list({CapsValue(1.0), CapsValue(2.5)}).value());
    EXPECT_EQ(field_of("a/b, v={ 30/1, 25/1 }", "v"),
              CapsValue::list({CapsValue(frac(30, 1)), CapsValue(frac(25, 1))}).value());
}

// --- Errors ------------------------------------------------------------------------

struct BadCaps {
    std::string_view text;
    std::size_t position;
    std::string_view message; // a part of the error message
};

void PrintTo(const BadCaps& bad, std::ostream* os) {
    *os << '"' << bad.text << '"';
}

class CapsErrorTest : public ::testing::TestWithParam<BadCaps> {};

TEST_P(CapsErrorTest, ReportsWhatWasExpectedAndWhere) {
    const BadCaps& bad = GetParam();
    auto caps = Caps::parse(bad.text);
    ASSERT_FALSE(caps) << bad.text;
    EXPECT_TRUE(caps.error().is(Errc::invalid_argument));
    EXPECT_EQ(caps.error().position(), bad.position) << bad.text << ": " << caps.error().message();
    EXPECT_NE(caps.error().message().find(bad.message), std::string::npos)
        << bad.text << ": " << caps.error().message();
}

// Positions are byte offsets:      0         1         2         3
//                                  0123456789012345678901234567890123456789
INSTANTIATE_TEST_SUITE_P(
    CapsTest, CapsErrorTest,
    ::testing::Values(
        BadCaps{"video/x-raw, s=\"unterminated", 15, "unterminated quoted string"},
        BadCaps{"video/x-raw, s=\"ends in \\", 15, "unterminated quoted string"},
        BadCaps{"video/x-raw, s=\"\\0\"", 16, "three octal digits"},
        BadCaps{"video/x-raw, width 640", 19, "expected '='"}, BadCaps{"video/x-raw, width", 18, "expected '='"},
        BadCaps{"video/x-raw, width=(integer)640", 20, "unknown type 'integer'"},
        BadCaps{"video/x-raw, width=(int 640", 24, "expected ')' after the type name"},
        BadCaps{"video/x-raw, width=()640", 20, "expected a type name"},
        BadCaps{"video/x-raw, width=[ 1 ]", 23, "expected ',' and the range maximum"},
        BadCaps{"video/x-raw, width=[ 1, ]", 24, "expected the range maximum"},
        BadCaps{"video/x-raw, width=[ ]", 21, "expected the range minimum"},
        BadCaps{"video/x-raw, width=[ 1, 2, 3 ]", 25, "expected ']'"},
        BadCaps{"video/x-raw, width=[ 5, 1 ]", 24, "minimum must be less than its maximum"},
        BadCaps{"video/x-raw, width=[ 1, 1 ]", 24, "minimum must be less than its maximum"},
        BadCaps{"video/x-raw, width=[ 1, 2.5 ]", 24, "same type, not int and double"},
        BadCaps{"video/x-raw, width=[ a, b ]", 21, "ints, doubles or fractions, not a string"},
        BadCaps{"video/x-raw, format={ I420, 5 }", 28, "same type: expected string, found int"},
        BadCaps{"video/x-raw, format={ 1, (string)2 }", 25, "same type: expected int, found string"},
        BadCaps{"video/x-raw, format={ }", 22, "expected a list value"},
        BadCaps{"video/x-raw, format={ a, }", 25, "expected a list value"},
        BadCaps{"video/x-raw, format={ a b }", 24, "expected ',' or '}'"},
        BadCaps{"video/x-raw, format={ [ 1, 2 ] }", 22, "expected a list value"},
        BadCaps{"video/x-raw, =5", 13, "expected a field name"}, BadCaps{"video/x-raw,", 12, "expected a field name"},
        BadCaps{"video/x-raw, width=", 19, "expected a value"}, BadCaps{"video/x-raw, width=,", 19, "expected a value"},
        BadCaps{"video/x-raw, a=< 1, 2 >", 15, "expected a value"},
        BadCaps{"video/x-raw garbage", 12, "expected ',', ';' or the end"},
        BadCaps{"video/x-raw, width=5 6", 21, "expected ',', ';' or the end"},
        BadCaps{"video/x-raw (memory:X)", 12, "expected ',', ';' or the end"},
        BadCaps{"video/x-raw, s=\"a\"b", 18, "expected ',', ';' or the end"},
        BadCaps{"video/x-raw, width=(int)3000000000", 24, "int out of range"},
        BadCaps{"video/x-raw, width=-2147483649", 19, "int out of range"},
        BadCaps{"video/x-raw, width=99999999999999999999", 19, "int out of range"},
        BadCaps{"video/x-raw, width=(int)abc", 24, "expected an int"},
        BadCaps{"video/x-raw, width=(int)\"5\"", 24, "only strings are quoted"},
        BadCaps{"video/x-raw, framerate=30/0", 26, "denominator must not be zero"},
        BadCaps{"video/x-raw, framerate=(fraction)1/x", 35, "expected an int"},
        BadCaps{"video/x-raw, framerate=4294967296/1", 23, "int out of range"},
        BadCaps{"video/x-raw, framerate=-2147483648/-1", 23, "fit in 32 bits"},
        BadCaps{"video/x-raw, r=(double)x", 23, "expected a double"},
        BadCaps{"video/x-raw, r=1e999", 15, "double out of range"},
        BadCaps{"video/x-raw, r=(double)1e-999", 23, "double out of range"},
        BadCaps{"video/x-raw, b=(boolean)maybe", 24, "expected a boolean"},
        BadCaps{"video/x-raw, m=(bitmask)-1", 24, "expected a bitmask"},
        BadCaps{"video/x-raw, m=(bitmask)0x10000000000000000", 24, "bitmask out of range"},
        BadCaps{"video/x-av1, codec_data=(buffer)abc", 32, "an even number of hexadecimal digits"},
        BadCaps{"video/x-av1, codec_data=(buffer)ab0x", 34, "hexadecimal digits only"},
        BadCaps{"video/x-av1, codec_data=(buffer)\"ab\"", 32, "only strings are quoted"},
        BadCaps{"video/x-raw(", 12, "expected a caps feature"},
        BadCaps{"video/x-raw(memory:X", 20, "expected ',' or ')'"},
        BadCaps{"video/x-raw(memory:X,)", 21, "expected a caps feature"},
        BadCaps{"1video/x-raw", 0, "expected a media type name"},
        BadCaps{"  ,video/x-raw", 2, "expected a media type name"},
        BadCaps{"video/x-raw;;audio/x-raw", 12, "expected a media type name"},
        BadCaps{"video/x-raw; 5", 13, "expected a media type name"},
        BadCaps{"EMPTY;", 0, "ANY, EMPTY and NONE stand alone"},
        BadCaps{"video/x-raw; ANY", 13, "ANY, EMPTY and NONE stand alone"},
        BadCaps{"NONE, width=5", 0, "ANY, EMPTY and NONE stand alone"}));

TEST(CapsTest, ParseStaticReturnsValidCaps) {
    const Caps caps = Caps::parse_static("video/x-raw, format=GRAY8");
    ASSERT_EQ(caps.size(), 1U);
    EXPECT_EQ(caps.structure(0).get_string("format"), "GRAY8");
}

TEST(CapsTest, ParseStaticAbortsWithTheErrorOnMalformedText) {
    EXPECT_DEATH((void)Caps::parse_static("video/x-raw, width"), "at byte 18: expected '='");
}

// --- Round trips -------------------------------------------------------------------

class CapsRoundTripTest : public ::testing::TestWithParam<std::string_view> {};

TEST_P(CapsRoundTripTest, PrintedCapsParseBackEqual) {
    const Caps caps = parsed(GetParam());
    const std::string printed = caps.to_string();
    auto again = Caps::parse(printed);
    ASSERT_TRUE(again) << printed << ": " << again.error().to_string();
    EXPECT_EQ(*again, caps) << printed;
    EXPECT_EQ(again->to_string(), printed);
}

// Caps strings as GStreamer elements print them (pad templates, negotiated
// caps), and a few written by hand.
INSTANTIATE_TEST_SUITE_P(
    CapsTest, CapsRoundTripTest,
    ::testing::Values(
        "ANY", "EMPTY", "video/x-raw",
        "video/x-raw, format=(string){ I420, YV12, YUY2, UYVY, AYUV, VUYA, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, "
        "ABGR, RGB, BGR, Y41B, Y42B, YVYU, Y444, v210, v216, Y210, Y410, NV12, NV21, GRAY8, GRAY16_BE, GRAY16_LE, "
        "v308, RGB16, BGR16, RGB15, BGR15, UYVP, A420, RGB8P, YUV9, YVU9, IYU1, ARGB64, AYUV64, r210, I420_10BE, "
        "I420_10LE, I422_10BE, I422_10LE, Y444_10BE, Y444_10LE, GBR, GBR_10BE, GBR_10LE, NV16, NV24, NV12_64Z32, "
        "A420_10BE, A420_10LE, A422_10BE, A422_10LE, A444_10BE, A444_10LE, NV61, P010_10BE, P010_10LE, IYU2, VYUY, "
        "GBRA, GBRA_10BE, GBRA_10LE, BGR10A2_LE, RGB10A2_LE, GBR_12BE, GBR_12LE, GBRA_12BE, GBRA_12LE, I420_12BE, "
        "I420_12LE, I422_12BE, I422_12LE, Y444_12BE, Y444_12LE, GRAY10_LE32, NV12_10LE32, NV16_10LE32, NV12_10LE40 "
        "}, width=(int)[ 1, 2147483647 ], height=(int)[ 1, 2147483647 ], framerate=(fraction)[ 0/1, 2147483647/1 ]",
        "video/x-raw, format=(string)I420, width=(int)320, height=(int)240, framerate=(fraction)30/1, "
        "multiview-mode=(string)mono, pixel-aspect-ratio=(fraction)1/1, interlace-mode=(string)progressive",
        "video/x-raw(memory:SystemMemory), format=(string)NV12, width=(int)1920, height=(int)1080, "
        "framerate=(fraction)30000/1001, colorimetry=(string)bt709, chroma-site=(string)mpeg2",
        "video/x-raw(memory:GLMemory), format=(string)RGBA, width=(int)[ 1, 32768 ], height=(int)[ 1, 32768 ], "
        "framerate=(fraction)[ 0/1, 2147483647/1 ], texture-target=(string){ 2D, external-oes }",
        "video/x-raw(memory:DMABuf), format=(string){ NV12, P010_10LE }; video/x-raw(memory:VASurface), "
        "format=(string){ NV12, P010_10LE }; video/x-raw, format=(string){ NV12, P010_10LE }",
        "video/x-raw(memory:GLMemory, meta:GstVideoOverlayComposition), format=(string)RGBA",
        "video/x-bayer, format=(string){ bggr, gbrg, grbg, rggb }, width=(int)[ 1, 2147483647 ]",
        "audio/x-raw, format=(string){ S8, U8, S16LE, S16BE, U16LE, U16BE, S24_32LE, S24_32BE, U24_32LE, U24_32BE, "
        "S32LE, S32BE, U32LE, U32BE, S24LE, S24BE, U24LE, U24BE, S20LE, S20BE, U20LE, U20BE, S18LE, S18BE, U18LE, "
        "U18BE, F32LE, F32BE, F64LE, F64BE }, rate=(int)[ 1, 2147483647 ], channels=(int)[ 1, 2147483647 ], "
        "layout=(string){ interleaved, non-interleaved }",
        "audio/x-raw, format=(string)S16LE, layout=(string)interleaved, rate=(int)48000, channels=(int)2, "
        "channel-mask=(bitmask)0x0000000000000003",
        "audio/x-raw, format=(string)F32LE, layout=(string)interleaved, rate=(int)44100, channels=(int)6, "
        "channel-mask=(bitmask)0x000000000000003f",
        "audio/x-opus, channel-mapping-family=(int)0, channels=(int)[ 1, 2 ], rate=(int){ 48000, 24000, 16000, "
        "12000, 8000 }",
        "audio/mpeg, mpegversion=(int)4, stream-format=(string){ raw, adts }, framed=(boolean)true",
        "audio/mpeg, mpegversion=(int)1, layer=(int)[ 1, 3 ], parsed=(boolean)false",
        "video/x-h264, stream-format=(string)avc, alignment=(string)au, profile=(string)high, level=(string)4.1, "
        "width=(int)1280, height=(int)720, framerate=(fraction)25/1",
        "video/x-h264, stream-format=(string){ avc, avc3, byte-stream }, alignment=(string){ au, nal }",
        "video/x-h265, stream-format=(string)hvc1, alignment=(string)au, profile=(string)main-10, "
        "tier=(string)main, level=(string)5.1",
        "video/x-av1, stream-format=(string)obu-stream, alignment=(string){ tu, frame }",
        "video/x-vp9, profile=(string){ 0, 1, 2, 3 }",
        "image/jpeg, sof-marker=(int){ 0, 1, 2, 4, 9 }, parsed=(boolean)true, pixel-aspect-ratio=(fraction)1/1",
        "application/x-rtp, media=(string)video, clock-rate=(int)90000, encoding-name=(string)H264, "
        "packetization-mode=(string)1, profile-level-id=(string)42c01f, "
        "sprop-parameter-sets=(string)\"Z0LAH9kAUAW7ARAAAAMAEAAAAwPI8YMkgA\\=\\=\\,aMuDyyA\\=\", payload=(int)96, "
        "a-framerate=(string)30",
        "application/x-rtp, media=(string)audio, payload=(int)[ 96, 127 ], clock-rate=(int)48000, "
        "encoding-name=(string){ OPUS, X-GST-OPUS-DRAFT-SPITTKA-00 }",
        "application/x-rtcp", "video/mpegts, systemstream=(boolean)true, packetsize=(int){ 188, 192 }",
        "video/quicktime, variant=(string){ apple, iso, 3gpp, mj2 }",
        "text/x-raw, format=(string){ pango-markup, utf8 }", "application/x-subtitle-vtt",
        "meta/x-klv, parsed=(boolean)true, sparse=(boolean)true",
        "a/b, d=(double)0.1, e=(double)-1e+300, f=(double)[ -0.5, 1e-300 ], s=(string)\"tab\\011and\\ \\\"quote\\\"\"",
        "a/b(x:y), m=(bitmask)0xffffffffffffffff, l=(fraction){ 1/2, 2/3 }, b=(boolean){ true, false }",
        "x/y, s=(string)\"\"; x/y; x/y, r=(double){ 1, 2.5 }", "x/y, z=-0e4, h=(double)-0x10",
        "video/x-av1, codec_data=(buffer)81000c00, l=(buffer){ 00, ff01 }"));

} // namespace
} // namespace parallax
