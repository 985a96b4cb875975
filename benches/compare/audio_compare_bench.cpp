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

#include <parallax/element.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "../../tests/integration/audio_analysis.hpp"
#include "../../tests/integration/audio_pipeline.hpp"
#include "compare_support.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <span>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace parallax::compare;

// Buffers of 1024 frames at 48 kHz: 120 s of audio per resampling run and
// 600 s per conversion run, so that starting and stopping a pipeline (a few
// milliseconds, also subtracted with the baseline) weigh little.
constexpr int frames_per_buffer = 1024;
constexpr int resample_buffers = 5625; // 120 s
constexpr int convert_buffers = 28125; // 600 s

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
        it->second = median(runs);
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
    state.counters["cpu_s_per_audio_s"] =
        benchmark::Counter(audio_seconds, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
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

// Registers BM_<name>_parallax and BM_<name>_gstreamer, one right after the
// other so that the engines alternate.
void register_case(const std::string& name, const std::string& text, const std::string& base_text, double audio_seconds,
                   const std::string& snr_key = {}) {
    for (Engine engine : {Engine::parallax, Engine::gstreamer}) {
        benchmark::RegisterBenchmark(
            fmt::format("BM_{}_{}", name, to_string(engine)).c_str(),
            [=](benchmark::State& s) { run_case(s, engine, text, base_text, audio_seconds, snr_key); })
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
    }
}

void register_cases() {
    register_case("ResampleF32", resample("F32LE", 4), resample_baseline("F32LE", 4), seconds_of(resample_buffers),
                  "F32LE");
    register_case("ResampleS16", resample("S16LE", 2), resample_baseline("S16LE", 2), seconds_of(resample_buffers),
                  "S16LE");
    register_case("ConvertS16ToF32", convert(), convert_baseline(), seconds_of(convert_buffers));
}

// --- quality ------------------------------------------------------------------

// A 1 kHz sine at 0.5 of full scale, 2 s at 48 kHz, stereo, through each
// resampler to 44.1 kHz; the SNR of the middle of the output.
void measure_quality() {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / fmt::format("plx-audio-bench-{}", ::getpid());
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
            const auto bytes = parallax::check::read_file(out);
            const auto x = parallax::check::decode_channel(
                f32 ? parallax::AudioFormat::f32le : parallax::AudioFormat::s16le, 2, false, bytes, 0);
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
    parallax::compare::init(&argc, &argv);
    register_cases();
    measure_quality();
    parallax::compare::run_benchmarks();
    return 0;
}
