#include <parallax/element.hpp>
#include <parallax/pipeline/execution_strategy.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <gtest/gtest.h>

#include <string>

namespace parallax {
namespace {

using S = ExecutionStrategy;

StrategyDecision decide(const ExecutionHints& h, const StrategyOverrides& o = {}) {
    return choose_strategy("el0", "somefactory", h, o);
}

TEST(ExecutionStrategyTest, DefaultHintsRunInProcessByTheLastRule) {
    const auto d = decide(ExecutionHints::trusted());
    EXPECT_EQ(d.strategy, S::in_process);
    EXPECT_EQ(d.rule, "default: no hint asks for another");
    EXPECT_TRUE(d.warning.empty());
}

TEST(ExecutionStrategyTest, UntrustedIsIsolatedByTheFirstRule) {
    ExecutionHints h;
    h.trust_level = TrustLevel::untrusted;
    const auto d = decide(h);
    EXPECT_EQ(d.strategy, S::isolated);
    EXPECT_EQ(d.rule, "hints: trust=untrusted");
    EXPECT_TRUE(d.warning.empty());
    // Untrusted comes before native code and every later rule.
    const auto untrusted = decide(ExecutionHints::untrusted());
    EXPECT_EQ(untrusted.strategy, S::isolated);
    EXPECT_EQ(untrusted.rule, "hints: trust=untrusted");
    h.uses_native_code = true;
    h.crash_safe = false;
    h.affinity = Affinity::real_time;
    h.rt_safe = true;
    h.processing = ProcessingHint::io_bound;
    EXPECT_EQ(decide(h).rule, "hints: trust=untrusted");
    h.trust_level = TrustLevel::semi_trusted;
    h.uses_native_code = false;
    EXPECT_EQ(decide(h).strategy, S::real_time);
}

TEST(ExecutionStrategyTest, NativeCodeThatMayCrashIsIsolatedByTheSecondRule) {
    const auto d = decide(ExecutionHints::native());
    EXPECT_EQ(d.strategy, S::isolated);
    EXPECT_EQ(d.rule, "hints: native code, not crash-safe");

    // Before the real-time and io rules...
    ExecutionHints h = ExecutionHints::native();
    h.latency = LatencyHint::ultra_low;
    h.rt_safe = true;
    h.processing = ProcessingHint::io_bound;
    EXPECT_EQ(decide(h).strategy, S::isolated);
    // ... and only together: crash-safe native code, or pure code that may
    // crash, goes on to the later rules.
    h.crash_safe = true;
    EXPECT_EQ(decide(h).strategy, S::real_time);
    ExecutionHints not_native;
    not_native.crash_safe = false;
    EXPECT_EQ(decide(not_native).strategy, S::in_process);
    EXPECT_EQ(decide(not_native).rule, "default: no hint asks for another");
}

TEST(ExecutionStrategyTest, RealTimeAffinityNeedsRtSafety) {
    ExecutionHints h;
    h.affinity = Affinity::real_time;
    h.rt_safe = true;
    EXPECT_EQ(decide(h).strategy, S::real_time);
    EXPECT_EQ(decide(h).rule, "hints: affinity=real-time, rt-safe");

    h.rt_safe = false;
    const auto d = decide(h);
    EXPECT_EQ(d.strategy, S::in_process);
    EXPECT_NE(d.warning.find("does not declare itself rt-safe"), std::string::npos) << d.warning;
}

TEST(ExecutionStrategyTest, LowLatencyAndRtSafeIsRealTimeByRuleFour) {
    for (auto latency : {LatencyHint::ultra_low, LatencyHint::low}) {
        ExecutionHints h;
        h.latency = latency;
        h.rt_safe = true;
        EXPECT_EQ(decide(h).strategy, S::real_time) << to_string(latency);
        EXPECT_EQ(decide(h).rule.rfind("hints: latency=", 0), 0U) << decide(h).rule;
        h.rt_safe = false;
        EXPECT_EQ(decide(h).strategy, S::in_process) << to_string(latency);
    }
    ExecutionHints normal;
    normal.rt_safe = true;
    EXPECT_EQ(decide(normal).strategy, S::in_process);
}

TEST(ExecutionStrategyTest, AsyncAffinityKeepsALowLatencyElementOffRealTime) {
    ExecutionHints h;
    h.latency = LatencyHint::low;
    h.rt_safe = true;
    h.affinity = Affinity::async;
    EXPECT_EQ(decide(h).strategy, S::in_process);
}

TEST(ExecutionStrategyTest, IoBoundIsIoByRuleFive) {
    EXPECT_EQ(decide(ExecutionHints::io_bound()).strategy, S::io);
    ExecutionHints low_io = ExecutionHints::io_bound();
    low_io.latency = LatencyHint::low;
    low_io.rt_safe = true;
    EXPECT_EQ(decide(low_io).strategy, S::real_time); // rule 4 comes first
}

TEST(ExecutionStrategyTest, ElementOverrideWinsOverHints) {
    StrategyOverrides o;
    o.elements.emplace("el0", S::in_process);
    const auto d = choose_strategy("el0", "f", ExecutionHints::io_bound(), o);
    EXPECT_EQ(d.strategy, S::in_process);
    EXPECT_EQ(d.rule, "strategy=in-process set for this element");
    EXPECT_EQ(choose_strategy("el1", "f", ExecutionHints::io_bound(), o).strategy, S::io);
}

TEST(ExecutionStrategyTest, ForcedRealTimeOnAnElementThatIsNotRtSafeWarns) {
    StrategyOverrides o;
    o.elements.emplace("el0", S::real_time);
    const auto d = decide({}, o);
    EXPECT_EQ(d.strategy, S::real_time);
    EXPECT_FALSE(d.warning.empty());
}

TEST(ExecutionStrategyTest, IsolatePatternsMatchTheElementName) {
    StrategyOverrides o;
    o.isolate = {"*dec*", "crash?"};
    auto d = choose_strategy("crash0", "crashtest", {}, o);
    EXPECT_EQ(d.strategy, S::isolated);
    EXPECT_EQ(d.rule, "isolate pattern 'crash?' matches crash0");
    d = choose_strategy("mydecoder", "identity", ExecutionHints::io_bound(), o);
    EXPECT_EQ(d.strategy, S::isolated);
    EXPECT_EQ(d.rule, "isolate pattern '*dec*' matches mydecoder");
    // Globs match the whole name.
    EXPECT_EQ(choose_strategy("crash10", "identity", {}, o).strategy, S::in_process);
    EXPECT_EQ(choose_strategy("crash", "identity", {}, o).strategy, S::in_process);
}

TEST(ExecutionStrategyTest, IsolatePatternsMatchTheFactoryName) {
    StrategyOverrides o;
    o.isolate = {"crash*"};
    const auto d = choose_strategy("victim", "crashtest", {}, o);
    EXPECT_EQ(d.strategy, S::isolated);
    EXPECT_EQ(d.rule, "isolate pattern 'crash*' matches its factory crashtest");
    EXPECT_EQ(choose_strategy("crashtest0", "crashtest", {}, o).rule, "isolate pattern 'crash*' matches crashtest0");
}

TEST(ExecutionStrategyTest, TheFirstMatchingPatternIsNamed) {
    StrategyOverrides o;
    o.isolate = {"nothing", "*test*", "crash*"};
    EXPECT_EQ(choose_strategy("crashtest0", "crashtest", {}, o).rule, "isolate pattern '*test*' matches crashtest0");
}

TEST(ExecutionStrategyTest, IsolatePatternsComeBeforeTheHints) {
    StrategyOverrides o;
    o.isolate = {"el*"};
    ExecutionHints rt;
    rt.affinity = Affinity::real_time;
    rt.rt_safe = true;
    EXPECT_EQ(decide(rt, o).strategy, S::isolated);
    // An element the hints isolate anyway is named by the pattern.
    EXPECT_EQ(decide(ExecutionHints::untrusted(), o).rule, "isolate pattern 'el*' matches el0");
}

TEST(ExecutionStrategyTest, TheElementsOwnStrategyBeatsIsolatePatterns) {
    StrategyOverrides o;
    o.isolate = {"*"};
    o.elements.emplace("el0", S::io);
    const auto d = decide({}, o);
    EXPECT_EQ(d.strategy, S::io);
    EXPECT_EQ(d.rule, "strategy=io set for this element");
    // It beats isolating hints too.
    o.elements["el0"] = S::in_process;
    EXPECT_EQ(decide(ExecutionHints::untrusted(), o).strategy, S::in_process);
    EXPECT_EQ(choose_strategy("other", "f", {}, o).strategy, S::isolated);
}

TEST(ExecutionStrategyTest, StrategyIsolatedForAnElementIsolatesIt) {
    StrategyOverrides o;
    o.elements.emplace("el0", S::isolated);
    const auto d = decide({}, o);
    EXPECT_EQ(d.strategy, S::isolated);
    EXPECT_EQ(d.rule, "strategy=isolated set for this element");
    EXPECT_TRUE(d.warning.empty());
}

TEST(ExecutionStrategyTest, NeverIsolateOverridesEverySourceOfIsolation) {
    StrategyOverrides o;
    o.never_isolate = true;

    auto d = decide(ExecutionHints::untrusted(), o);
    EXPECT_EQ(d.strategy, S::in_process);
    EXPECT_EQ(d.rule, "never-isolate (debugging): would be isolated by hints: trust=untrusted");

    d = decide(ExecutionHints::native(), o);
    EXPECT_EQ(d.strategy, S::in_process);
    EXPECT_EQ(d.rule, "never-isolate (debugging): would be isolated by hints: native code, not crash-safe");

    o.isolate = {"crash*"};
    d = choose_strategy("crashtest0", "crashtest", {}, o);
    EXPECT_EQ(d.strategy, S::in_process);
    EXPECT_EQ(d.rule, "never-isolate (debugging): would be isolated by isolate pattern 'crash*' matches crashtest0");

    o.elements.emplace("el0", S::isolated);
    d = decide({}, o);
    EXPECT_EQ(d.strategy, S::in_process);
    EXPECT_EQ(d.rule, "never-isolate (debugging): would be isolated by strategy=isolated set for this element");
}

TEST(ExecutionStrategyTest, NeverIsolateLeavesOtherStrategiesAlone) {
    StrategyOverrides o;
    o.never_isolate = true;
    EXPECT_EQ(decide(ExecutionHints::io_bound(), o).strategy, S::io);
    EXPECT_EQ(decide(ExecutionHints::io_bound(), o).rule, "hints: processing=io-bound");
    EXPECT_EQ(decide({}, o).rule, "default: no hint asks for another");
    o.elements.emplace("el0", S::real_time);
    EXPECT_EQ(decide({}, o).strategy, S::real_time);
}

TEST(ExecutionStrategyTest, ParsesEveryNameAndAutoAndRefusesOthers) {
    for (auto s : {S::in_process, S::io, S::real_time, S::isolated}) {
        auto parsed = parse_execution_strategy(to_string(s));
        ASSERT_TRUE(parsed);
        ASSERT_TRUE(parsed->has_value());
        EXPECT_EQ(**parsed, s);
    }
    auto automatic = parse_execution_strategy("auto");
    ASSERT_TRUE(automatic);
    EXPECT_FALSE(automatic->has_value());
    auto bad = parse_execution_strategy("realtime");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message(), "\"realtime\" is not a strategy (auto, in-process, io, real-time, isolated)");
}

TEST(ExecutionStrategyTest, PipelineTextSetsAnElementsStrategy) {
    auto p = Pipeline::parse("fakesrc ! identity name=id strategy=io ! fakesink");
    ASSERT_TRUE(p) << p.error().to_string();
    const auto& elements = (*p)->scheduling().strategies.elements;
    ASSERT_EQ(elements.count("id"), 1U);
    EXPECT_EQ(elements.at("id"), S::io);
    ASSERT_TRUE((*p)->set_state(State::idle));
    const std::string plan = (*p)->plan();
    EXPECT_NE(plan.find("strategy=io set for this element"), std::string::npos) << plan;
    // The io strategy puts a boundary in front of a non-source.
    EXPECT_NE(plan.find("in front of id (strategy io"), std::string::npos) << plan;
}

TEST(ExecutionStrategyTest, PipelineTextCanIsolateAnElement) {
    auto p = Pipeline::parse("fakesrc ! identity name=id strategy=isolated ! fakesink");
    ASSERT_TRUE(p) << p.error().to_string();
    const auto& elements = (*p)->scheduling().strategies.elements;
    ASSERT_EQ(elements.count("id"), 1U);
    EXPECT_EQ(elements.at("id"), S::isolated);
}

TEST(ExecutionStrategyTest, StrategyAutoInPipelineTextLeavesTheRulesInCharge) {
    auto p = Pipeline::parse("fakesrc ! identity name=id strategy=auto ! fakesink");
    ASSERT_TRUE(p) << p.error().to_string();
    EXPECT_TRUE((*p)->scheduling().strategies.elements.empty());
}

TEST(ExecutionStrategyTest, BadStrategyInPipelineTextPointsAtTheValue) {
    const std::string text = "fakesrc ! identity name=identity0 strategy=fastest ! fakesink";
    auto p = Pipeline::parse(text);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().position(), text.find("fastest"));
    EXPECT_EQ(p.error().element(), "identity0");
    EXPECT_NE(p.error().message().find("strategy of identity0: \"fastest\" is not a strategy"), std::string::npos)
        << p.error().message();
}

TEST(ExecutionStrategyTest, PlanListsEveryElementsStrategyAndRule) {
    auto p = Pipeline::parse("filesrc name=filesrc0 location=/dev/null ! identity name=identity0 ! filesink "
                             "name=filesink0 location=/dev/null");
    ASSERT_TRUE(p) << p.error().to_string();
    ASSERT_TRUE((*p)->set_state(State::idle));
    const std::string plan = (*p)->plan();
    EXPECT_NE(plan.find("strategies:"), std::string::npos) << plan;
    // filesrc reads ahead (io_uring) and waits on nothing in its thread.
    EXPECT_NE(plan.find("filesrc0     in-process  default: no hint asks for another"), std::string::npos) << plan;
    EXPECT_NE(plan.find("identity0    in-process  default: no hint asks for another"), std::string::npos) << plan;
    EXPECT_NE(plan.find("filesink0    io          hints: processing=io-bound"), std::string::npos) << plan;
    // One boundary, in front of the sink that waits on its writes.
    EXPECT_NE(plan.find("auto-queue0: in front of filesink0"), std::string::npos) << plan;
    EXPECT_EQ((*p)->find("auto-queue1"), nullptr) << plan;
}

TEST(ExecutionStrategyTest, OneBoundaryWhereAnIoSourceMeetsAnIoSink) {
    auto p = Pipeline::parse("fdsrc ! filesink location=/dev/null");
    ASSERT_TRUE(p) << p.error().to_string();
    ASSERT_TRUE((*p)->set_state(State::idle));
    EXPECT_NE((*p)->find("auto-queue0"), nullptr);
    EXPECT_EQ((*p)->find("auto-queue1"), nullptr) << (*p)->plan();
}

class WantsRealTime final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "test-wants-rt", .klass = "Filter", .summary = "asks for RT"};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.affinity = Affinity::real_time;
        return h;
    }();

protected:
    Flow transform(Buffer&, TransformContext&) override { return Flow::ok; }
};

TEST(ExecutionStrategyTest, AnUnsatisfiableRequestIsWarnedOnceOnTheBus) {
    auto p = Pipeline::create();
    auto src = p->add("fakesrc", "src", {{"num-buffers", 1}});
    auto rt = p->add(make_element<WantsRealTime>("rt").value());
    auto snk = p->add("fakesink", "sink");
    ASSERT_TRUE(p->link(**src, **rt) && p->link(**rt, **snk));
    // Placed again at each start: the warning still comes once.
    ASSERT_TRUE(p->set_state(State::paused));
    ASSERT_TRUE(p->set_state(State::idle));
    ASSERT_TRUE(p->set_state(State::paused));
    ASSERT_TRUE(p->set_state(State::suspended));
    int warnings = 0;
    while (auto m = p->bus().pop(std::chrono::nanoseconds(0))) {
        if (m->type == MessageType::warning && m->source == "rt") {
            ++warnings;
            EXPECT_NE(m->to_string().find("rt-safe"), std::string::npos) << m->to_string();
        }
    }
    EXPECT_EQ(warnings, 1);
}

} // namespace
} // namespace parallax
