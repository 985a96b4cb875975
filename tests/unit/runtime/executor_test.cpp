#include <parallax/element.hpp>
#include <parallax/elements/flow/fakesink.hpp>
#include <parallax/elements/flow/queue.hpp>
#include <parallax/pipeline/bus_asio.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

namespace parallax {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Pipeline> parse(std::string_view text) {
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << format_pipeline_error(text, p.error());
    return p ? std::move(*p) : Pipeline::create();
}

FakeSink& sink(Pipeline& p, std::string_view name) {
    auto s = p.get<FakeSink>(name);
    EXPECT_TRUE(s) << s.error().to_string();
    EXPECT_TRUE((*s)->set_property("signal-handoffs", "true"));
    return **s;
}

TEST(ExecutorTest, SourceToSinkRunsToEos) {
    auto p = Pipeline::create();
    ASSERT_TRUE(p->chain().then("fakesrc", {{"num-buffers", 100}}).then("fakesink", {}, "sink").done());
    std::atomic<int> seen{0};
    sink(*p, "sink").set_handoff([&](const Buffer&, Pad&) { ++seen; });
    auto ok = p->run(10s);
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(seen.load(), 100);
    EXPECT_EQ(p->progress().buffers, 100U);
    EXPECT_EQ(p->state(), State::idle);
}

TEST(ExecutorTest, QueueHandsBuffersToAnotherThreadAndTheRunRepeats) {
    auto p = parse("fakesrc num-buffers=1000 sizetype=fixed sizemax=1000 ! queue name=q ! fakesink name=sink");
    std::set<std::thread::id> threads;
    std::mutex m;
    sink(*p, "sink").set_handoff([&](const Buffer&, Pad&) {
        std::lock_guard lock(m);
        threads.insert(std::this_thread::get_id());
    });
    for (int round = 0; round < 3; ++round) {
        auto ok = p->run(10s);
        ASSERT_TRUE(ok) << ok.error().to_string();
        EXPECT_EQ(p->progress().buffers, 1000U);
        EXPECT_EQ(p->progress().bytes, 1000U * 1000U);
    }
    EXPECT_FALSE(threads.contains(std::this_thread::get_id()));
    EXPECT_TRUE(p->get<Queue>("q"));
}

TEST(ExecutorTest, TeeGivesEveryBranchTheSameBytes) {
    auto p = parse("fakesrc num-buffers=50 sizetype=fixed sizemax=64 filltype=pattern ! tee name=t "
                   "t. ! queue ! fakesink name=a  t. ! queue ! fakesink name=b  t. ! fakesink name=c");
    std::mutex m;
    std::map<std::string, std::vector<std::pair<const void*, std::uint64_t>>> seen;
    for (const char* name : {"a", "b", "c"}) {
        sink(*p, name).set_handoff([&, name](const Buffer& b, Pad&) {
            std::lock_guard lock(m);
            seen[name].emplace_back(b.data().data(), b.meta().sequence());
        });
    }
    ASSERT_TRUE(p->run(10s));
    ASSERT_EQ(seen["a"].size(), 50U);
    EXPECT_EQ(seen["a"], seen["b"]);
    EXPECT_EQ(seen["a"], seen["c"]);
    for (std::uint64_t i = 0; i < 50; ++i) {
        EXPECT_EQ(seen["a"][i].second, i);
    }
}

TEST(ExecutorTest, EosIsPostedOnceAfterEverySinkHasIt) {
    auto p = parse("fakesrc num-buffers=10 ! tee name=t t. ! queue ! fakesink t. ! queue ! identity sleep-time=1000 "
                   "! fakesink");
    ASSERT_TRUE(p->set_state(State::running));
    auto eos = p->bus().pop({MessageType::eos}, 10s);
    ASSERT_TRUE(eos);
    EXPECT_EQ(eos->source, p->name());
    EXPECT_EQ(p->progress().buffers, 20U);
    ASSERT_TRUE(p->set_state(State::idle));
    while (auto m = p->bus().pop(0ns)) {
        EXPECT_NE(m->type, MessageType::eos) << "eos posted twice";
    }
}

TEST(ExecutorTest, BackPressureBoundsTheQueue) {
    auto p = parse("fakesrc num-buffers=300 sizetype=fixed sizemax=65536 ! queue name=q max-size-buffers=5 ! "
                   "identity sleep-time=200 ! fakesink name=sink");
    auto q = p->get<Queue>("q");
    ASSERT_TRUE(q);
    std::uint64_t max_level = 0;
    sink(*p, "sink").set_handoff([&](const Buffer&, Pad&) {
        max_level = std::max<std::uint64_t>(max_level, (*q)->level().buffers);
    });
    ASSERT_TRUE(p->run(30s));
    EXPECT_LE(max_level, 5U);
    EXPECT_GE(max_level, 1U);
    EXPECT_EQ(p->progress().buffers, 300U);
}

TEST(ExecutorTest, LeakyQueueDropsInsteadOfBlocking) {
    auto p = parse("fakesrc num-buffers=200 ! queue name=q max-size-buffers=2 leaky=upstream ! identity "
                   "sleep-time=500 ! fakesink");
    ASSERT_TRUE(p->run(30s));
    auto q = p->get<Queue>("q");
    EXPECT_GT((*q)->dropped(), 0U);
    EXPECT_EQ(p->progress().buffers + (*q)->dropped(), 200U);
}

TEST(ExecutorTest, AnElementErrorStopsThePipelineAndNamesIt) {
    auto p = parse("fakesrc ! queue ! identity name=bad error-after=5 ! fakesink");
    auto r = p->run(10s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().element(), "bad");
    EXPECT_NE(r.error().message().find("error-after=5"), std::string::npos) << r.error().message();
    EXPECT_EQ(p->state(), State::idle);
    EXPECT_EQ(p->progress().buffers, 5U);
}

class Thrower final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "test-thrower", .klass = "Filter", .summary = "Throws"};

protected:
    Flow transform(Buffer&, TransformContext&) override { throw std::runtime_error("boom"); }
};

TEST(ExecutorTest, AnExceptionBecomesABusErrorNamingTheElement) {
    auto p = Pipeline::create();
    auto src = p->add("fakesrc");
    auto thrower = p->add(make_element<Thrower>("thrower").value());
    auto snk = p->add("fakesink");
    ASSERT_TRUE(src && thrower && snk);
    ASSERT_TRUE(p->link(**src, **thrower));
    ASSERT_TRUE(p->link(**thrower, **snk));
    auto r = p->run(10s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().element(), "thrower");
    EXPECT_TRUE(r.error().is(Errc::exception));
    EXPECT_NE(r.error().message().find("boom"), std::string::npos);
}

TEST(ExecutorTest, PauseStopsDataAndResumeContinuesWhereItWas) {
    auto p = parse("fakesrc ! queue ! fakesink");
    ASSERT_TRUE(p->set_state(State::running));
    while (p->progress().buffers < 1000) {
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(p->set_state(State::paused));
    std::this_thread::sleep_for(20ms);
    const auto paused_at = p->progress().buffers;
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(p->progress().buffers, paused_at) << "data flowed while paused";
    const ClockTime t = p->running_time();
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(p->running_time(), t) << "the clock ran while paused";
    ASSERT_TRUE(p->set_state(State::running));
    while (p->progress().buffers <= paused_at) {
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(p->set_state(State::suspended));
}

TEST(ExecutorTest, SendEosEndsAnEndlessSource) {
    auto p = parse("fakesrc ! queue ! fakesink");
    ASSERT_TRUE(p->set_state(State::running));
    std::this_thread::sleep_for(10ms);
    p->send_eos();
    EXPECT_TRUE(p->bus().pop({MessageType::eos}, 10s));
    ASSERT_TRUE(p->set_state(State::idle));
}

// Passes everything on and notes, in order, the buffers and the custom
// events that cross it in either direction.
class EventNotes final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "test-event-notes", .klass = "Filter", .summary = "Notes buffers and custom events"};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::any()},
                {"src", PadDirection::src, PadPresence::always, Caps::any()}};
    }
    std::vector<std::string> notes() const {
        const std::lock_guard lock(mutex_);
        return notes_;
    }
    bool saw(const std::string& note) const {
        const auto n = notes();
        return std::find(n.begin(), n.end(), note) != n.end();
    }

protected:
    void init() override { src_ = pad("src"); }
    Flow chain(Pad&, Buffer&& buffer) override {
        note("buffer");
        return src_->push(std::move(buffer));
    }
    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::custom_downstream) {
            note("down:" + event.structure()->name());
        }
        return Element::sink_event(pad, std::move(event));
    }
    bool src_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::custom_upstream) {
            note("up:" + event.structure()->name());
        }
        return Element::src_event(pad, std::move(event));
    }

private:
    void note(std::string n) {
        const std::lock_guard lock(mutex_);
        notes_.push_back(std::move(n));
    }
    Pad* src_ = nullptr;
    mutable std::mutex mutex_;
    std::vector<std::string> notes_;
};

TEST(ExecutorTest, SendEventGoesUpstreamFromTheSinksAndDownstreamFromTheSourcesInOrder) {
    auto p = parse("fakesrc name=src ! queue name=q");
    auto notes = p->add(make_element<EventNotes>("notes").value());
    auto snk = p->add("fakesink", "snk");
    ASSERT_TRUE(notes && snk);
    ASSERT_TRUE(p->link(*p->find("q"), **notes));
    ASSERT_TRUE(p->link(**notes, **snk));
    const auto* n = static_cast<EventNotes*>(*notes);
    ASSERT_TRUE(p->set_state(State::running));
    while (p->progress().buffers < 100) {
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_TRUE(p->send_event(Event::custom(EventType::custom_upstream, Structure("hello-upstream"))));
    EXPECT_TRUE(p->send_event(Event::custom(EventType::custom_downstream, Structure("marker"))));
    for (int i = 0; i < 10'000 && !(n->saw("up:hello-upstream") && n->saw("down:marker")); ++i) {
        std::this_thread::sleep_for(1ms);
    }
    p->send_eos();
    EXPECT_TRUE(p->bus().pop({MessageType::eos}, 10s));
    ASSERT_TRUE(p->set_state(State::idle));
    const auto all = n->notes();
    const auto marker = std::find(all.begin(), all.end(), "down:marker");
    ASSERT_NE(marker, all.end()) << "the downstream event never arrived";
    EXPECT_TRUE(n->saw("up:hello-upstream"));
    // In the stream, between buffers: sent by the source's streaming thread.
    EXPECT_GE(std::count(all.begin(), marker, "buffer"), 100);
    EXPECT_EQ(std::count(all.begin(), all.end(), "down:marker"), 1);
}

TEST(ExecutorTest, SendEventWithNobodyToTakeItIsRefused) {
    // A pipeline without a sink: nobody takes an upstream event.
    auto p = Pipeline::create();
    ASSERT_TRUE(p->add("fakesrc", "src"));
    EXPECT_FALSE(p->send_event(Event::custom(EventType::custom_upstream, Structure("nobody"))));
    // An element that is not a source refuses a downstream event with no
    // linked src pad to send it on.
    auto lone = Registry::global().create("identity", "lone");
    ASSERT_TRUE(lone);
    EXPECT_FALSE((*lone)->send_event(Event::custom(EventType::custom_downstream, Structure("x"))));
}

TEST(ExecutorTest, StreamStartIsPostedOnceEverySinkHasIt) {
    auto p = parse("fakesrc num-buffers=2 ! tee name=t t. ! queue ! fakesink t. ! queue ! fakesink");
    ASSERT_TRUE(p->set_state(State::running));
    auto start = p->bus().pop({MessageType::stream_start}, 10s);
    ASSERT_TRUE(start);
    EXPECT_EQ(start->source, p->name());
    ASSERT_TRUE(p->bus().pop({MessageType::eos}, 10s));
    ASSERT_TRUE(p->set_state(State::idle));
    while (auto m = p->bus().pop(0ns)) {
        EXPECT_NE(m->type, MessageType::stream_start) << "stream-start posted twice";
    }
}

TEST(ExecutorTest, StateChangesArePostedInOrder) {
    auto p = parse("fakesrc num-buffers=1 ! fakesink");
    ASSERT_TRUE(p->set_state(State::running));
    ASSERT_TRUE(p->set_state(State::suspended));
    std::vector<std::pair<State, State>> changes;
    while (auto m = p->bus().pop(0ns)) {
        if (m->type == MessageType::state_changed) {
            changes.emplace_back(m->old_state, m->new_state);
        }
    }
    const std::vector<std::pair<State, State>> expected{
        {State::suspended, State::idle}, {State::idle, State::paused},    {State::paused, State::running},
        {State::running, State::paused}, {State::paused, State::idle}, {State::idle, State::suspended}};
    EXPECT_EQ(changes, expected);
}

TEST(ExecutorTest, PropertiesThatMayChangeWhileRunningDoAndOthersRefuse) {
    auto p = parse("fakesrc name=src ! identity name=id ! fakesink");
    ASSERT_TRUE(p->set_state(State::running));
    EXPECT_TRUE(p->find("id")->set_property("drop-probability", "0.5"));
    auto r = p->find("src")->set_property("num-buffers", "10");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(Errc::state));
    EXPECT_NE(r.error().message().find("num-buffers"), std::string::npos);
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_TRUE(p->find("src")->set_property("num-buffers", "10"));
}

class Heavy final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "test-heavy", .klass = "Filter/Encoder", .summary = "CPU-bound"};
    static constexpr ExecutionHints hints = ExecutionHints::cpu_intensive();

protected:
    Flow transform(Buffer&, TransformContext&) override { return Flow::ok; }
};

// test-heavy in this program's registry, for pipeline text.
void register_heavy() {
    static const bool added = static_cast<bool>(Registry::global().add(factory_of<Heavy>()));
    ASSERT_TRUE(added);
}

// A CPU-bound element behind a source and light elements shares their
// thread: nothing else would run on it, and a hop per buffer costs more
// than it saves (filesrc ! ivfparse ! dav1ddec runs on one thread, as the
// dav1d program does).
TEST(ExecutorTest, ACpuBoundElementBehindLightOnesSharesTheirThread) {
    register_heavy();
    auto p = parse("fakesrc num-buffers=100 ! identity ! test-heavy name=heavy ! fakesink");
    ASSERT_TRUE(p->set_state(State::idle));
    const std::string plan = p->plan();
    EXPECT_EQ(p->find("auto-queue0"), nullptr) << plan;
    EXPECT_NE(plan.find("1 streaming thread"), std::string::npos) << plan;
    ASSERT_TRUE(p->run(10s));
    EXPECT_EQ(p->progress().buffers, 100U);
}

// Two CPU-bound elements in a row: the second gets a thread of its own, so
// that each has a core.
TEST(ExecutorTest, CpuBoundElementsInARowGetAThreadEach) {
    register_heavy();
    auto p = parse("fakesrc num-buffers=100 ! test-heavy name=a ! identity ! test-heavy name=b ! fakesink");
    ASSERT_TRUE(p->set_state(State::idle));
    const std::string plan = p->plan();
    EXPECT_NE(plan.find("auto-queue0: in front of b (hints: processing=cpu-bound, and a upstream is CPU-bound too)"),
              std::string::npos)
        << plan;
    EXPECT_NE(plan.find("2 streaming threads"), std::string::npos) << plan;
    EXPECT_EQ(p->find("auto-queue1"), nullptr) << plan;
    ASSERT_TRUE(p->run(10s));
    EXPECT_EQ(p->progress().buffers, 100U);
}

// Behind a tee, each CPU-bound branch gets a thread: the tee's thread would
// otherwise run both branches one after the other.
TEST(ExecutorTest, CpuBoundBranchesOfATeeGetAThreadEach) {
    register_heavy();
    auto p = parse("fakesrc num-buffers=100 ! tee name=t t. ! test-heavy name=a ! fakesink t. ! test-heavy name=b ! "
                   "fakesink");
    ASSERT_TRUE(p->set_state(State::idle));
    const std::string plan = p->plan();
    for (const char* e : {"a", "b"}) {
        EXPECT_NE(plan.find(fmt::format("in front of {} (hints: processing=cpu-bound, and t upstream runs its other "
                                        "outputs on the same thread)",
                                        e)),
                  std::string::npos)
            << plan;
    }
    EXPECT_NE(plan.find("3 streaming threads"), std::string::npos) << plan;
    ASSERT_TRUE(p->run(10s));
}

TEST(ExecutorTest, NoAutomaticBoundariesWhenTurnedOff) {
    auto p = Pipeline::create();
    p->scheduling().automatic_boundaries = false;
    auto src = p->add("fakesrc", "src", {{"num-buffers", 1}});
    auto heavy = p->add(make_element<Heavy>("heavy").value());
    auto snk = p->add("fakesink", "sink");
    ASSERT_TRUE(p->link(**src, **heavy) && p->link(**heavy, **snk));
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_EQ(p->find("auto-queue0"), nullptr);
    EXPECT_NE(p->plan().find("1 streaming thread"), std::string::npos);
}

TEST(ExecutorTest, PlanNamesChainsThreadsAndBoundaries) {
    auto p = parse("fakesrc ! identity ! queue name=q ! fakesink");
    ASSERT_TRUE(p->set_state(State::idle));
    const std::string plan = p->plan();
    EXPECT_NE(plan.find("thread 1: driven by fakesrc"), std::string::npos) << plan;
    EXPECT_NE(plan.find("q  (hands over to its own thread)"), std::string::npos) << plan;
    EXPECT_NE(plan.find("thread 2: driven by q"), std::string::npos) << plan;
    EXPECT_NE(plan.find("q: a queue in the pipeline"), std::string::npos) << plan;
}

TEST(ExecutorTest, UnlinkedPadsAreReportedBeforeRunning) {
    auto p = Pipeline::create();
    ASSERT_TRUE(p->add("fakesrc", "lonely"));
    auto r = p->set_state(State::running);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(), "lonely:src is not linked: its data would go nowhere");
    EXPECT_EQ(p->state(), State::suspended);
    auto empty = Pipeline::create();
    EXPECT_FALSE(empty->set_state(State::idle));
}

TEST(ExecutorTest, BusMessagesReachAnAsioExecutor) {
    boost::asio::io_context io;
    // Keeps run_for() waiting for messages still to come.
    auto work = boost::asio::make_work_guard(io);
    auto p = parse("fakesrc num-buffers=3 ! fakesink");
    std::vector<MessageType> types;
    watch(p->bus(), io.get_executor(), [&](const Message& m) {
        types.push_back(m.type);
        if (m.type == MessageType::eos) {
            io.stop();
        }
    });
    ASSERT_TRUE(p->set_state(State::running));
    io.run_for(10s);
    stop_watch(p->bus());
    ASSERT_TRUE(p->set_state(State::idle));
    ASSERT_FALSE(types.empty());
    std::string seen;
    for (MessageType t : types) {
        seen += std::string(to_string(t)) + " ";
    }
    EXPECT_EQ(types.back(), MessageType::eos) << seen;
}

TEST(ExecutorTest, DotFilesAreWrittenAtStateChangesWhenAsked) {
    const auto dir = std::filesystem::temp_directory_path() / ("plx-dot-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    ::setenv("PARALLAX_DEBUG_DUMP_DOT_DIR", dir.c_str(), 1);
    auto p = parse("fakesrc num-buffers=1 ! fakesink");
    ASSERT_TRUE(p->run(10s));
    ::unsetenv("PARALLAX_DEBUG_DUMP_DOT_DIR");
    std::size_t files = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
        ++files;
        EXPECT_EQ(f.path().extension(), ".dot");
    }
    EXPECT_GE(files, 4U);
    std::filesystem::remove_all(dir);
    const std::string dot = p->to_dot();
    EXPECT_NE(dot.find("digraph pipeline"), std::string::npos);
    EXPECT_NE(dot.find("(fakesrc)"), std::string::npos);
    EXPECT_NE(dot.find("num-buffers=1"), std::string::npos);
}

TEST(ExecutorTest, StoppingWhileDataFlowsNeitherHangsNorLeaks) {
    for (int i = 0; i < 20; ++i) {
        auto p = parse("fakesrc sizetype=fixed sizemax=4096 ! tee name=t t. ! queue max-size-buffers=3 ! fakesink "
                       "t. ! queue ! identity ! fakesink");
        ASSERT_TRUE(p->set_state(State::running));
        std::this_thread::sleep_for(std::chrono::milliseconds(i % 5));
        ASSERT_TRUE(p->set_state(State::suspended));
    }
}

} // namespace
} // namespace parallax
