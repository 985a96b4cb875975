// What running an element isolated costs: the same identity in process and
// with strategy=isolated (a plx-worker process, buffers crossing by
// reference through shared-memory rings), side by side in one run.
//
//   BM_IdentityThroughput/in_process, /isolated
//       fakesrc sizetype=fixed sizemax=64 filltype=nothing ! identity ! fakesink
//       with an unlimited fakesrc. The pipeline is built and started once,
//       outside the timed loop (worker start-up is not measured), and left
//       to reach its steady state. Each iteration is one window of about
//       20 ms; its time is the steady_clock span of the window and its work
//       the growth of the buffers counted at fakesink in it
//       (Pipeline::progress). buffers_per_s is the steady-state rate.
//
//   BM_IdentityRoundTrip/in_process, /isolated, /isolated_predict, /isolated_spin
//       appsrc ! identity ! appsink sync=false, one 64-byte buffer in flight:
//       each iteration pushes one buffer and pulls it at appsink; its time
//       is that round trip (steady_clock). Counters: median_us, p99_us, and
//       on the isolated rows added_median_us, its median minus the
//       in_process row's (the latency isolation adds per buffer). The
//       _predict and _spin rows set IsolationOptions::wait (the pipeline
//       and the worker wait for each other's buffers that way).
//
//   BM_IdentityStreamingDelay/in_process/<interval_us>, /isolated.../<interval_us>
//       The same pipeline fed continuously from a second thread, one 64-byte
//       buffer every <interval_us> microseconds (paced below the capacity
//       of either path, so that the delay is not the depth of a queue).
//       Each buffer carries its push time (steady_clock ns) in its sequence
//       field; each iteration pulls one buffer at appsink and takes the
//       delay from push to pull. Counters: median_us, p99_us, mean_us, and
//       added_median_us on the isolated row. The Time column is the pacing
//       interval (real time per pulled buffer), not the delay.
//
// Run (release preset; plx-worker is found in the build tree):
//
//   ninja -C build/release isolation_bench plx-worker
//   build/release/benches/isolation_bench
//   build/release/benches/isolation_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   build/release/benches/isolation_bench --benchmark_min_time=0.05   # quick check, about 2 s
//
// With default settings the whole program takes about 10 s.
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t buffer_size = 64;
constexpr auto throughput_window = 20ms;
constexpr auto start_guard = 10s; // only against hangs
constexpr auto pull_guard = 5s;   // only against hangs

// Where identity runs: in process, or isolated with the rings waited on as
// IsolationOptions::wait says.
struct Mode {
    bool isolated = false;
    parallax::ShmWait wait = parallax::ShmWait::sleep;
};
constexpr Mode in_process{};
constexpr Mode isolated_sleep{true, parallax::ShmWait::sleep};
constexpr Mode isolated_predict{true, parallax::ShmWait::predict};
constexpr Mode isolated_spin{true, parallax::ShmWait::spin};

const char* identity_text(bool isolated) {
    return isolated ? "identity strategy=isolated" : "identity";
}

// Median, 99th percentile and mean, in microseconds, of durations in
// nanoseconds.
struct Spread {
    double median_us = 0;
    double p99_us = 0;
    double mean_us = 0;
};

Spread spread(std::vector<std::int64_t>& ns) {
    Spread s;
    if (ns.empty()) {
        return s;
    }
    std::sort(ns.begin(), ns.end());
    const auto at = [&](double q) {
        const auto i = static_cast<std::size_t>(q * static_cast<double>(ns.size() - 1));
        return static_cast<double>(ns[i]) / 1e3;
    };
    s.median_us = at(0.5);
    s.p99_us = at(0.99);
    double sum = 0;
    for (const std::int64_t v : ns) {
        sum += static_cast<double>(v);
    }
    s.mean_us = sum / static_cast<double>(ns.size()) / 1e3;
    return s;
}

// The in_process medians, for the added_median_us counter of the isolated
// rows (which run after them). Negative: not measured in this run.
double round_trip_in_process_median_us = -1;
double streaming_in_process_median_us = -1;

void report(benchmark::State& state, bool isolated, std::vector<std::int64_t>& samples, double& in_process_median_us) {
    const Spread s = spread(samples);
    state.counters["median_us"] = s.median_us;
    state.counters["p99_us"] = s.p99_us;
    state.counters["mean_us"] = s.mean_us;
    if (!isolated) {
        in_process_median_us = s.median_us;
    } else if (in_process_median_us >= 0) {
        state.counters["added_median_us"] = s.median_us - in_process_median_us;
    }
}

// --- Throughput ---------------------------------------------------------------

void BM_IdentityThroughput(benchmark::State& state, bool isolated) {
    const std::string text = fmt::format("fakesrc sizetype=fixed sizemax={} filltype=nothing ! {} ! fakesink",
                                         buffer_size, identity_text(isolated));
    auto parsed = parallax::Pipeline::parse(text);
    if (!parsed) {
        state.SkipWithError(parsed.error().to_string().c_str());
        return;
    }
    auto& p = **parsed;
    if (auto ok = p.set_state(parallax::State::running); !ok) {
        state.SkipWithError(ok.error().to_string().c_str());
        return;
    }
    // Warm-up: the worker is up and buffers flow.
    const auto give_up = Clock::now() + start_guard;
    while (p.progress().buffers < 10000 && Clock::now() < give_up) {
        std::this_thread::sleep_for(1ms);
    }
    if (p.progress().buffers < 10000) {
        state.SkipWithError("no buffers reached fakesink");
        static_cast<void>(p.set_state(parallax::State::idle));
        return;
    }
    std::this_thread::sleep_for(throughput_window);

    std::uint64_t buffers = 0;
    for (auto _ : state) {
        const std::uint64_t before = p.progress().buffers;
        const auto t0 = Clock::now();
        std::this_thread::sleep_for(throughput_window);
        const std::uint64_t after = p.progress().buffers;
        const auto t1 = Clock::now();
        buffers += after - before;
        state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    }
    state.counters["buffers_per_s"] = benchmark::Counter(static_cast<double>(buffers), benchmark::Counter::kIsRate);
    static_cast<void>(p.set_state(parallax::State::idle));
}
BENCHMARK_CAPTURE(BM_IdentityThroughput, in_process, false)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_IdentityThroughput, isolated, true)->UseManualTime()->Unit(benchmark::kMillisecond);

// --- Latency ------------------------------------------------------------------

struct AppPipeline {
    std::unique_ptr<parallax::Pipeline> pipeline;
    parallax::AppSrc* src = nullptr;
    parallax::AppSink* sink = nullptr;
};

// appsrc name=src ! identity [strategy=isolated] ! appsink name=sink sync=false, running.
bool start_app_pipeline(benchmark::State& state, Mode mode, AppPipeline& a) {
    const std::string text = fmt::format("appsrc name=src max-bytes=0 max-buffers=64 block=true ! {} ! "
                                         "appsink name=sink sync=false",
                                         identity_text(mode.isolated));
    auto parsed = parallax::Pipeline::parse(text);
    if (!parsed) {
        state.SkipWithError(parsed.error().to_string().c_str());
        return false;
    }
    a.pipeline = std::move(*parsed);
    a.pipeline->scheduling().isolation.wait = mode.wait;
    auto src = a.pipeline->get<parallax::AppSrc>("src");
    auto sink = a.pipeline->get<parallax::AppSink>("sink");
    if (!src || !sink) {
        state.SkipWithError("appsrc or appsink not found");
        return false;
    }
    a.src = *src;
    a.sink = *sink;
    if (auto ok = a.pipeline->set_state(parallax::State::running); !ok) {
        state.SkipWithError(ok.error().to_string().c_str());
        return false;
    }
    return true;
}

// Pushes one 64-byte buffer stamped with `stamp` in its sequence field.
bool push_one(parallax::AppSrc& src, std::uint64_t stamp) {
    auto b = src.allocate(buffer_size);
    if (!b) {
        return false;
    }
    b->meta().set_sequence(stamp);
    return static_cast<bool>(src.push_buffer(std::move(*b)));
}

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

// A few round trips first: the first buffers also carry caps and segment,
// and the first crossing maps the arena in the worker.
bool warm_up(benchmark::State& state, AppPipeline& a) {
    for (int i = 0; i < 100; ++i) {
        if (!push_one(*a.src, 0) || !a.sink->try_pull_sample(start_guard)) {
            state.SkipWithError("warm-up round trip failed");
            return false;
        }
    }
    return true;
}

void BM_IdentityRoundTrip(benchmark::State& state, Mode mode) {
    AppPipeline a;
    if (!start_app_pipeline(state, mode, a) || !warm_up(state, a)) {
        if (a.pipeline) {
            static_cast<void>(a.pipeline->set_state(parallax::State::idle));
        }
        return;
    }
    std::vector<std::int64_t> samples;
    samples.reserve(1 << 16);
    for (auto _ : state) {
        const auto t0 = Clock::now();
        if (!push_one(*a.src, 0)) {
            state.SkipWithError("push failed");
            break;
        }
        auto sample = a.sink->try_pull_sample(pull_guard);
        const auto t1 = Clock::now();
        if (!sample) {
            state.SkipWithError(sample.error().to_string().c_str());
            break;
        }
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0);
        samples.push_back(ns.count());
        state.SetIterationTime(std::chrono::duration<double>(ns).count());
    }
    report(state, mode.isolated, samples, round_trip_in_process_median_us);
    static_cast<void>(a.pipeline->set_state(parallax::State::idle));
}
BENCHMARK_CAPTURE(BM_IdentityRoundTrip, in_process, in_process)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_IdentityRoundTrip, isolated, isolated_sleep)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_IdentityRoundTrip, isolated_predict, isolated_predict)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_IdentityRoundTrip, isolated_spin, isolated_spin)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_IdentityStreamingDelay(benchmark::State& state, Mode mode) {
    const auto interval = std::chrono::microseconds(state.range(0));
    AppPipeline a;
    if (!start_app_pipeline(state, mode, a) || !warm_up(state, a)) {
        if (a.pipeline) {
            static_cast<void>(a.pipeline->set_state(parallax::State::idle));
        }
        return;
    }
    // The pusher: one buffer per interval, stamped when pushed. A late
    // wake-up does not cause a burst: the schedule moves on from now.
    std::atomic<bool> stop{false};
    std::atomic<bool> push_failed{false};
    std::thread pusher([&] {
        auto next = Clock::now();
        while (!stop.load(std::memory_order_relaxed)) {
            if (!push_one(*a.src, now_ns())) {
                push_failed.store(true);
                return;
            }
            next += interval;
            const auto now = Clock::now();
            if (next < now) {
                next = now;
            }
            std::this_thread::sleep_until(next);
        }
    });

    std::vector<std::int64_t> samples;
    samples.reserve(1 << 16);
    for (auto _ : state) {
        auto sample = a.sink->try_pull_sample(pull_guard);
        const std::uint64_t pulled = now_ns();
        if (!sample) {
            state.SkipWithError(push_failed.load() ? "push failed" : sample.error().to_string().c_str());
            break;
        }
        samples.push_back(static_cast<std::int64_t>(pulled - sample->buffer.meta().sequence()));
    }
    stop.store(true);
    pusher.join();
    report(state, mode.isolated, samples, streaming_in_process_median_us);
    static_cast<void>(a.pipeline->set_state(parallax::State::idle));
}
// Arg: the pacing interval in microseconds.
BENCHMARK_CAPTURE(BM_IdentityStreamingDelay, in_process, in_process)
    ->Arg(100)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_IdentityStreamingDelay, isolated, isolated_sleep)
    ->Arg(100)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_IdentityStreamingDelay, isolated_predict, isolated_predict)
    ->Arg(100)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_IdentityStreamingDelay, isolated_spin, isolated_spin)
    ->Arg(100)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

} // namespace
