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
//   build/release/benches/audio_compare_bench --benchmark_repetitions=5
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

// Measured SNR of each engine's resampler, per format ("S16LE") and for
// GStreamer's other quality levels per format and level ("S16LE@6"); filled
// in main().
std::map<std::pair<Engine, std::string>, double> snr;
// Per format, GStreamer's lowest quality level whose SNR reaches
// libparallax's at quality 4 (0 when none does).
std::map<std::string, int> equal_quality;

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

std::string resample(const char* format, int sample_size, int quality = 4) {
    return source(format, sample_size, resample_buffers) +
           fmt::format(" ! audioresample quality={} ! audio/x-raw,rate=44100 ! fakesink", quality);
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
// other so that the engines alternate. GStreamer runs `gst_text` when given.
void register_case(const std::string& name, const std::string& text, const std::string& base_text, double audio_seconds,
                   const std::string& snr_key = {}, const std::string& gst_text = {}) {
    for (Engine engine : {Engine::parallax, Engine::gstreamer}) {
        const std::string& t = engine == Engine::gstreamer && !gst_text.empty() ? gst_text : text;
        const std::string key = snr_key.empty() || engine == Engine::parallax || gst_text.empty()
                                    ? snr_key
                                    : snr_key + "@" + std::to_string(equal_quality[snr_key]);
        benchmark::RegisterBenchmark(
            fmt::format("BM_{}_{}", name, to_string(engine)).c_str(),
            [=](benchmark::State& s) { run_case(s, engine, t, base_text, audio_seconds, key); })
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
    }
}

void register_cases() {
    for (auto [format, size] : {std::pair{"F32LE", 4}, std::pair{"S16LE", 2}}) {
        const std::string f = format;
        const std::string name = f == "F32LE" ? "ResampleF32" : "ResampleS16";
        register_case(name, resample(format, size), resample_baseline(format, size), seconds_of(resample_buffers), f);
        // Equal quality: GStreamer at the lowest level that is at least as
        // clean as libparallax's default (when one is).
        if (const int q = equal_quality[f]; q > 4) {
            register_case(fmt::format("{}EqualQuality", name), resample(format, size), resample_baseline(format, size),
                          seconds_of(resample_buffers), f, resample(format, size, q));
        }
    }
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
        // libparallax at 4, then GStreamer from 4 up until it is as clean.
        std::vector<std::pair<Engine, int>> runs = {{Engine::parallax, 4}};
        for (int q = 4; q <= 10; ++q) {
            runs.emplace_back(Engine::gstreamer, q);
        }
        for (auto [engine, quality] : runs) {
            if (engine == Engine::gstreamer && quality > 4 &&
                (equal_quality[format] != 0 || snr[{Engine::gstreamer, format}] >= snr[{Engine::parallax, format}])) {
                break;
            }
            const auto out = dir / "out.raw";
            run(engine, fmt::format("filesrc location={} ! audio/x-raw,format={},layout=interleaved,rate=48000,"
                                    "channels=2 ! audioresample quality={} ! audio/x-raw,rate=44100 ! filesink "
                                    "location={}",
                                    in.string(), format, quality, out.string()));
            const auto bytes = parallax::check::read_file(out);
            const auto x = parallax::check::decode_channel(
                f32 ? parallax::AudioFormat::f32le : parallax::AudioFormat::s16le, 2, false, bytes, 0);
            const std::size_t edge = 882; // 20 ms
            const std::span<const double> middle(x.data() + edge, x.size() - 2 * edge);
            const auto fit = parallax::check::fit_sine(middle, 1000, 44100);
            if (quality == 4) {
                snr[{engine, format}] = fit.snr_db;
            } else {
                snr[{engine, fmt::format("{}@{}", format, quality)}] = fit.snr_db;
                if (fit.snr_db >= snr[{Engine::parallax, format}]) {
                    equal_quality[format] = quality;
                }
            }
            fmt::print("quality: {:<11} audioresample quality={} {} 48000 -> 44100 Hz, 1 kHz sine: {} frames, "
                       "{:.4f} Hz, SNR {:.1f} dB\n",
                       engine == Engine::parallax ? "libparallax" : "GStreamer", quality, format, x.size(),
                       parallax::check::zero_crossing_frequency(middle, 44100), fit.snr_db);
        }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

} // namespace

int main(int argc, char** argv) {
    parallax::compare::init(&argc, &argv);
    measure_quality();
    register_cases();
    parallax::compare::run_benchmarks();
    return 0;
}
