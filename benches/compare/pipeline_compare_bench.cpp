// Whole pipelines on libparallax and on GStreamer 1.22, side by side in one
// program and one run, alternating: the same gst-launch text on both.
//
//   SrcSink          fakesrc num-buffers=N ! fakesink
//   Identity10       the same with 10 identity elements between
//   Queue            fakesrc ! queue ! fakesink
//   Tee2Queues/0     fakesrc ! tee ! 2 x (queue ! fakesink), empty buffers
//   Tee2Queues/65536 the same with 64 KiB buffers
//   IdleQueueHop     one buffer every millisecond through an idle queue:
//                    time from entering the queue to reaching the sink
//   StartupOneBuffer parse, run one buffer to eos, tear down
//   FileCopy         filesrc ! filesink of 1 GiB on tmpfs (/dev/shm) at both
//                    libraries' default block sizes, next to `dd bs=1M`
//
// Throughput cases report the time per buffer; run through
// benches/compare/run.sh, which prints medians and ratios.
#include <parallax/element.hpp>
#include <parallax/elements/flow/fakesink.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "compare_support.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gst/gst.h>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace parallax::compare;

void run_case(benchmark::State& state, Engine engine, const std::string& text, std::int64_t buffers) {
    for (auto _ : state) {
        state.SetIterationTime(run(engine, text));
    }
    state.SetItemsProcessed(state.iterations() * buffers);
    state.counters["ns_per_buffer"] = benchmark::Counter(
        static_cast<double>(buffers), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

constexpr std::int64_t n_buffers = 200'000;

std::string src_sink(std::int64_t n) {
    return fmt::format("fakesrc num-buffers={} ! fakesink", n);
}
std::string identity10(std::int64_t n) {
    std::string text = fmt::format("fakesrc num-buffers={}", n);
    for (int i = 0; i < 10; ++i) {
        text += " ! identity";
    }
    return text + " ! fakesink";
}
std::string queue1(std::int64_t n) {
    return fmt::format("fakesrc num-buffers={} ! queue ! fakesink", n);
}
std::string tee2(std::int64_t n, std::int64_t size) {
    const std::string src = size == 0 ? fmt::format("fakesrc num-buffers={}", n)
                                      : fmt::format("fakesrc num-buffers={} sizetype=fixed sizemax={}", n, size);
    return src + " ! tee name=t t. ! queue ! fakesink t. ! queue ! fakesink";
}

void BM_SrcSink_parallax(benchmark::State& s) {
    run_case(s, Engine::parallax, src_sink(n_buffers), n_buffers);
}
void BM_SrcSink_gstreamer(benchmark::State& s) {
    run_case(s, Engine::gstreamer, src_sink(n_buffers), n_buffers);
}
void BM_Identity10_parallax(benchmark::State& s) {
    run_case(s, Engine::parallax, identity10(n_buffers), n_buffers);
}
void BM_Identity10_gstreamer(benchmark::State& s) {
    run_case(s, Engine::gstreamer, identity10(n_buffers), n_buffers);
}
void BM_Queue_parallax(benchmark::State& s) {
    run_case(s, Engine::parallax, queue1(n_buffers), n_buffers);
}
void BM_Queue_gstreamer(benchmark::State& s) {
    run_case(s, Engine::gstreamer, queue1(n_buffers / 4), n_buffers / 4);
}
void BM_Tee2Queues_parallax(benchmark::State& s) {
    run_case(s, Engine::parallax, tee2(n_buffers / 4, s.range(0)), n_buffers / 4);
}
void BM_Tee2Queues_gstreamer(benchmark::State& s) {
    run_case(s, Engine::gstreamer, tee2(n_buffers / 8, s.range(0)), n_buffers / 8);
}

// File copy: 1 GiB on tmpfs. The source file is written once; the output is
// removed before every copy so each run allocates its pages alike.
constexpr std::int64_t copy_bytes = std::int64_t{1} << 30;

// Both files go when the program ends (the static below is destroyed).
struct CopyFiles {
    std::filesystem::path in;
    std::filesystem::path out;

    CopyFiles(std::filesystem::path i, std::filesystem::path o) : in(std::move(i)), out(std::move(o)) {}
    CopyFiles(const CopyFiles&) = delete;
    CopyFiles& operator=(const CopyFiles&) = delete;
    ~CopyFiles() {
        std::error_code ec;
        std::filesystem::remove(in, ec);
        std::filesystem::remove(out, ec);
    }
};

const CopyFiles& copy_files() {
    static const CopyFiles files = [] {
        const std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
        const std::filesystem::path in = dir / fmt::format("plx-bench-copy-in-{}", ::getpid());
        std::ofstream os(in, std::ios::binary);
        std::vector<char> block(1 << 20);
        std::uint32_t x = 0x9e3779b9U;
        for (auto& c : block) {
            x = x * 1664525U + 1013904223U;
            c = static_cast<char>(x >> 24);
        }
        for (std::int64_t done = 0; done < copy_bytes; done += static_cast<std::int64_t>(block.size())) {
            os.write(block.data(), static_cast<std::streamsize>(block.size()));
        }
        if (!os) {
            die("cannot write the file-copy input " + in.string());
        }
        return CopyFiles(in, dir / fmt::format("plx-bench-copy-out-{}", ::getpid()));
    }();
    return files;
}

std::string file_copy() {
    const auto& f = copy_files();
    return fmt::format("filesrc location={} ! filesink location={}", f.in.string(), f.out.string());
}

void check_copy(const std::filesystem::path& out) {
    std::error_code ec;
    if (std::filesystem::file_size(out, ec) != static_cast<std::uintmax_t>(copy_bytes)) {
        die("file copy produced a file of the wrong size: " + out.string());
    }
    std::filesystem::remove(out, ec);
}

void run_copy(benchmark::State& state, Engine engine) {
    const std::string text = file_copy();
    for (auto _ : state) {
        state.SetIterationTime(run(engine, text));
        check_copy(copy_files().out);
    }
    state.SetBytesProcessed(state.iterations() * copy_bytes);
}

void BM_FileCopy_parallax(benchmark::State& s) {
    run_copy(s, Engine::parallax);
}
void BM_FileCopy_gstreamer(benchmark::State& s) {
    run_copy(s, Engine::gstreamer);
}
void BM_FileCopy_dd(benchmark::State& state) {
    const auto& f = copy_files();
    const std::string command = fmt::format("dd if={} of={} bs=1M status=none", f.in.string(), f.out.string());
    for (auto _ : state) {
        const auto start = Clock::now();
        if (std::system(command.c_str()) != 0) {
            die("dd failed: " + command);
        }
        state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
        check_copy(f.out);
    }
    state.SetBytesProcessed(state.iterations() * copy_bytes);
}

// Startup: parse, go to running, one buffer to eos, back to nothing.
void BM_StartupOneBuffer_parallax(benchmark::State& state) {
    for (auto _ : state) {
        const auto start = Clock::now();
        auto p = parallax::Pipeline::parse(src_sink(1));
        if (!p || !(*p)->run(std::chrono::seconds(10))) {
            die("startup run failed");
        }
        p->reset();
        state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    }
}
void BM_StartupOneBuffer_gstreamer(benchmark::State& state) {
    for (auto _ : state) {
        const auto start = Clock::now();
        const std::string text = src_sink(1);
        GstElement* pipeline = gst_parse_or_die(text);
        gst_element_set_state(pipeline, GST_STATE_PLAYING);
        gst_wait_eos(pipeline, text, 10 * GST_SECOND);
        gst_stop(pipeline);
        state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    }
}

// One buffer every millisecond through a queue whose thread has gone to
// sleep: the time from the buffer entering the queue to the sink.
constexpr int idle_hops = 200;

class Stamp final : public parallax::SimpleTransform {
public:
    static constexpr parallax::ElementInfo info{.factory = "bench-stamp", .klass = "Filter", .summary = "stamps"};
    static inline std::atomic<std::int64_t> entered{0};

protected:
    parallax::Flow transform(parallax::Buffer&, parallax::TransformContext&) override {
        entered.store(Clock::now().time_since_epoch().count());
        return parallax::Flow::ok;
    }
};
PARALLAX_REGISTER_ELEMENT(Stamp);

std::mutex hop_mutex;
std::vector<double> hop_samples;

void record_hop(std::int64_t entered_ns) {
    const auto now = Clock::now().time_since_epoch().count();
    std::lock_guard lock(hop_mutex);
    hop_samples.push_back(static_cast<double>(now - entered_ns) * 1e-9);
}

double median_hop() {
    std::lock_guard lock(hop_mutex);
    const double m = median(hop_samples);
    hop_samples.clear();
    return m;
}

void BM_IdleQueueHop_parallax(benchmark::State& state) {
    for (auto _ : state) {
        const std::string text = fmt::format(
            "fakesrc num-buffers={} is-live=true datarate=1000 sizetype=fixed sizemax=1 ! bench-stamp ! queue ! "
            "fakesink name=out signal-handoffs=true",
            idle_hops);
        auto p = parse_or_die(text);
        auto out = p->get<parallax::FakeSink>("out");
        if (!out) {
            die(out.error().to_string());
        }
        (*out)->set_handoff([](const parallax::Buffer&, parallax::Pad&) { record_hop(Stamp::entered.load()); });
        if (!p->run(std::chrono::seconds(30))) {
            die("idle hop run failed");
        }
        state.SetIterationTime(median_hop());
    }
}

std::atomic<std::int64_t> gst_entered{0};

void BM_IdleQueueHop_gstreamer(benchmark::State& state) {
    for (auto _ : state) {
        const std::string text = fmt::format(
            "fakesrc num-buffers={} is-live=true sync=true datarate=1000 sizetype=fixed sizemax=1 ! identity "
            "name=stamp signal-handoffs=true ! queue ! fakesink name=out signal-handoffs=true",
            idle_hops);
        GstElement* pipeline = gst_parse_or_die(text);
        GstElement* stamp = gst_bin_get_by_name(GST_BIN(pipeline), "stamp");
        GstElement* out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
        g_signal_connect(stamp, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer*, gpointer) {
                             gst_entered.store(Clock::now().time_since_epoch().count());
                         }),
                         nullptr);
        g_signal_connect(
            out, "handoff",
            G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad*, gpointer) { record_hop(gst_entered.load()); }), nullptr);
        gst_element_set_state(pipeline, GST_STATE_PLAYING);
        gst_wait_eos(pipeline, text, 30 * GST_SECOND);
        gst_object_unref(stamp);
        gst_object_unref(out);
        gst_stop(pipeline);
        state.SetIterationTime(median_hop());
    }
}

// Alternating registration: each libparallax case right before its
// GStreamer twin.
BENCHMARK(BM_SrcSink_parallax)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SrcSink_gstreamer)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Identity10_parallax)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Identity10_gstreamer)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Queue_parallax)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Queue_gstreamer)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Tee2Queues_parallax)->Arg(0)->Arg(65536)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Tee2Queues_gstreamer)->Arg(0)->Arg(65536)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IdleQueueHop_parallax)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(3);
BENCHMARK(BM_IdleQueueHop_gstreamer)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(3);
BENCHMARK(BM_StartupOneBuffer_parallax)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StartupOneBuffer_gstreamer)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FileCopy_parallax)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FileCopy_gstreamer)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FileCopy_dd)->UseManualTime()->Unit(benchmark::kMillisecond);

} // namespace

int main(int argc, char** argv) {
    parallax::compare::init(&argc, &argv);
    parallax::compare::run_benchmarks();
    return 0;
}
