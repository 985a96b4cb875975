#include "pipeline/launch_parser.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace parallax::detail {
namespace {

constexpr std::size_t npos = LaunchEndpoint::npos;

LaunchDescription parsed(std::string_view text) {
    auto d = parse_launch(text);
    EXPECT_TRUE(d.has_value()) << text << ": " << (d ? "" : d.error().message());
    return d ? *d : LaunchDescription{};
}

// The error of a text that must not parse.
Error error_of(std::string_view text) {
    auto d = parse_launch(text);
    EXPECT_FALSE(d.has_value()) << text;
    if (d) {
        return Error(Errc::invalid_argument, "parsed");
    }
    EXPECT_TRUE(d.error().is(Errc::invalid_argument)) << text;
    return d.error();
}

void expect_error(std::string_view text, std::size_t position, std::string_view message) {
    const Error e = error_of(text);
    EXPECT_EQ(e.position(), position) << text << ": " << e.message();
    EXPECT_EQ(e.message(), message) << text;
}

void expect_element(const LaunchEndpoint& ep, std::size_t element, std::string_view pad = "") {
    EXPECT_EQ(ep.element, element);
    EXPECT_TRUE(ep.ref.empty());
    EXPECT_EQ(ep.pad, pad);
}

void expect_ref(const LaunchEndpoint& ep, std::string_view ref, std::string_view pad = "") {
    EXPECT_EQ(ep.element, npos);
    EXPECT_EQ(ep.ref, ref);
    EXPECT_EQ(ep.pad, pad);
}

// --- Elements and chains ---------------------------------------------------------

TEST(LaunchParserTest, ASingleElementHasNoLinks) {
    const auto d = parsed("fakesrc");
    ASSERT_EQ(d.elements.size(), 1U);
    EXPECT_EQ(d.elements[0].factory, "fakesrc");
    EXPECT_EQ(d.elements[0].pos, 0U);
    EXPECT_TRUE(d.elements[0].properties.empty());
    EXPECT_TRUE(d.links.empty());
}

TEST(LaunchParserTest, AChainLinksEachElementToTheNext) {
    const auto d = parsed("fakesrc ! identity ! fakesink");
    ASSERT_EQ(d.elements.size(), 3U);
    EXPECT_EQ(d.elements[0].factory, "fakesrc");
    EXPECT_EQ(d.elements[1].factory, "identity");
    EXPECT_EQ(d.elements[1].pos, 10U);
    EXPECT_EQ(d.elements[2].factory, "fakesink");
    EXPECT_EQ(d.elements[2].pos, 21U);
    ASSERT_EQ(d.links.size(), 2U);
    expect_element(d.links[0].from, 0);
    expect_element(d.links[0].to, 1);
    EXPECT_EQ(d.links[0].pos, 8U);
    EXPECT_EQ(d.links[0].from.pos, 0U);
    EXPECT_EQ(d.links[0].to.pos, 10U);
    EXPECT_EQ(d.links[0].from.pad_pos, npos);
    EXPECT_TRUE(d.links[0].caps.empty());
    expect_element(d.links[1].from, 1);
    expect_element(d.links[1].to, 2);
    EXPECT_EQ(d.links[1].pos, 19U);
}

TEST(LaunchParserTest, LinksNeedNoSpacesAndAnyWhitespaceSeparates) {
    const auto d = parsed("  a!b\t!\n\r c  ");
    ASSERT_EQ(d.elements.size(), 3U);
    EXPECT_EQ(d.elements[0].pos, 2U);
    EXPECT_EQ(d.elements[1].pos, 4U);
    EXPECT_EQ(d.elements[2].pos, 10U);
    EXPECT_EQ(d.links.size(), 2U);
}

TEST(LaunchParserTest, FactoryNamesHaveLettersDigitsDashesAndUnderscores) {
    const auto d = parsed("x264enc ! my_element-2 ! 3d");
    ASSERT_EQ(d.elements.size(), 3U);
    EXPECT_EQ(d.elements[0].factory, "x264enc");
    EXPECT_EQ(d.elements[1].factory, "my_element-2");
    EXPECT_EQ(d.elements[2].factory, "3d");
}

TEST(LaunchParserTest, ABareWordAfterAnElementStartsANewChain) {
    const auto d = parsed("fakesrc ! fakesink fakesrc ! fakesink");
    ASSERT_EQ(d.elements.size(), 4U);
    ASSERT_EQ(d.links.size(), 2U);
    expect_element(d.links[0].from, 0);
    expect_element(d.links[0].to, 1);
    expect_element(d.links[1].from, 2);
    expect_element(d.links[1].to, 3);
}

TEST(LaunchParserTest, ANewChainCanStartAfterProperties) {
    const auto d = parsed("a x=1 b y=2 ! c");
    ASSERT_EQ(d.elements.size(), 3U);
    ASSERT_EQ(d.elements[0].properties.size(), 1U);
    ASSERT_EQ(d.elements[1].properties.size(), 1U);
    ASSERT_EQ(d.links.size(), 1U);
    expect_element(d.links[0].from, 1);
    expect_element(d.links[0].to, 2);
}

// --- Properties ------------------------------------------------------------------

TEST(LaunchParserTest, PropertiesKeepTheirOrderAndPositions) {
    const auto d = parsed("fakesrc num-buffers=10 is_live=true ! fakesink");
    ASSERT_EQ(d.elements.size(), 2U);
    const auto& props = d.elements[0].properties;
    ASSERT_EQ(props.size(), 2U);
    EXPECT_EQ(props[0].name, "num-buffers");
    EXPECT_EQ(props[0].value, "10");
    EXPECT_EQ(props[0].name_pos, 8U);
    EXPECT_EQ(props[0].value_pos, 20U);
    EXPECT_FALSE(props[0].quoted);
    EXPECT_EQ(props[1].name, "is_live");
    EXPECT_EQ(props[1].value, "true");
    EXPECT_EQ(props[1].name_pos, 23U);
    EXPECT_EQ(props[1].value_pos, 31U);
}

TEST(LaunchParserTest, NameStaysAProperty) {
    const auto d = parsed("tee name=t");
    ASSERT_EQ(d.elements.size(), 1U);
    ASSERT_EQ(d.elements[0].properties.size(), 1U);
    EXPECT_EQ(d.elements[0].properties[0].name, "name");
    EXPECT_EQ(d.elements[0].properties[0].value, "t");
}

TEST(LaunchParserTest, SpacesMayStandAroundTheEqualsSign) {
    const auto d = parsed("fakesrc num-buffers = 1 ! fakesink sync= false");
    ASSERT_EQ(d.elements.size(), 2U);
    ASSERT_EQ(d.elements[0].properties.size(), 1U);
    EXPECT_EQ(d.elements[0].properties[0].name, "num-buffers");
    EXPECT_EQ(d.elements[0].properties[0].value, "1");
    EXPECT_EQ(d.elements[0].properties[0].value_pos, 22U);
    ASSERT_EQ(d.elements[1].properties.size(), 1U);
    EXPECT_EQ(d.elements[1].properties[0].value, "false");
}

TEST(LaunchParserTest, UnquotedValuesEndAtWhitespaceOrLink) {
    const auto d = parsed("filesrc location=/tmp/a.b,c=d(e)! fakesink");
    ASSERT_EQ(d.elements.size(), 2U);
    ASSERT_EQ(d.elements[0].properties.size(), 1U);
    EXPECT_EQ(d.elements[0].properties[0].value, "/tmp/a.b,c=d(e)");
    ASSERT_EQ(d.links.size(), 1U);
    EXPECT_EQ(d.links[0].pos, 32U);
}

TEST(LaunchParserTest, ABackslashInAnUnquotedValueKeepsTheNextCharacter) {
    const auto d = parsed(R"(filesrc location=a\ b\!c\\d ! fakesink)");
    ASSERT_EQ(d.elements.size(), 2U);
    ASSERT_EQ(d.elements[0].properties.size(), 1U);
    EXPECT_EQ(d.elements[0].properties[0].value, R"(a b!c\d)");
    EXPECT_FALSE(d.elements[0].properties[0].quoted);
}

TEST(LaunchParserTest, DoubleQuotedValuesAreUnescaped) {
    const std::string_view text = R"(textoverlay text="say \"hi\" ! \\ \x" ! fakesink)";
    const auto d = parsed(text);
    ASSERT_EQ(d.elements.size(), 2U);
    ASSERT_EQ(d.elements[0].properties.size(), 1U);
    const auto& p = d.elements[0].properties[0];
    EXPECT_EQ(p.value, R"(say "hi" ! \ x)");
    EXPECT_TRUE(p.quoted);
    EXPECT_EQ(p.value_pos, 18U);
    EXPECT_EQ(text[p.value_pos], 's');
    EXPECT_EQ(d.links.size(), 1U);
}

TEST(LaunchParserTest, SingleQuotedValuesAreUnescaped) {
    const auto d = parsed(R"(a x='it\'s "here"' y='')");
    ASSERT_EQ(d.elements.size(), 1U);
    const auto& props = d.elements[0].properties;
    ASSERT_EQ(props.size(), 2U);
    EXPECT_EQ(props[0].value, R"(it's "here")");
    EXPECT_TRUE(props[0].quoted);
    EXPECT_EQ(props[0].value_pos, 5U);
    EXPECT_EQ(props[1].value, "");
    EXPECT_TRUE(props[1].quoted);
    EXPECT_EQ(props[1].value_pos, 22U);
}

TEST(LaunchParserTest, TypeCastsAreStripped) {
    const auto d = parsed(R"--(a w=(int)640 s=(string)"x y" b=(gboolean)true)--");
    ASSERT_EQ(d.elements.size(), 1U);
    const auto& props = d.elements[0].properties;
    ASSERT_EQ(props.size(), 3U);
    EXPECT_EQ(props[0].value, "640");
    EXPECT_EQ(props[0].value_pos, 9U);
    EXPECT_FALSE(props[0].quoted);
    EXPECT_EQ(props[1].value, "x y");
    EXPECT_EQ(props[1].value_pos, 24U);
    EXPECT_TRUE(props[1].quoted);
    EXPECT_EQ(props[2].value, "true");
}

TEST(LaunchParserTest, ValuePositionsMapOffsetsBackThroughEscapes) {
    const std::string_view text = R"(a x="a\"b" y=c\ d)";
    const auto d = parsed(text);
    ASSERT_EQ(d.elements.size(), 1U);
    const auto& props = d.elements[0].properties;
    ASSERT_EQ(props.size(), 2U);
    EXPECT_EQ(launch_value_position(text, props[0], 0), 5U);
    EXPECT_EQ(launch_value_position(text, props[0], 1), 6U); // the escaped quote starts at its backslash
    EXPECT_EQ(launch_value_position(text, props[0], 2), 8U);
    EXPECT_EQ(launch_value_position(text, props[0], 3), 9U); // the closing quote
    EXPECT_EQ(launch_value_position(text, props[0], 99), 9U);
    EXPECT_EQ(launch_value_position(text, props[1], 1), 14U);
    EXPECT_EQ(launch_value_position(text, props[1], 2), 16U);
    EXPECT_EQ(launch_value_position(text, props[1], 3), 17U);
}

// --- Caps filters ------------------------------------------------------------------

TEST(LaunchParserTest, ACapsFilterSitsOnTheLink) {
    const auto d = parsed("videotestsrc ! video/x-raw,width=640 ! fakesink");
    ASSERT_EQ(d.elements.size(), 2U);
    ASSERT_EQ(d.links.size(), 1U);
    expect_element(d.links[0].from, 0);
    expect_element(d.links[0].to, 1);
    EXPECT_EQ(d.links[0].caps, "video/x-raw,width=640");
    EXPECT_EQ(d.links[0].caps_pos, 15U);
    EXPECT_EQ(d.links[0].pos, 13U);
    EXPECT_EQ(d.links[0].to.pos, 39U);
}

TEST(LaunchParserTest, CapsFiltersMayHaveSpacesFeaturesCastsListsAndRanges) {
    const std::string caps = "video/x-raw(memory:SystemMemory), width=(int)640, format={ I420, NV12 }, "
                             "framerate=[ 1/1, 30/1 ], colorimetry=\"bt601\"; video/x-bayer";
    const auto d = parsed("a ! " + caps + "  ! b");
    ASSERT_EQ(d.links.size(), 1U);
    EXPECT_EQ(d.links[0].caps, caps);
    EXPECT_EQ(d.links[0].caps_pos, 4U);
}

TEST(LaunchParserTest, ALinkInsideQuotesOrBracketsDoesNotEndTheCaps) {
    const auto d = parsed(R"(a ! video/x-raw,s="x ! y",l={ "!", b } ! b)");
    ASSERT_EQ(d.links.size(), 1U);
    EXPECT_EQ(d.links[0].caps, R"(video/x-raw,s="x ! y",l={ "!", b })");
    ASSERT_EQ(d.elements.size(), 2U);
    EXPECT_EQ(d.elements[1].factory, "b");
}

TEST(LaunchParserTest, QuotedCapsFiltersAreUnescaped) {
    const auto d = parsed(R"(a ! "video/x-raw, format=\"I420\"" ! b ! 'audio/x-raw, rate=48000' ! c)");
    ASSERT_EQ(d.links.size(), 2U);
    EXPECT_EQ(d.links[0].caps, R"(video/x-raw, format="I420")");
    EXPECT_EQ(d.links[0].caps_pos, 5U);
    EXPECT_EQ(d.links[1].caps, "audio/x-raw, rate=48000");
    EXPECT_EQ(d.links[1].caps_pos, 42U);
}

TEST(LaunchParserTest, QuotedCapsMayBeAnyWord) {
    const auto d = parsed(R"(a ! "ANY" ! b)");
    ASSERT_EQ(d.links.size(), 1U);
    EXPECT_EQ(d.links[0].caps, "ANY");
}

TEST(LaunchParserTest, ACapsFilterCanLinkReferences) {
    const auto d = parsed("t. ! audio/x-raw ! mux.sink_%u");
    ASSERT_EQ(d.links.size(), 1U);
    expect_ref(d.links[0].from, "t");
    expect_ref(d.links[0].to, "mux", "sink_%u");
    EXPECT_EQ(d.links[0].caps, "audio/x-raw");
}

TEST(LaunchParserTest, APropertyValueWithASlashIsNoCapsFilter) {
    const auto d = parsed("capsfilter caps=video/x-raw,width=640 ! fakesink");
    ASSERT_EQ(d.elements.size(), 2U);
    ASSERT_EQ(d.elements[0].properties.size(), 1U);
    EXPECT_EQ(d.elements[0].properties[0].value, "video/x-raw,width=640");
    ASSERT_EQ(d.links.size(), 1U);
    EXPECT_TRUE(d.links[0].caps.empty());
}

// --- References and pads ------------------------------------------------------------

TEST(LaunchParserTest, TeeBranchesStartWithReferences) {
    const auto d = parsed("fakesrc ! tee name=t t. ! queue ! fakesink t. ! queue ! fakesink");
    ASSERT_EQ(d.elements.size(), 6U);
    ASSERT_EQ(d.links.size(), 5U);
    expect_element(d.links[0].from, 0);
    expect_element(d.links[0].to, 1);
    expect_ref(d.links[1].from, "t");
    EXPECT_EQ(d.links[1].from.pos, 21U);
    expect_element(d.links[1].to, 2);
    expect_element(d.links[2].from, 2);
    expect_element(d.links[2].to, 3);
    expect_ref(d.links[3].from, "t");
    EXPECT_EQ(d.links[3].from.pos, 43U);
    expect_element(d.links[3].to, 4);
    expect_element(d.links[4].from, 4);
    expect_element(d.links[4].to, 5);
}

TEST(LaunchParserTest, ReferencesMayNameAPad) {
    const auto d = parsed("t.src_1 ! queue");
    ASSERT_EQ(d.links.size(), 1U);
    expect_ref(d.links[0].from, "t", "src_1");
    EXPECT_EQ(d.links[0].from.pos, 0U);
    EXPECT_EQ(d.links[0].from.pad_pos, 2U);
}

TEST(LaunchParserTest, MuxerBranchesEndWithReferences) {
    const auto d = parsed("fakesrc ! mux.sink_0 fakesrc ! mux.sink_%u funnel name=mux ! fakesink");
    ASSERT_EQ(d.elements.size(), 4U);
    EXPECT_EQ(d.elements[2].factory, "funnel");
    ASSERT_EQ(d.links.size(), 3U);
    expect_element(d.links[0].from, 0);
    expect_ref(d.links[0].to, "mux", "sink_0");
    EXPECT_EQ(d.links[0].to.pos, 10U);
    EXPECT_EQ(d.links[0].to.pad_pos, 14U);
    expect_element(d.links[1].from, 1);
    expect_ref(d.links[1].to, "mux", "sink_%u");
    expect_element(d.links[2].from, 2);
    expect_element(d.links[2].to, 3);
}

TEST(LaunchParserTest, AReferenceWithoutPadEndsAChain) {
    const auto d = parsed("a ! m. b ! m.");
    ASSERT_EQ(d.links.size(), 2U);
    expect_ref(d.links[0].to, "m");
    EXPECT_EQ(d.links[0].to.pad_pos, npos);
    expect_ref(d.links[1].to, "m");
}

TEST(LaunchParserTest, AChainMayLinkTwoReferences) {
    const auto d = parsed("t. ! u.sink");
    ASSERT_EQ(d.links.size(), 1U);
    EXPECT_TRUE(d.elements.empty());
    expect_ref(d.links[0].from, "t");
    expect_ref(d.links[0].to, "u", "sink");
}

TEST(LaunchParserTest, PadNamesMayFollowOrPrecedeAnElement) {
    const auto d = parsed("a .src_%u ! .sink b .src ! c");
    ASSERT_EQ(d.elements.size(), 3U);
    ASSERT_EQ(d.links.size(), 2U);
    expect_element(d.links[0].from, 0, "src_%u");
    EXPECT_EQ(d.links[0].from.pos, 0U);
    EXPECT_EQ(d.links[0].from.pad_pos, 3U);
    expect_element(d.links[0].to, 1, "sink");
    EXPECT_EQ(d.links[0].to.pos, 18U);
    EXPECT_EQ(d.links[0].to.pad_pos, 13U);
    expect_element(d.links[1].from, 1, "src");
    expect_element(d.links[1].to, 2);
}

TEST(LaunchParserTest, PadsFollowTheProperties) {
    const auto d = parsed("a x=1 .src ! b");
    ASSERT_EQ(d.elements.size(), 2U);
    ASSERT_EQ(d.elements[0].properties.size(), 1U);
    ASSERT_EQ(d.links.size(), 1U);
    EXPECT_EQ(d.links[0].from.pad, "src");
}

TEST(LaunchParserTest, APadBeforeAnElementIsNotThePadOfItsNextLink) {
    const auto d = parsed("a ! .sink b ! c");
    ASSERT_EQ(d.links.size(), 2U);
    expect_element(d.links[0].to, 1, "sink");
    expect_element(d.links[1].from, 1);
    EXPECT_EQ(d.links[1].from.pad_pos, npos);
}

// --- Errors ------------------------------------------------------------------------

TEST(LaunchParserTest, EmptyDescriptionsAreErrors) {
    expect_error("", 0, "empty pipeline description: expected an element");
    expect_error(" \n\t", 0, "empty pipeline description: expected an element");
}

TEST(LaunchParserTest, ALinkAtTheStartIsAnError) {
    expect_error("! fakesink", 0, "expected an element or a reference before '!'");
}

TEST(LaunchParserTest, ALinkAtTheEndIsAnError) {
    expect_error("fakesrc !", 9, "expected an element or a reference after '!', found the end of the description");
    expect_error("fakesrc ! ", 10, "expected an element or a reference after '!', found the end of the description");
}

TEST(LaunchParserTest, TwoLinksInARowAreAnError) {
    expect_error("fakesrc ! ! fakesink", 10, "expected an element or a reference after '!'");
    expect_error("fakesrc !! fakesink", 9, "expected an element or a reference after '!'");
}

TEST(LaunchParserTest, APropertyWhereAnElementBelongsIsAnError) {
    expect_error("a ! x=1", 4, "expected an element or a reference after '!', found the property 'x'");
    expect_error("x=1 ! a", 0, "expected an element or a reference before the property 'x'");
    expect_error("a ! t. x=1", 7, "expected an element or a reference before the property 'x'");
}

TEST(LaunchParserTest, APropertyWithoutValueIsAnError) {
    expect_error("a x= ! b", 5, "expected a value for the property 'x' after '='");
    expect_error("a x=", 4, "expected a value for the property 'x' after '='");
    expect_error("a x = ", 6, "expected a value for the property 'x' after '='");
}

TEST(LaunchParserTest, InvalidPropertyNamesAreErrors) {
    const std::string reason = " is not a valid property name: expected a letter, then letters, digits, '-' or '_'";
    expect_error("a 1x=2 ! b", 2, "'1x'" + reason);
    expect_error("a -x=2", 2, "'-x'" + reason);
    expect_error("a x.y=2", 2, "'x.y'" + reason);
    expect_error("a x%y = 2", 2, "'x%y'" + reason);
    expect_error("a x=1 =2", 6, "expected a property name before '='");
    // With spaces allowed before '=', a word then '=' is a property, not an element.
    expect_error("a =2", 0, "expected an element or a reference before the property 'a'");
}

TEST(LaunchParserTest, UnterminatedQuotesAreErrorsAtTheOpeningQuote) {
    expect_error(R"(a x="abc ! b)", 4, R"(unterminated quoted string: expected a closing '"')");
    expect_error(R"(a x='abc\')", 4, R"(unterminated quoted string: expected a closing ''')");
    expect_error(R"(a x="abc\)", 4, R"(unterminated quoted string: expected a closing '"')");
    expect_error(R"(a ! "video/x-raw ! b)", 4, R"(unterminated quoted string: expected a closing '"')");
    expect_error(R"(a ! video/x-raw,f="x ! b)", 18,
                 R"(unterminated quoted string in the caps filter: expected a closing '"')");
}

TEST(LaunchParserTest, TextRightAfterAClosingQuoteIsAnError) {
    expect_error(R"(a x="1"2 ! b)", 7, "expected a space or '!' after the closing quote, found '2'");
}

TEST(LaunchParserTest, BadTypeCastsAreErrors) {
    expect_error("a x=(int", 8, "expected ')' after the type name");
    expect_error("a x=(in-t)5", 7, "expected ')' after the type name");
    expect_error("a x=()5", 5, "expected a type name such as int or string after '('");
    expect_error("a x=(int) 5", 9, "expected a value after the type cast '(int)'");
    expect_error("a x=(int)", 9, "expected a value after the type cast '(int)'");
}

TEST(LaunchParserTest, BadCapsAreErrorsAtTheirPositionInTheDescription) {
    expect_error("a ! video/x-raw,width ! b", 21, "invalid caps filter: expected '=' after the field name");
    expect_error("a ! video/x-raw,width=(int)x ! b", 27, "invalid caps filter: expected an int");
    expect_error("a ! video/x-raw b ! c", 16, "invalid caps filter: expected ',', ';' or the end of the caps");
    // Quoted caps: positions go back through the escapes.
    expect_error(R"(a ! "video/x-raw,f=\"x\",w" ! b)", 26, "invalid caps filter: expected '=' after the field name");
    expect_error(R"(a ! "video/x-raw,f=\"x\",w=(int)y" ! b)", 32, "invalid caps filter: expected an int");
    expect_error(R"(a ! "video/x-raw,w=" ! b)", 19, "invalid caps filter: expected a value");
}

TEST(LaunchParserTest, UnclosedBracketsInCapsAreErrors) {
    expect_error("a ! video/x-raw,w=[1, 2 ! b", 18, "unclosed '[' in the caps filter");
    expect_error("a ! video/x-raw,f={ a, { b } ! b", 18, "unclosed '{' in the caps filter");
}

TEST(LaunchParserTest, ACapsFilterLinkedToNothingIsAnError) {
    expect_error("a ! video/x-raw", 4,
                 "the caps filter is not linked to anything: expected '!' and an element or a reference after it");
    expect_error("a ! 'video/x-raw'  ", 5,
                 "the caps filter is not linked to anything: expected '!' and an element or a reference after it");
    expect_error("a ! video/x-raw !", 17,
                 "expected an element or a reference after '!', found the end of the description");
    expect_error("a ! 'video/x-raw' b", 18, "expected '!' after the caps filter, found 'b'");
}

TEST(LaunchParserTest, ACapsFilterWithoutElementBeforeItIsAnError) {
    expect_error("video/x-raw ! b", 0,
                 "a caps filter goes between two '!': expected an element or a reference before it");
    expect_error("a video/x-raw ! b", 2,
                 "a caps filter goes between two '!': expected an element or a reference before it");
    expect_error("'video/x-raw' ! b", 0,
                 "expected an element or a reference, not quoted text (a quoted caps filter goes between two '!')");
}

TEST(LaunchParserTest, TwoCapsFiltersInARowAreAnError) {
    expect_error("a ! audio/x-raw ! video/x-raw ! b", 18,
                 "expected an element or a reference after the caps filter, not another caps filter");
}

TEST(LaunchParserTest, EmptyQuotedCapsAreAnError) {
    expect_error("a ! ' ' ! b", 4, "expected caps between the quotes");
}

TEST(LaunchParserTest, AReferenceInTheMiddleOfAChainIsAnError) {
    // As in gst-launch-1.0, which reports a syntax error.
    const std::string reason = "a reference can only start or end a chain: end this chain at 't.' and start a new one "
                               "with it";
    expect_error("fakesrc ! t. ! fakesink", 13, reason);
    expect_error("x. ! t. ! fakesink", 8, reason);
}

TEST(LaunchParserTest, AReferenceThatLinksNothingIsAnError) {
    expect_error("tee name=t t.", 11, "the reference 't.' is not linked: expected '!' after it");
    expect_error("t.src_0 name=x ! b", 0, "the reference 't.src_0' is not linked: expected '!' after it");
}

TEST(LaunchParserTest, BadPadsAreErrors) {
    expect_error("a .src b", 2, "the pad '.src' is not linked: expected '!' after it");
    expect_error("a . ! b", 2, "expected a pad name after '.'");
    expect_error("a ! . b", 4, "expected a pad name after '.'");
    expect_error("a ! .sink t.", 10, "expected an element after the pad '.sink'");
    expect_error("a ! .sink", 9, "expected an element after the pad '.sink'");
    expect_error("t.src_0,src_1 ! b", 7, "lists of pads are not supported: link each pad in its own chain");
    expect_error("t.src/x ! b", 5, "unexpected '/' after the pad name");
    expect_error("t.\" ! b", 2, "unexpected '\"' after the reference");
}

TEST(LaunchParserTest, AStrayDotIsAnError) {
    const std::string reason = "stray '.': expected an element or a reference (a pad name such as '.src' goes right "
                               "after an element or after '!')";
    expect_error(". ! b", 0, reason);
    expect_error("a ! t. .src", 7, reason);
}

TEST(LaunchParserTest, UrisAreNotSupported) {
    expect_error("a ! file:///tmp/x", 4,
                 "URIs are not supported as elements: use a source such as filesrc location=...");
}

TEST(LaunchParserTest, UnexpectedCharactersAreErrors) {
    const std::string reason = ": expected an element name (letters, digits, '-' and '_') or a reference such as 't.'";
    expect_error("fake+src ! b", 4, "unexpected '+'" + reason);
    expect_error("a ! b )", 6, "unexpected ')'" + reason);
    expect_error("a ! b,c", 5, "unexpected ','" + reason);
    expect_error(std::string_view("a \0", 3), 2, "unexpected byte 0x00" + reason);
    expect_error("a ! \xc3\xa9", 4, "unexpected byte 0xc3" + reason);
}

TEST(LaunchParserTest, LongNamesAreCutInMessages) {
    const std::string name(100, 'x');
    expect_error(name + ". c", 0,
                 "the reference '" + std::string(40, 'x') + "...' is not linked: expected '!' after it");
}

// --- Groups ------------------------------------------------------------------------

TEST(LaunchParserTest, AGroupJoinsTheChainItStandsIn) {
    // No bin: the group's elements join the description, and the links go
    // to the group's first element and from its last.
    const auto d = parsed("fakesrc ! ( identity ! identity ) ! fakesink");
    ASSERT_EQ(d.elements.size(), 4U);
    EXPECT_EQ(d.elements[1].factory, "identity");
    EXPECT_EQ(d.elements[1].pos, 12U);
    EXPECT_EQ(d.elements[2].pos, 23U);
    EXPECT_EQ(d.elements[3].factory, "fakesink");
    ASSERT_EQ(d.links.size(), 3U);
    expect_element(d.links[0].from, 0);
    expect_element(d.links[0].to, 1);
    EXPECT_EQ(d.links[0].pos, 8U);
    EXPECT_EQ(d.links[0].to.pos, 12U);
    expect_element(d.links[1].from, 1);
    expect_element(d.links[1].to, 2);
    EXPECT_EQ(d.links[1].pos, 21U);
    expect_element(d.links[2].from, 2);
    expect_element(d.links[2].to, 3);
    EXPECT_EQ(d.links[2].pos, 34U);
    EXPECT_EQ(d.links[2].from.pos, 23U);
}

TEST(LaunchParserTest, AChainMayStartWithAGroup) {
    const auto d = parsed("( fakesrc ! queue ) ! fakesink");
    ASSERT_EQ(d.elements.size(), 3U);
    EXPECT_EQ(d.elements[0].pos, 2U);
    ASSERT_EQ(d.links.size(), 2U);
    expect_element(d.links[0].from, 0);
    expect_element(d.links[0].to, 1);
    expect_element(d.links[1].from, 1);
    expect_element(d.links[1].to, 2);
    EXPECT_EQ(d.links[1].pos, 20U);
}

TEST(LaunchParserTest, BinGroupsAndGroupsWithoutSpacesParse) {
    const auto bin = parsed("bin.( fakesrc ! fakesink )");
    ASSERT_EQ(bin.elements.size(), 2U);
    EXPECT_EQ(bin.elements[0].pos, 6U);
    ASSERT_EQ(bin.links.size(), 1U);
    const auto tight = parsed("a!(b)!bin.(c!d)");
    ASSERT_EQ(tight.elements.size(), 4U);
    ASSERT_EQ(tight.links.size(), 3U);
    expect_element(tight.links[0].from, 0);
    expect_element(tight.links[0].to, 1);
    expect_element(tight.links[1].from, 1);
    expect_element(tight.links[1].to, 2);
    expect_element(tight.links[2].from, 2);
    expect_element(tight.links[2].to, 3);
}

TEST(LaunchParserTest, GroupsNestAndKeepTheLinksInTheOrderWritten) {
    const auto d = parsed("a ! ( ( b ! c ) ! d ) ! e");
    ASSERT_EQ(d.elements.size(), 5U);
    ASSERT_EQ(d.links.size(), 4U);
    for (std::size_t i = 0; i < 4; ++i) {
        expect_element(d.links[i].from, i);
        expect_element(d.links[i].to, i + 1);
    }
    EXPECT_EQ(d.links[0].pos, 2U);
    EXPECT_EQ(d.links[1].pos, 10U);
    EXPECT_EQ(d.links[2].pos, 16U);
    EXPECT_EQ(d.links[3].pos, 22U);
}

TEST(LaunchParserTest, AGroupOfSeveralChainsLinksItsFirstAndLastElement) {
    const auto d = parsed("src ! ( a ! b  c ! d ) ! sink");
    ASSERT_EQ(d.elements.size(), 6U);
    ASSERT_EQ(d.links.size(), 4U);
    expect_element(d.links[0].from, 0);
    expect_element(d.links[0].to, 1); // a
    expect_element(d.links[1].from, 1);
    expect_element(d.links[1].to, 2);
    expect_element(d.links[2].from, 3);
    expect_element(d.links[2].to, 4);
    expect_element(d.links[3].from, 4); // d
    expect_element(d.links[3].to, 5);
}

TEST(LaunchParserTest, CapsFiltersMayLinkIntoAndOutOfGroups) {
    const auto d = parsed("a ! video/x-raw ! ( b ) ! audio/x-raw ! c");
    ASSERT_EQ(d.links.size(), 2U);
    expect_element(d.links[0].to, 1);
    EXPECT_EQ(d.links[0].caps, "video/x-raw");
    EXPECT_EQ(d.links[0].caps_pos, 4U);
    expect_element(d.links[1].from, 1);
    EXPECT_EQ(d.links[1].caps, "audio/x-raw");
    EXPECT_EQ(d.links[1].caps_pos, 26U);
}

TEST(LaunchParserTest, GroupsMayHoldReferencesAndBranches) {
    const auto d = parsed("fakesrc ! tee name=t ( t. ! queue ! fakesink ) ( t. ! queue ! fakesink )");
    ASSERT_EQ(d.elements.size(), 6U);
    ASSERT_EQ(d.links.size(), 5U);
    expect_ref(d.links[1].from, "t");
    EXPECT_EQ(d.links[1].from.pos, 23U);
    expect_element(d.links[1].to, 2);
    expect_ref(d.links[3].from, "t");
    EXPECT_EQ(d.links[3].from.pos, 49U);
    expect_element(d.links[4].to, 5);
}

TEST(LaunchParserTest, LinksIntoAndOutOfAGroupNameNoPad) {
    // The pads written inside belong to the links inside.
    const auto in = parsed("x ! ( t.src_1 ! q ) ! mux.sink_0");
    ASSERT_EQ(in.links.size(), 3U);
    expect_ref(in.links[0].to, "t");
    EXPECT_EQ(in.links[0].to.pos, 6U);
    EXPECT_EQ(in.links[0].to.pad_pos, npos);
    expect_ref(in.links[1].from, "t", "src_1");
    expect_element(in.links[2].from, 1);
    expect_ref(in.links[2].to, "mux", "sink_0");
    const auto out = parsed("( a ! mux.sink_0 ) ! b");
    ASSERT_EQ(out.links.size(), 2U);
    expect_ref(out.links[1].from, "mux");
    EXPECT_EQ(out.links[1].from.pos, 6U);
    EXPECT_EQ(out.links[1].from.pad_pos, npos);
}

TEST(LaunchParserTest, TheParenthesisThatEndsAGroupEndsNamesAndValues) {
    const auto d = parsed(R"--(( filesrc location=a(1).txt x="q" y=(int)2) ! b ( c ! t.))--");
    ASSERT_EQ(d.elements.size(), 3U);
    const auto& props = d.elements[0].properties;
    ASSERT_EQ(props.size(), 3U);
    EXPECT_EQ(props[0].value, "a(1).txt"); // a ')' that closes a '(' of the value stays in it
    EXPECT_EQ(props[1].value, "q");
    EXPECT_EQ(props[2].value, "2");
    EXPECT_EQ(props[2].value_pos, 41U);
    ASSERT_EQ(d.links.size(), 2U);
    expect_ref(d.links[1].to, "t");
    // Outside a group a ')' is a character of the value, as before.
    const auto top = parsed("a x=1)");
    ASSERT_EQ(top.elements.size(), 1U);
    ASSERT_EQ(top.elements[0].properties.size(), 1U);
    EXPECT_EQ(top.elements[0].properties[0].value, "1)");
}

TEST(LaunchParserTest, CapsInAGroupMayHaveParentheses) {
    const auto d = parsed("( a ! video/x-raw(memory:SystemMemory) ! b )");
    ASSERT_EQ(d.links.size(), 1U);
    EXPECT_EQ(d.links[0].caps, "video/x-raw(memory:SystemMemory)");
}

TEST(LaunchParserTest, GroupsMayNest64Deep) {
    const std::string text = std::string(64, '(') + "a" + std::string(64, ')') + " ! b";
    const auto d = parsed(text);
    ASSERT_EQ(d.elements.size(), 2U);
    ASSERT_EQ(d.links.size(), 1U);
    expect_element(d.links[0].from, 0);
    expect_element(d.links[0].to, 1);
}

// --- Errors in groups ----------------------------------------------------------------

TEST(LaunchParserTest, PropertiesOfAGroupAreErrors) {
    const std::string reason =
        "libparallax has no bins: a group's contents join the pipeline; properties of a group are not supported";
    expect_error("bin.( name=b fakesrc ! fakesink )", 6, reason);
    expect_error("a ! (x=1 b)", 5, reason);
}

TEST(LaunchParserTest, GroupTypesOtherThanBinAreErrors) {
    expect_error("a ! pipeline.( b )", 4,
                 "libparallax has no bins: a group's contents join the pipeline; a group of type 'pipeline' is not "
                 "supported, only '( ... )' and 'bin.( ... )'");
}

TEST(LaunchParserTest, UnclosedGroupsAreErrorsAtTheirParenthesis) {
    const std::string reason = "unclosed '(': expected ')' to end the group";
    expect_error("(", 0, reason);
    expect_error("( a ! b", 0, reason);
    expect_error("a ! ( b ! ( c ) ! d", 4, reason);
    expect_error("bin.( a ( b )", 4, reason);
}

TEST(LaunchParserTest, AStrayClosingParenthesisIsAnError) {
    const std::string reason = ": expected an element name (letters, digits, '-' and '_') or a reference such as 't.'";
    expect_error(")", 0, "unexpected ')'" + reason);
    expect_error("( a ) ) ! b", 6, "unexpected ')'" + reason);
    expect_error("( a ! t. ) t.)", 13, "unexpected ')' after the reference");
}

TEST(LaunchParserTest, EmptyGroupsAreErrors) {
    const std::string reason = "empty group: expected an element or a reference between '(' and ')'";
    expect_error("()", 1, reason);
    expect_error("a ! bin.( ) ! b", 10, reason);
}

TEST(LaunchParserTest, WhatCannotEndAGroupIsAnError) {
    expect_error("( a ! )", 6, "expected an element or a reference after '!', found the ')' that ends the group");
    expect_error("( a ! video/x-raw)", 17, "expected '!' after the caps filter, found ')'");
    expect_error("( a .src)", 4, "the pad '.src' is not linked: expected '!' after it");
    expect_error("( t.src_0 ) ! b", 2, "the reference 't.src_0' is not linked: expected '!' after it");
    expect_error("( a x=)", 6, "expected a value for the property 'x' after '='");
}

TEST(LaunchParserTest, AGroupTakesNoPadsOrPropertiesAfterIt) {
    expect_error("( a ) .src ! b", 6,
                 "stray '.': expected an element or a reference (a pad name such as '.src' goes right after an "
                 "element or after '!')");
    expect_error("( a ) x=1", 6, "expected an element or a reference before the property 'x'");
    expect_error("a ! .sink ( b )", 10, "expected an element after the pad '.sink'");
}

TEST(LaunchParserTest, GroupsNestedTooDeeplyAreAnError) {
    const std::string reason = "groups nested too deeply: at most 64 may be open at once";
    expect_error(std::string(65, '(') + "a" + std::string(65, ')'), 64, reason);
    // Hostile input stops at the limit, without exhausting the stack.
    expect_error(std::string(1000000, '('), 64, reason);
    expect_error("a ! " + std::string(100000, '(') + "b", 68, reason);
}

// --- Formatting errors --------------------------------------------------------------

TEST(LaunchParserTest, FormattedErrorsPutACaretUnderThePosition) {
    const std::string_view text = "fakesrc ! ! fakesink";
    const Error e = error_of(text);
    EXPECT_EQ(format_launch_error(text, e), "fakesrc ! ! fakesink\n"
                                            "          ^\n"
                                            "expected an element or a reference after '!'");
}

TEST(LaunchParserTest, FormattedErrorsShowOnlyTheLineOfTheError) {
    const std::string_view text = "fakesrc ! tee name=t\r\n t. ! queue ! 1x=2\nfakesrc ! fakesink";
    const Error e = error_of(text);
    EXPECT_EQ(e.position(), 36U);
    EXPECT_EQ(format_launch_error(text, e), " t. ! queue ! 1x=2\n"
                                            "              ^\n"
                                            "expected an element or a reference after '!', found the property '1x'");
}

TEST(LaunchParserTest, FormattedErrorsKeepTabsAndCountUtf8CharactersOnce) {
    const std::string_view text = "a\tx=\"\xc3\xa9\xc3\xa9\"y ! b";
    const Error e = error_of(text);
    EXPECT_EQ(e.position(), 10U);
    EXPECT_EQ(format_launch_error(text, e), "a\tx=\"\xc3\xa9\xc3\xa9\"y ! b\n"
                                            " \t      ^\n"
                                            "expected a space or '!' after the closing quote, found 'y'");
}

TEST(LaunchParserTest, FormattedErrorsAtTheEndPutTheCaretAfterTheText) {
    const std::string_view text = "a !";
    EXPECT_EQ(format_launch_error(text, error_of(text)),
              "a !\n   ^\nexpected an element or a reference after '!', found the end of the description");
    EXPECT_EQ(format_launch_error("", error_of("")), "\n^\nempty pipeline description: expected an element");
}

TEST(LaunchParserTest, FormattedErrorsWithoutPositionAreTheMessage) {
    EXPECT_EQ(format_launch_error("a ! b", Error(Errc::invalid_argument, "no such element")), "no such element");
    EXPECT_EQ(format_launch_error("a ! b", Error(Errc::invalid_argument, "past").at_position(99)),
              "a ! b\n     ^\npast");
}

} // namespace
} // namespace parallax::detail
