#include <parallax/element.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "support/recorder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;

// Records what reaches it, in order.
using check::Recorder;

// fakesrc -> valve "v" -> Recorder.
struct ValvePipeline {
    std::unique_ptr<Pipeline> p = Pipeline::create();
    Element* valve = nullptr;
    Recorder* sink = nullptr;

    ValvePipeline(std::initializer_list<PropertySetting> src, std::initializer_list<PropertySetting> valve_props) {
        auto s = p->add("fakesrc", "src", src);
        auto v = p->add("valve", "v", valve_props);
        EXPECT_TRUE(s && v);
        valve = *v;
        auto r = make_element<Recorder>("sink");
        sink = r->get();
        EXPECT_TRUE(p->add(std::move(*r)));
        EXPECT_TRUE(p->link(**s, *valve));
        EXPECT_TRUE(p->link(*valve, *sink));
    }
};

// Waits for `done` (a generous bound, not a timing check).
template <class F>
bool eventually(F done) {
    for (int i = 0; i < 20000; ++i) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

TEST(ValveTest, IsRegisteredWithGStreamersPadsAndProperties) {
    const ElementFactory* f = Registry::global().find("valve");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().klass, "Filter");
    EXPECT_EQ(f->info().summary, "Drops buffers and events or lets them through");
    auto e = f->create();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("drop").value(), "false");
    EXPECT_EQ((*e)->get_property("drop-mode").value(), "drop-all");
    EXPECT_EQ((*e)->property("drop")->mutability(), Mutability::running);
    EXPECT_EQ((*e)->property("drop-mode")->mutability(), Mutability::idle);
    EXPECT_TRUE((*e)->set_property("drop-mode", "transform-to-gap"));
    EXPECT_TRUE((*e)->set_property("drop-mode", "1"));
    EXPECT_EQ((*e)->get_property("drop-mode").value(), "forward-sticky-events");
    auto bad = (*e)->set_property("drop-mode", "drop-some");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("drop-mode"), std::string::npos) << bad.error().to_string();
}

TEST(ValveTest, OpenValvePassesEverything) {
    ValvePipeline t({{"num-buffers", 50}}, {});
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(t.sink->buffer_count(), 50U);
    EXPECT_EQ(t.sink->count(EventType::stream_start), 1U);
    EXPECT_EQ(t.sink->count(EventType::segment), 1U);
    EXPECT_EQ(t.sink->count(EventType::eos), 1U);
}

TEST(ValveTest, ClosedValveLetsNoBufferThroughButEosArrives) {
    ValvePipeline t({{"num-buffers", 50}}, {{"drop", PropertyValue(true)}});
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(t.sink->buffer_count(), 0U);
    EXPECT_EQ(t.valve->pad("sink")->buffer_count(), 50U);
    // drop-all holds the sticky events back until something passes: here
    // eos, which they then precede.
    const auto items = t.sink->items();
    ASSERT_EQ(items.size(), 3U);
    EXPECT_EQ(items[0].event, EventType::stream_start);
    EXPECT_EQ(items[1].event, EventType::segment);
    EXPECT_EQ(items[2].event, EventType::eos);
}

TEST(ValveTest, ForwardStickyEventsModePassesStickyEventsOnly) {
    ValvePipeline t({{"num-buffers", 50}}, {{"drop", PropertyValue(true)}, {"drop-mode", "forward-sticky-events"}});
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(t.sink->buffer_count(), 0U);
    EXPECT_EQ(t.sink->count(EventType::stream_start), 1U);
    EXPECT_EQ(t.sink->count(EventType::segment), 1U);
    EXPECT_EQ(t.sink->count(EventType::eos), 1U);
}

TEST(ValveTest, TransformToGapTurnsDroppedBuffersIntoGaps) {
    ValvePipeline t({{"num-buffers", 20}, {"sizetype", "fixed"}, {"sizemax", 10}, {"datarate", 1000}},
                    {{"drop", PropertyValue(true)}, {"drop-mode", "transform-to-gap"}});
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(t.sink->buffer_count(), 0U);
    EXPECT_EQ(t.sink->count(EventType::gap), 20U);
    EXPECT_EQ(t.sink->count(EventType::segment), 1U);
    std::vector<ClockTime> gaps;
    for (const auto& i : t.sink->items()) {
        if (i.event == EventType::gap) {
            gaps.push_back(i.time);
        }
    }
    ASSERT_EQ(gaps.size(), 20U);
    EXPECT_EQ(gaps[0], ClockTime::zero());
    EXPECT_EQ(gaps[19], ClockTime::from_ms(190));
}

TEST(ValveTest, OpeningWhileRunningResendsStickyEventsAndMarksADiscont) {
    ValvePipeline t({{"num-buffers", -1}}, {{"drop", PropertyValue(true)}});
    ASSERT_TRUE(t.p->set_state(State::running));
    ASSERT_TRUE(eventually([&] { return t.valve->pad("sink")->buffer_count() > 100; }));
    EXPECT_EQ(t.sink->buffer_count(), 0U);
    // drop-mode may change only while idle; drop at any time.
    EXPECT_FALSE(t.valve->set_property("drop-mode", "forward-sticky-events"));
    ASSERT_TRUE(t.valve->set_property("drop", "false"));
    ASSERT_TRUE(eventually([&] { return t.sink->buffer_count() > 10; }));
    t.p->send_eos();
    auto m = t.p->bus().pop({MessageType::eos, MessageType::error}, 20s);
    ASSERT_TRUE(t.p->set_state(State::idle));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, MessageType::eos) << m->to_string();

    const auto items = t.sink->items();
    ASSERT_GE(items.size(), 3U);
    // The sticky events dropped while closed come first, then the data, the
    // first buffer marked as following a discontinuity.
    EXPECT_EQ(items[0].event, EventType::stream_start);
    EXPECT_EQ(items[1].event, EventType::segment);
    ASSERT_FALSE(items[2].event);
    EXPECT_TRUE(has_flags(items[2].flags, BufferFlags::discont));
    EXPECT_EQ(t.sink->count(EventType::stream_start), 1U);
    EXPECT_EQ(t.sink->count(EventType::eos), 1U);
}

} // namespace
} // namespace parallax
