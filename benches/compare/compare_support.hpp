#pragma once

// What the programs that compare libparallax with GStreamer share: setting
// up both libraries, the engine a case runs on, stopping on a failure,
// running the same gst-launch text to its end on either library while
// timing it, and medians.

#include <parallax/pipeline/pipeline.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <gst/gst.h>
#include <memory>
#include <string>
#include <vector>

namespace parallax::compare {

using Clock = std::chrono::steady_clock;

/// The library a case runs on.
enum class Engine { parallax, gstreamer };

/// "parallax" or "gstreamer", as benchmark names end.
constexpr const char* to_string(Engine engine) noexcept {
    return engine == Engine::parallax ? "parallax" : "gstreamer";
}

/// Initialises GStreamer and Google Benchmark from the command line (each
/// takes its own options out of it).
inline void init(int* argc, char*** argv) {
    gst_init(argc, argv);
    benchmark::Initialize(argc, *argv);
}

/// Runs the benchmarks the command line selects.
inline void run_benchmarks() {
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
}

/// Prints `what` and stops the program: a comparison that cannot run its
/// pipeline has nothing to report.
[[noreturn]] inline void die(const std::string& what) {
    fmt::print(stderr, "{}\n", what);
    std::abort();
}

/// The median of `values` (0 when there are none).
inline double median(std::vector<double> values) {
    if (values.empty()) {
        return 0.0;
    }
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), middle, values.end());
    return *middle;
}

// --- libparallax ---------------------------------------------------------------

/// The pipeline `text` describes; dies when it does not parse.
inline std::unique_ptr<Pipeline> parse_or_die(const std::string& text) {
    auto p = Pipeline::parse(text);
    if (!p) {
        die(format_pipeline_error(text, p.error()));
    }
    return std::move(*p);
}

/// Waits up to `timeout` for the running pipeline `p` (described by `text`)
/// to reach eos, then suspends it; dies on an error or a timeout. Returns
/// the moment eos arrived.
inline Clock::time_point wait_eos(Pipeline& p, const std::string& text,
                                  std::chrono::seconds timeout = std::chrono::seconds(120)) {
    auto m = p.bus().pop({MessageType::eos, MessageType::error}, timeout);
    const auto end = Clock::now();
    if (!m || m->type != MessageType::eos) {
        die("libparallax pipeline failed: " + (m ? m->to_string() : std::string("timeout")) + "\n" + text);
    }
    static_cast<void>(p.set_state(State::suspended));
    return end;
}

/// Runs `text` to eos on libparallax; returns the seconds from running (the
/// pipeline already paused) to eos.
inline double run_parallax(const std::string& text) {
    auto p = parse_or_die(text);
    if (auto ok = p->set_state(State::paused); !ok) {
        die(ok.error().to_string());
    }
    const auto start = Clock::now();
    if (auto ok = p->set_state(State::running); !ok) {
        die(ok.error().to_string());
    }
    return std::chrono::duration<double>(wait_eos(*p, text) - start).count();
}

// --- GStreamer -----------------------------------------------------------------

/// The GStreamer pipeline `text` describes (a floating reference, as
/// gst_parse_launch() gives it); dies when it does not parse.
inline GstElement* gst_parse_or_die(const std::string& text) {
    GError* error = nullptr;
    GstElement* pipeline = gst_parse_launch(text.c_str(), &error);
    if (pipeline == nullptr || error != nullptr) {
        die(std::string("gst_parse_launch: ") + (error != nullptr ? error->message : "failed") + "\n" + text);
    }
    return pipeline;
}

/// Waits up to `timeout` for the playing GStreamer `pipeline` (described by
/// `text`) to reach eos; dies on an error or a timeout. Returns the moment
/// eos arrived.
inline Clock::time_point gst_wait_eos(GstElement* pipeline, const std::string& text,
                                      GstClockTime timeout = 120 * GST_SECOND) {
    GstBus* bus = gst_element_get_bus(pipeline);
    GstMessage* m =
        gst_bus_timed_pop_filtered(bus, timeout, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    const auto end = Clock::now();
    if (m == nullptr || GST_MESSAGE_TYPE(m) != GST_MESSAGE_EOS) {
        die("GStreamer pipeline failed: " + text);
    }
    gst_message_unref(m);
    gst_object_unref(bus);
    return end;
}

/// Stops `pipeline` and drops the reference to it.
inline void gst_stop(GstElement* pipeline) {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
}

/// Runs `text` to eos on GStreamer; returns the seconds from playing (the
/// pipeline already paused) to eos.
inline double run_gstreamer(const std::string& text) {
    GstElement* pipeline = gst_parse_or_die(text);
    if (gst_element_set_state(pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE) {
        die("GStreamer: cannot pause: " + text);
    }
    gst_element_get_state(pipeline, nullptr, nullptr, GST_CLOCK_TIME_NONE);
    const auto start = Clock::now();
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    const auto end = gst_wait_eos(pipeline, text);
    gst_stop(pipeline);
    return std::chrono::duration<double>(end - start).count();
}

/// Runs `text` to eos on `engine`; returns the seconds from starting to eos.
inline double run(Engine engine, const std::string& text) {
    return engine == Engine::parallax ? run_parallax(text) : run_gstreamer(text);
}

} // namespace parallax::compare
