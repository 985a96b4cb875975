// Isolated elements end to end: the element runs in a plx-worker process,
// buffers cross by reference both ways, a worker that crashes, exits, hangs
// or is killed is replaced and the stream goes on, sandbox denials reach the
// bus, and nothing is leaked. Real processes throughout; the timeouts only
// guard against hangs.

#include <parallax/buffer/buffer.hpp>
#include <parallax/element/simple.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/memory/arena.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "support/sanitizer.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;

constexpr auto hang_guard = 120s;

// How a worker that dies of SIGSEGV, or calls _exit(3), ends. A sanitizer's
// runtime changes it: AddressSanitizer catches the SIGSEGV, prints its report
// and exits with status 1; ThreadSanitizer's turns it into SIGILL and, under
// the sandbox, hangs in _exit (the worker is then found hung and killed).
// Under ThreadSanitizer only the restarts and their count are checked.
#if defined(__SANITIZE_THREAD__)
constexpr const char* segv_reason = "";
constexpr const char* exit_reason = "";
#elif defined(PARALLAX_TEST_SANITIZER)
constexpr const char* segv_reason = "exited with status 1";
constexpr const char* exit_reason = "exited with status 3";
#else
constexpr const char* segv_reason = "killed by SIGSEGV";
constexpr const char* exit_reason = "exited with status 3";
#endif

// Every message the pipeline posts, kept as it is posted (in a block the
// bus handler shares, since the pipeline may post while it is destroyed).
class Messages {
public:
    void watch(Pipeline& p) {
        p.bus().set_sync_handler([state = state_](const Message& m) {
            std::lock_guard lock(state->mutex);
            state->all.push_back(m);
            return true;
        });
    }
    std::vector<Message> of(MessageType type, std::string_view structure = {}) const {
        std::lock_guard lock(state_->mutex);
        std::vector<Message> out;
        for (const auto& m : state_->all) {
            if (m.type == type && (structure.empty() || (m.structure && m.structure->name() == structure))) {
                out.push_back(m);
            }
        }
        return out;
    }
    bool any_text(MessageType type, std::string_view text) const {
        for (const auto& m : of(type)) {
            if (m.error && m.error->message().find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }

private:
    struct State {
        std::mutex mutex;
        std::vector<Message> all;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

std::unique_ptr<Pipeline> parse(std::string_view text) {
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << p.error().to_string();
    return p ? std::move(*p) : nullptr;
}

std::int32_t lost_in(const std::vector<Message>& restarts) {
    std::int32_t lost = 0;
    for (const auto& m : restarts) {
        lost += m.structure->get_int("lost-buffers").value_or(-1000);
    }
    return lost;
}

TEST(IsolatedElementTest, PlanShowsTheElementIsolated) {
    auto p = parse("fakesrc num-buffers=1 ! crashtest ! fakesink");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::idle));
    const std::string plan = p->plan();
    EXPECT_NE(plan.find("crashtest0"), std::string::npos) << plan;
    EXPECT_NE(plan.find("isolated"), std::string::npos) << plan;
    EXPECT_NE(plan.find("trust=untrusted"), std::string::npos) << plan;
}

TEST(IsolatedElementTest, BuffersCrossBothWaysByReferenceWithTheirMetadata) {
    auto p = parse("appsrc name=src ! crashtest ! appsink name=sink sync=false");
    ASSERT_TRUE(p);
    Messages messages;
    messages.watch(*p);
    AppSrc* src = *p->get<AppSrc>("src");
    AppSink* sink = *p->get<AppSink>("sink");
    ASSERT_TRUE(p->set_state(State::running));
    constexpr int n = 200;
    std::vector<std::pair<const Arena*, SlotIndex>> sent;
    for (int i = 0; i < n; ++i) {
        auto b = src->allocate(64 + static_cast<std::size_t>(i));
        ASSERT_TRUE(b) << b.error().to_string();
        auto bytes = b->map_writable();
        ASSERT_TRUE(bytes);
        for (std::size_t k = 0; k < bytes->size(); ++k) {
            (*bytes)[k] = static_cast<std::byte>((k * 7 + static_cast<std::size_t>(i)) & 0xFF);
        }
        b->meta().set_sequence(static_cast<std::uint64_t>(i));
        b->meta().set_pts(ClockTime::from_ns(1'000'000 * i));
        sent.emplace_back(b->arena(), b->slot());
        ASSERT_TRUE(src->push_buffer(std::move(*b)));
    }
    for (int i = 0; i < n; ++i) {
        auto sample = sink->try_pull_sample(10s);
        ASSERT_TRUE(sample) << "buffer " << i << ": " << sample.error().to_string();
        const Buffer& b = sample->buffer;
        ASSERT_EQ(b.size(), 64U + static_cast<std::size_t>(i));
        EXPECT_EQ(b.meta().sequence(), static_cast<std::uint64_t>(i));
        EXPECT_EQ(b.meta().pts(), ClockTime::from_ns(1'000'000 * i));
        for (std::size_t k = 0; k < b.size(); ++k) {
            ASSERT_EQ(b.data()[k], static_cast<std::byte>((k * 7 + static_cast<std::size_t>(i)) & 0xFF));
        }
        // crashtest passes its input on: the very same slot comes back.
        EXPECT_EQ(b.arena(), sent[static_cast<std::size_t>(i)].first);
        EXPECT_EQ(b.slot(), sent[static_cast<std::size_t>(i)].second);
    }
    ASSERT_TRUE(src->end_of_stream());
    auto eos = p->bus().pop({MessageType::eos, MessageType::error}, hang_guard);
    ASSERT_TRUE(eos);
    EXPECT_EQ(eos->type, MessageType::eos) << eos->to_string();
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_TRUE(messages.of(MessageType::element, "element-restarted").empty());
    EXPECT_TRUE(messages.any_text(MessageType::info, "runs isolated in a worker process"));
}

TEST(IsolatedElementTest, AnIsolatedConverterProducesWhatNegotiationChose) {
    // The worker is outside the pipeline's negotiation: it is told what was
    // decided for the stand-in's source pad, so a converter converts to what
    // downstream asked for instead of passing its input through.
    auto p = parse("videotestsrc num-buffers=3 ! video/x-raw,format=I420,width=64,height=48 ! "
                   "videoconvert ! video/x-raw,format=RGBA ! appsink name=sink sync=false");
    ASSERT_TRUE(p);
    p->scheduling().strategies.isolate = {"videoconvert*"};
    Messages messages;
    messages.watch(*p);
    ASSERT_TRUE(p->set_state(State::running));
    AppSink* sink = *p->get<AppSink>("sink");
    for (int i = 0; i < 3; ++i) {
        auto sample = sink->try_pull_sample(hang_guard);
        ASSERT_TRUE(sample) << sample.error().to_string();
        ASSERT_NE(sample->caps.structure(0).get_string("format"), std::nullopt);
        EXPECT_EQ(*sample->caps.structure(0).get_string("format"), "RGBA");
        EXPECT_EQ(sample->buffer.size(), 64U * 48U * 4U);
    }
    EXPECT_TRUE(messages.of(MessageType::error).empty());
    ASSERT_TRUE(p->set_state(State::suspended));
}

// The element's properties are on the stand-in: a value set while the
// pipeline runs reaches the worker before the buffers pushed after it, a
// property that may change only while idle is refused as in process, and
// read-only counters are read from the running element.
TEST(IsolatedElementTest, PropertiesSetWhileRunningReachTheWorkerInOrder) {
    auto p = parse("appsrc name=src caps=audio/x-raw,format=F32LE,rate=48000,channels=1,layout=interleaved ! "
                   "volume name=vol strategy=isolated ! appsink name=sink sync=false");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::running));
    AppSrc* src = *p->get<AppSrc>("src");
    AppSink* sink = *p->get<AppSink>("sink");
    Element* vol = p->find("vol");
    ASSERT_NE(vol, nullptr);
    for (const double volume : {1.0, 0.25, 2.0}) {
        ASSERT_TRUE(vol->set_property("volume", fmt::format("{}", volume)));
        EXPECT_EQ(vol->get_property("volume").value_or(""), fmt::format("{}", volume));
        auto b = src->allocate(256 * sizeof(float));
        ASSERT_TRUE(b) << b.error().to_string();
        auto bytes = b->map_writable();
        ASSERT_TRUE(bytes);
        const float one = 1.0F;
        for (std::size_t k = 0; k < 256; ++k) {
            std::memcpy(bytes->data() + k * sizeof(float), &one, sizeof(float));
        }
        ASSERT_TRUE(src->push_buffer(std::move(*b)));
        auto sample = sink->try_pull_sample(hang_guard);
        ASSERT_TRUE(sample) << sample.error().to_string();
        float first = 0;
        std::memcpy(&first, sample->buffer.data().data(), sizeof(float));
        EXPECT_FLOAT_EQ(first, static_cast<float>(volume));
    }
    auto bad = vol->set_property("volume", "11");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("volume"), std::string::npos) << bad.error().message();
    ASSERT_TRUE(p->set_state(State::suspended));
}

TEST(IsolatedElementTest, ReadOnlyCountersAreReadFromTheWorker) {
    auto p = parse("videotestsrc num-buffers=10 ! video/x-raw,width=32,height=24,framerate=30/1 ! "
                   "videorate name=rate strategy=isolated ! video/x-raw,framerate=15/1 ! appsink name=sink "
                   "sync=false");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::running));
    AppSink* sink = *p->get<AppSink>("sink");
    while (sink->try_pull_sample(hang_guard)) {
    }
    Element* rate = p->find("rate");
    ASSERT_NE(rate, nullptr);
    EXPECT_EQ(rate->get_property("in").value_or(""), "10");
    EXPECT_NE(rate->get_property("drop").value_or("0"), "0");
    auto refused = rate->set_property("drop", "3");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find("read-only"), std::string::npos) << refused.error().message();
    ASSERT_TRUE(p->set_state(State::suspended));
}

TEST(IsolatedElementTest, AnIdlePropertyCannotChangeWhileTheWorkerRuns) {
    auto p = parse("fakesrc is-live=true ! crashtest name=c ! fakesink");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::running));
    auto refused = p->find("c")->set_property("after", "5");
    ASSERT_FALSE(refused);
    EXPECT_TRUE(refused.error().is(Errc::state)) << refused.error().to_string();
    ASSERT_TRUE(p->set_state(State::suspended));
    // While suspended it may change, and the next worker gets it.
    ASSERT_TRUE(p->find("c")->set_property("after", "5"));
    EXPECT_EQ(p->find("c")->get_property("after").value_or(""), "5");
}

// Upstream of an isolated element, in process: keeps the upstream events
// that reach it.
class UpstreamRecorder final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "test-upstream-recorder", .klass = "Filter", .summary = "Keeps the upstream events it gets"};
    std::vector<Event> seen() const {
        std::lock_guard lock(mutex_);
        return events_;
    }

protected:
    Flow transform(Buffer&, TransformContext&) override { return Flow::ok; }
    bool src_event(Pad& pad, Event&& event) override {
        {
            std::lock_guard lock(mutex_);
            events_.push_back(event);
        }
        return SimpleTransform::src_event(pad, std::move(event));
    }

private:
    mutable std::mutex mutex_;
    std::vector<Event> events_;
};

// Upstream events from downstream go through the element in its worker
// (which passes them on, as crashtest does) and on upstream, intact.
TEST(IsolatedElementTest, UpstreamEventsCrossTheWorker) {
    auto p = Pipeline::create();
    auto src = p->add("appsrc", "src");
    auto rec = p->add(make_element<UpstreamRecorder>("rec").value());
    auto iso = p->add("crashtest", "iso");
    auto snk = p->add("appsink", "sink", {{"sync", false}});
    ASSERT_TRUE(src) << src.error().to_string();
    ASSERT_TRUE(rec) << rec.error().to_string();
    ASSERT_TRUE(iso) << iso.error().to_string();
    ASSERT_TRUE(snk) << snk.error().to_string();
    ASSERT_TRUE(p->link(**src, **rec));
    ASSERT_TRUE(p->link(**rec, **iso));
    ASSERT_TRUE(p->link(**iso, **snk));
    ASSERT_TRUE(p->set_state(State::running));
    auto* app_src = static_cast<AppSrc*>(*src);
    auto* sink = static_cast<AppSink*>(*snk);
    auto b = app_src->allocate(64);
    ASSERT_TRUE(b);
    ASSERT_TRUE(app_src->push_buffer(std::move(*b)));
    ASSERT_TRUE(sink->try_pull_sample(hang_guard)); // the worker runs

    SeekRequest seek;
    seek.rate = 2.0;
    seek.start = 1'000'000'000;
    seek.flush = false;
    Structure poke("poke");
    poke.set("n", 7);
    Pad* sink_pad = sink->sink_pads().front();
    ASSERT_TRUE(sink_pad->push_event(Event::custom(EventType::custom_upstream, poke)));
    ASSERT_TRUE(sink_pad->push_event(Event::seek(seek)));
    UpstreamForceKeyUnit key_unit;
    key_unit.running_time = ClockTime::from_ms(1500);
    key_unit.all_headers = false;
    key_unit.count = 4;
    ASSERT_TRUE(sink_pad->push_event(Event::upstream_force_key_unit(key_unit)));
    auto* recorder = static_cast<UpstreamRecorder*>(*rec);
    const auto deadline = std::chrono::steady_clock::now() + hang_guard;
    while (recorder->seen().size() < 3 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    const auto seen = recorder->seen();
    ASSERT_EQ(seen.size(), 3U);
    EXPECT_EQ(seen[0].type(), EventType::custom_upstream);
    EXPECT_EQ(seen[0].structure()->get_int("n").value_or(0), 7);
    ASSERT_EQ(seen[1].type(), EventType::seek);
    EXPECT_EQ(*seen[1].seek_value(), seek);
    ASSERT_EQ(seen[2].type(), EventType::upstream_force_key_unit);
    EXPECT_EQ(*seen[2].upstream_force_key_unit_value(), key_unit);
    ASSERT_TRUE(p->set_state(State::suspended));
}

TEST(IsolatedElementTest, RunsAgainAfterItsFirstRun) {
    auto p = parse("fakesrc num-buffers=500 ! crashtest ! fakesink");
    ASSERT_TRUE(p);
    for (int run = 0; run < 2; ++run) {
        auto ok = p->run(hang_guard);
        ASSERT_TRUE(ok) << "run " << run << ": " << ok.error().to_string();
        EXPECT_EQ(p->progress().buffers, 500U) << "run " << run;
    }
}

// A sink is not grouped with an isolated element before it: the buffers
// that reach its pad are the pipeline's progress and position.
TEST(IsolatedElementTest, AnIsolatedSinkReportsItsEndOfStream) {
    auto p = parse("fakesrc num-buffers=300 sizetype=fixed sizemax=128 ! identity name=mid strategy=isolated ! "
                   "fakesink name=out strategy=isolated");
    ASSERT_TRUE(p);
    Messages messages;
    messages.watch(*p);
    auto ok = p->run(hang_guard);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(p->progress().buffers, 300U);
    EXPECT_TRUE(messages.any_text(MessageType::info, "mid runs isolated"));
    EXPECT_TRUE(messages.any_text(MessageType::info, "out runs isolated"));
}

// The worker sees the pipeline's running time, pauses included: a
// synchronised sink in a worker neither runs ahead after a pause nor
// renders early.
TEST(IsolatedElementTest, AnIsolatedSinkFollowsThePipelineClockThroughAPause) {
    auto p = parse("videotestsrc ! video/x-raw,width=16,height=16,framerate=100/1 ! "
                   "fakesink name=out sync=true strategy=isolated");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::running));
    std::this_thread::sleep_for(300ms);
    ASSERT_TRUE(p->set_state(State::paused));
    std::this_thread::sleep_for(500ms);
    const std::uint64_t before = p->progress().buffers;
    ASSERT_TRUE(p->set_state(State::running));
    std::this_thread::sleep_for(100ms);
    const std::uint64_t after = p->progress().buffers;
    // 100 ms of running time is 10 frames at 100 a second (the count is of
    // frames handed to the worker, up to 16 ahead of rendering). A worker
    // whose clock ran on through the 500 ms pause would let some 50 go at
    // once.
    EXPECT_LT(after - before, 35U);
    // Nor does it render early: 400 ms of running time hold at most 40
    // frames, and 16 more wait in the ring.
    EXPECT_LT(after, 40U + 16U + 5U);
    ASSERT_TRUE(p->set_state(State::suspended));
}

TEST(IsolatedElementTest, AnElementAWorkerCannotRunStaysInProcessWithAWarning) {
    auto p = parse("fakesrc num-buffers=10 strategy=isolated ! fakesink");
    ASSERT_TRUE(p);
    Messages messages;
    messages.watch(*p);
    ASSERT_TRUE(p->run(hang_guard));
    EXPECT_TRUE(messages.any_text(MessageType::warning, "cannot run isolated (it is a source"));
    EXPECT_NE(p->plan().find("cannot run isolated"), std::string::npos) << p->plan();
    EXPECT_EQ(p->progress().buffers, 10U);
}

struct CrashCase {
    const char* mode;
    const char* reason;
};

class IsolatedCrashTest : public ::testing::TestWithParam<CrashCase> {};

// The command line of the documentation, in C++: every misbehaviour costs
// the one buffer the element was handling, and the stream reaches its end.
TEST_P(IsolatedCrashTest, WorkerIsReplacedAndTheStreamEnds) {
    const CrashCase c = GetParam();
    auto p = parse(std::string("fakesrc num-buffers=2000 ! crashtest name=crashtest0 mode=") + c.mode +
                   " after=300 ! fakesink");
    ASSERT_TRUE(p);
    p->scheduling().isolation.restart.max_restarts = 10;
    p->scheduling().isolation.hang_timeout = 300ms;
    Messages messages;
    messages.watch(*p);
    auto ok = p->run(hang_guard);
    ASSERT_TRUE(ok) << ok.error().to_string();
    const auto restarts = messages.of(MessageType::element, "element-restarted");
    // Buffers 301, 602, ... each end one worker: six of them.
    ASSERT_EQ(restarts.size(), 6U);
    for (std::size_t i = 0; i < restarts.size(); ++i) {
        const Structure& s = *restarts[i].structure;
        EXPECT_EQ(s.get_string("element").value_or(""), "crashtest0");
        EXPECT_NE(std::string(s.get_string("reason").value_or("")).find(c.reason), std::string::npos)
            << s.get_string("reason").value_or("");
        EXPECT_EQ(s.get_int("count").value_or(-1), static_cast<std::int32_t>(i + 1));
    }
    EXPECT_EQ(lost_in(restarts), 6);
    EXPECT_EQ(p->progress().buffers, 2000U - 6U);
}

INSTANTIATE_TEST_SUITE_P(Modes, IsolatedCrashTest,
                         ::testing::Values(CrashCase{"segv", segv_reason}, CrashCase{"abort", "killed by SIGABRT"},
                                           CrashCase{"exit", exit_reason},
                                           CrashCase{"hang", "hung (no progress for 300 ms)"}),
                         [](const auto& param_info) { return std::string(param_info.param.mode); });

// However the two sides wait for each other, every buffer crosses, and a
// worker that crashes under a spinning pipeline is replaced as under a
// sleeping one.
TEST(IsolatedElementTest, EveryWaitModeCarriesTheStreamAndSurvivesACrash) {
    for (const ShmWait wait : {ShmWait::sleep, ShmWait::predict, ShmWait::spin}) {
        auto p = parse("fakesrc num-buffers=900 ! crashtest name=crashtest0 mode=segv after=400 ! fakesink");
        ASSERT_TRUE(p);
        p->scheduling().isolation.wait = wait;
        Messages messages;
        messages.watch(*p);
        auto ok = p->run(hang_guard);
        ASSERT_TRUE(ok) << to_string(wait) << ": " << ok.error().to_string();
        const auto restarts = messages.of(MessageType::element, "element-restarted");
        ASSERT_EQ(restarts.size(), 2U) << to_string(wait);
        EXPECT_EQ(lost_in(restarts), 2) << to_string(wait);
        EXPECT_EQ(p->progress().buffers, 898U) << to_string(wait);
    }
}

TEST(IsolatedElementTest, SpentRestartBudgetFailsNamingTheElement) {
    auto p = parse("fakesrc num-buffers=2000 ! crashtest name=crashtest0 mode=segv after=100 ! fakesink");
    ASSERT_TRUE(p);
    p->scheduling().isolation.restart.max_restarts = 2;
    Messages messages;
    messages.watch(*p);
    auto ok = p->run(hang_guard);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().element(), "crashtest0");
    EXPECT_NE(ok.error().message().find("restart budget is spent (2 restarts"), std::string::npos)
        << ok.error().message();
    EXPECT_NE(ok.error().message().find(segv_reason), std::string::npos) << ok.error().message();
    EXPECT_EQ(messages.of(MessageType::element, "element-restarted").size(), 2U);
}

TEST(IsolatedElementTest, NeverIsolateRunsItInProcess) {
    auto p = parse("fakesrc num-buffers=50 ! crashtest ! fakesink");
    ASSERT_TRUE(p);
    p->scheduling().strategies.never_isolate = true;
    Messages messages;
    messages.watch(*p);
    ASSERT_TRUE(p->run(hang_guard));
    EXPECT_FALSE(messages.any_text(MessageType::info, "runs isolated"));
    EXPECT_NE(p->plan().find("never-isolate"), std::string::npos) << p->plan();
}

struct DenialCase {
    const char* mode;
    const char* syscall;
};

class IsolatedSandboxTest : public ::testing::TestWithParam<DenialCase> {};

TEST_P(IsolatedSandboxTest, ForbiddenCallIsDeniedAndReported) {
    const DenialCase c = GetParam();
    auto p =
        parse(std::string("fakesrc num-buffers=20 ! crashtest name=crashtest0 mode=") + c.mode + " after=5 ! fakesink");
    ASSERT_TRUE(p);
    Messages messages;
    messages.watch(*p);
    auto ok = p->run(hang_guard);
    // crashtest makes a denial its error: the pipeline stops with it.
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().element(), "crashtest0");
    EXPECT_TRUE(messages.any_text(MessageType::warning, std::string("the sandbox denied ") + c.syscall))
        << "no warning naming " << c.syscall;
    const auto outcomes = messages.of(MessageType::element, "crashtest");
    ASSERT_FALSE(outcomes.empty());
    EXPECT_EQ(outcomes.front().structure->get_bool("allowed"), std::optional<bool>(false));
    EXPECT_TRUE(messages.of(MessageType::element, "element-restarted").empty());
}

INSTANTIATE_TEST_SUITE_P(Calls, IsolatedSandboxTest,
                         ::testing::Values(DenialCase{"try-open", "openat"}, DenialCase{"try-socket", "socket"},
                                           DenialCase{"try-exec", "execve"}),
                         [](const auto& param_info) {
                             std::string n = param_info.param.mode;
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

// Adjacent isolated elements share one worker: one process, restarted as
// a whole, each element's messages under its own name.
TEST(IsolatedElementTest, AdjacentIsolatedElementsShareOneWorker) {
    auto p = parse("fakesrc num-buffers=2000 ! identity name=first ! crashtest name=crashtest0 mode=segv after=300 ! "
                   "identity name=last ! fakesink");
    ASSERT_TRUE(p);
    p->scheduling().strategies.isolate = {"first", "last"};
    Messages messages;
    messages.watch(*p);
    auto ok = p->run(hang_guard);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_TRUE(messages.any_text(MessageType::info, "first (with crashtest0, last) run isolated"));
    const auto restarts = messages.of(MessageType::element, "element-restarted");
    ASSERT_EQ(restarts.size(), 6U);
    for (const auto& m : restarts) {
        EXPECT_EQ(m.structure->get_string("element").value_or(""), "first");
        EXPECT_EQ(m.structure->get_string("elements").value_or(""), "first,crashtest0,last");
    }
    EXPECT_EQ(lost_in(restarts), 6);
    EXPECT_EQ(p->progress().buffers, 2000U - 6U);
    const std::string plan = p->plan();
    EXPECT_NE(plan.find("first, crashtest0, last run in one worker process"), std::string::npos) << plan;
}

TEST(IsolatedElementTest, AGroupMembersMessagesKeepItsName) {
    auto p = parse("fakesrc num-buffers=20 ! identity name=first ! crashtest name=second mode=try-open after=5 ! "
                   "fakesink");
    ASSERT_TRUE(p);
    p->scheduling().strategies.isolate = {"first"};
    Messages messages;
    messages.watch(*p);
    auto ok = p->run(hang_guard);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().element(), "second");
    const auto outcomes = messages.of(MessageType::element, "crashtest");
    ASSERT_FALSE(outcomes.empty());
    EXPECT_EQ(outcomes.front().source, "second");
    EXPECT_EQ(outcomes.front().structure->get_bool("allowed"), std::optional<bool>(false));
}

TEST(IsolatedElementTest, IsolateEachGivesEveryElementItsWorker) {
    auto p = parse("fakesrc num-buffers=200 ! identity name=first ! crashtest name=second ! fakesink");
    ASSERT_TRUE(p);
    p->scheduling().strategies.isolate = {"first"};
    p->scheduling().isolation.group_adjacent = false;
    Messages messages;
    messages.watch(*p);
    ASSERT_TRUE(p->run(hang_guard));
    EXPECT_TRUE(messages.any_text(MessageType::info, "first runs isolated"));
    EXPECT_TRUE(messages.any_text(MessageType::info, "second runs isolated"));
    EXPECT_EQ(p->plan().find("one worker process"), std::string::npos) << p->plan();
    EXPECT_EQ(p->progress().buffers, 200U);
}

TEST(IsolatedElementTest, DifferentSandboxesDoNotShareAWorker) {
    auto p = parse("fakesrc num-buffers=50 ! identity name=first ! crashtest name=second ! fakesink");
    ASSERT_TRUE(p);
    p->scheduling().strategies.isolate = {"first"};
    p->scheduling().isolation.sandbox_for["second"].kind = SandboxKind::with_network;
    Messages messages;
    messages.watch(*p);
    ASSERT_TRUE(p->run(hang_guard));
    EXPECT_TRUE(messages.any_text(MessageType::info, "first runs isolated"));
    EXPECT_TRUE(messages.any_text(MessageType::info, "second runs isolated"));
    EXPECT_EQ(p->progress().buffers, 50U);
}

TEST(IsolatedElementTest, SandboxNoneLetsTheElementOpenFiles) {
    auto p = parse("fakesrc num-buffers=20 ! crashtest mode=try-open after=5 ! fakesink");
    ASSERT_TRUE(p);
    p->scheduling().isolation.sandbox.kind = SandboxKind::none;
    Messages messages;
    messages.watch(*p);
    auto ok = p->run(hang_guard);
    ASSERT_TRUE(ok) << ok.error().to_string();
    const auto outcomes = messages.of(MessageType::element, "crashtest");
    ASSERT_FALSE(outcomes.empty());
    EXPECT_EQ(outcomes.front().structure->get_bool("allowed"), std::optional<bool>(true));
}

TEST(IsolatedElementTest, AddressSpaceLimitStopsALeak) {
#ifdef PARALLAX_TEST_SANITIZER
    GTEST_SKIP() << "sanitizer runtimes reserve more address space than any useful RLIMIT_AS";
#endif
    auto p = parse("fakesrc num-buffers=100 ! crashtest name=crashtest0 mode=leak leak-size=64 after=2 ! fakesink");
    ASSERT_TRUE(p);
    p->scheduling().isolation.sandbox.max_address_space = std::uint64_t{512} << 20;
    auto ok = p->run(hang_guard);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().element(), "crashtest0");
    EXPECT_NE(ok.error().message().find("could not allocate"), std::string::npos) << ok.error().message();
}

// The processes this test program started (the workers, or the init of
// their pid namespaces).
std::vector<pid_t> children() {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (d == nullptr) {
        return out;
    }
    const pid_t self = ::getpid();
    while (dirent* e = ::readdir(d)) {
        const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
        if (pid <= 0) {
            continue;
        }
        std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
        std::string line;
        std::getline(stat, line);
        const auto close = line.rfind(')');
        if (close == std::string::npos) {
            continue;
        }
        char state = 0;
        int ppid = 0;
        if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == self && state != 'Z') {
            out.push_back(pid);
        }
    }
    ::closedir(d);
    return out;
}

// 200 SIGKILLs at random moments while buffers stream through the isolated
// element: every buffer either reaches the sink or is counted lost, and no
// slot of the source's arena is held at the end.
TEST(IsolatedElementTest, TwoHundredWorkerKillsLoseOnlyWhatTheyCountAndLeakNothing) {
    ArenaConfig config;
    config.slot_size = 4096;
    config.slot_count = 64;
    config.name = "isolation-kill-test";
    auto arena = Arena::create(config);
    ASSERT_TRUE(arena) << arena.error().to_string();
    auto p = parse("appsrc name=src max-buffers=8 ! crashtest ! fakesink");
    ASSERT_TRUE(p);
    p->scheduling().isolation.restart.max_restarts = 100000;
    p->scheduling().isolation.restart.delay = 1ms;
    p->scheduling().isolation.restart.max_delay = 1ms;
    Messages messages;
    messages.watch(*p);
    AppSrc* src = *p->get<AppSrc>("src");
    ASSERT_TRUE(p->set_state(State::running));

    std::atomic<bool> done{false};
    std::uint64_t pushed = 0;
    std::thread feeder([&] {
        while (!done.load()) {
            Result<Buffer> b = Buffer::allocate(**arena, 256);
            for (int tries = 0; !b && tries < 5000 && !done.load(); ++tries) {
                std::this_thread::sleep_for(1ms); // all slots in flight: wait for some to come back
                b = Buffer::allocate(**arena, 256);
            }
            if (!b) {
                ADD_FAILURE() << "the arena stayed exhausted: slots are leaking";
                return;
            }
            b->meta().set_sequence(pushed);
            if (!src->push_buffer(std::move(*b))) {
                return;
            }
            ++pushed;
        }
    });
    std::mt19937 rng(20261203);
    std::uniform_int_distribution<int> pause_us(500, 20000);
    int kills = 0;
    // Each kill waits for a fresh plx-worker to take over. A sanitized
    // worker takes about half a second to start, so 200 of them need more
    // than the usual guard when the machine is busy with other tests.
#ifdef PARALLAX_TEST_SANITIZER
    constexpr auto kill_guard = 480s;
#else
    constexpr auto kill_guard = hang_guard;
#endif
    const auto deadline = std::chrono::steady_clock::now() + kill_guard;
    while (kills < 200 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::microseconds(pause_us(rng)));
        for (pid_t child : children()) {
            if (::kill(child, SIGKILL) == 0) {
                ++kills;
            }
        }
        // The next kill waits for the replacement to take over.
        const std::size_t want = static_cast<std::size_t>(kills);
        while (messages.of(MessageType::element, "element-restarted").size() < want &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(1ms);
        }
    }
    done.store(true);
    feeder.join();
    ASSERT_TRUE(src->end_of_stream());
    auto end = p->bus().pop({MessageType::eos, MessageType::error}, hang_guard);
    ASSERT_TRUE(end);
    ASSERT_EQ(end->type, MessageType::eos) << end->to_string();
    const std::uint64_t delivered = p->progress().buffers;
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_GE(kills, 200);
    const auto restarts = messages.of(MessageType::element, "element-restarted");
    EXPECT_EQ(restarts.size(), static_cast<std::size_t>(kills));
    EXPECT_EQ(delivered + static_cast<std::uint64_t>(lost_in(restarts)), pushed)
        << "delivered " << delivered << ", lost " << lost_in(restarts) << ", pushed " << pushed;
    p.reset();
    const ArenaStats stats = (*arena)->stats();
    EXPECT_EQ(stats.free_slots, stats.slot_count) << stats.held_slots << " slots still held";
}

} // namespace
} // namespace parallax
