#include <parallax/element.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <parallax/elements/flow/fakesink.hpp>

#include "support/recorder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;

// Records what reaches it, in order, and notices overlapping calls.
using check::Recorder;

Recorder* add_recorder(Pipeline& p, std::string name) {
    auto r = make_element<Recorder>(std::move(name));
    EXPECT_TRUE(r);
    Recorder* raw = r->get();
    EXPECT_TRUE(p.add(std::move(*r)));
    return raw;
}

// Counts the eos messages the pipeline posts.
std::shared_ptr<std::atomic<int>> count_eos(Pipeline& p) {
    auto n = std::make_shared<std::atomic<int>>(0);
    p.bus().set_sync_handler([n](const Message& m) {
        if (m.type == MessageType::eos) {
            ++*n;
        }
        return true;
    });
    return n;
}

// Checks that the buffers of `size` carry the sequence numbers 0..count-1 in order.
void expect_in_order(const std::vector<Recorder::Item>& buffers, std::size_t size, std::uint64_t count) {
    std::uint64_t next = 0;
    for (const auto& b : buffers) {
        if (b.size == size) {
            EXPECT_EQ(b.sequence, next) << "buffers of size " << size;
            ++next;
        }
    }
    EXPECT_EQ(next, count) << "buffers of size " << size;
}

TEST(FunnelTest, IsRegisteredWithGStreamersPadsAndProperties) {
    const ElementFactory* f = Registry::global().find("funnel");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().klass, "Generic");
    ASSERT_EQ(f->pad_templates().size(), 2U);
    EXPECT_EQ(f->pad_templates()[0].name, "sink_%u");
    EXPECT_EQ(f->pad_templates()[0].presence, PadPresence::request);
    EXPECT_EQ(f->pad_templates()[1].name, "src");
    auto e = f->create();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("forward-sticky-events").value(), "true");
    EXPECT_EQ((*e)->property("forward-sticky-events")->mutability(), Mutability::idle);
}

TEST(FunnelTest, BuffersOfEverySourceReachTheSinkAndEosComesOnce) {
    auto p = Pipeline::create();
    auto eos = count_eos(*p);
    auto a = p->add("fakesrc", "a", {{"num-buffers", 30}, {"sizetype", "fixed"}, {"sizemax", 1}});
    auto b = p->add("fakesrc", "b", {{"num-buffers", 50}, {"sizetype", "fixed"}, {"sizemax", 2}});
    auto f = p->add("funnel", "f");
    ASSERT_TRUE(a && b && f);
    Recorder* sink = add_recorder(*p, "sink");
    ASSERT_TRUE(p->link(**a, "src", **f, "sink_%u"));
    ASSERT_TRUE(p->link(**b, "src", **f, "sink_%u"));
    ASSERT_TRUE(p->link(**f, *sink));

    auto ok = p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    const auto buffers = sink->buffers();
    EXPECT_EQ(buffers.size(), 80U);
    expect_in_order(buffers, 1, 30);
    expect_in_order(buffers, 2, 50);
    EXPECT_EQ(sink->count(EventType::eos), 1U);
    EXPECT_EQ(sink->count(EventType::stream_start), 1U);
    EXPECT_EQ(eos->load(), 1);
    // stream-start and a segment come before the first buffer.
    const auto items = sink->items();
    ASSERT_GE(items.size(), 2U);
    EXPECT_EQ(items[0].event, EventType::stream_start);
    const auto first_buffer = std::find_if(items.begin(), items.end(), [](const auto& i) { return !i.event; });
    EXPECT_TRUE(std::any_of(items.begin(), first_buffer, [](const auto& i) { return i.event == EventType::segment; }));
    EXPECT_EQ(items.back().event, EventType::eos);
}

TEST(FunnelTest, EachBufferArrivesWithItsPad) {
    auto p = Pipeline::create();
    auto a = p->add("fakesrc", "a", {{"num-buffers", 7}});
    auto b = p->add("fakesrc", "b", {{"num-buffers", 11}});
    auto f = p->add("funnel", "f");
    auto s = p->add("fakesink", "sink");
    ASSERT_TRUE(a && b && f && s);
    ASSERT_TRUE(p->link(**a, "src", **f, "sink_%u"));
    ASSERT_TRUE(p->link(**b, "src", **f, "sink_%u"));
    ASSERT_TRUE(p->link(**f, **s));
    auto ok = p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    ASSERT_NE((*f)->pad("sink_0"), nullptr);
    ASSERT_NE((*f)->pad("sink_1"), nullptr);
    EXPECT_EQ((*f)->pad("sink_0")->buffer_count(), 7U);
    EXPECT_EQ((*f)->pad("sink_1")->buffer_count(), 11U);
    EXPECT_EQ((*f)->pad("src")->peer()->buffer_count(), 18U);
}

TEST(FunnelTest, SerializesBranchesThatRunOnOtherThreads) {
    auto p = Pipeline::create();
    Recorder* sink = add_recorder(*p, "sink");
    auto f = p->add("funnel", "f");
    ASSERT_TRUE(f);
    for (int i = 0; i < 3; ++i) {
        const std::string n = std::to_string(i);
        auto src = p->add("fakesrc", "src" + n,
                          {{"num-buffers", 500}, {"sizetype", "fixed"}, {"sizemax", static_cast<int>(i + 1)}});
        auto q = p->add("queue", "q" + n);
        ASSERT_TRUE(src && q);
        ASSERT_TRUE(p->link(**src, **q));
        ASSERT_TRUE(p->link(**q, "src", **f, "sink_%u"));
    }
    ASSERT_TRUE(p->link(**f, *sink));
    auto ok = p->run(20s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    const auto buffers = sink->buffers();
    EXPECT_EQ(buffers.size(), 1500U);
    for (std::size_t size = 1; size <= 3; ++size) {
        expect_in_order(buffers, size, 500);
    }
    EXPECT_FALSE(sink->overlapped());
    EXPECT_EQ(sink->count(EventType::eos), 1U);
    EXPECT_EQ(sink->count(EventType::stream_start), 1U);
}

TEST(FunnelTest, EosWaitsForEveryInput) {
    auto p = Pipeline::create();
    auto eos = count_eos(*p);
    auto a = p->add("fakesrc", "a", {{"num-buffers", 0}});
    auto b = p->add("fakesrc", "b", {{"num-buffers", 300}});
    auto q = p->add("queue", "q");
    auto f = p->add("funnel", "f");
    ASSERT_TRUE(a && b && q && f);
    Recorder* sink = add_recorder(*p, "sink");
    ASSERT_TRUE(p->link(**a, "src", **f, "sink_%u"));
    ASSERT_TRUE(p->link(**b, **q));
    ASSERT_TRUE(p->link(**q, "src", **f, "sink_%u"));
    ASSERT_TRUE(p->link(**f, *sink));
    auto ok = p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(sink->buffers().size(), 300U);
    EXPECT_EQ(sink->count(EventType::eos), 1U);
    EXPECT_EQ(eos->load(), 1);
}

TEST(FunnelTest, RunsAgainFromScratch) {
    auto p = Pipeline::create();
    auto a = p->add("fakesrc", "a", {{"num-buffers", 5}});
    auto b = p->add("fakesrc", "b", {{"num-buffers", 6}});
    auto f = p->add("funnel", "f", {{"forward-sticky-events", PropertyValue(false)}});
    ASSERT_TRUE(a && b && f);
    Recorder* sink = add_recorder(*p, "sink");
    ASSERT_TRUE(p->link(**a, "src", **f, "sink_%u"));
    ASSERT_TRUE(p->link(**b, "src", **f, "sink_%u"));
    ASSERT_TRUE(p->link(**f, *sink));
    for (int run = 0; run < 2; ++run) {
        auto ok = p->run(10s);
        ASSERT_TRUE(ok) << ok.error().to_string();
        EXPECT_EQ(sink->buffers().size(), 11U);
        EXPECT_EQ(sink->count(EventType::eos), 1U);
        EXPECT_EQ(sink->count(EventType::stream_start), 1U);
    }
}

TEST(FunnelTest, RejectsPadsItDoesNotHave) {
    auto p = Pipeline::create();
    auto a = p->add("fakesrc", "a");
    auto f = p->add("funnel", "f");
    ASSERT_TRUE(a && f);
    auto bad = p->link(**a, "src", **f, "sonk_0");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("sonk_0"), std::string::npos) << bad.error().to_string();
    auto src = (*f)->request_pad("src_%u");
    ASSERT_FALSE(src);
    EXPECT_NE(src.error().message().find("src_%u"), std::string::npos) << src.error().to_string();
    auto named = (*f)->request_pad("sink_4");
    ASSERT_TRUE(named);
    EXPECT_EQ((*named)->name(), "sink_4");
    EXPECT_FALSE((*f)->request_pad("sink_4"));
    EXPECT_FALSE((*f)->set_property("forward-sticky-events", "maybe"));
    auto unknown = (*f)->set_property("forward-sticky", "true");
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message().find("forward-sticky-events"), std::string::npos);
}

TEST(FunnelTest, ParsesFromPipelineText) {
    auto p = Pipeline::parse("funnel name=f ! fakesink name=sink "
                             "fakesrc num-buffers=4 ! f.sink_0 "
                             "fakesrc num-buffers=6 ! f.sink_1");
    ASSERT_TRUE(p) << p.error().to_string();
    auto sink = (*p)->get<FakeSink>("sink");
    ASSERT_TRUE(sink);
    std::atomic<int> seen{0};
    (*sink)->set_handoff([&](const Buffer&, Pad&) { ++seen; });
    ASSERT_TRUE((*sink)->set_property("signal-handoffs", "true"));
    auto ok = (*p)->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(seen.load(), 10);
}

} // namespace
} // namespace parallax
