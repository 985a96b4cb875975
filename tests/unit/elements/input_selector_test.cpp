#include <parallax/element.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "support/recorder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;

// Records what reaches it, in order; `on_buffer` runs for each buffer on the
// streaming thread.
using check::Recorder;

// Two sources told apart by their buffer sizes (1 and 2 bytes) into an
// input-selector "sel" in front of a Recorder.
struct TwoInputs {
    std::unique_ptr<Pipeline> p = Pipeline::create();
    Element* a = nullptr;
    Element* b = nullptr;
    Element* sel = nullptr;
    Recorder* sink = nullptr;
    std::shared_ptr<std::atomic<int>> eos_messages = std::make_shared<std::atomic<int>>(0);

    TwoInputs(int a_buffers, int b_buffers, std::initializer_list<PropertySetting> selector = {}) {
        a = *p->add("fakesrc", "a", {{"num-buffers", a_buffers}, {"sizetype", "fixed"}, {"sizemax", 1}});
        b = *p->add("fakesrc", "b", {{"num-buffers", b_buffers}, {"sizetype", "fixed"}, {"sizemax", 2}});
        auto s = p->add("input-selector", "sel", selector);
        EXPECT_TRUE(s) << s.error().to_string();
        sel = *s;
        auto r = make_element<Recorder>("sink");
        sink = r->get();
        EXPECT_TRUE(p->add(std::move(*r)));
        EXPECT_TRUE(p->link(*a, "src", *sel, "sink_%u"));
        EXPECT_TRUE(p->link(*b, "src", *sel, "sink_%u"));
        EXPECT_TRUE(p->link(*sel, *sink));
        p->bus().set_sync_handler([n = eos_messages](const Message& m) {
            if (m.type == MessageType::eos) {
                ++*n;
            }
            return true;
        });
    }

    std::size_t buffers_of_size(std::size_t size) const {
        const auto all = sink->buffers();
        return static_cast<std::size_t>(
            std::count_if(all.begin(), all.end(), [&](const Recorder::Item& i) { return i.size == size; }));
    }
};

TEST(InputSelectorTest, IsRegisteredWithGStreamersPadsAndProperties) {
    const ElementFactory* f = Registry::global().find("input-selector");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().summary, "N-to-1 input stream selector");
    ASSERT_EQ(f->pad_templates().size(), 2U);
    EXPECT_EQ(f->pad_templates()[0].name, "sink_%u");
    EXPECT_EQ(f->pad_templates()[0].presence, PadPresence::request);
    EXPECT_EQ(f->pad_templates()[1].name, "src");
    auto e = f->create();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("active-pad").value(), "");
    EXPECT_EQ((*e)->property("active-pad")->mutability(), Mutability::running);
    EXPECT_EQ((*e)->get_property("sync-streams").value(), "true");
    EXPECT_EQ((*e)->get_property("sync-mode").value(), "active-segment");
    EXPECT_EQ((*e)->get_property("drop-backwards").value(), "false");
    EXPECT_TRUE((*e)->set_property("sync-mode", "clock"));
    EXPECT_FALSE((*e)->set_property("sync-mode", "wallclock"));
    EXPECT_EQ((*e)->property("n-pads"), nullptr); // read-only in GStreamer
}

TEST(InputSelectorTest, PassesOnlyTheFirstPadsBuffersByDefault) {
    TwoInputs t(50, 80);
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(t.buffers_of_size(1), 50U);
    EXPECT_EQ(t.buffers_of_size(2), 0U);
    EXPECT_EQ(t.sink->count(EventType::eos), 1U);
    EXPECT_EQ(t.sink->count(EventType::stream_start), 1U);
    EXPECT_EQ(t.eos_messages->load(), 1);
    // Sequence numbers show every buffer of the active source, in order.
    const auto buffers = t.sink->buffers();
    for (std::size_t i = 0; i < buffers.size(); ++i) {
        EXPECT_EQ(buffers[i].sequence, i);
    }
    // The element's own choice lasts one run.
    EXPECT_EQ(t.sel->get_property("active-pad").value(), "");
}

TEST(InputSelectorTest, ActivePadPropertyChoosesTheInput) {
    TwoInputs t(50, 80, {{"active-pad", "sink_1"}});
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(t.buffers_of_size(1), 0U);
    EXPECT_EQ(t.buffers_of_size(2), 80U);
    EXPECT_EQ(t.sink->count(EventType::eos), 1U);
    EXPECT_EQ(t.eos_messages->load(), 1);
    // Each buffer came in on its own pad: all of b's on sink_1.
    EXPECT_EQ(t.sel->pad("sink_1")->buffer_count(), 80U);
    EXPECT_LE(t.sel->pad("sink_0")->buffer_count(), 50U);
    EXPECT_EQ(t.sel->get_property("active-pad").value(), "sink_1");
}

TEST(InputSelectorTest, SwitchingActivePadWhileRunningTakesTheNewInput) {
    TwoInputs t(-1, -1);
    std::atomic<int> from_a{0};
    std::atomic<int> from_b{0};
    t.sink->on_buffer = [&](const Recorder::Item& i) {
        if (i.size == 1 && ++from_a == 10) {
            // On the streaming thread, in the middle of a push.
            EXPECT_TRUE(t.sel->set_property("active-pad", "sink_1"));
        } else if (i.size == 2 && ++from_b == 10) {
            t.p->send_eos();
        }
    };
    ASSERT_TRUE(t.p->set_state(State::running));
    auto m = t.p->bus().pop({MessageType::eos, MessageType::error}, 20s);
    ASSERT_TRUE(t.p->set_state(State::idle));
    ASSERT_TRUE(m);
    ASSERT_EQ(m->type, MessageType::eos) << m->to_string();

    const auto items = t.sink->items();
    std::size_t buffers = 0;
    bool segment_before_b = false;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i].event) {
            continue;
        }
        if (buffers < 10) {
            EXPECT_EQ(items[i].size, 1U) << "buffer " << buffers;
        } else {
            EXPECT_EQ(items[i].size, 2U) << "buffer " << buffers;
        }
        if (buffers == 10) {
            // The new input's segment goes out in front of its first buffer.
            segment_before_b = items[i - 1].event == EventType::segment;
        }
        ++buffers;
    }
    EXPECT_GE(buffers, 20U);
    EXPECT_TRUE(segment_before_b);
    EXPECT_EQ(t.sink->count(EventType::stream_start), 1U);
    EXPECT_EQ(t.sink->count(EventType::eos), 1U);
}

TEST(InputSelectorTest, SwitchingToAnEndedPadSendsItsEos) {
    TwoInputs t(-1, 3);
    std::atomic<int> from_a{0};
    t.sink->on_buffer = [&](const Recorder::Item& i) {
        // By the time a sent 200 buffers, b has usually ended and its eos
        // waits in the selector; either way b's end ends the stream.
        if (i.size == 1 && ++from_a == 200) {
            EXPECT_TRUE(t.sel->set_property("active-pad", "sink_1"));
        }
    };
    auto ok = t.p->run(20s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(t.buffers_of_size(1), 200U);
    EXPECT_LE(t.buffers_of_size(2), 3U);
    EXPECT_EQ(t.sink->count(EventType::eos), 1U);
    EXPECT_EQ(t.eos_messages->load(), 1);
}

TEST(InputSelectorTest, SyncedStreamsWithTimestampsRunToTheEnd) {
    for (const char* mode : {"active-segment", "clock"}) {
        auto p = Pipeline::create();
        auto a =
            p->add("fakesrc", "a", {{"num-buffers", 100}, {"sizetype", "fixed"}, {"sizemax", 1}, {"datarate", 100000}});
        auto b =
            p->add("fakesrc", "b", {{"num-buffers", 100}, {"sizetype", "fixed"}, {"sizemax", 2}, {"datarate", 200000}});
        auto sel = p->add("input-selector", "sel", {{"sync-mode", mode}, {"drop-backwards", "true"}});
        auto sink = p->add("fakesink", "sink");
        ASSERT_TRUE(a && b && sel && sink);
        ASSERT_TRUE(p->link(**a, "src", **sel, "sink_%u"));
        ASSERT_TRUE(p->link(**b, "src", **sel, "sink_%u"));
        ASSERT_TRUE(p->link(**sel, **sink));
        auto ok = p->run(20s);
        ASSERT_TRUE(ok) << mode << ": " << ok.error().to_string();
        EXPECT_EQ((*sink)->pad("sink")->buffer_count(), 100U) << mode;
    }
}

TEST(InputSelectorTest, SettingActivePadToAMissingPadIsAnErrorNamingIt) {
    TwoInputs t(-1, -1);
    // Not a name a sink pad could have.
    auto bogus = t.sel->set_property("active-pad", "src");
    ASSERT_FALSE(bogus);
    EXPECT_NE(bogus.error().message().find("\"src\""), std::string::npos) << bogus.error().to_string();

    ASSERT_TRUE(t.p->set_state(State::running));
    auto missing = t.sel->set_property("active-pad", "sink_7");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("sink_7"), std::string::npos) << missing.error().to_string();
    EXPECT_NE(missing.error().message().find("sink_0, sink_1"), std::string::npos) << missing.error().to_string();
    // The active pad stays what it was.
    EXPECT_EQ(t.sel->get_property("active-pad").value(), "sink_0");
    ASSERT_TRUE(t.p->set_state(State::idle));
}

TEST(InputSelectorTest, AMissingActivePadStopsTheRunNamingIt) {
    // Pipeline text sets properties before linking, so a pad name that could
    // exist is accepted until the run starts.
    TwoInputs t(5, 5);
    ASSERT_TRUE(t.sel->set_property("active-pad", "sink_7"));
    auto ok = t.p->run(10s);
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.error().message().find("sink_7"), std::string::npos) << ok.error().to_string();
    EXPECT_EQ(ok.error().element(), "sel");
}

TEST(InputSelectorTest, ChoosesByPadNameInPipelineText) {
    auto p = Pipeline::parse("input-selector name=sel active-pad=sink_1 ! fakesink name=sink "
                             "fakesrc num-buffers=4 ! sel.sink_0 "
                             "fakesrc num-buffers=6 ! sel.sink_1");
    ASSERT_TRUE(p) << p.error().to_string();
    auto ok = (*p)->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ((*p)->find("sink")->pad("sink")->buffer_count(), 6U);
}

} // namespace
} // namespace parallax
