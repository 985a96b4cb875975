// appsink through its C++ API, fed by appsrc. Timeouts here only guard
// against hangs; nothing asserts on elapsed time.

#include <parallax/element/registry.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;

constexpr auto hang_guard = 10s;

struct AppPipeline {
    std::unique_ptr<Pipeline> pipeline;
    AppSrc* src = nullptr;
    AppSink* sink = nullptr;
};

// appsrc name=src <src_props> ! appsink name=sink <sink_props>
AppPipeline make_app_pipeline(std::initializer_list<PropertySetting> src_props,
                              std::initializer_list<PropertySetting> sink_props) {
    AppPipeline a;
    a.pipeline = Pipeline::create();
    auto built = a.pipeline->chain().then("appsrc", src_props, "src").then("appsink", sink_props, "sink").done();
    EXPECT_TRUE(built) << built.error().to_string();
    auto src = a.pipeline->get<AppSrc>("src");
    auto sink = a.pipeline->get<AppSink>("sink");
    EXPECT_TRUE(src && sink);
    if (src && sink) {
        a.src = *src;
        a.sink = *sink;
    }
    return a;
}

Buffer make_buffer(AppSrc& src, std::uint64_t seq) {
    auto b = src.allocate(8);
    EXPECT_TRUE(b) << b.error().to_string();
    if (!b) {
        return {};
    }
    b->meta().set_sequence(seq);
    return std::move(*b);
}

void push_n(AppSrc& src, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        auto ok = src.push_buffer(make_buffer(src, i));
        ASSERT_TRUE(ok) << ok.error().to_string();
    }
}

TEST(AppSinkTest, IsRegisteredWithGStreamerDefaults) {
    auto e = Registry::global().create("appsink");
    ASSERT_TRUE(e) << e.error().to_string();
    EXPECT_EQ(*(*e)->get_property("max-buffers"), "0");
    EXPECT_EQ(*(*e)->get_property("drop"), "false");
    EXPECT_EQ(*(*e)->get_property("sync"), "true");
    EXPECT_EQ(*(*e)->get_property("wait-on-eos"), "true");
    EXPECT_EQ(*(*e)->get_property("caps"), "ANY");
}

TEST(AppSinkTest, TryPullSampleTimesOutWithoutData) {
    auto a = make_app_pipeline({}, {});
    ASSERT_NE(a.sink, nullptr);
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    auto s = a.sink->try_pull_sample(20ms);
    ASSERT_FALSE(s);
    EXPECT_TRUE(s.error().is(Errc::timeout)) << s.error().to_string();
    EXPECT_EQ(s.error().element(), "sink");
    auto now = a.sink->try_pull_sample(0ms);
    ASSERT_FALSE(now);
    EXPECT_TRUE(now.error().is(Errc::timeout));
    EXPECT_FALSE(a.sink->is_eos());
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSinkTest, PullAfterEosGivesClosed) {
    auto a = make_app_pipeline({}, {});
    ASSERT_NE(a.src, nullptr);
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    push_n(*a.src, 2);
    ASSERT_TRUE(a.src->end_of_stream());
    for (std::uint64_t i = 0; i < 2; ++i) {
        auto s = a.sink->try_pull_sample(hang_guard);
        ASSERT_TRUE(s) << s.error().to_string();
        EXPECT_EQ(s->buffer.meta().sequence(), i);
    }
    auto end = a.sink->pull_sample();
    ASSERT_FALSE(end);
    EXPECT_TRUE(end.error().is(Errc::closed)) << end.error().to_string();
    EXPECT_TRUE(a.sink->is_eos());
    // Still closed, at once, when asked again.
    auto again = a.sink->try_pull_sample(hang_guard);
    ASSERT_FALSE(again);
    EXPECT_TRUE(again.error().is(Errc::closed));
    auto eos = a.pipeline->bus().pop({MessageType::eos, MessageType::error}, hang_guard);
    ASSERT_TRUE(eos);
    EXPECT_EQ(eos->type, MessageType::eos);
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSinkTest, WaitOnEosHoldsTheEndUntilEverythingIsPulled) {
    auto a = make_app_pipeline({}, {});
    ASSERT_NE(a.src, nullptr);
    push_n(*a.src, 3);
    ASSERT_TRUE(a.src->end_of_stream());
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    EXPECT_FALSE(a.pipeline->bus().pop({MessageType::eos}, 50ms)) << "eos while samples are still queued";
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(a.sink->try_pull_sample(hang_guard));
    }
    auto eos = a.pipeline->bus().pop({MessageType::eos, MessageType::error}, hang_guard);
    ASSERT_TRUE(eos);
    EXPECT_EQ(eos->type, MessageType::eos);
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSinkTest, DropKeepsOnlyTheNewestSamples) {
    auto a = make_app_pipeline({}, {{"max-buffers", 2}, {"drop", "true"}, {"wait-on-eos", "false"}});
    ASSERT_NE(a.src, nullptr);
    push_n(*a.src, 10);
    ASSERT_TRUE(a.src->end_of_stream());
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    // Without wait-on-eos the end is reported with the samples still queued.
    auto eos = a.pipeline->bus().pop({MessageType::eos, MessageType::error}, hang_guard);
    ASSERT_TRUE(eos);
    ASSERT_EQ(eos->type, MessageType::eos) << eos->to_string();
    EXPECT_EQ(a.sink->queued(), 2U);
    EXPECT_EQ(a.sink->dropped(), 8U);
    EXPECT_FALSE(a.sink->is_eos());
    for (std::uint64_t want : {8U, 9U}) {
        auto s = a.sink->try_pull_sample(hang_guard);
        ASSERT_TRUE(s) << s.error().to_string();
        EXPECT_EQ(s->buffer.meta().sequence(), want);
    }
    EXPECT_TRUE(a.sink->is_eos());
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSinkTest, NewSampleCallbackSeesEverySampleInOrder) {
    auto a = make_app_pipeline({}, {{"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    std::mutex mutex;
    std::vector<std::uint64_t> seen;
    bool failed = false;
    a.sink->set_new_sample([&](AppSink& sink) {
        auto s = sink.pull_sample();
        std::lock_guard lock(mutex);
        if (!s) {
            failed = true;
            return;
        }
        seen.push_back(s->buffer.meta().sequence());
    });
    std::atomic<bool> eos_called{false};
    a.sink->set_eos([&](AppSink&) { eos_called = true; });
    push_n(*a.src, 20);
    ASSERT_TRUE(a.src->end_of_stream());
    auto ok = a.pipeline->run(hang_guard);
    ASSERT_TRUE(ok) << ok.error().to_string();
    std::lock_guard lock(mutex);
    EXPECT_FALSE(failed);
    ASSERT_EQ(seen.size(), 20U);
    for (std::uint64_t i = 0; i < 20; ++i) {
        EXPECT_EQ(seen[i], i);
    }
    EXPECT_TRUE(eos_called.load());
}

TEST(AppSinkTest, StoppingWhileAPullWaitsReturnsPromptly) {
    auto a = make_app_pipeline({}, {});
    ASSERT_NE(a.sink, nullptr);
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    auto puller = std::async(std::launch::async, [&] { return a.sink->pull_sample(); });
    // Give the pull a moment to start waiting; the test holds either way.
    EXPECT_EQ(puller.wait_for(20ms), std::future_status::timeout);
    ASSERT_TRUE(a.pipeline->set_state(State::idle));
    ASSERT_EQ(puller.wait_for(hang_guard), std::future_status::ready) << "the waiting pull did not return";
    auto s = puller.get();
    ASSERT_FALSE(s);
    EXPECT_TRUE(s.error().is(Errc::state)) << s.error().to_string();
    EXPECT_TRUE(a.sink->is_eos());
}

TEST(AppSinkTest, StoppingWhileTheStreamingThreadWaitsForRoomDoesNotHang) {
    auto a = make_app_pipeline({}, {{"max-buffers", 1}, {"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    push_n(*a.src, 5);
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    // Bounded wait until the sink is full: its streaming thread then waits
    // with the next buffer in render().
    for (int i = 0; i < 10000 && !(a.sink->queued() == 1 && a.src->level().buffers <= 3); ++i) {
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(a.sink->queued(), 1U);
    auto stopped = std::async(std::launch::async, [&] { return a.pipeline->set_state(State::idle); });
    ASSERT_EQ(stopped.wait_for(hang_guard), std::future_status::ready) << "stopping hung";
    EXPECT_TRUE(stopped.get());
    EXPECT_EQ(a.sink->queued(), 0U) << "stopping drops what was queued";
}

TEST(AppSinkTest, SamplesCarryTheCapsInForce) {
    auto a = make_app_pipeline({{"caps", "video/x-raw,width=320"}}, {{"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    push_n(*a.src, 1);
    ASSERT_TRUE(a.src->end_of_stream());
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    auto s = a.sink->try_pull_sample(hang_guard);
    ASSERT_TRUE(s) << s.error().to_string();
    EXPECT_EQ(s->caps, Caps::parse_static("video/x-raw,width=320"));
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSinkTest, CapsPropertyRefusesOtherFormats) {
    auto a = make_app_pipeline({{"caps", "audio/x-raw,rate=8000"}}, {{"caps", "video/x-raw"}});
    ASSERT_NE(a.src, nullptr);
    Query accept = Query::accept_caps(Caps::parse_static("audio/x-raw,rate=8000"));
    ASSERT_TRUE(a.src->src_pad().peer_query(accept));
    EXPECT_FALSE(accept.accepted());
    Query caps = Query::caps();
    ASSERT_TRUE(a.src->src_pad().peer_query(caps));
    EXPECT_EQ(caps.caps_result(), Caps::parse_static("video/x-raw"));

    push_n(*a.src, 1);
    ASSERT_TRUE(a.src->end_of_stream());
    auto ok = a.pipeline->run(hang_guard);
    ASSERT_FALSE(ok);
    EXPECT_TRUE(ok.error().is(Errc::not_negotiated)) << ok.error().to_string();
    EXPECT_EQ(ok.error().element(), "sink");
}

} // namespace
} // namespace parallax
