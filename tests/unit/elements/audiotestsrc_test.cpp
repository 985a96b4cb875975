#include <parallax/audio/audio_info.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>

#include "integration/audio_analysis.hpp"
#include "integration/audio_pipeline.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <numeric>
#include <string>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;
using check::channel_of;
using check::run_audio;

constexpr double two_pi = 2 * std::numbers::pi;

// Runs an audiotestsrc description into an appsink, through a caps filter
// when `caps` is not empty.
check::AudioRun generate(const std::string& src, const std::string& caps = {}) {
    const std::string text = src + (caps.empty() ? std::string() : " ! " + caps) + " ! appsink name=sink sync=false";
    auto run = run_audio(text);
    EXPECT_TRUE(run) << text << ": " << (run ? "" : run.error().to_string());
    return run ? *run : check::AudioRun{};
}

// Succeeds when every x[n] is within `tolerance` of
// amplitude * sin(2 pi freq n / rate).
::testing::AssertionResult is_sine(const std::vector<double>& x, double amplitude, double freq, double rate,
                                   double tolerance) {
    for (std::size_t n = 0; n < x.size(); ++n) {
        const double expected = amplitude * std::sin(two_pi * freq * static_cast<double>(n) / rate);
        if (!(std::abs(x[n] - expected) <= tolerance)) {
            return ::testing::AssertionFailure()
                   << "sample " << n << " is " << x[n] << ", not within " << tolerance << " of " << expected;
        }
    }
    return ::testing::AssertionSuccess();
}

TEST(AudioTestSrcTest, IsRegisteredWithGStreamerNamesAndDefaults) {
    auto e = Registry::global().create("audiotestsrc");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("wave").value(), "sine");
    EXPECT_EQ((*e)->get_property("freq").value(), "440");
    EXPECT_EQ((*e)->get_property("volume").value(), "0.8");
    EXPECT_EQ((*e)->get_property("samplesperbuffer").value(), "1024");
    EXPECT_EQ((*e)->get_property("num-buffers").value(), "-1");
    EXPECT_EQ((*e)->get_property("is-live").value(), "false");
    EXPECT_EQ((*e)->get_property("timestamp-offset").value(), "0");
    EXPECT_EQ((*e)->get_property("tick-interval").value(), "1000000000");
    EXPECT_EQ((*e)->get_property("sine-periods-per-tick").value(), "10");
    EXPECT_EQ((*e)->get_property("marker-tick-period").value(), "0");
    // GStreamer's wave numbers.
    const std::vector<std::pair<int, std::string>> waves = {
        {0, "sine"},        {1, "square"},      {2, "saw"},          {3, "triangle"}, {4, "silence"},
        {5, "white-noise"}, {6, "pink-noise"},  {7, "sine-table"},   {8, "ticks"},    {9, "gaussian-noise"},
        {10, "red-noise"},  {11, "blue-noise"}, {12, "violet-noise"}};
    for (const auto& [number, nick] : waves) {
        ASSERT_TRUE((*e)->set_property("wave", std::to_string(number)));
        EXPECT_EQ((*e)->get_property("wave").value(), nick);
    }
}

TEST(AudioTestSrcTest, BadPropertyValuesAreErrorsNamingTheProperty) {
    for (const std::string text :
         {"audiotestsrc wave=bogus", "audiotestsrc wave=13", "audiotestsrc freq=-1", "audiotestsrc volume=1.5",
          "audiotestsrc samplesperbuffer=0", "audiotestsrc num-buffers=-2", "audiotestsrc tick-interval=0"}) {
        auto p = Pipeline::parse(text + " ! fakesink");
        ASSERT_FALSE(p) << text;
        const std::string name = text.substr(text.find(' ') + 1, text.find('=') - text.find(' ') - 1);
        EXPECT_NE(p.error().message().find(name), std::string::npos) << p.error().message();
    }
}

TEST(AudioTestSrcTest, DefaultCapsAreGStreamersS16MonoAt44100) {
    auto run = generate("audiotestsrc num-buffers=1");
    ASSERT_EQ(run.samples.size(), 1U);
    EXPECT_TRUE(is_equal(run.caps(), Caps::parse_static("audio/x-raw, format=S16LE, layout=interleaved, rate=44100, "
                                                        "channels=1")))
        << run.caps().to_string();
    EXPECT_EQ(run.samples[0].buffer.size(), 1024U * 2);
}

TEST(AudioTestSrcTest, AHarnessGetsTheDefaultCapsToo) {
    auto h = check::Harness::create("audiotestsrc num-buffers=2 samplesperbuffer=100");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->start());
    auto b = (*h)->pull();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->size(), 200U);
    ASSERT_TRUE((*h)->wait_eos());
    bool saw_caps = false;
    for (const Event& e : (*h)->take_events()) {
        if (const Caps* c = e.caps_value()) {
            saw_caps = true;
            EXPECT_EQ(c->structure(0).get_string("format"), "S16LE");
            EXPECT_EQ(c->structure(0).get_int("rate"), 44100);
        }
    }
    EXPECT_TRUE(saw_caps);
}

TEST(AudioTestSrcTest, SineSamplesAreSin) {
    auto run =
        generate("audiotestsrc num-buffers=4 freq=1000 volume=0.5", "audio/x-raw,format=F64LE,rate=48000,channels=1");
    const auto x = channel_of(run);
    ASSERT_EQ(x.size(), 4U * 1024);
    EXPECT_TRUE(is_sine(x, 0.5, 1000, 48000, 1e-9));
}

TEST(AudioTestSrcTest, SineInS16IsTheRoundedSine) {
    auto run = generate("audiotestsrc num-buffers=2 freq=440", "audio/x-raw,format=S16LE,rate=44100");
    const auto x = channel_of(run);
    ASSERT_EQ(x.size(), 2048U);
    for (std::size_t n = 0; n < x.size(); ++n) {
        const double expected = std::round(0.8 * std::sin(two_pi * 440.0 * static_cast<double>(n) / 44100.0) * 32768);
        ASSERT_LE(std::abs(x[n] * 32768 - expected), 1.0) << n;
    }
}

TEST(AudioTestSrcTest, SineTableFollowsTheSine) {
    auto run = generate("audiotestsrc num-buffers=1 wave=sine-table freq=1000 volume=1",
                        "audio/x-raw,format=F64LE,rate=48000");
    const auto x = channel_of(run);
    ASSERT_EQ(x.size(), 1024U);
    // A 1024-entry table: within one step (2 pi / 1024) of the phase.
    EXPECT_TRUE(is_sine(x, 1.0, 1000, 48000, two_pi / 1024));
}

TEST(AudioTestSrcTest, SquareIsPlusThenMinusVolumeEachHalfPeriod) {
    // 1000 Hz at 48000 Hz: 48 samples a period.
    auto run =
        generate("audiotestsrc num-buffers=1 wave=square freq=1000 volume=0.5", "audio/x-raw,format=F32LE,rate=48000");
    const auto x = channel_of(run);
    ASSERT_EQ(x.size(), 1024U);
    for (std::size_t n = 0; n < x.size(); ++n) {
        ASSERT_TRUE(x[n] == 0.5 || x[n] == -0.5) << n << ": " << x[n];
        const std::size_t in_period = n % 48;
        if (in_period != 0 && in_period != 24) { // edges may fall either way by rounding
            EXPECT_EQ(x[n], in_period < 24 ? 0.5 : -0.5) << n;
        }
    }
}

TEST(AudioTestSrcTest, SawRisesThroughEachPeriod) {
    auto run =
        generate("audiotestsrc num-buffers=1 wave=saw freq=1000 volume=0.5", "audio/x-raw,format=F64LE,rate=48000");
    const auto x = channel_of(run);
    for (std::size_t n = 1; n < 48 * 10; ++n) {
        const double phase = std::fmod(two_pi * 1000.0 * static_cast<double>(n) / 48000.0, two_pi);
        const double expected =
            phase < std::numbers::pi ? 0.5 * phase / std::numbers::pi : 0.5 * (phase - two_pi) / std::numbers::pi;
        // The jump from +0.5 to -0.5 falls at sample 24 or 25 of a period,
        // as rounding of the accumulated phase has it.
        const std::size_t k = n % 48;
        if (k != 24) {
            ASSERT_NEAR(x[n], expected, 1e-9) << n;
        }
        if (k != 0 && k != 24 && k != 25) {
            EXPECT_GT(x[n], x[n - 1]) << n;
        }
    }
}

TEST(AudioTestSrcTest, TriangleRisesToVolumeAtAQuarterAndFallsToMinusVolume) {
    auto run = generate("audiotestsrc num-buffers=1 wave=triangle freq=1000 volume=0.5",
                        "audio/x-raw,format=F64LE,rate=48000");
    const auto x = channel_of(run);
    for (std::size_t period = 0; period < 10; ++period) {
        const std::size_t base = period * 48;
        EXPECT_NEAR(x[base], 0.0, 1e-9);
        EXPECT_NEAR(x[base + 12], 0.5, 1e-9);
        EXPECT_NEAR(x[base + 24], 0.0, 1e-9);
        EXPECT_NEAR(x[base + 36], -0.5, 1e-9);
        EXPECT_NEAR(x[base + 6], 0.25, 1e-9);
        EXPECT_NEAR(x[base + 30], -0.25, 1e-9);
    }
}

TEST(AudioTestSrcTest, SilenceIsSilentInEveryFormat) {
    for (const char* format : {"U8", "S16LE", "S32LE", "F32LE", "F64LE"}) {
        auto run = generate("audiotestsrc num-buffers=2 wave=silence",
                            fmt::format("audio/x-raw,format={},channels=2", format));
        const auto x = channel_of(run, 1);
        ASSERT_EQ(x.size(), 2048U) << format;
        EXPECT_TRUE(std::all_of(x.begin(), x.end(), [](double v) { return v == 0.0; })) << format;
    }
    auto u8 = generate("audiotestsrc num-buffers=1 wave=silence", "audio/x-raw,format=U8");
    ASSERT_EQ(u8.samples.size(), 1U);
    EXPECT_EQ(std::to_integer<int>(u8.samples[0].buffer.data()[0]), 0x80);
}

struct Moments {
    double mean = 0;
    double variance = 0;
    double kurtosis = 0;
    double min = 0;
    double max = 0;
};

Moments moments(const std::vector<double>& x) {
    Moments m;
    m.mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
    double m4 = 0;
    for (double v : x) {
        const double d = v - m.mean;
        m.variance += d * d;
        m4 += d * d * d * d;
    }
    m.variance /= static_cast<double>(x.size());
    m4 /= static_cast<double>(x.size());
    m.kurtosis = m4 / (m.variance * m.variance);
    m.min = *std::min_element(x.begin(), x.end());
    m.max = *std::max_element(x.begin(), x.end());
    return m;
}

TEST(AudioTestSrcTest, WhiteNoiseIsUniformWithinTheVolume) {
    auto run =
        generate("audiotestsrc num-buffers=100 wave=white-noise volume=0.5", "audio/x-raw,format=F64LE,rate=48000");
    const auto x = channel_of(run);
    const Moments m = moments(x);
    EXPECT_NEAR(m.mean, 0.0, 0.005);
    EXPECT_NEAR(m.variance, 0.25 / 3, 0.25 / 3 * 0.03); // uniform on [-a, a]: a^2 / 3
    EXPECT_GE(m.min, -0.5);
    EXPECT_LE(m.max, 0.5);
    EXPECT_NEAR(m.kurtosis, 1.8, 0.05); // a uniform distribution's
    // Flat spectrum: as much power per Hz low as high.
    const double low = check::band_density(x, 48000, 100, 1000);
    const double high = check::band_density(x, 48000, 10000, 20000);
    EXPECT_NEAR(low / high, 1.0, 0.25);
}

TEST(AudioTestSrcTest, GaussianNoiseHasTheVolumeAsStandardDeviation) {
    auto run =
        generate("audiotestsrc num-buffers=100 wave=gaussian-noise volume=0.2", "audio/x-raw,format=F64LE,rate=48000");
    const Moments m = moments(channel_of(run));
    EXPECT_NEAR(m.mean, 0.0, 0.005);
    EXPECT_NEAR(std::sqrt(m.variance), 0.2, 0.004);
    EXPECT_NEAR(m.kurtosis, 3.0, 0.15);
}

// The power per Hz around 100 Hz over that around 10 kHz, in dB.
double tilt_db(const std::vector<double>& x) {
    return 10 * std::log10(check::band_density(x, 48000, 60, 200) / check::band_density(x, 48000, 6000, 20000));
}

TEST(AudioTestSrcTest, ColouredNoisesHaveTheirSpectralSlopes) {
    const auto noise = [](const char* wave) {
        auto run = generate(fmt::format("audiotestsrc num-buffers=200 wave={} volume=0.5", wave),
                            "audio/x-raw,format=F64LE,rate=48000");
        auto x = channel_of(run);
        const Moments m = moments(x);
        EXPECT_GE(m.min, -0.5) << wave;
        EXPECT_LE(m.max, 0.5) << wave;
        EXPECT_NEAR(m.mean, 0.0, 0.1) << wave;
        return tilt_db(x);
    };
    // Pink: -3 dB per octave, ~6.6 octaves from 100 Hz to 10 kHz: ~20 dB.
    const double pink = noise("pink-noise");
    EXPECT_GT(pink, 12.0);
    EXPECT_LT(pink, 28.0);
    // Red (brownian): -6 dB per octave.
    EXPECT_GT(noise("red-noise"), 30.0);
    // Blue and violet (first differences of pink and white noise): +3 and
    // +6 dB per octave, rising with frequency.
    const double blue = noise("blue-noise");
    EXPECT_LT(blue, -12.0);
    EXPECT_GT(blue, -30.0);
    EXPECT_LT(noise("violet-noise"), -30.0);
}

TEST(AudioTestSrcTest, TicksAreSineBurstsAtEachIntervalWithMarkers) {
    // A tick every 100 ms at 48 kHz (4800 samples): 10 periods of 1 kHz (480
    // samples); every 2nd tick (the first included) a marker at 0.2.
    auto run = generate("audiotestsrc num-buffers=15 samplesperbuffer=1000 wave=ticks freq=1000 volume=0.8 "
                        "tick-interval=100000000 marker-tick-period=2 marker-tick-volume=0.2",
                        "audio/x-raw,format=F64LE,rate=48000");
    const auto x = channel_of(run);
    ASSERT_EQ(x.size(), 15000U);
    for (std::size_t n = 0; n < x.size(); ++n) {
        const std::size_t tick = n / 4800;
        const std::size_t j = n % 4800;
        const double amp = tick % 2 == 0 ? 0.2 : 0.8;
        const double expected = j < 480 ? amp * std::sin(two_pi * 1000.0 * static_cast<double>(j) / 48000.0) : 0.0;
        ASSERT_NEAR(x[n], expected, 1e-9) << n;
    }
}

TEST(AudioTestSrcTest, EveryFormatAndLayoutCarriesTheSameSine) {
    for (const char* format : {"U8", "S16LE", "S32LE", "F32LE", "F64LE"}) {
        for (const char* layout : {"interleaved", "non-interleaved"}) {
            auto run = generate("audiotestsrc num-buffers=2 freq=1000 volume=0.5",
                                fmt::format("audio/x-raw,format={},layout={},rate=48000,channels=2", format, layout));
            const auto info = AudioInfo::from_caps(run.caps());
            ASSERT_TRUE(info) << format << " " << layout;
            EXPECT_EQ(to_string(info->format()), format);
            EXPECT_EQ(to_string(info->layout()), layout);
            const double lsb = 1.0 / (audio_format_info(info->format()).is_float
                                          ? 1e7
                                          : std::pow(2.0, audio_format_info(info->format()).depth - 1));
            for (std::size_t c = 0; c < 2; ++c) {
                const auto x = channel_of(run, c);
                ASSERT_EQ(x.size(), 2048U);
                ASSERT_TRUE(is_sine(x, 0.5, 1000, 48000, lsb)) << format << " " << layout << " channel " << c;
            }
        }
    }
}

TEST(AudioTestSrcTest, MoreThanTwoChannelsGetTheirDefaultMask) {
    auto run = generate("audiotestsrc num-buffers=1", "audio/x-raw,channels=6");
    ASSERT_EQ(run.samples.size(), 1U);
    const auto info = AudioInfo::from_caps(run.caps());
    ASSERT_TRUE(info) << run.caps().to_string();
    EXPECT_EQ(info->channels(), 6U);
    EXPECT_EQ(info->channel_mask(), 0x3fU);
}

TEST(AudioTestSrcTest, TimestampsFollowTheSampleCountWithoutDrift) {
    // 1000 samples at 44100 Hz last 22675736.96... ns: each pts is the exact
    // time of its first sample, rounded down, not a sum of rounded durations.
    auto run = generate("audiotestsrc num-buffers=50 samplesperbuffer=1000 timestamp-offset=1000",
                        "audio/x-raw,rate=44100,channels=2");
    ASSERT_EQ(run.samples.size(), 50U);
    for (std::size_t k = 0; k < run.samples.size(); ++k) {
        const Metadata& m = run.samples[k].buffer.meta();
        const std::uint64_t start = k * 1000ULL * 1'000'000'000ULL / 44100;
        const std::uint64_t end = (k + 1) * 1000ULL * 1'000'000'000ULL / 44100;
        EXPECT_EQ(m.pts().ns(), 1000 + start) << k;
        EXPECT_EQ(m.duration().ns(), end - start) << k;
        EXPECT_EQ(m.byte_offset(), k * 1000 * 4) << k;
        EXPECT_EQ(m.sequence(), k);
        EXPECT_EQ(m.has_flag(BufferFlags::discont), k == 0) << k;
    }
}

TEST(AudioTestSrcTest, NumBuffersEndsTheStream) {
    auto run = generate("audiotestsrc num-buffers=5 samplesperbuffer=10");
    EXPECT_EQ(run.samples.size(), 5U);
}

TEST(AudioTestSrcTest, FrequencyAndVolumeMayChangeWhileRunning) {
    auto e = Registry::global().create("audiotestsrc");
    ASSERT_TRUE(e);
    for (const char* prop : {"wave", "freq", "volume"}) {
        EXPECT_EQ((*e)->property(prop)->mutability(), Mutability::running) << prop;
    }
}

TEST(AudioTestSrcTest, ALiveSourceSendsNoBufferBeforeItsTime) {
    auto p = Pipeline::parse("audiotestsrc is-live=true num-buffers=4 samplesperbuffer=2205 ! "
                             "audio/x-raw,rate=44100 ! appsink name=sink sync=false");
    ASSERT_TRUE(p);
    auto sink = (*p)->get<AppSink>("sink");
    ASSERT_TRUE(sink);
    std::vector<std::pair<ClockTime, ClockTime>> seen; // pts, running time on arrival
    Pipeline* pipeline = p->get();
    (*sink)->set_new_sample([&](AppSink& s) {
        if (auto sample = s.try_pull_sample(0ns)) {
            seen.emplace_back(sample->buffer.meta().pts(), pipeline->running_time());
            EXPECT_TRUE(sample->buffer.meta().has_flag(BufferFlags::live));
        }
    });
    ASSERT_TRUE((*p)->run(30s));
    ASSERT_EQ(seen.size(), 4U);
    for (const auto& [pts, arrived] : seen) {
        EXPECT_GE(arrived, pts); // buffers leave at their time, never before
    }
    EXPECT_EQ(seen.back().first, ClockTime::from_ms(150));
}

} // namespace
} // namespace parallax
