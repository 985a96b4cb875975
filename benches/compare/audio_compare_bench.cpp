// The audio converters on libparallax and on GStreamer 1.22, side by side in
// one program and one run, alternating: the same gst-launch text on both.
//
//   Resample/F32    48 kHz -> 44.1 kHz, stereo F32LE, quality 4 on both
//   Resample/S16    the same in S16LE
//   ConvertS16ToF32 audioconvert S16LE -> F32LE, stereo, 48 kHz
//
// Input: fakesrc filltype=zero buffers of 1024 stereo frames, given their
// format by a caps filter, into fakesink. What the source, the caps filter
// and the sink cost is measured alone first (the same pipeline without the
// converter, median of 5 runs per engine) and subtracted from every
// iteration, so the times are the converter's own (baseline_ms shows what
// was subtracted). Each case reports the time per second of audio
// (cpu_s_per_audio_s: seconds of processing for one second of sound).
//
// Quality is measured before the benchmarks: a 1 kHz sine (0.5 full scale,
// 2 s) through each resampler at the compared settings, from a file
// (filesrc ! caps ! audioresample ! caps ! filesink on both engines); the
// SNR against the best-fitting 1 kHz sine is printed and attached to the
// resampling cases as snr_db.
//
//   build/<dir>/benches/audio_compare_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)

#include "../../tests/integration/audio_analysis.hpp"

#include <parallax/element.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <gst/gst.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <numbers>
#include <span>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void die(const std::string& what) {
    fmt::print(stderr, "{}\n", what);
    std::abort();
}

double run_parallax(const std::string& text) {
    auto p = parallax::Pipeline::parse(text);
    if (!p) {
        die(parallax::format_pipeline_error(text, p.error()));
    }
    if (auto ok = (*p)->set_state(parallax::State::paused); !ok) {
        die(ok.error().to_string());
    }
    const auto start = Clock::now();
    if (auto ok = (*p)->set_state(parallax::State::running); !ok) {
        die(ok.error().to_string());
    }
    auto m = (*p)->bus().pop({parallax::MessageType::eos, parallax::MessageType::error}, std::chrono::seconds(120));
    const auto end = Clock::now();
    if (!m || m->type != parallax::MessageType::eos) {
        die("libparallax pipeline failed: " + (m ? m->to_string() : std::string("timeout")) + "\n" + text);
    }
    static_cast<void>((*p)->set_state(parallax::State::suspended));
    return std::chrono::duration<double>(end - start).count();
}

double run_gstreamer(const std::string& text) {
    GError* error = nullptr;
    GstElement* pipeline = gst_parse_launch(text.c_str(), &error);
    if (pipeline == nullptr || error != nullptr) {
        die(std::string("gst_parse_launch: ") + (error != nullptr ? error->message : "failed") + "\n" + text);
    }
    if (gst_element_set_state(pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE) {
        die("GStreamer: cannot pause: " + text);
    }
    gst_element_get_state(pipeline, nullptr, nullptr, GST_CLOCK_TIME_NONE);
    GstBus* bus = gst_element_get_bus(pipeline);
    const auto start = Clock::now();
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GstMessage* m = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    const auto end = Clock::now();
    if (m == nullptr || GST_MESSAGE_TYPE(m) != GST_MESSAGE_EOS) {
        die("GStreamer pipeline failed: " + text);
    }
    gst_message_unref(m);
    gst_object_unref(bus);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    return std::chrono::duration<double>(end - start).count();
}

enum class Engine { parallax, gstreamer };

double run(Engine engine, const std::string& text) {
    return engine == Engine::parallax ? run_parallax(text) : run_gstreamer(text);
}

// Buffers of 1024 frames at 48 kHz: 120 s of audio per resampling run and
// 600 s per conversion run, so that starting and stopping a pipeline (a few
// milliseconds, also subtracted with the baseline) weigh little.
constexpr int frames_per_buffer = 1024;
constexpr int resample_buffers = 5625;  // 120 s
constexpr int convert_buffers = 28125;  // 600 s

double seconds_of(int buffers) {
    return static_cast<double>(buffers) * frames_per_buffer / 48000.0;
}

std::string source(const char* format, int sample_size, int buffers) {
    return fmt::format("fakesrc num-buffers={} sizetype=fixed sizemax={} filltype=zero ! "
                       "audio/x-raw,format={},layout=interleaved,rate=48000,channels=2",
                       buffers, frames_per_buffer * 2 * sample_size, format);
}

// The same pipeline without the converter, timed alone: median of 5 runs.
double baseline(Engine engine, const std::string& text) {
    static std::map<std::pair<Engine, std::string>, double> cache;
    auto [it, added] = cache.try_emplace({engine, text}, 0.0);
    if (added) {
        std::vector<double> runs;
        for (int i = 0; i < 5; ++i) {
            runs.push_back(run(engine, text));
        }
        std::sort(runs.begin(), runs.end());
        it->second = runs[runs.size() / 2];
    }
    return it->second;
}

// Measured SNR of each engine's resampler, per format (filled in main()).
std::map<std::pair<Engine, std::string>, double> snr;

void run_case(benchmark::State& state, Engine engine, const std::string& text, const std::string& base_text,
              double audio_seconds, const std::string& snr_key = {}) {
    const double base = baseline(engine, base_text);
    for (auto _ : state) {
        const double s = run(engine, text);
        state.SetIterationTime(std::max(s - base, 1e-9));
    }
    state.counters["cpu_s_per_audio_s"] = benchmark::Counter(
        audio_seconds, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    state.counters["baseline_ms"] = base * 1e3;
    if (!snr_key.empty()) {
        state.counters["snr_db"] = snr[{engine, snr_key}];
    }
}

std::string resample(const char* format, int sample_size) {
    return source(format, sample_size, resample_buffers) +
           " ! audioresample quality=4 ! audio/x-raw,rate=44100 ! fakesink";
}
std::string resample_baseline(const char* format, int sample_size) {
    return source(format, sample_size, resample_buffers) + " ! fakesink";
}
std::string convert() {
    return source("S16LE", 2, convert_buffers) + " ! audioconvert ! audio/x-raw,format=F32LE ! fakesink";
}
std::string convert_baseline() {
    return source("S16LE", 2, convert_buffers) + " ! fakesink";
}

void BM_ResampleF32_parallax(benchmark::State& s) {
    run_case(s, Engine::parallax, resample("F32LE", 4), resample_baseline("F32LE", 4), seconds_of(resample_buffers),
             "F32LE");
}
void BM_ResampleF32_gstreamer(benchmark::State& s) {
    run_case(s, Engine::gstreamer, resample("F32LE", 4), resample_baseline("F32LE", 4), seconds_of(resample_buffers),
             "F32LE");
}
void BM_ResampleS16_parallax(benchmark::State& s) {
    run_case(s, Engine::parallax, resample("S16LE", 2), resample_baseline("S16LE", 2), seconds_of(resample_buffers),
             "S16LE");
}
void BM_ResampleS16_gstreamer(benchmark::State& s) {
    run_case(s, Engine::gstreamer, resample("S16LE", 2), resample_baseline("S16LE", 2), seconds_of(resample_buffers),
             "S16LE");
}
void BM_ConvertS16ToF32_parallax(benchmark::State& s) {
    run_case(s, Engine::parallax, convert(), convert_baseline(), seconds_of(convert_buffers));
}
void BM_ConvertS16ToF32_gstreamer(benchmark::State& s) {
    run_case(s, Engine::gstreamer, convert(), convert_baseline(), seconds_of(convert_buffers));
}

BENCHMARK(BM_ResampleF32_parallax)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResampleF32_gstreamer)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResampleS16_parallax)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ResampleS16_gstreamer)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ConvertS16ToF32_parallax)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ConvertS16ToF32_gstreamer)->UseManualTime()->Unit(benchmark::kMillisecond);

// --- quality ------------------------------------------------------------------

std::vector<std::byte> read_file(const std::filesystem::path& path) {
    std::ifstream is(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

// A 1 kHz sine at 0.5 of full scale, 2 s at 48 kHz, stereo, through each
// resampler to 44.1 kHz; the SNR of the middle of the output.
void measure_quality() {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("plx-audio-bench-{}", ::getpid());
    std::filesystem::create_directories(dir);
    for (const char* format : {"F32LE", "S16LE"}) {
        const bool f32 = std::string(format) == "F32LE";
        const auto in = dir / "in.raw";
        {
            std::ofstream os(in, std::ios::binary);
            for (int n = 0; n < 96000; ++n) {
                const double x = 0.5 * std::sin(2 * std::numbers::pi * 1000.0 * n / 48000.0);
                for (int c = 0; c < 2; ++c) {
                    if (f32) {
                        const auto v = static_cast<float>(x);
                        os.write(reinterpret_cast<const char*>(&v), sizeof v);
                    } else {
                        const auto v = static_cast<std::int16_t>(std::lround(x * 32768));
                        os.write(reinterpret_cast<const char*>(&v), sizeof v);
                    }
                }
            }
        }
        for (Engine engine : {Engine::parallax, Engine::gstreamer}) {
            const auto out = dir / "out.raw";
            run(engine, fmt::format("filesrc location={} ! audio/x-raw,format={},layout=interleaved,rate=48000,"
                                    "channels=2 ! audioresample quality=4 ! audio/x-raw,rate=44100 ! filesink "
                                    "location={}",
                                    in.string(), format, out.string()));
            const auto bytes = read_file(out);
            const auto x = parallax::check::decode_channel(f32 ? parallax::AudioFormat::f32le
                                                               : parallax::AudioFormat::s16le,
                                                           2, false, bytes, 0);
            const std::size_t edge = 882; // 20 ms
            const std::span<const double> middle(x.data() + edge, x.size() - 2 * edge);
            const auto fit = parallax::check::fit_sine(middle, 1000, 44100);
            snr[{engine, format}] = fit.snr_db;
            fmt::print("quality: {:<11} audioresample quality=4 {} 48000 -> 44100 Hz, 1 kHz sine: {} frames, "
                       "{:.4f} Hz, SNR {:.1f} dB\n",
                       engine == Engine::parallax ? "libparallax" : "GStreamer", format, x.size(),
                       parallax::check::zero_crossing_frequency(middle, 44100), fit.snr_db);
        }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

} // namespace

int main(int argc, char** argv) {
    gst_init(&argc, &argv);
    benchmark::Initialize(&argc, argv);
    measure_quality();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
