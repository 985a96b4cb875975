// videoconvert and videoscale on libparallax and on GStreamer 1.22, side by
// side in one program and one run, alternating, on the same gst-launch
// text:
//
//   SourceOnly      appsrc ! fakesink: the same I420 1920x1080 frame pushed
//                   again and again (a reference, no copy)
//   ConvertToRGBA   appsrc ! videoconvert ! video/x-raw,format=RGBA ! fakesink
//   Scale720p       appsrc ! videoscale method=bilinear !
//                   video/x-raw,width=1280,height=720 ! fakesink
//
// Each iteration pushes `frames` frames and times the sink's steady state:
// from the arrival of frame `warmup` to that of the last, divided by the
// frames in between, so that pipeline start-up and first-touch allocation
// stay out. The reported time is per frame. At the end the program prints
// each case's median, the element's own cost (the median less SourceOnly's)
// and the ratio GStreamer / libparallax of those costs.
//
//   build/release/benches/video_compare_bench --benchmark_repetitions=5
//       (add --benchmark_report_aggregates_only=true for medians only)
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/elements/flow/fakesink.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "compare_support.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <gst/gst.h>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace parallax::compare;

constexpr int frames = 150;
constexpr int warmup = 20;
constexpr int width = 1920;
constexpr int height = 1080;
constexpr std::size_t frame_size = static_cast<std::size_t>(width) * height * 3 / 2;

// A frame with structure (gradients and a grid), in I420.
const std::vector<std::uint8_t>& frame_bytes() {
    static const std::vector<std::uint8_t> bytes = [] {
        std::vector<std::uint8_t> b(frame_size);
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                b[static_cast<std::size_t>(y * width + x)] =
                    static_cast<std::uint8_t>(16 + (x * 219 / width + ((x / 64 + y / 64) % 2) * 20) % 220);
            }
        }
        const std::size_t c = frame_size / 6;
        for (std::size_t i = 0; i < c; ++i) {
            b[frame_size * 2 / 3 + i] = static_cast<std::uint8_t>(16 + (i % 960) * 224 / 960);
            b[frame_size * 5 / 6 + i] = static_cast<std::uint8_t>(240 - (i / 960) * 224 / 540);
        }
        return b;
    }();
    return bytes;
}

const std::string in_caps = fmt::format("video/x-raw,format=I420,width={},height={},framerate=30/1", width, height);

std::string pipeline_text(const std::string& middle) {
    return fmt::format("appsrc name=src caps=\"{}\" format=time max-bytes=0 max-buffers=4 block=true ! {}"
                       "fakesink name=out sync=false signal-handoffs=true",
                       in_caps, middle);
}

// Arrival times at the sink.
struct Arrivals {
    std::array<Clock::time_point, frames> at{};
    std::atomic<int> count{0};

    void arrived() {
        const int i = count.fetch_add(1, std::memory_order_relaxed);
        if (i < frames) {
            at[static_cast<std::size_t>(i)] = Clock::now();
        }
    }
    [[nodiscard]] double per_frame() const {
        return std::chrono::duration<double>(at[frames - 1] - at[warmup]).count() / (frames - 1 - warmup);
    }
};

// Pushes the frames through `middle` on libparallax; returns the seconds per
// frame at the sink.
double stream_parallax(const std::string& middle) {
    const std::string text = pipeline_text(middle);
    auto p = parse_or_die(text);
    auto src = p->get<parallax::AppSrc>("src");
    auto out = p->get<parallax::FakeSink>("out");
    if (!src || !out) {
        die("no appsrc or fakesink");
    }
    Arrivals arrivals;
    (*out)->set_handoff([&](const parallax::Buffer&, parallax::Pad&) { arrivals.arrived(); });
    if (auto ok = p->set_state(parallax::State::running); !ok) {
        die(ok.error().to_string());
    }
    auto b = (*src)->allocate(frame_size);
    if (!b) {
        die(b.error().to_string());
    }
    std::copy(frame_bytes().begin(), frame_bytes().end(), reinterpret_cast<std::uint8_t*>(b->map_writable()->data()));
    for (int i = 0; i < frames; ++i) {
        parallax::Buffer again = *b; // one more reference to the same slot
        again.meta().set_pts(parallax::ClockTime::from_ns(static_cast<std::uint64_t>(i) * 33'333'333));
        if (auto ok = (*src)->push_buffer(std::move(again)); !ok) {
            die(ok.error().to_string());
        }
    }
    static_cast<void>((*src)->end_of_stream());
    wait_eos(*p, text);
    if (arrivals.count.load() != frames) {
        die(fmt::format("libparallax: {} frames reached the sink, not {}", arrivals.count.load(), frames));
    }
    return arrivals.per_frame();
}

// The same on GStreamer.
double stream_gstreamer(const std::string& middle) {
    const std::string text = pipeline_text(middle);
    GstElement* pipeline = gst_parse_or_die(text);
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    GstElement* out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
    Arrivals arrivals;
    g_signal_connect(out, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad*, gpointer data) {
                         static_cast<Arrivals*>(data)->arrived();
                     }),
                     &arrivals);
    if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        die("GStreamer: cannot play");
    }
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, frame_size, nullptr);
    gst_buffer_fill(buffer, 0, frame_bytes().data(), frame_size);
    for (int i = 0; i < frames; ++i) {
        // Each push takes a reference to the same memory, as on the other side.
        GstBuffer* again = gst_buffer_copy(buffer);
        GST_BUFFER_PTS(again) = static_cast<GstClockTime>(i) * 33'333'333;
        GstFlowReturn ret = GST_FLOW_OK;
        g_signal_emit_by_name(src, "push-buffer", again, &ret);
        gst_buffer_unref(again);
        if (ret != GST_FLOW_OK) {
            die("GStreamer: push-buffer failed");
        }
    }
    GstFlowReturn ret = GST_FLOW_OK;
    g_signal_emit_by_name(src, "end-of-stream", &ret);
    gst_wait_eos(pipeline, text);
    gst_buffer_unref(buffer);
    gst_object_unref(src);
    gst_object_unref(out);
    gst_stop(pipeline);
    if (arrivals.count.load() != frames) {
        die(fmt::format("GStreamer: {} frames reached the sink, not {}", arrivals.count.load(), frames));
    }
    return arrivals.per_frame();
}

std::mutex samples_mutex;
std::map<std::string, std::vector<double>> samples; // case -> seconds per frame

void run_case(benchmark::State& state, Engine engine, const std::string& name, const std::string& middle) {
    for (auto _ : state) {
        const double s = engine == Engine::parallax ? stream_parallax(middle) : stream_gstreamer(middle);
        state.SetIterationTime(s);
        std::lock_guard lock(samples_mutex);
        samples[name + "/" + to_string(engine)].push_back(s);
    }
    state.counters["frames_per_second"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

const std::string convert = "videoconvert ! video/x-raw,format=RGBA ! ";
const std::string scale = "videoscale method=bilinear ! video/x-raw,width=1280,height=720 ! ";

void BM_SourceOnly_parallax(benchmark::State& s) {
    run_case(s, Engine::parallax, "SourceOnly", "");
}
void BM_SourceOnly_gstreamer(benchmark::State& s) {
    run_case(s, Engine::gstreamer, "SourceOnly", "");
}
void BM_ConvertToRGBA_parallax(benchmark::State& s) {
    run_case(s, Engine::parallax, "ConvertToRGBA", convert);
}
void BM_ConvertToRGBA_gstreamer(benchmark::State& s) {
    run_case(s, Engine::gstreamer, "ConvertToRGBA", convert);
}
void BM_Scale720p_parallax(benchmark::State& s) {
    run_case(s, Engine::parallax, "Scale720p", scale);
}
void BM_Scale720p_gstreamer(benchmark::State& s) {
    run_case(s, Engine::gstreamer, "Scale720p", scale);
}

// Alternating: each libparallax case right before its GStreamer twin.
BENCHMARK(BM_SourceOnly_parallax)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(3);
BENCHMARK(BM_SourceOnly_gstreamer)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(3);
BENCHMARK(BM_ConvertToRGBA_parallax)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(3);
BENCHMARK(BM_ConvertToRGBA_gstreamer)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(3);
BENCHMARK(BM_Scale720p_parallax)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(3);
BENCHMARK(BM_Scale720p_gstreamer)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(3);

void print_summary() {
    std::lock_guard lock(samples_mutex);
    const auto med = [](const std::string& key) { return median(samples[key]) * 1e3; };
    fmt::print("\n{:<16}{:>14}{:>14}{:>16}{:>16}{:>12}\n", "per frame (ms)", "libparallax", "GStreamer", "plx - source",
               "gst - source", "gst / plx");
    const double plx_src = med("SourceOnly/parallax");
    const double gst_src = med("SourceOnly/gstreamer");
    fmt::print("{:<16}{:>14.3f}{:>14.3f}{:>16}{:>16}{:>12}\n", "SourceOnly", plx_src, gst_src, "-", "-", "-");
    for (const char* name : {"ConvertToRGBA", "Scale720p"}) {
        const double plx = med(std::string(name) + "/parallax");
        const double gst = med(std::string(name) + "/gstreamer");
        const double plx_net = plx - plx_src;
        const double gst_net = gst - gst_src;
        fmt::print("{:<16}{:>14.3f}{:>14.3f}{:>16.3f}{:>16.3f}{:>11.2f}x\n", name, plx, gst, plx_net, gst_net,
                   plx_net > 0 ? gst_net / plx_net : 0.0);
    }
}

} // namespace

int main(int argc, char** argv) {
    parallax::compare::init(&argc, &argv);
    parallax::compare::run_benchmarks();
    print_summary();
    return 0;
}
