#include <parallax/element.hpp>
#include <parallax/elements/flow/queue.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <gtest/gtest.h>

namespace parallax {
namespace {

using namespace std::chrono_literals;

// The error of parsing `text`, failing the test when it parses.
Error parse_error(std::string_view text) {
    auto p = Pipeline::parse(text);
    EXPECT_FALSE(p) << text;
    return p ? Error(Errc::invalid_argument, "parsed") : p.error();
}

TEST(PipelineTest, ParsesChainsBranchesAndNames) {
    auto p = Pipeline::parse("fakesrc name=src num-buffers=3 ! tee name=t t. ! queue ! fakesink t. ! queue name=q2 ! "
                             "fakesink name=last");
    ASSERT_TRUE(p) << p.error().to_string();
    EXPECT_NE((*p)->find("src"), nullptr);
    EXPECT_EQ((*p)->find("src")->get_property("num-buffers").value(), "3");
    EXPECT_NE((*p)->find("t")->pad("src_0"), nullptr);
    EXPECT_NE((*p)->find("t")->pad("src_1"), nullptr);
    EXPECT_EQ((*p)->find("last")->pad("sink")->peer()->element().name(), "q2");
    EXPECT_EQ((*p)->elements().size(), 6U);
    ASSERT_TRUE((*p)->run(10s));
    EXPECT_EQ((*p)->progress().buffers, 6U);
}

TEST(PipelineTest, CapsFiltersBecomeCapsfilterElements) {
    auto p = Pipeline::parse("fakesrc num-buffers=1 ! video/x-raw,width=640 ! fakesink");
    ASSERT_TRUE(p) << p.error().to_string();
    Element* cf = (*p)->find("capsfilter0");
    ASSERT_NE(cf, nullptr);
    EXPECT_EQ(cf->get_property("caps").value(), "video/x-raw, width=(int)640");
}

TEST(PipelineTest, AliasesOfTheOriginalNamesWork) {
    auto p = Pipeline::parse("nullsource num-buffers=2 ! passthrough ! nullsink");
    ASSERT_TRUE(p) << p.error().to_string();
    ASSERT_TRUE((*p)->run(10s));
    EXPECT_EQ((*p)->progress().buffers, 2U);
}

TEST(PipelineTest, UnknownElementIsAnErrorAtItsPositionWithSuggestions) {
    const Error e = parse_error("fakesrc ! fakesnk");
    EXPECT_EQ(e.position(), 10U);
    EXPECT_EQ(e.message(), "no element \"fakesnk\" (did you mean \"fakesink\"?)");
    EXPECT_EQ(format_pipeline_error("fakesrc ! fakesnk", e),
              "fakesrc ! fakesnk\n          ^\nno element \"fakesnk\" (did you mean \"fakesink\"?)");
}

TEST(PipelineTest, BadPropertiesPointAtNameOrValue) {
    const Error unknown = parse_error("fakesrc num-bufers=3 ! fakesink");
    EXPECT_EQ(unknown.position(), 8U);
    EXPECT_NE(unknown.message().find("did you mean \"num-buffers\""), std::string::npos) << unknown.message();
    const Error range = parse_error("fakesrc num-buffers=-5 ! fakesink");
    EXPECT_EQ(range.position(), 20U);
    EXPECT_NE(range.message().find("out of range [-1, 2147483647]"), std::string::npos) << range.message();
    const Error type = parse_error("fakesrc is-live=perhaps ! fakesink");
    EXPECT_EQ(type.position(), 16U);
    EXPECT_NE(type.message().find("not a boolean"), std::string::npos);
    const Error caps = parse_error("fakesrc ! capsfilter caps=\"video/x-raw,width=\" ! fakesink");
    EXPECT_NE(caps.position(), Error::no_position);
    EXPECT_GE(caps.position(), 27U);
}

TEST(PipelineTest, BadReferencesAndPadsAreErrors) {
    const Error missing = parse_error("fakesrc ! tee name=t x. ! fakesink");
    EXPECT_EQ(missing.position(), 21U);
    EXPECT_NE(missing.message().find("no element named \"x\""), std::string::npos) << missing.message();
    const Error pad = parse_error("fakesrc ! tee name=t t.nosuch ! fakesink");
    EXPECT_NE(pad.message().find("has no src pad \"nosuch\""), std::string::npos) << pad.message();
    const Error dup = parse_error("fakesrc name=a ! fakesink name=a");
    EXPECT_NE(dup.message().find("already has an element named \"a\""), std::string::npos) << dup.message();
}

TEST(PipelineTest, AddSetsPropertiesOfEveryKindFromLiterals) {
    auto p = Pipeline::create();
    auto s = p->add("fakesink", "s", {{"sync", true}, {"num-buffers", 5}, {"silent", false}});
    ASSERT_TRUE(s) << s.error().to_string();
    EXPECT_EQ((*s)->get_property("sync").value_or(""), "true");
    EXPECT_EQ((*s)->get_property("num-buffers").value_or(""), "5");
    EXPECT_EQ((*s)->get_property("silent").value_or(""), "false");
}

TEST(PipelineTest, LinksThatCannotMeetNameBothSides) {
    auto p = Pipeline::create();
    auto a = p->add("capsfilter", "a", {{"caps", "audio/x-raw"}});
    auto b = p->add("fakesink", "b");
    ASSERT_TRUE(a && b);
    auto src = p->add("fakesrc", "src");
    // An element linked to itself, or twice from the same pad.
    EXPECT_FALSE(p->link(**a, "src", **a, "sink"));
    ASSERT_TRUE(p->link(**src, **a));
    auto again = p->link(**src, "src", **b, "sink");
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message().find("src:src is already linked to a:sink"), std::string::npos)
        << again.error().message();
}

TEST(PipelineTest, ALinkThatClosesACycleIsRefusedAndTheCycleNamed) {
    auto p = Pipeline::create();
    auto f = p->add("funnel", "f");
    ASSERT_TRUE(f) << f.error().to_string();
    auto i1 = p->add("identity", "i1");
    auto t = p->add("tee", "t");
    ASSERT_TRUE(p->link(**f, **i1));
    ASSERT_TRUE(p->link(**i1, **t));
    auto r = p->link(**t, **f);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("would close a cycle: f ! i1 ! t ! f"), std::string::npos)
        << r.error().message();
}

TEST(PipelineTest, TypedGetChecksTheType) {
    auto p = Pipeline::parse("fakesrc ! queue name=q ! fakesink name=s");
    ASSERT_TRUE(p);
    EXPECT_TRUE((*p)->get<Queue>("q"));
    auto wrong = (*p)->get<Queue>("s");
    ASSERT_FALSE(wrong);
    EXPECT_NE(wrong.error().message().find("s is a fakesink"), std::string::npos);
    auto none = (*p)->get<Queue>("nope");
    ASSERT_FALSE(none);
    EXPECT_TRUE(none.error().is(Errc::not_found));
}

TEST(PipelineTest, FluentChainReportsTheFirstError) {
    auto p = Pipeline::create();
    auto r = p->chain().then("fakesrc").then("no-such-element").then("fakesink").done();
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(Errc::not_found));
    auto ok = Pipeline::create()->chain().then("fakesrc", {{"num-buffers", 1}}).filter("audio/x-raw").then("fakesink");
    EXPECT_TRUE(ok.done());
}

TEST(PipelineTest, ElementsCanBeRemovedOnlyWhenNotRunning) {
    auto p = Pipeline::parse("fakesrc ! fakesink name=s");
    ASSERT_TRUE(p);
    ASSERT_TRUE((*p)->set_state(State::running));
    EXPECT_FALSE((*p)->remove(*(*p)->find("s")));
    ASSERT_TRUE((*p)->set_state(State::suspended));
    EXPECT_TRUE((*p)->remove(*(*p)->find("s")));
    EXPECT_EQ((*p)->find("s"), nullptr);
}

} // namespace
} // namespace parallax
