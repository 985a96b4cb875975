// The audio elements next to GStreamer's: the same pipeline text, the same
// input file, run by libparallax in this process and by gst-launch-1.0 in a
// child (GStreamer 1.22 with gstreamer1.0-plugins-base). audioconvert must
// give the same bytes; audioresample is measured on a 1 kHz sine (frequency,
// SNR, length) beside GStreamer's and must be at least as clean.

#include <parallax/pipeline/pipeline.hpp>

#include "integration/audio_analysis.hpp"
#include "integration/audio_pipeline.hpp"
#include "integration/gst_compare_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace parallax {
namespace {

namespace fs = std::filesystem;
using check::bytes_of;
using check::read_file;
using check::write_file;

#define REQUIRE_GSTREAMER(element)                                                                                     \
    if (!check::gstreamer_has(element)) {                                                                                           \
        GTEST_SKIP() << "GStreamer's " << (element)                                                                    \
                     << " is not installed (gst-launch-1.0 from gstreamer1.0-tools, the element from "                 \
                        "gstreamer1.0-plugins-base)";                                                                  \
    }

// Runs `text` on libparallax to its end.
void run_parallax(const std::string& text) {
    auto p = Pipeline::parse(text);
    ASSERT_TRUE(p) << format_pipeline_error(text, p.error());
    auto ok = (*p)->run(std::chrono::seconds(60));
    ASSERT_TRUE(ok) << text << ": " << ok.error().to_string();
}

// Runs `text` with gst-launch-1.0.
void run_gstreamer(const std::string& text) {
    ASSERT_TRUE(check::gst_launch(text)) << "gst-launch-1.0 -q " << text;
}

// What a pipeline wrote to its file on each library.
struct Outputs {
    std::vector<std::byte> plx;
    std::vector<std::byte> gst;
};

// A directory of its own for each test, removed afterwards.
class AudioGstTest : public ::testing::Test {
public:
    [[nodiscard]] std::string path(const char* name) const { return (dir_.path() / name).string(); }

    // Runs the pipeline `text(out)`, which writes to the file `out`, on
    // libparallax and with gst-launch-1.0; returns what each wrote.
    [[nodiscard]] Outputs run_both(const std::function<std::string(const std::string& out)>& text) const {
        run_parallax(text(path("plx.raw")));
        run_gstreamer(text(path("gst.raw")));
        return {read_file(path("plx.raw")), read_file(path("gst.raw"))};
    }

    // Converts in.raw (stereo `in_format` at 48 kHz) to `out_format` with
    // `audioconvert <props>` on both libraries.
    [[nodiscard]] Outputs convert_both(std::string_view in_format, std::string_view out_format,
                                       std::string_view props) const {
        return run_both([&](const std::string& out) {
            return fmt::format("filesrc location={} ! audio/x-raw,format={},layout=interleaved,rate=48000,channels=2 ! "
                               "audioconvert {} ! audio/x-raw,format={} ! filesink location={}",
                               path("in.raw"), in_format, props, out_format, out);
        });
    }

private:
    check::ScratchDir dir_{"audio-gst", ::testing::UnitTest::GetInstance()->current_test_info()->name()};
};

TEST_F(AudioGstTest, AudioconvertS16ToF32GivesGStreamersBytes) {
    REQUIRE_GSTREAMER("audioconvert");
    // Every S16 value, in both channels (the right one mirrored).
    std::vector<std::int16_t> in;
    for (int v = -32768; v <= 32767; ++v) {
        in.push_back(static_cast<std::int16_t>(v));
        in.push_back(static_cast<std::int16_t>(-v - 1));
    }
    write_file(path("in.raw"), bytes_of(in));
    const auto [plx, gst] = convert_both("S16LE", "F32LE", "");
    ASSERT_EQ(plx.size(), in.size() * 4);
    ASSERT_EQ(gst.size(), plx.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < plx.size(); ++i) {
        differ += plx[i] != gst[i] ? 1 : 0;
    }
    EXPECT_EQ(differ, 0U) << "bytes that differ from GStreamer's";
}

TEST_F(AudioGstTest, AudioconvertF32ToS16WithoutDitherGivesGStreamersValues) {
    REQUIRE_GSTREAMER("audioconvert");
    // Random values past full scale both ways, and the points that matter.
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.2F, 1.2F);
    std::vector<float> in = {0.0F, 1.0F, -1.0F, 0.5F, -0.5F, 32767.0F / 32768, -32768.0F / 32768, 2.0F, -2.0F};
    while (in.size() < 2 * 48000) {
        in.push_back(dist(rng));
    }
    write_file(path("in.raw"), bytes_of(in));
    const auto [plx, gst] = convert_both("F32LE", "S16LE", "dithering=none");
    ASSERT_EQ(plx.size(), in.size() * 2);
    ASSERT_EQ(gst.size(), plx.size());
    std::size_t differ = 0;
    int worst = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        std::int16_t a = 0;
        std::int16_t b = 0;
        std::memcpy(&a, plx.data() + 2 * i, 2);
        std::memcpy(&b, gst.data() + 2 * i, 2);
        if (a != b) {
            ++differ;
            worst = std::max(worst, std::abs(a - b));
        }
    }
    std::printf("[ compare  ] audioconvert F32LE -> S16LE dithering=none: %zu of %zu samples differ from GStreamer's, "
                "by at most %d\n",
                differ, in.size(), worst);
    EXPECT_EQ(differ, 0U) << "largest difference " << worst;
}

// Every pair of formats without dither: the same samples as GStreamer's,
// except float to S32, where GStreamer truncates towards zero and
// libparallax rounds to the nearest value (at most one step of 2^-31 apart).
TEST_F(AudioGstTest, AudioconvertEveryFormatPairGivesGStreamersSamples) {
    REQUIRE_GSTREAMER("audioconvert");
    const std::vector<std::pair<const char*, AudioFormat>> formats = {{"U8", AudioFormat::u8},
                                                                      {"S16LE", AudioFormat::s16le},
                                                                      {"S32LE", AudioFormat::s32le},
                                                                      {"F32LE", AudioFormat::f32le},
                                                                      {"F64LE", AudioFormat::f64le}};
    constexpr std::size_t samples = 2 * 24000;
    std::mt19937 rng(11);
    for (const auto& [in_name, in_format] : formats) {
        // Integers: random bytes; floats: random values to +-1.5 (past full scale).
        std::vector<std::byte> in;
        if (in_format == AudioFormat::f32le || in_format == AudioFormat::f64le) {
            std::uniform_real_distribution<double> dist(-1.5, 1.5);
            std::vector<double> v(samples);
            for (double& x : v) {
                x = dist(rng);
            }
            if (in_format == AudioFormat::f64le) {
                in = bytes_of(v);
            } else {
                std::vector<float> f(v.begin(), v.end());
                in = bytes_of(f);
            }
        } else {
            in.resize(samples * audio_format_info(in_format).sample_size());
            for (std::byte& b : in) {
                b = static_cast<std::byte>(rng());
            }
        }
        write_file(path("in.raw"), in);
        for (const auto& [out_name, out_format] : formats) {
            if (in_format == out_format) {
                continue;
            }
            SCOPED_TRACE(fmt::format("{} -> {}", in_name, out_name));
            const auto [plx, gst] = convert_both(in_name, out_name, "dithering=none");
            ASSERT_EQ(plx.size(), samples * audio_format_info(out_format).sample_size());
            ASSERT_EQ(gst.size(), plx.size());
            const bool truncated = out_format == AudioFormat::s32le && audio_format_info(in_format).is_float;
            std::size_t differ = 0;
            for (std::size_t i = 0; i < samples; ++i) {
                const std::size_t ss = audio_format_info(out_format).sample_size();
                const double a = check::decode_sample(out_format, plx.data() + i * ss);
                const double b = check::decode_sample(out_format, gst.data() + i * ss);
                if (a != b) {
                    ++differ;
                    if (truncated) {
                        EXPECT_LE(std::abs(a - b), 1.0 / 2147483648.0) << i;
                    }
                }
            }
            if (!truncated) {
                EXPECT_EQ(differ, 0U);
            }
        }
    }
}

struct Resampled {
    std::size_t frames = 0;
    double frequency = 0;
    double snr_db = 0;
    double amplitude = 0;
};

Resampled measure(const std::vector<std::byte>& bytes, AudioFormat format, double rate) {
    const auto x = check::decode_channel(format, 2, false, bytes, 0);
    Resampled r;
    r.frames = x.size();
    const auto edge = static_cast<std::size_t>(rate / 50); // 20 ms at each end
    if (x.size() < 4 * edge) {
        return r;
    }
    const std::span<const double> middle(x.data() + edge, x.size() - 2 * edge);
    r.frequency = check::zero_crossing_frequency(middle, rate);
    const auto fit = check::fit_sine(middle, 1000, rate);
    r.snr_db = fit.snr_db;
    r.amplitude = fit.amplitude;
    return r;
}

void compare_resampling(const AudioGstTest& t, const char* format, int in_rate, int out_rate, int quality = 4) {
    SCOPED_TRACE(fmt::format("{} {} -> {} Hz, quality {}", format, in_rate, out_rate, quality));
    const bool f32 = std::string(format) == "F32LE";
    std::vector<std::byte> in;
    const int frames = 2 * in_rate;
    if (f32) {
        std::vector<float> v;
        for (int n = 0; n < frames; ++n) {
            const auto x = static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * 1000.0 * n / in_rate));
            v.push_back(x);
            v.push_back(x);
        }
        in = bytes_of(v);
    } else {
        std::vector<std::int16_t> v;
        for (int n = 0; n < frames; ++n) {
            const auto x =
                static_cast<std::int16_t>(std::lround(16384 * std::sin(2 * std::numbers::pi * 1000.0 * n / in_rate)));
            v.push_back(x);
            v.push_back(x);
        }
        in = bytes_of(v);
    }
    const std::string in_path = t.path("in.raw");
    write_file(in_path, in);
    const Outputs outputs = t.run_both([&](const std::string& out) {
        return fmt::format("filesrc location={} ! audio/x-raw,format={},layout=interleaved,rate={},channels=2 ! "
                           "audioresample quality={} ! audio/x-raw,rate={} ! filesink location={}",
                           in_path, format, in_rate, quality, out_rate, out);
    });
    const AudioFormat af = f32 ? AudioFormat::f32le : AudioFormat::s16le;
    const Resampled plx = measure(outputs.plx, af, out_rate);
    const Resampled gst = measure(outputs.gst, af, out_rate);
    const std::size_t expected =
        static_cast<std::size_t>(frames) * static_cast<std::size_t>(out_rate) / static_cast<std::size_t>(in_rate);
    std::printf("[ compare  ] audioresample %s %d -> %d Hz (quality %d), 1 kHz sine, 2 s:\n"
                "[ compare  ]   libparallax: %zu frames (expected %zu), %.5f Hz, amplitude %.5f, SNR %.1f dB\n"
                "[ compare  ]   GStreamer:   %zu frames (expected %zu), %.5f Hz, amplitude %.5f, SNR %.1f dB\n",
                format, in_rate, out_rate, quality, plx.frames, expected, plx.frequency, plx.amplitude, plx.snr_db,
                gst.frames, expected, gst.frequency, gst.amplitude, gst.snr_db);
    ::testing::Test::RecordProperty(fmt::format("snr_db_{}_{}_{}_q{}_parallax", format, in_rate, out_rate, quality),
                                    fmt::format("{:.1f}", plx.snr_db));
    ::testing::Test::RecordProperty(fmt::format("snr_db_{}_{}_{}_q{}_gstreamer", format, in_rate, out_rate, quality),
                                    fmt::format("{:.1f}", gst.snr_db));
    EXPECT_EQ(plx.frames, expected);
    EXPECT_NEAR(plx.frequency, 1000.0, 0.01);
    EXPECT_NEAR(gst.frequency, 1000.0, 0.01); // the measurement agrees on both
    EXPECT_NEAR(plx.amplitude, 0.5, 0.001);
    EXPECT_GE(plx.snr_db, gst.snr_db - 0.5) << "libparallax's resampler is less clean than GStreamer's";
}

TEST_F(AudioGstTest, AudioresampleF32IsAtLeastAsCleanAsGStreamers) {
    REQUIRE_GSTREAMER("audioresample");
    compare_resampling(*this, "F32LE", 48000, 44100);
    compare_resampling(*this, "F32LE", 44100, 48000);
}

// S16 at quality 0-4 goes through libparallax's integer polyphase filter,
// at 5-10 through soxr.
TEST_F(AudioGstTest, AudioresampleS16IsAtLeastAsCleanAsGStreamers) {
    REQUIRE_GSTREAMER("audioresample");
    for (int q : {0, 1, 2, 3, 4, 6}) {
        compare_resampling(*this, "S16LE", 48000, 44100, q);
        compare_resampling(*this, "S16LE", 44100, 48000, q);
    }
}

// The level of a tone after resampling, relative to its input level: a
// 20 kHz tone should pass 48 -> 44.1 kHz untouched, a 23 kHz one (above the
// new Nyquist frequency) should vanish. At every quality libparallax
// rejects the alias better than GStreamer and, from quality 1, passes the
// 20 kHz tone at least as well.
// The level of a tone of half full scale in `format` (F32LE or S16LE) after
// `audioresample quality=q` from 48 to 44.1 kHz, relative to its input
// level, in dB.
double tone_level(const AudioGstTest& t, const char* format, double freq, int quality, bool gst) {
    const bool f32 = std::string(format) == "F32LE";
    std::vector<float> v;
    std::vector<std::int16_t> w;
    for (int n = 0; n < 96000; ++n) {
        const double x = 0.5 * std::sin(2 * std::numbers::pi * freq * n / 48000.0);
        for (int c = 0; c < 2; ++c) {
            if (f32) {
                v.push_back(static_cast<float>(x));
            } else {
                w.push_back(static_cast<std::int16_t>(std::lround(x * 32768)));
            }
        }
    }
    write_file(t.path("tone.raw"), f32 ? bytes_of(v) : bytes_of(w));
    const std::string text =
        fmt::format("filesrc location={} ! audio/x-raw,format={},layout=interleaved,rate=48000,channels=2 ! "
                    "audioresample quality={} ! audio/x-raw,rate=44100 ! filesink location={}",
                    t.path("tone.raw"), format, quality, t.path("out.raw"));
    if (gst) {
        run_gstreamer(text);
    } else {
        run_parallax(text);
    }
    const auto x =
        check::decode_channel(f32 ? AudioFormat::f32le : AudioFormat::s16le, 2, false, read_file(t.path("out.raw")), 0);
    double power = 0;
    std::size_t n = 0;
    for (std::size_t i = 4410; i + 4410 < x.size(); ++i, ++n) {
        power += x[i] * x[i];
    }
    return 10 * std::log10(std::max(power / static_cast<double>(std::max<std::size_t>(n, 1)), 1e-30) / 0.125);
}

// A 20 kHz tone (should pass) and a 23 kHz one (should vanish) through both
// engines at `quality`, printed.
struct ToneLevels {
    double pass_plx;
    double pass_gst;
    double alias_plx;
    double alias_gst;
};

ToneLevels compare_tones(const AudioGstTest& t, const char* format, int quality) {
    const ToneLevels l{tone_level(t, format, 20000, quality, false), tone_level(t, format, 20000, quality, true),
                       tone_level(t, format, 23000, quality, false), tone_level(t, format, 23000, quality, true)};
    std::printf("[ compare  ] audioresample %s quality=%d 48000 -> 44100 Hz: 20 kHz tone %.2f dB (GStreamer %.2f dB), "
                "23 kHz alias %.1f dB (GStreamer %.1f dB)\n",
                format, quality, l.pass_plx, l.pass_gst, l.alias_plx, l.alias_gst);
    return l;
}

TEST_F(AudioGstTest, AudioresampleRejectsAliasesBetterThanGStreamerAtEveryQuality) {
    REQUIRE_GSTREAMER("audioresample");
    for (int q : {0, 1, 2, 4, 6, 10}) {
        const ToneLevels l = compare_tones(*this, "F32LE", q);
        EXPECT_LT(l.alias_plx, l.alias_gst - 20) << "quality " << q;
        if (q >= 1) {
            EXPECT_GE(l.pass_plx, l.pass_gst - 0.1) << "quality " << q;
            EXPECT_GT(l.pass_plx, -0.5) << "quality " << q;
        }
    }
}

// S16 at quality 0-4 (libparallax's integer polyphase filter; GStreamer's
// S16 filter has 16-bit taps): the 20 kHz tone passes at least as well and
// the 23 kHz alias is rejected by at least 5 dB more at every level.
TEST_F(AudioGstTest, AudioresampleS16PassesAndRejectsAtLeastAsWellAsGStreamers) {
    REQUIRE_GSTREAMER("audioresample");
    for (int q = 0; q <= 4; ++q) {
        const ToneLevels l = compare_tones(*this, "S16LE", q);
        EXPECT_LT(l.alias_plx, l.alias_gst - 5) << "quality " << q;
        EXPECT_GE(l.pass_plx, l.pass_gst) << "quality " << q;
    }
}

} // namespace
} // namespace parallax
