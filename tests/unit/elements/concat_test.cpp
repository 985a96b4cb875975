#include <parallax/element.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "support/recorder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
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

// fakesrcs (buffer sizes 1, 2, 3...) -> concat "c" -> Recorder.
struct Concatenation {
    std::unique_ptr<Pipeline> p = Pipeline::create();
    Element* concat = nullptr;
    Recorder* sink = nullptr;
    std::shared_ptr<std::atomic<int>> eos_messages = std::make_shared<std::atomic<int>>(0);

    explicit Concatenation(const std::vector<int>& num_buffers, int datarate = 0,
                           std::initializer_list<PropertySetting> concat_props = {}) {
        auto c = p->add("concat", "c", concat_props);
        EXPECT_TRUE(c);
        concat = *c;
        for (std::size_t i = 0; i < num_buffers.size(); ++i) {
            auto src = p->add("fakesrc", "src" + std::to_string(i),
                              {{"num-buffers", num_buffers[i]},
                               {"sizetype", "fixed"},
                               {"sizemax", static_cast<int>(i + 1)},
                               {"datarate", datarate}});
            EXPECT_TRUE(src);
            EXPECT_TRUE(p->link(**src, "src", *concat, "sink_%u"));
        }
        auto r = make_element<Recorder>("sink");
        sink = r->get();
        EXPECT_TRUE(p->add(std::move(*r)));
        EXPECT_TRUE(p->link(*concat, *sink));
        p->bus().set_sync_handler([n = eos_messages](const Message& m) {
            if (m.type == MessageType::eos) {
                ++*n;
            }
            return true;
        });
    }
};

TEST(ConcatTest, IsRegisteredWithGStreamersPadsAndProperties) {
    const ElementFactory* f = Registry::global().find("concat");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().summary, "Concatenate multiple streams");
    ASSERT_EQ(f->pad_templates().size(), 2U);
    EXPECT_EQ(f->pad_templates()[0].name, "sink_%u");
    EXPECT_EQ(f->pad_templates()[0].presence, PadPresence::request);
    EXPECT_EQ(f->pad_templates()[1].name, "src");
    auto e = f->create();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("adjust-base").value(), "true");
    EXPECT_EQ((*e)->property("active-pad"), nullptr); // read-only in GStreamer
}

TEST(ConcatTest, PlaysTheFirstStreamThenTheSecond) {
    Concatenation t({20, 30});
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    const auto buffers = t.sink->buffers();
    ASSERT_EQ(buffers.size(), 50U);
    for (std::size_t i = 0; i < 20; ++i) {
        EXPECT_EQ(buffers[i].size, 1U) << i;
        EXPECT_EQ(buffers[i].sequence, i);
    }
    for (std::size_t i = 0; i < 30; ++i) {
        EXPECT_EQ(buffers[20 + i].size, 2U) << i;
        EXPECT_EQ(buffers[20 + i].sequence, i);
    }
    EXPECT_EQ(t.sink->count(EventType::eos), 1U);
    EXPECT_EQ(t.sink->items().back().event, EventType::eos);
    EXPECT_EQ(t.eos_messages->load(), 1);
    // Each stream is announced in front of its data.
    EXPECT_EQ(t.sink->count(EventType::stream_start), 2U);
    EXPECT_EQ(t.concat->pad("sink_0")->buffer_count(), 20U);
    EXPECT_EQ(t.concat->pad("sink_1")->buffer_count(), 30U);
}

TEST(ConcatTest, LaterStreamsWaitTheirTurnEvenWhenTheyEndFirst) {
    // The short later streams end long before the first one: their data and
    // eos wait.
    Concatenation t({500, 3, 0, 4});
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    const auto buffers = t.sink->buffers();
    ASSERT_EQ(buffers.size(), 507U);
    std::vector<std::size_t> sizes;
    for (const auto& b : buffers) {
        if (sizes.empty() || sizes.back() != b.size) {
            sizes.push_back(b.size);
        }
    }
    EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 2, 4}));
    EXPECT_EQ(t.sink->count(EventType::eos), 1U);
    EXPECT_EQ(t.eos_messages->load(), 1);
}

TEST(ConcatTest, SegmentsContinueTheRunningTime) {
    // 10 buffers each, at 1000 bytes/s: stream k has buffers of k + 1 bytes,
    // that is k + 1 ms each, and lasts 10 * (k + 1) ms.
    Concatenation t({10, 10, 10}, 1000);
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    const auto segments = t.sink->segments();
    ASSERT_EQ(segments.size(), 3U);
    const std::uint64_t bases_ms[] = {0, 10, 30};
    for (std::size_t k = 0; k < 3; ++k) {
        EXPECT_EQ(segments[k].base, ClockTime::from_ms(bases_ms[k]).ns()) << k;
        EXPECT_EQ(segments[k].start, 0U) << k;
    }
    const auto buffers = t.sink->buffers();
    ASSERT_EQ(buffers.size(), 30U);
    for (std::size_t i = 0; i < buffers.size(); ++i) {
        const std::size_t k = i / 10;
        const std::size_t j = i % 10;
        EXPECT_EQ(buffers[i].running_time.ns(), ClockTime::from_ms(bases_ms[k] + j * (k + 1)).ns()) << i;
    }
}

TEST(ConcatTest, WithoutAdjustBaseSegmentsPassUnchanged) {
    Concatenation t({10, 10}, 1000, {{"adjust-base", "false"}});
    auto ok = t.p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    const auto segments = t.sink->segments();
    ASSERT_EQ(segments.size(), 2U);
    EXPECT_EQ(segments[0], StreamSegment{});
    EXPECT_EQ(segments[1], StreamSegment{});
}

TEST(ConcatTest, StoppingReleasesStreamsWaitingForTheirTurn) {
    Concatenation t({-1, 10, 10});
    ASSERT_TRUE(t.p->set_state(State::running));
    for (int i = 0; i < 20000 && t.sink->buffers().size() < 100; ++i) {
        std::this_thread::sleep_for(1ms);
    }
    // The second and third sources are blocked in concat; stopping must not
    // hang on them.
    ASSERT_TRUE(t.p->set_state(State::idle));
    const auto buffers = t.sink->buffers();
    EXPECT_GE(buffers.size(), 100U);
    EXPECT_TRUE(std::all_of(buffers.begin(), buffers.end(), [](const auto& b) { return b.size == 1; }));
    // And it runs again from the first stream.
    ASSERT_TRUE(t.p->set_state(State::running));
    ASSERT_TRUE(t.p->set_state(State::idle));
}

TEST(ConcatTest, RejectsPadsItDoesNotHave) {
    auto p = Pipeline::create();
    auto a = p->add("fakesrc", "a");
    auto c = p->add("concat", "c");
    ASSERT_TRUE(a && c);
    auto bad = p->link(**a, "src", **c, "src_%u");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("src_%u"), std::string::npos) << bad.error().to_string();
    EXPECT_FALSE((*c)->set_property("adjust-base", "sometimes"));
}

TEST(ConcatTest, ConcatenatesInPipelineText) {
    auto p = Pipeline::parse("concat name=c ! fakesink name=sink "
                             "fakesrc num-buffers=4 ! c. "
                             "fakesrc num-buffers=6 ! c.");
    ASSERT_TRUE(p) << p.error().to_string();
    auto ok = (*p)->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ((*p)->find("sink")->pad("sink")->buffer_count(), 10U);
}

} // namespace
} // namespace parallax
