#include <parallax/element.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/runtime/realtime.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parallax::realtime_test {
namespace {

using namespace std::chrono_literals;

// What the chain of a test element saw of its own thread.
struct ThreadSeen {
    std::atomic<int> policy{-1};
    std::atomic<int> priority{-1};
    std::atomic<bool> marked{false};
    std::atomic<int> buffers{0};
    char name[16] = {};

    void record() {
        if (buffers.fetch_add(1) != 0) {
            return;
        }
        int p = 0;
        sched_param param{};
        pthread_getschedparam(pthread_self(), &p, &param);
        policy = p;
        priority = param.sched_priority;
        marked = on_real_time_thread();
        pthread_getname_np(pthread_self(), name, sizeof name);
    }
};

ThreadSeen seen;

class RtPass final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "test-rt-pass", .klass = "Filter", .summary = "Low latency, rt-safe"};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.latency = LatencyHint::low;
        h.rt_safe = true;
        return h;
    }();

protected:
    Flow transform(Buffer&, TransformContext&) override {
        seen.record();
        return Flow::ok;
    }
};

class RtSource final : public SimpleSource {
public:
    static constexpr ElementInfo info{.factory = "test-rt-src", .klass = "Source", .summary = "Real-time source"};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.affinity = Affinity::real_time;
        h.rt_safe = true;
        return h;
    }();

protected:
    Flow create(Buffer& out, SourceContext& ctx) override {
        seen.record();
        if (seen.buffers.load() > 50) {
            return Flow::eos;
        }
        auto b = ctx.allocate(64);
        if (!b) {
            return ctx.error(b.error());
        }
        out = std::move(*b);
        return Flow::ok;
    }
};

class WantsRtUnsafe final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "test-rt-unsafe", .klass = "Filter", .summary = "Not rt-safe"};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.affinity = Affinity::real_time;
        return h;
    }();

protected:
    Flow transform(Buffer&, TransformContext&) override {
        seen.record();
        return Flow::ok;
    }
};

// Warnings as posted (run() drops what it does not wait for).
std::mutex warnings_mutex;
std::vector<std::pair<std::string, std::string>> warnings; // (source, text)

void record_warnings(Pipeline& p) {
    std::lock_guard lock(warnings_mutex);
    warnings.clear();
    p.bus().set_sync_handler([](const Message& m) {
        if (m.type == MessageType::warning && m.error) {
            std::lock_guard held(warnings_mutex);
            warnings.emplace_back(m.source, m.error->message());
        }
        return true;
    });
}

int warnings_from(std::string_view source, std::string_view containing) {
    std::lock_guard lock(warnings_mutex);
    return static_cast<int>(std::count_if(warnings.begin(), warnings.end(), [&](const auto& w) {
        return w.first == source && w.second.find(containing) != std::string::npos;
    }));
}

template <class T>
std::unique_ptr<Pipeline> src_then(std::string_view name, int buffers = 100) {
    seen.policy = -1;
    seen.priority = -1;
    seen.marked = false;
    seen.buffers = 0;
    auto p = Pipeline::create();
    auto src = p->add("fakesrc", "src", {{"num-buffers", buffers}});
    auto mid = p->add(make_element<T>(std::string(name)).value());
    auto snk = p->add("fakesink", "sink");
    EXPECT_TRUE(src && mid && snk);
    EXPECT_TRUE(p->link(**src, **mid));
    EXPECT_TRUE(p->link(**mid, **snk));
    record_warnings(*p);
    return p;
}

// Whether this process may make a thread SCHED_FIFO at all (root in a
// container without CAP_SYS_NICE may not).
bool fifo_permitted() {
    bool ok = false;
    std::thread probe([&] {
        sched_param param{};
        param.sched_priority = 1;
        ok = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
    });
    probe.join();
    return ok;
}

TEST(RealTimeTest, TheRuleFollowsAffinityLatencyAndRtSafety) {
    ExecutionHints h;
    EXPECT_FALSE(wants_real_time(h));
    h.rt_safe = true;
    EXPECT_FALSE(wants_real_time(h)) << "normal latency";
    h.latency = LatencyHint::low;
    EXPECT_TRUE(wants_real_time(h));
    EXPECT_EQ(real_time_choice(h).reason, "latency=low, rt-safe");
    h.latency = LatencyHint::ultra_low;
    EXPECT_TRUE(wants_real_time(h));
    h.rt_safe = false;
    EXPECT_FALSE(wants_real_time(h));
    EXPECT_FALSE(real_time_choice(h).refused) << "only affinity=real-time asks outright";
    h = {};
    h.affinity = Affinity::real_time;
    EXPECT_FALSE(wants_real_time(h));
    EXPECT_TRUE(real_time_choice(h).refused);
    h.rt_safe = true;
    EXPECT_TRUE(wants_real_time(h));
    EXPECT_EQ(real_time_choice(h).reason, "affinity=real-time, rt-safe");
    EXPECT_FALSE(on_real_time_thread());
}

TEST(RealTimeTest, ARealTimeElementGetsAQueueAndASchedFifoThread) {
    if (!fifo_permitted()) {
        GTEST_SKIP() << "SCHED_FIFO is not permitted here (no CAP_SYS_NICE, RLIMIT_RTPRIO 0)";
    }
    auto p = src_then<RtPass>("rt");
    ASSERT_TRUE(p->set_state(State::idle));
    std::string plan = p->plan();
    EXPECT_NE(plan.find("auto-queue0: in front of rt (strategy real-time"), std::string::npos) << plan;
    EXPECT_NE(plan.find("thread 2: driven by auto-queue0, real-time for rt (SCHED_FIFO 10 asked"), std::string::npos)
        << plan;
    ASSERT_TRUE(p->set_state(State::paused));
    plan = p->plan();
    EXPECT_NE(plan.find("thread 2: driven by auto-queue0, real-time (SCHED_FIFO 10) for rt"), std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("thread 1: driven by src, real-time"), std::string::npos) << plan;
    ASSERT_TRUE(p->set_state(State::idle));
    ASSERT_TRUE(p->run(10s));
    EXPECT_EQ(p->progress().buffers, 100U);
    EXPECT_EQ(seen.policy.load(), SCHED_FIFO);
    EXPECT_EQ(seen.priority.load(), 10);
    EXPECT_TRUE(seen.marked.load());
    EXPECT_STREQ(seen.name, "plx-rt:rt");
    EXPECT_EQ(warnings_from("rt", "normal priority"), 0);
}

TEST(RealTimeTest, TheFifoPriorityComesFromTheSchedulingOptions) {
    if (!fifo_permitted()) {
        GTEST_SKIP() << "SCHED_FIFO is not permitted here";
    }
    auto p = src_then<RtPass>("rt");
    p->scheduling().real_time_priority = 20;
    ASSERT_TRUE(p->run(10s));
    EXPECT_EQ(seen.policy.load(), SCHED_FIFO);
    EXPECT_EQ(seen.priority.load(), 20);
}

TEST(RealTimeTest, ARealTimeSourceRunsOnItsOwnThreadWithoutAQueue) {
    if (!fifo_permitted()) {
        GTEST_SKIP() << "SCHED_FIFO is not permitted here";
    }
    seen.buffers = 0;
    auto p = Pipeline::create();
    auto src = p->add(make_element<RtSource>("rtsrc").value());
    auto snk = p->add("fakesink", "sink");
    ASSERT_TRUE(src && snk && p->link(**src, **snk));
    ASSERT_TRUE(p->set_state(State::paused));
    const std::string plan = p->plan();
    EXPECT_NE(plan.find("1 streaming thread"), std::string::npos) << plan;
    EXPECT_NE(plan.find("thread 1: driven by rtsrc, real-time (SCHED_FIFO 10) for rtsrc"), std::string::npos) << plan;
    EXPECT_EQ(p->find("auto-queue0"), nullptr);
    ASSERT_TRUE(p->set_state(State::idle));
    ASSERT_TRUE(p->run(10s));
    EXPECT_EQ(seen.policy.load(), SCHED_FIFO);
    EXPECT_TRUE(seen.marked.load());
}

TEST(RealTimeTest, WithRealTimeOffNothingChanges) {
    auto p = src_then<RtPass>("rt");
    p->scheduling().real_time = false;
    ASSERT_TRUE(p->run(10s));
    EXPECT_EQ(p->find("auto-queue0"), nullptr);
    EXPECT_EQ(p->plan().find(", real-time"), std::string::npos) << p->plan();
    EXPECT_EQ(seen.policy.load(), SCHED_OTHER);
    EXPECT_FALSE(seen.marked.load());
}

TEST(RealTimeTest, RealTimeAffinityWithoutRtSafetyRunsNormallyWithOneWarning) {
    auto p = src_then<WantsRtUnsafe>("unsafe");
    ASSERT_TRUE(p->run(10s));
    ASSERT_TRUE(p->run(10s));
    EXPECT_EQ(p->find("auto-queue0"), nullptr);
    EXPECT_EQ(seen.policy.load(), SCHED_OTHER);
    EXPECT_FALSE(seen.marked.load());
    EXPECT_EQ(warnings_from("unsafe", "rt-safe"), 1);
}

// Runs `body` in a forked child that may not use SCHED_FIFO above
// `rtprio`: RLIMIT_RTPRIO lowered, and running as nobody, which drops
// CAP_SYS_NICE. The child's result is its exit code; it reports on stderr.
template <class Body>
void in_unprivileged_child(rlim_t rtprio, Body body) {
    std::fflush(nullptr);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const rlimit limit{rtprio, rtprio};
        if (setrlimit(RLIMIT_RTPRIO, &limit) != 0) {
            // Raising the hard limit needs CAP_SYS_RESOURCE.
            std::perror("setrlimit");
            _exit(77);
        }
        if (getuid() == 0 && (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)) {
            std::perror("setresuid");
            _exit(91);
        }
        _exit(body());
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child died";
    if (WEXITSTATUS(status) == 77) {
        GTEST_SKIP() << "RLIMIT_RTPRIO cannot be raised to " << rtprio << " here (no CAP_SYS_RESOURCE)";
    }
    EXPECT_EQ(WEXITSTATUS(status), 0) << "see the child's stderr above";
}

int check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "child: failed: %s\n", what);
    }
    return ok ? 0 : 1;
}

TEST(RealTimeTest, WhenSchedFifoIsRefusedTheElementRunsNormallyWithOneWarning) {
    in_unprivileged_child(0, [] {
        auto p = src_then<RtPass>("rt");
        int bad = 0;
        bad += check(static_cast<bool>(p->set_state(State::paused)), "paused");
        const std::string plan = p->plan();
        bad += check(plan.find("real-time refused: SCHED_FIFO 10 is not permitted: RLIMIT_RTPRIO is 0") !=
                         std::string::npos,
                     "plan says refused");
        if (bad != 0) {
            std::fprintf(stderr, "%s", plan.c_str());
        }
        bad += check(static_cast<bool>(p->set_state(State::idle)), "idle");
        bad += check(static_cast<bool>(p->run(10s)), "first run");
        bad += check(static_cast<bool>(p->run(10s)), "second run");
        bad += check(p->progress().buffers == 100, "every buffer arrived");
        bad += check(seen.policy.load() == SCHED_OTHER, "normal priority");
        bad += check(seen.marked.load(), "still marked real-time for the allocation check");
        bad += check(warnings_from("rt", "runs at normal priority, not on a real-time thread") == 1,
                     "exactly one warning over two runs");
        return bad;
    });
}

TEST(RealTimeTest, RlimitRtprioLowersThePriority) {
    in_unprivileged_child(5, [] {
        auto p = src_then<RtPass>("rt");
        int bad = 0;
        bad += check(static_cast<bool>(p->set_state(State::paused)), "paused");
        const std::string plan = p->plan();
        const bool granted =
            plan.find("real-time (SCHED_FIFO 5, lowered from 10 by RLIMIT_RTPRIO) for rt") != std::string::npos;
        if (!granted && plan.find("cpu.rt_runtime_us") != std::string::npos) {
            std::fprintf(stderr, "child: no real-time runtime for unprivileged threads here; skipped\n");
            return 0;
        }
        bad += check(granted, "plan says lowered to 5");
        if (bad != 0) {
            std::fprintf(stderr, "%s", plan.c_str());
        }
        bad += check(static_cast<bool>(p->set_state(State::idle)), "idle");
        bad += check(static_cast<bool>(p->run(10s)), "run");
        bad += check(seen.policy.load() == SCHED_FIFO && seen.priority.load() == 5, "SCHED_FIFO 5");
        return bad;
    });
}

} // namespace
} // namespace parallax::realtime_test
