#include <parallax/element.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <parallax/elements/flow/fakesink.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;

// fakesrc (num-buffers) -> output-selector "sel" -> fakesinks "s0", "s1",
// each keeping the sequence numbers it saw.
struct TwoOutputs {
    std::unique_ptr<Pipeline> p = Pipeline::create();
    Element* sel = nullptr;
    FakeSink* sinks[2] = {nullptr, nullptr};
    std::mutex mutex;
    std::vector<std::uint64_t> seen[2];
    std::function<void(int, std::uint64_t)> on_buffer;

    TwoOutputs(int buffers, std::initializer_list<PropertySetting> selector = {}) {
        auto src = p->add("fakesrc", "src", {{"num-buffers", buffers}});
        auto s = p->add("output-selector", "sel", selector);
        EXPECT_TRUE(src && s);
        sel = *s;
        EXPECT_TRUE(p->link(**src, *sel));
        for (int i = 0; i < 2; ++i) {
            const std::string name = "s" + std::to_string(i);
            EXPECT_TRUE(p->add("fakesink", name, {{"signal-handoffs", PropertyValue(true)}}));
            sinks[i] = *p->get<FakeSink>(name);
            EXPECT_TRUE(p->link(*sel, "src_%u", *sinks[i], "sink"));
            sinks[i]->set_handoff([this, i](const Buffer& b, Pad&) {
                {
                    std::lock_guard lock(mutex);
                    seen[i].push_back(b.meta().sequence());
                }
                if (on_buffer) {
                    on_buffer(i, b.meta().sequence());
                }
            });
        }
    }

    std::vector<std::uint64_t> sequences(int i) {
        std::lock_guard lock(mutex);
        return seen[i];
    }
};

std::vector<std::uint64_t> iota(std::uint64_t from, std::uint64_t to) {
    std::vector<std::uint64_t> v;
    for (std::uint64_t i = from; i < to; ++i) {
        v.push_back(i);
    }
    return v;
}

TEST(OutputSelectorTest, IsRegisteredWithGStreamersPadsAndProperties) {
    const ElementFactory* f = Registry::global().find("output-selector");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().summary, "1-to-N output stream selector");
    ASSERT_EQ(f->pad_templates().size(), 2U);
    EXPECT_EQ(f->pad_templates()[0].name, "sink");
    EXPECT_EQ(f->pad_templates()[1].name, "src_%u");
    EXPECT_EQ(f->pad_templates()[1].presence, PadPresence::request);
    auto e = f->create();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("active-pad").value(), "");
    EXPECT_EQ((*e)->get_property("resend-latest").value(), "false");
    EXPECT_EQ((*e)->get_property("pad-negotiation-mode").value(), "all");
    EXPECT_EQ((*e)->property("active-pad")->mutability(), Mutability::running);
    EXPECT_TRUE((*e)->set_property("pad-negotiation-mode", "active"));
    EXPECT_TRUE((*e)->set_property("pad-negotiation-mode", "0"));
    EXPECT_EQ((*e)->get_property("pad-negotiation-mode").value(), "none");
    EXPECT_FALSE((*e)->set_property("pad-negotiation-mode", "some"));
}

TEST(OutputSelectorTest, BuffersGoToTheFirstPadAndEosToEveryPad) {
    TwoOutputs t(40);
    // Both sinks must see eos for the pipeline to end.
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(t.sequences(0), iota(0, 40));
    EXPECT_TRUE(t.sequences(1).empty());
    EXPECT_TRUE(t.sinks[1]->sink_pad().is_eos());
}

TEST(OutputSelectorTest, ActivePadPropertyRoutes) {
    TwoOutputs t(40, {{"active-pad", "src_1"}});
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_TRUE(t.sequences(0).empty());
    EXPECT_EQ(t.sequences(1), iota(0, 40));
    EXPECT_EQ(t.sel->pad("src_1")->peer()->buffer_count(), 40U);
}

TEST(OutputSelectorTest, SwitchingWhileRunningTakesEffectAtTheNextBuffer) {
    TwoOutputs t(30);
    t.on_buffer = [&](int sink, std::uint64_t seq) {
        if (sink == 0 && seq == 9) {
            EXPECT_TRUE(t.sel->set_property("active-pad", "src_1"));
        }
    };
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(t.sequences(0), iota(0, 10));
    EXPECT_EQ(t.sequences(1), iota(10, 30));
}

TEST(OutputSelectorTest, ResendLatestRepeatsTheLastBufferOnTheNewPad) {
    TwoOutputs t(30, {{"resend-latest", PropertyValue(true)}});
    t.on_buffer = [&](int sink, std::uint64_t seq) {
        if (sink == 0 && seq == 9) {
            EXPECT_TRUE(t.sel->set_property("active-pad", "src_1"));
        }
    };
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(t.sequences(0), iota(0, 10));
    EXPECT_EQ(t.sequences(1), iota(9, 30));
}

TEST(OutputSelectorTest, EveryNegotiationModeDeliversTheBuffers) {
    for (const char* mode : {"none", "all", "active"}) {
        TwoOutputs t(12, {{"pad-negotiation-mode", mode}, {"active-pad", "src_1"}});
        auto ok = t.p->run(10s);
        ASSERT_TRUE(ok) << mode << ": " << ok.error().to_string();
        EXPECT_EQ(t.sequences(1), iota(0, 12)) << mode;
    }
}

TEST(OutputSelectorTest, SettingActivePadToAMissingPadIsAnErrorNamingIt) {
    TwoOutputs t(-1);
    auto bogus = t.sel->set_property("active-pad", "sink");
    ASSERT_FALSE(bogus);
    EXPECT_NE(bogus.error().message().find("\"sink\""), std::string::npos) << bogus.error().to_string();

    ASSERT_TRUE(t.p->set_state(State::running));
    auto missing = t.sel->set_property("active-pad", "src_5");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("src_5"), std::string::npos) << missing.error().to_string();
    EXPECT_NE(missing.error().message().find("src_0, src_1"), std::string::npos) << missing.error().to_string();
    EXPECT_EQ(t.sel->get_property("active-pad").value(), "src_0");
    ASSERT_TRUE(t.p->set_state(State::idle));

    ASSERT_TRUE(t.sel->set_property("active-pad", "src_5"));
    auto ok = t.p->run(10s);
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.error().message().find("src_5"), std::string::npos) << ok.error().to_string();
}

TEST(OutputSelectorTest, RoutesByPadNameInPipelineText) {
    auto p = Pipeline::parse("fakesrc num-buffers=5 ! output-selector name=sel active-pad=src_1 "
                             "sel.src_0 ! fakesink name=s0  sel.src_1 ! fakesink name=s1");
    ASSERT_TRUE(p) << p.error().to_string();
    auto ok = (*p)->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ((*p)->find("s0")->pad("sink")->buffer_count(), 0U);
    EXPECT_EQ((*p)->find("s1")->pad("sink")->buffer_count(), 5U);
}

} // namespace
} // namespace parallax
