// appsrc through its C++ API, mostly as `appsrc ! appsink`. Timeouts here
// only guard against hangs; nothing asserts on elapsed time.

#include <parallax/element/registry.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace parallax::appsrc_test {
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

// A buffer of `size` bytes, each `fill`, with sequence `seq`.
Buffer make_buffer(AppSrc& src, std::size_t size, std::uint8_t fill, std::uint64_t seq) {
    auto b = src.allocate(size);
    EXPECT_TRUE(b) << b.error().to_string();
    if (!b) {
        return {};
    }
    if (size > 0) {
        auto bytes = b->map_writable();
        EXPECT_TRUE(bytes);
        std::fill(bytes->begin(), bytes->end(), std::byte{fill});
    }
    b->meta().set_sequence(seq);
    return std::move(*b);
}

// Pulls until the stream ends; an error other than closed fails the test.
std::vector<Sample> pull_all(AppSink& sink) {
    std::vector<Sample> out;
    while (true) {
        auto s = sink.try_pull_sample(hang_guard);
        if (!s) {
            EXPECT_TRUE(s.error().is(Errc::closed)) << s.error().to_string();
            return out;
        }
        out.push_back(std::move(*s));
    }
}

std::vector<std::uint64_t> sequences(const std::vector<Sample>& samples) {
    std::vector<std::uint64_t> out;
    for (const Sample& s : samples) {
        out.push_back(s.buffer.meta().sequence());
    }
    return out;
}

TEST(AppSrcTest, IsRegisteredWithGStreamerDefaults) {
    auto e = Registry::global().create("appsrc");
    ASSERT_TRUE(e) << e.error().to_string();
    EXPECT_EQ(*(*e)->get_property("max-bytes"), "200000");
    EXPECT_EQ(*(*e)->get_property("max-buffers"), "0");
    EXPECT_EQ(*(*e)->get_property("max-time"), "0");
    EXPECT_EQ(*(*e)->get_property("block"), "false");
    EXPECT_EQ(*(*e)->get_property("is-live"), "false");
    EXPECT_EQ(*(*e)->get_property("format"), "bytes");
    EXPECT_EQ(*(*e)->get_property("leaky-type"), "none");
    EXPECT_EQ(*(*e)->get_property("do-timestamp"), "false");
}

TEST(AppSrcTest, BuffersArriveInOrderWithContentAndMetadata) {
    auto a = make_app_pipeline({{"format", "time"}}, {});
    ASSERT_NE(a.src, nullptr);
    ASSERT_TRUE(a.src->set_caps(Caps::parse_static("video/x-raw,format=GRAY8,width=4,height=4")));
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    constexpr int n = 50;
    for (int i = 0; i < n; ++i) {
        Buffer b = make_buffer(*a.src, 16, static_cast<std::uint8_t>(i), static_cast<std::uint64_t>(i));
        Metadata& m = b.meta();
        m.set_pts(ClockTime::from_us(i));
        m.set_duration(ClockTime::from_us(1));
        m.set_byte_offset(static_cast<std::uint64_t>(i) * 16);
        if (i % 2 == 0) {
            m.set_flag(BufferFlags::keyframe);
        }
        m.set("note", std::string("buffer ") + std::to_string(i));
        ASSERT_TRUE(a.src->push_buffer(std::move(b)));
    }
    ASSERT_TRUE(a.src->end_of_stream());

    auto samples = pull_all(*a.sink);
    ASSERT_EQ(samples.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        SCOPED_TRACE(i);
        const Sample& s = samples[static_cast<std::size_t>(i)];
        ASSERT_EQ(s.buffer.size(), 16U);
        for (std::byte x : s.buffer.data()) {
            ASSERT_EQ(x, std::byte{static_cast<std::uint8_t>(i)});
        }
        const Metadata& m = s.buffer.meta();
        EXPECT_EQ(m.sequence(), static_cast<std::uint64_t>(i));
        EXPECT_EQ(m.pts(), ClockTime::from_us(i));
        EXPECT_EQ(m.duration(), ClockTime::from_us(1));
        EXPECT_EQ(m.byte_offset(), static_cast<std::uint64_t>(i) * 16);
        EXPECT_EQ(m.has_flag(BufferFlags::keyframe), i % 2 == 0);
        ASSERT_NE(m.get<std::string>("note"), nullptr);
        EXPECT_EQ(*m.get<std::string>("note"), std::string("buffer ") + std::to_string(i));
        EXPECT_EQ(s.caps, Caps::parse_static("video/x-raw,format=GRAY8,width=4,height=4")) << s.caps.to_string();
    }
    EXPECT_TRUE(a.sink->is_eos());
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSrcTest, BlockingPushNeverQueuesMoreThanMaxBuffers) {
    // A slow consumer: appsink holds one sample at a time and the test pulls
    // with pauses, so the pusher keeps hitting the limit.
    auto a = make_app_pipeline({{"max-buffers", 3}, {"block", "true"}}, {{"max-buffers", 1}, {"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    std::atomic<std::uint64_t> highest{0};
    std::atomic<int> enough{0};
    a.src->set_enough_data([&] {
        ++enough;
        highest.store(std::max(highest.load(), a.src->level().buffers));
    });
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    constexpr int n = 40;
    auto pusher = std::async(std::launch::async, [&] {
        for (int i = 0; i < n; ++i) {
            if (auto ok = a.src->push_buffer(make_buffer(*a.src, 8, 1, static_cast<std::uint64_t>(i))); !ok) {
                return ok;
            }
            highest.store(std::max(highest.load(), a.src->level().buffers));
        }
        return a.src->end_of_stream();
    });
    std::vector<std::uint64_t> got;
    while (true) {
        highest.store(std::max(highest.load(), a.src->level().buffers));
        auto s = a.sink->try_pull_sample(hang_guard);
        if (!s) {
            EXPECT_TRUE(s.error().is(Errc::closed)) << s.error().to_string();
            break;
        }
        got.push_back(s->buffer.meta().sequence());
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(pusher.wait_for(hang_guard), std::future_status::ready);
    auto pushed = pusher.get();
    EXPECT_TRUE(pushed) << pushed.error().to_string();
    ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(got[static_cast<std::size_t>(i)], static_cast<std::uint64_t>(i));
    }
    EXPECT_LE(highest.load(), 3U);
    EXPECT_EQ(a.src->dropped(), 0U);
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSrcTest, NonBlockingPushIntoAFullQueueWouldBlock) {
    // Before the pipeline starts nothing drains the queue.
    auto a = make_app_pipeline({{"max-buffers", 2}}, {});
    ASSERT_NE(a.src, nullptr);
    int enough = 0;
    a.src->set_enough_data([&] { ++enough; });
    EXPECT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, 0)));
    EXPECT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, 1)));
    auto full = a.src->push_buffer(make_buffer(*a.src, 4, 0, 2));
    ASSERT_FALSE(full);
    EXPECT_TRUE(full.error().is(Errc::would_block)) << full.error().to_string();
    EXPECT_EQ(full.error().element(), "src");
    EXPECT_EQ(enough, 1);
    EXPECT_EQ(a.src->level().buffers, 2U);
    EXPECT_EQ(a.src->level().bytes, 8U);
}

TEST(AppSrcTest, MaxBytesLimitsTheQueueToo) {
    auto a = make_app_pipeline({{"max-bytes", 100}}, {});
    ASSERT_NE(a.src, nullptr);
    EXPECT_TRUE(a.src->push_buffer(make_buffer(*a.src, 60, 0, 0)));
    EXPECT_TRUE(a.src->push_buffer(make_buffer(*a.src, 60, 0, 1)));
    auto full = a.src->push_buffer(make_buffer(*a.src, 1, 0, 2));
    ASSERT_FALSE(full);
    EXPECT_TRUE(full.error().is(Errc::would_block));
}

TEST(AppSrcTest, MaxTimeCountsTheTimestampsQueued) {
    auto a = make_app_pipeline({{"max-time", 10'000'000}}, {});
    ASSERT_NE(a.src, nullptr);
    for (int i = 0; i < 2; ++i) {
        Buffer b = make_buffer(*a.src, 4, 0, static_cast<std::uint64_t>(i));
        b.meta().set_pts(ClockTime::from_ms(5 * i));
        b.meta().set_duration(ClockTime::from_ms(5));
        ASSERT_TRUE(a.src->push_buffer(std::move(b)));
    }
    EXPECT_EQ(a.src->level().time_ns, 10'000'000U);
    auto full = a.src->push_buffer(make_buffer(*a.src, 4, 0, 2));
    ASSERT_FALSE(full);
    EXPECT_TRUE(full.error().is(Errc::would_block));
}

TEST(AppSrcTest, TimedPushGivesUpWhileTheQueueStaysFull) {
    auto a = make_app_pipeline({{"max-buffers", 1}}, {});
    ASSERT_NE(a.src, nullptr);
    ASSERT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, 0)));
    auto late = a.src->push_buffer(make_buffer(*a.src, 4, 0, 1), 10ms);
    ASSERT_FALSE(late);
    EXPECT_TRUE(late.error().is(Errc::timeout)) << late.error().to_string();
    EXPECT_EQ(a.src->level().buffers, 1U);
}

TEST(AppSrcTest, LeakyDownstreamDropsTheOldestBuffers) {
    auto a = make_app_pipeline({{"max-buffers", 2}, {"leaky-type", "downstream"}}, {{"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, static_cast<std::uint64_t>(i))));
    }
    EXPECT_EQ(a.src->dropped(), 3U);
    ASSERT_TRUE(a.src->end_of_stream());
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    auto samples = pull_all(*a.sink);
    EXPECT_EQ(sequences(samples), (std::vector<std::uint64_t>{3, 4}));
    ASSERT_EQ(samples.size(), 2U);
    EXPECT_TRUE(samples[0].buffer.meta().has_flag(BufferFlags::discont));
    EXPECT_FALSE(samples[1].buffer.meta().has_flag(BufferFlags::discont));
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSrcTest, LeakyUpstreamDropsTheNewBuffers) {
    auto a =
        make_app_pipeline({{"max-buffers", 2}, {"leaky-type", "upstream"}, {"block", "true"}}, {{"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    for (int i = 0; i < 5; ++i) {
        // Leaking wins over blocking: nothing waits here.
        ASSERT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, static_cast<std::uint64_t>(i))));
    }
    EXPECT_EQ(a.src->dropped(), 3U);
    ASSERT_TRUE(a.src->end_of_stream());
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    EXPECT_EQ(sequences(pull_all(*a.sink)), (std::vector<std::uint64_t>{0, 1}));
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSrcTest, EndOfStreamDrainsTheQueueThenRefusesBuffers) {
    auto a = make_app_pipeline({}, {{"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, static_cast<std::uint64_t>(i))));
    }
    ASSERT_TRUE(a.src->end_of_stream());
    auto refused = a.src->push_buffer(make_buffer(*a.src, 4, 0, 3));
    ASSERT_FALSE(refused);
    EXPECT_TRUE(refused.error().is(Errc::closed)) << refused.error().to_string();
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    EXPECT_EQ(sequences(pull_all(*a.sink)), (std::vector<std::uint64_t>{0, 1, 2}));
    auto eos = a.pipeline->bus().pop({MessageType::eos, MessageType::error}, hang_guard);
    ASSERT_TRUE(eos);
    EXPECT_EQ(eos->type, MessageType::eos) << eos->to_string();
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSrcTest, SendEosEndsTheStreamAfterWhatIsQueued) {
    auto a = make_app_pipeline({}, {{"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    ASSERT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, 0)));
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    a.pipeline->send_eos();
    EXPECT_EQ(sequences(pull_all(*a.sink)), (std::vector<std::uint64_t>{0}));
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSrcTest, StoppingWhileAPushWaitsReturnsPromptly) {
    // Nobody pulls: appsink holds one sample, its streaming thread waits
    // with the next, and the appsrc queue (one buffer) stays full.
    auto a = make_app_pipeline({{"max-buffers", 1}, {"block", "true"}}, {{"max-buffers", 1}, {"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    std::atomic<int> pushed{0};
    auto pusher = std::async(std::launch::async, [&]() -> Error {
        for (std::uint64_t i = 0;; ++i) {
            auto ok = a.src->push_buffer(make_buffer(*a.src, 4, 0, i));
            if (!ok) {
                return ok.error();
            }
            ++pushed;
        }
    });
    // Wait (bounded) until the pipeline is full, so that the push waits.
    for (int i = 0; i < 10000 && !(a.sink->queued() == 1 && a.src->level().buffers == 1 && pushed.load() >= 3); ++i) {
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(a.pipeline->set_state(State::idle));
    ASSERT_EQ(pusher.wait_for(hang_guard), std::future_status::ready) << "the blocked push did not return";
    const Error e = pusher.get();
    EXPECT_TRUE(e.is(Errc::state)) << e.to_string();
    // Stopped: pushes are refused until the next start.
    EXPECT_FALSE(a.src->push_buffer(make_buffer(*a.src, 4, 0, 0)));
    EXPECT_EQ(a.src->level().buffers, 0U);
}

TEST(AppSrcTest, RunsAgainAfterAStop) {
    auto a = make_app_pipeline({}, {{"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    for (int round = 0; round < 2; ++round) {
        SCOPED_TRACE(round);
        // Paused: started, so pushes are taken, but nothing flows yet.
        ASSERT_TRUE(a.pipeline->set_state(State::paused));
        ASSERT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, 7)));
        ASSERT_TRUE(a.src->end_of_stream());
        ASSERT_TRUE(a.pipeline->set_state(State::running));
        EXPECT_EQ(sequences(pull_all(*a.sink)), (std::vector<std::uint64_t>{7}));
        ASSERT_TRUE(a.pipeline->set_state(State::idle));
    }
}

TEST(AppSrcTest, DoTimestampStampsBuffersWithTheRunningTime) {
    auto a = make_app_pipeline({{"do-timestamp", "true"}, {"format", "time"}}, {{"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    ASSERT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, 0)));
    Buffer stamped = make_buffer(*a.src, 4, 0, 1);
    stamped.meta().set_pts(ClockTime::from_s(100));
    ASSERT_TRUE(a.src->push_buffer(std::move(stamped)));
    ASSERT_TRUE(a.src->end_of_stream());
    auto samples = pull_all(*a.sink);
    ASSERT_EQ(samples.size(), 2U);
    EXPECT_FALSE(samples[0].buffer.meta().pts().is_none());
    EXPECT_EQ(samples[0].buffer.meta().pts(), samples[0].buffer.meta().dts());
    EXPECT_EQ(samples[1].buffer.meta().pts(), ClockTime::from_s(100)) << "a timestamp given is kept";
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSrcTest, CapsChangesReachTheBuffersPushedAfterThem) {
    auto a = make_app_pipeline({{"caps", "audio/x-raw,rate=8000"}}, {{"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    ASSERT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, 0)));
    ASSERT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, 1)));
    ASSERT_TRUE(a.src->set_caps(Caps::parse_static("audio/x-raw,rate=16000")));
    ASSERT_TRUE(a.src->push_buffer(make_buffer(*a.src, 4, 0, 2)));
    ASSERT_TRUE(a.src->end_of_stream());
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    auto samples = pull_all(*a.sink);
    ASSERT_EQ(samples.size(), 3U);
    EXPECT_EQ(samples[0].caps, Caps::parse_static("audio/x-raw,rate=8000"));
    EXPECT_EQ(samples[1].caps, Caps::parse_static("audio/x-raw,rate=8000"));
    EXPECT_EQ(samples[2].caps, Caps::parse_static("audio/x-raw,rate=16000"));
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSrcTest, NeedDataAsksForEachBufferInPullMode) {
    auto a = make_app_pipeline({}, {{"sync", "false"}});
    ASSERT_NE(a.src, nullptr);
    constexpr std::uint64_t n = 10;
    std::atomic<std::uint64_t> next{0};
    std::atomic<bool> failed{false};
    a.src->set_need_data([&](std::size_t hint) {
        if (hint == 0) {
            failed = true;
        }
        const std::uint64_t i = next++;
        if (i < n) {
            failed = failed || !a.src->push_buffer(make_buffer(*a.src, 4, 0, i));
        } else if (i == n) {
            failed = failed || !a.src->end_of_stream();
        }
    });
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    auto samples = pull_all(*a.sink);
    EXPECT_EQ(samples.size(), n);
    EXPECT_FALSE(failed.load());
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(AppSrcTest, AllocateNeedsAPipeline) {
    auto e = Registry::global().create("appsrc");
    ASSERT_TRUE(e);
    auto* src = dynamic_cast<AppSrc*>(e->get());
    ASSERT_NE(src, nullptr);
    EXPECT_FALSE(src->allocate(16));
}

TEST(AppSrcTest, AnswersDurationAndLatencyQueries) {
    auto a = make_app_pipeline({{"size", 1234}, {"duration", 5'000'000'000UL}, {"is-live", "true"}}, {});
    ASSERT_NE(a.src, nullptr);
    Query bytes = Query::duration(Format::bytes);
    ASSERT_TRUE(a.sink->sink_pad().peer_query(bytes));
    EXPECT_EQ(bytes.value(), 1234U);
    Query time = Query::duration(Format::time);
    ASSERT_TRUE(a.sink->sink_pad().peer_query(time));
    EXPECT_EQ(time.value(), 5'000'000'000U);
    Query latency = Query::latency();
    ASSERT_TRUE(a.sink->sink_pad().peer_query(latency));
    EXPECT_TRUE(latency.live());
}

} // namespace
} // namespace parallax::appsrc_test
