#include <parallax/audio/audio_info.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>

#include "integration/audio_analysis.hpp"
#include "integration/audio_pipeline.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;
using check::AudioInput;
using check::channel_of;
using check::run_audio;

constexpr std::uint64_t ns_per_s = 1'000'000'000ULL;

struct SineSpec {
    const char* format = "F32LE";
    int rate = 48000;
    int channels = 2;
    bool planar = false;
    double seconds = 2.0;
    double freq = 1000;
    double freq_step = 0; // channel c gets freq + c * freq_step
    double amplitude = 0.5;
    bool square = false; // the sign of the sine, at the same amplitude
    std::size_t frames_per_buffer = 1024;
    ClockTime start = ClockTime::zero();
};

std::string caps_of(const SineSpec& s) {
    // More than two channels need a mask: 0, unpositioned.
    return fmt::format("audio/x-raw, format={}, layout={}, rate={}, channels={}{}", s.format,
                       s.planar ? "non-interleaved" : "interleaved", s.rate, s.channels,
                       s.channels > 2 ? ", channel-mask=(bitmask)0x0" : "");
}

// A sine in buffers of frames_per_buffer frames, timestamped from `start`.
std::vector<AudioInput> sine_input(const SineSpec& s) {
    const auto total = static_cast<std::size_t>(std::llround(s.seconds * s.rate));
    const std::string format = s.format;
    std::vector<AudioInput> out;
    for (std::size_t first = 0; first < total; first += s.frames_per_buffer) {
        const std::size_t n = std::min(s.frames_per_buffer, total - first);
        std::vector<double> v(n * static_cast<std::size_t>(s.channels));
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t c = 0; c < static_cast<std::size_t>(s.channels); ++c) {
                const double f = s.freq + static_cast<double>(c) * s.freq_step;
                const double y = std::sin(2 * std::numbers::pi * f * static_cast<double>(first + i) / s.rate);
                const double x = s.amplitude * (s.square ? (y < 0 ? -1.0 : 1.0) : y);
                v[s.planar ? c * n + i : i * static_cast<std::size_t>(s.channels) + c] = x;
            }
        }
        AudioInput in;
        if (format == "F32LE") {
            in.bytes = check::f32_bytes(v);
        } else if (format == "F64LE") {
            in.bytes = check::bytes_of(v);
        } else if (format == "S32LE") {
            std::vector<std::int32_t> q(v.size());
            for (std::size_t i = 0; i < v.size(); ++i) {
                q[i] = static_cast<std::int32_t>(std::llround(v[i] * 2147483647.0));
            }
            in.bytes = check::bytes_of(q);
        } else {
            std::vector<std::int16_t> q(v.size());
            for (std::size_t i = 0; i < v.size(); ++i) {
                q[i] = static_cast<std::int16_t>(std::lround(v[i] * 32767));
            }
            in.bytes = check::bytes_of(q);
        }
        const auto rate = static_cast<std::uint64_t>(s.rate);
        const std::uint64_t t0 = first * ns_per_s / rate;
        const std::uint64_t t1 = (first + n) * ns_per_s / rate;
        in.pts = ClockTime::from_ns(s.start.ns() + t0);
        in.duration = ClockTime::from_ns(t1 - t0);
        out.push_back(std::move(in));
    }
    return out;
}

// Pushes `inputs`, starting with caps of `s`, through `audioresample <props>`
// to `out_rate`.
check::AudioRun resample(const SineSpec& s, const std::vector<AudioInput>& inputs, int out_rate,
                         const std::string& props = {}) {
    const std::string text =
        fmt::format("appsrc name=src format=time block=true caps=\"{}\" ! audioresample {} ! appsink name=sink "
                    "sync=false caps=\"audio/x-raw, rate={}\"",
                    caps_of(s), props, out_rate);
    auto run = run_audio(text, inputs);
    EXPECT_TRUE(run) << text << ": " << (run ? "" : run.error().to_string());
    return run ? *run : check::AudioRun{};
}

// The sine of `s` through `audioresample <props>` to `out_rate`.
check::AudioRun resample(const SineSpec& s, int out_rate, const std::string& props = {}) {
    return resample(s, sine_input(s), out_rate, props);
}

// The sine of `first`, then that of `second` (given its own caps when
// `new_caps`), through audioresample to 44.1 kHz.
check::AudioRun resample_one_after_another(const SineSpec& first, const SineSpec& second, bool new_caps) {
    auto inputs = sine_input(first);
    auto more = sine_input(second);
    if (new_caps) {
        more[0].caps = Caps::parse_static(caps_of(second));
    }
    inputs.insert(inputs.end(), more.begin(), more.end());
    return resample(first, inputs, 44100);
}

struct Measured {
    double frequency = 0;
    double snr_db = 0;
    double amplitude = 0;
};

// The sine in the middle of `x` (the first and last 20 ms left out).
Measured measure(const std::vector<double>& x, double rate, double freq) {
    const auto edge = static_cast<std::size_t>(rate / 50);
    if (x.size() < 4 * edge) {
        ADD_FAILURE() << "too few samples: " << x.size();
        return {};
    }
    const std::span<const double> middle(x.data() + edge, x.size() - 2 * edge);
    const auto fit = check::fit_sine(middle, freq, rate);
    return {check::zero_crossing_frequency(middle, rate), fit.snr_db, fit.amplitude};
}

TEST(AudioResampleTest, IsAConverterWithGStreamersQualityProperty) {
    const ElementFactory* f = Registry::global().find("audioresample");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().convert_cost, 10U);
    auto e = f->create();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("quality").value(), "4");
    for (const char* bad : {"11", "-1", "high"}) {
        auto r = (*e)->set_property("quality", bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find("quality"), std::string::npos) << r.error().message();
    }
}

void check_conversion(const SineSpec& s, int out_rate, double min_snr) {
    SCOPED_TRACE(fmt::format("{} {} Hz -> {} Hz", s.format, s.rate, out_rate));
    auto run = resample(s, out_rate);
    const auto info = AudioInfo::from_caps(run.caps());
    ASSERT_TRUE(info);
    EXPECT_EQ(info->rate(), static_cast<std::uint32_t>(out_rate));
    EXPECT_EQ(to_string(info->format()), s.format);
    // Every input sample comes out: drained at eos, nothing added.
    const auto left = channel_of(run, 0);
    EXPECT_EQ(left.size(), static_cast<std::size_t>(std::llround(s.seconds * out_rate)));
    for (std::size_t c = 0; c < static_cast<std::size_t>(s.channels); ++c) {
        const auto m = measure(channel_of(run, c), out_rate, s.freq);
        EXPECT_NEAR(m.frequency, s.freq, 0.01) << "channel " << c;
        EXPECT_NEAR(m.amplitude, s.amplitude, 0.001) << "channel " << c;
        EXPECT_GT(m.snr_db, min_snr) << "channel " << c;
        if (c == 0) {
            std::printf("[ snr      ] audioresample %s %d -> %d Hz, 1 kHz sine: %.4f Hz, SNR %.1f dB\n", s.format,
                        s.rate, out_rate, m.frequency, m.snr_db);
            ::testing::Test::RecordProperty(fmt::format("snr_db_{}_{}_{}", s.format, s.rate, out_rate),
                                            fmt::format("{:.1f}", m.snr_db));
        }
    }
}

TEST(AudioResampleTest, A1kHzSineFrom48To44100KeepsItsFrequencyAndIsClean) {
    check_conversion(SineSpec{}, 44100, 60);
}

TEST(AudioResampleTest, A1kHzSineFrom44100To48kKeepsItsFrequencyAndIsClean) {
    SineSpec s;
    s.rate = 44100;
    check_conversion(s, 48000, 60);
}

TEST(AudioResampleTest, S16IsResampledToo) {
    SineSpec s;
    s.format = "S16LE";
    check_conversion(s, 44100, 60);
    s.rate = 44100;
    check_conversion(s, 48000, 60);
}

// Every format in both layouts, mono to six channels (each its own
// frequency), with soxr computing in single (quality 4) and in double
// precision (quality 8): every channel keeps its own sine, every sample
// comes out, in the buffer's own format and layout.
TEST(AudioResampleTest, EveryFormatLayoutAndChannelCountKeepsEachChannelsSine) {
    struct Case {
        const char* format;
        double min_snr; // at quality 4; S16's own floor for a half-scale sine is about 92 dB
    };
    for (const Case k : {Case{"S16LE", 80}, Case{"S32LE", 110}, Case{"F32LE", 110}, Case{"F64LE", 110}}) {
        for (const bool planar : {false, true}) {
            for (const int channels : {1, 2, 3, 6}) {
                for (const int quality : {4, 8}) {
                    SineSpec s;
                    s.format = k.format;
                    s.planar = planar;
                    s.channels = channels;
                    s.seconds = 0.5;
                    s.freq_step = 500;
                    s.frames_per_buffer = 1000;
                    SCOPED_TRACE(fmt::format("{} {} channels quality {}", caps_of(s), channels, quality));
                    auto run = resample(s, 44100, fmt::format("quality={}", quality));
                    const auto info = AudioInfo::from_caps(run.caps());
                    ASSERT_TRUE(info);
                    EXPECT_EQ(to_string(info->format()), k.format);
                    EXPECT_EQ(info->layout(), planar ? AudioLayout::non_interleaved : AudioLayout::interleaved);
                    for (int c = 0; c < channels; ++c) {
                        const double freq = s.freq + c * s.freq_step;
                        const auto x = channel_of(run, static_cast<std::size_t>(c));
                        EXPECT_EQ(x.size(), 22050U) << "channel " << c;
                        const auto m = measure(x, 44100, freq);
                        EXPECT_NEAR(m.frequency, freq, 0.05) << "channel " << c;
                        EXPECT_NEAR(m.amplitude, s.amplitude, 0.001) << "channel " << c;
                        EXPECT_GT(m.snr_db, k.min_snr) << "channel " << c;
                    }
                }
            }
        }
    }
}

// A full-scale square wave rings past full scale after the filter (Gibbs):
// integer formats clip it at full scale (never wrap round), floats keep it.
TEST(AudioResampleTest, OvershootClipsIntegersAndStaysInFloats) {
    for (const char* format : {"S16LE", "S32LE", "F32LE"}) {
        SineSpec s;
        s.format = format;
        s.channels = 1;
        s.seconds = 0.5;
        s.square = true;
        s.amplitude = std::string(format) == "F32LE" ? 1.0 : 0.99999;
        SCOPED_TRACE(format);
        auto run = resample(s, 44100);
        const auto x = channel_of(run, 0);
        ASSERT_EQ(x.size(), 22050U);
        double peak = 0;
        for (std::size_t i = 1; i + 1 < x.size(); ++i) {
            peak = std::max(peak, std::abs(x[i]));
            // A wrapped integer sample would flip sign against both of its
            // neighbours at full scale.
            EXPECT_FALSE(x[i] * x[i - 1] < -0.25 && x[i] * x[i + 1] < -0.25) << i << ": " << x[i];
        }
        if (std::string(format) == "F32LE") {
            EXPECT_GT(peak, 1.05);
        } else {
            EXPECT_LE(peak, 1.0);
            EXPECT_GT(peak, 0.999);
        }
    }
}

TEST(AudioResampleTest, NonInterleavedChannelsAreResampledEachOnItsOwn) {
    SineSpec s;
    s.planar = true;
    s.freq_step = 1000; // channel 1: 2 kHz
    auto run = resample(s, 44100);
    const auto info = AudioInfo::from_caps(run.caps());
    ASSERT_TRUE(info);
    EXPECT_EQ(info->layout(), AudioLayout::non_interleaved);
    const auto m0 = measure(channel_of(run, 0), 44100, 1000);
    const auto m1 = measure(channel_of(run, 1), 44100, 2000);
    EXPECT_NEAR(m0.frequency, 1000, 0.01);
    EXPECT_NEAR(m1.frequency, 2000, 0.02);
    EXPECT_GT(m0.snr_db, 60);
    EXPECT_GT(m1.snr_db, 60);
}

TEST(AudioResampleTest, EveryQualityLevelResamplesAndTheDefaultIsClean) {
    std::vector<double> snr;
    for (int q = 0; q <= 10; ++q) {
        SineSpec s;
        s.channels = 1;
        s.seconds = 1;
        auto run = resample(s, 44100, fmt::format("quality={}", q));
        const auto m = measure(channel_of(run, 0), 44100, 1000);
        EXPECT_NEAR(m.frequency, 1000, 0.05) << q;
        std::printf("[ snr      ] audioresample quality=%d F32LE 48000 -> 44100 Hz: SNR %.1f dB\n", q, m.snr_db);
        snr.push_back(m.snr_db);
    }
    EXPECT_GT(snr[4], 60);
    for (int q = 1; q <= 10; ++q) {
        EXPECT_GT(snr[static_cast<std::size_t>(q)], 40) << q;
    }
    EXPECT_GE(snr[10], snr[4] - 1);
}

// The timing tests run on both resamplers: soxr (F32LE) and the integer
// polyphase filter (S16LE at quality 4).
struct TimedFormat {
    const char* name;
    std::uint64_t sample_size;
};
constexpr TimedFormat timed_formats[] = {{"F32LE", 4}, {"S16LE", 2}};

void check_first_pts_and_output_count(const TimedFormat format) {
    SineSpec s;
    s.format = format.name;
    s.start = ClockTime::from_s(1);
    auto run = resample(s, 44100);
    ASSERT_FALSE(run.samples.empty());
    std::uint64_t count = 0;
    for (std::size_t k = 0; k < run.samples.size(); ++k) {
        const Buffer& b = run.samples[k].buffer;
        const std::uint64_t frames = b.size() / (2 * format.sample_size);
        const std::uint64_t start = count * ns_per_s / 44100;
        const std::uint64_t end = (count + frames) * ns_per_s / 44100;
        EXPECT_EQ(b.meta().pts().ns(), ns_per_s + start) << k;
        EXPECT_EQ(b.meta().duration().ns(), end - start) << k;
        EXPECT_EQ(b.meta().has_flag(BufferFlags::discont), k == 0) << k;
        count += frames;
    }
    EXPECT_EQ(count, 88200U);
    const Metadata& last = run.samples.back().buffer.meta();
    EXPECT_EQ(last.pts().ns() + last.duration().ns(), 3 * ns_per_s); // 1 s + 2 s of audio
}

TEST(AudioResampleTest, TheFirstPtsIsTheInputsAndLaterOnesFollowTheOutputCount) {
    for (const TimedFormat format : timed_formats) {
        SCOPED_TRACE(format.name);
        check_first_pts_and_output_count(format);
    }
}

TEST(AudioResampleTest, TenMinutesDoNotDrift) {
    for (const TimedFormat format : timed_formats) {
        SCOPED_TRACE(format.name);
        auto p = Pipeline::parse(fmt::format("audiotestsrc num-buffers=600 samplesperbuffer=48000 wave=silence ! "
                                             "audio/x-raw,format={},rate=48000,channels=1 ! audioresample ! "
                                             "appsink name=sink sync=false caps=audio/x-raw,rate=44100",
                                             format.name));
        ASSERT_TRUE(p);
        auto sink = (*p)->get<AppSink>("sink");
        ASSERT_TRUE(sink);
        std::uint64_t count = 0;
        std::uint64_t mismatches = 0;
        ClockTime end;
        (*sink)->set_new_sample([&](AppSink& s) {
            auto sample = s.try_pull_sample(0ns);
            if (!sample) {
                return;
            }
            const Metadata& m = sample->buffer.meta();
            if (m.pts().ns() != count * ns_per_s / 44100) {
                ++mismatches;
            }
            count += sample->buffer.size() / format.sample_size;
            end = m.pts() + m.duration();
        });
        ASSERT_TRUE((*p)->run(120s));
        EXPECT_EQ(mismatches, 0U);
        EXPECT_EQ(count, 600U * 44100);
        EXPECT_EQ(end, ClockTime::from_s(600));
    }
}

void check_timestamp_jump(const TimedFormat format) {
    SineSpec first;
    first.format = format.name;
    first.seconds = 0.5;
    SineSpec second = first;
    second.start = ClockTime::from_s(10);
    const auto run = resample_one_after_another(first, second, false);
    ASSERT_FALSE(run.samples.empty());
    std::uint64_t before = 0;
    std::uint64_t after = 0;
    std::size_t restart = 0;
    for (std::size_t k = 0; k < run.samples.size(); ++k) {
        const Metadata& m = run.samples[k].buffer.meta();
        const std::uint64_t frames = run.samples[k].buffer.size() / (2 * format.sample_size);
        if (m.pts() < ClockTime::from_s(10)) {
            EXPECT_EQ(m.pts().ns(), before * ns_per_s / 44100);
            before += frames;
        } else {
            if (after == 0) {
                restart = k;
                EXPECT_EQ(m.pts(), ClockTime::from_s(10));
                EXPECT_TRUE(m.has_flag(BufferFlags::discont));
            }
            EXPECT_EQ(m.pts().ns(), 10 * ns_per_s + after * ns_per_s / 44100);
            after += frames;
        }
    }
    EXPECT_GT(restart, 0U);
    EXPECT_EQ(before, 22050U); // drained before the jump
    EXPECT_EQ(after, 22050U);
}

TEST(AudioResampleTest, ATimestampJumpDrainsAndRestartsFromTheNewPts) {
    for (const TimedFormat format : timed_formats) {
        SCOPED_TRACE(format.name);
        check_timestamp_jump(format);
    }
}

void check_caps_change(const TimedFormat format) {
    SineSpec first;
    first.format = format.name;
    first.seconds = 0.5;
    SineSpec second = first;
    second.rate = 32000;
    second.start = ClockTime::from_ms(500);
    const auto run = resample_one_after_another(first, second, true);
    ASSERT_FALSE(run.samples.empty());
    std::uint64_t total = 0;
    for (const Sample& s : run.samples) {
        EXPECT_EQ(AudioInfo::from_caps(s.caps)->rate(), 44100U);
        total += s.buffer.size() / (2 * format.sample_size);
    }
    EXPECT_EQ(total, 44100U); // 0.5 s from each rate
    const auto x = channel_of(run, 0);
    EXPECT_NEAR(measure(x, 44100, 1000).frequency, 1000, 0.05);
    const Metadata& last = run.samples.back().buffer.meta();
    EXPECT_EQ(last.pts() + last.duration(), ClockTime::from_s(1));
}

TEST(AudioResampleTest, ACapsChangeDrainsTheOldRateFirst) {
    for (const TimedFormat format : timed_formats) {
        SCOPED_TRACE(format.name);
        check_caps_change(format);
    }
}

TEST(AudioResampleTest, FormatsItCannotResampleGetAnAudioconvertInFront) {
    auto run = run_audio("audiotestsrc num-buffers=3 ! audio/x-raw,format=U8,rate=48000 ! audioresample ! "
                         "appsink name=sink sync=false caps=audio/x-raw,rate=44100");
    ASSERT_TRUE(run) << run.error().to_string();
    ASSERT_EQ(run->negotiation.inserted.size(), 1U);
    EXPECT_EQ(run->negotiation.inserted[0].factory, "audioconvert");
    EXPECT_EQ(AudioInfo::from_caps(run->caps())->rate(), 44100U);
}

TEST(AudioResampleTest, EqualRatesPassTheSameBuffer) {
    auto h = check::Harness::create("audioresample");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->set_input_caps(Caps::parse_static("audio/x-raw, format=F32LE, layout=interleaved, "
                                                        "rate=48000, channels=2")));
    ASSERT_TRUE((*h)->start());
    auto b = (*h)->make_buffer(64);
    ASSERT_TRUE(b);
    const auto slot = b->slot();
    ASSERT_EQ((*h)->push(std::move(*b)), Flow::ok);
    auto out = (*h)->pull();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->slot(), slot);
}

} // namespace
} // namespace parallax
