#include <parallax/caps/structure.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parallax {
namespace {

TEST(StructureTest, StartsWithANameAndNoFields) {
    const Structure s("video/x-raw");
    EXPECT_EQ(s.name(), "video/x-raw");
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.size(), 0U);
    EXPECT_TRUE(s.is_fixed());
    EXPECT_EQ(s.to_string(), "video/x-raw");
}

TEST(StructureTest, ValidNamesStartWithALetter) {
    EXPECT_TRUE(Structure::is_valid_name("video/x-raw"));
    EXPECT_TRUE(Structure::is_valid_name("application/x-rtp"));
    EXPECT_TRUE(Structure::is_valid_name("a"));
    EXPECT_FALSE(Structure::is_valid_name(""));
    EXPECT_FALSE(Structure::is_valid_name("1video"));
    EXPECT_FALSE(Structure::is_valid_name("/video"));
    EXPECT_FALSE(Structure::is_valid_name("video x"));
    EXPECT_FALSE(Structure::is_valid_name("video,x"));
    EXPECT_FALSE(Structure::is_valid_name("ANY"));
    EXPECT_FALSE(Structure::is_valid_name("EMPTY"));
    EXPECT_FALSE(Structure::is_valid_name("NONE"));
    EXPECT_TRUE(Structure::is_valid_name("ANYTHING"));
}

TEST(StructureTest, ValidFieldNamesAreSimpleCharacters) {
    EXPECT_TRUE(Structure::is_valid_field_name("width"));
    EXPECT_TRUE(Structure::is_valid_field_name("pixel-aspect-ratio"));
    EXPECT_TRUE(Structure::is_valid_field_name("a.b:c_d+e/f"));
    EXPECT_TRUE(Structure::is_valid_field_name("3d"));
    EXPECT_FALSE(Structure::is_valid_field_name(""));
    EXPECT_FALSE(Structure::is_valid_field_name("a b"));
    EXPECT_FALSE(Structure::is_valid_field_name("a=b"));
}

TEST(StructureTest, SetAppendsInOrderAndReplacesInPlace) {
    Structure s("video/x-raw");
    s.set("format", "I420").set("width", 640).set("height", 480);
    s.set("width", 1280);
    ASSERT_EQ(s.size(), 3U);
    std::vector<std::string> names;
    for (const StructureField& f : s) {
        names.push_back(f.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"format", "width", "height"}));
    EXPECT_EQ(s.fields()[1].value, CapsValue(1280));
    EXPECT_FALSE(s.empty());
}

TEST(StructureTest, GetFindsAFieldByName) {
    Structure s("audio/x-raw");
    s.set("rate", 48000);
    ASSERT_NE(s.get("rate"), nullptr);
    EXPECT_EQ(*s.get("rate"), CapsValue(48000));
    EXPECT_EQ(s.get("channels"), nullptr);
    EXPECT_TRUE(s.has("rate"));
    EXPECT_FALSE(s.has("channels"));
}

TEST(StructureTest, TypedGettersNeedTheRightType) {
    Structure s("video/x-raw");
    s.set("width", 640)
        .set("ratio", 1.5)
        .set("interlaced", false)
        .set("format", "I420")
        .set("framerate", Fraction::make(30, 1).value());
    EXPECT_EQ(s.get_int("width"), 640);
    EXPECT_EQ(s.get_double("ratio"), 1.5);
    EXPECT_EQ(s.get_bool("interlaced"), false);
    EXPECT_EQ(s.get_string("format"), "I420");
    EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(30, 1).value());

    EXPECT_FALSE(s.get_int("ratio"));
    EXPECT_FALSE(s.get_double("width"));
    EXPECT_FALSE(s.get_bool("width"));
    EXPECT_FALSE(s.get_string("width"));
    EXPECT_FALSE(s.get_fraction("width"));
    EXPECT_FALSE(s.get_int("missing"));
    EXPECT_FALSE(s.get_double("missing"));
    EXPECT_FALSE(s.get_bool("missing"));
    EXPECT_FALSE(s.get_string("missing"));
    EXPECT_FALSE(s.get_fraction("missing"));
}

TEST(StructureTest, RemoveDeletesOnlyAnExistingField) {
    Structure s("video/x-raw");
    s.set("a", 1).set("b", 2).set("c", 3);
    EXPECT_TRUE(s.remove("b"));
    EXPECT_FALSE(s.remove("b"));
    ASSERT_EQ(s.size(), 2U);
    EXPECT_EQ(s.fields()[0].name, "a");
    EXPECT_EQ(s.fields()[1].name, "c");
}

TEST(StructureTest, IsFixedOnlyWithoutRangesAndLists) {
    Structure s("video/x-raw");
    s.set("width", 640);
    EXPECT_TRUE(s.is_fixed());
    s.set("height", IntRange::make(1, 100).value());
    EXPECT_FALSE(s.is_fixed());
    s.remove("height");
    s.set("format", CapsValue::list({CapsValue("I420")}).value());
    EXPECT_FALSE(s.is_fixed());
}

TEST(StructureTest, PrintsFieldsWithTypes) {
    Structure s("video/x-raw");
    s.set("format", "I420").set("width", 640).set("framerate", Fraction::make(30, 1).value());
    EXPECT_EQ(s.to_string(), "video/x-raw, format=(string)I420, width=(int)640, framerate=(fraction)30/1");
}

TEST(StructureTest, EqualityNeedsTheSameNameFieldsAndOrder) {
    Structure a("video/x-raw");
    a.set("w", 1).set("h", 2);
    Structure b("video/x-raw");
    b.set("w", 1).set("h", 2);
    EXPECT_EQ(a, b);
    Structure c("video/x-raw");
    c.set("h", 2).set("w", 1);
    EXPECT_NE(a, c);
    Structure d("video/x-bayer");
    d.set("w", 1).set("h", 2);
    EXPECT_NE(a, d);
    b.set("h", 3);
    EXPECT_NE(a, b);
}

TEST(StructureTest, InvalidNamesInCodeAbort) {
    EXPECT_DEATH(Structure("not a name"), "invalid caps structure name 'not a name'");
    EXPECT_DEATH(Structure("video/x-raw").set("bad field", 1), "invalid caps field name 'bad field'");
}

} // namespace
} // namespace parallax
