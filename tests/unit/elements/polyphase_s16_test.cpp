// The integer polyphase resampler audioresample uses for S16
// (elements/audio/polyphase_s16.hpp), on its own.

#include "audio/polyphase_s16.hpp"
#include "integration/audio_analysis.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <span>
#include <vector>

namespace parallax::polyphase_s16_test {
namespace {

using detail::PolyphaseS16;

struct Rates {
    std::uint32_t in;
    std::uint32_t out;
};

// Interleaved frames of `channels` channels: channel c is a sine of
// freq + 100 c Hz at `amplitude` of full scale.
std::vector<std::int16_t> sines(std::uint32_t rate, std::size_t channels, std::size_t frames, double freq,
                                double amplitude = 0.5) {
    std::vector<std::int16_t> v(frames * channels);
    for (std::size_t i = 0; i < frames; ++i) {
        for (std::size_t c = 0; c < channels; ++c) {
            const double f = freq + 100.0 * static_cast<double>(c);
            const double x = amplitude * 32767.0 * std::sin(2 * std::numbers::pi * f * static_cast<double>(i) / rate);
            v[i * channels + c] = static_cast<std::int16_t>(std::lround(x));
        }
    }
    return v;
}

// Everything `r` makes of `in` (interleaved) written in pieces of the
// given sizes (repeated), then finished.
std::vector<std::int16_t> run(PolyphaseS16& r, std::size_t channels, const std::vector<std::int16_t>& in,
                              const std::vector<std::size_t>& pieces) {
    std::vector<std::int16_t> out;
    const auto take = [&] {
        const std::size_t n = r.ready();
        const std::size_t at = out.size();
        out.resize(at + n * channels);
        r.read(out.data() + at, n, false);
    };
    const std::size_t frames = in.size() / channels;
    std::size_t done = 0;
    for (std::size_t k = 0; done < frames; ++k) {
        const std::size_t n = std::min(pieces[k % pieces.size()], frames - done);
        r.write(in.data() + done * channels, n, false);
        done += n;
        take();
    }
    r.finish();
    take();
    return out;
}

std::vector<double> channel(const std::vector<std::int16_t>& v, std::size_t channels, std::size_t c) {
    std::vector<double> x;
    for (std::size_t i = c; i < v.size(); i += channels) {
        x.push_back(v[i]);
    }
    return x;
}

// The level of `x` (its middle, 0.1 s from each end) relative to a sine of
// `amplitude` of full scale, in dB.
double level_db(const std::vector<double>& x, double amplitude, std::size_t edge) {
    double power = 0;
    std::size_t n = 0;
    for (std::size_t i = edge; i + edge < x.size(); ++i, ++n) {
        power += x[i] * x[i];
    }
    const double full = amplitude * 32767.0;
    return 10 * std::log10(std::max(power / static_cast<double>(n), 1e-30) / (full * full / 2));
}

TEST(PolyphaseS16Test, EveryInputFrameGivesItsShareOfOutputFrames) {
    for (const Rates rates : {Rates{48000, 44100}, Rates{44100, 48000}, Rates{48000, 16000}, Rates{8000, 44100},
                              Rates{32000, 48000}, Rates{96000, 44100}}) {
        for (const std::size_t frames : {std::size_t{1}, std::size_t{7}, std::size_t{1000}, std::size_t{48000}}) {
            SCOPED_TRACE(::testing::Message() << rates.in << " -> " << rates.out << " Hz, " << frames << " frames");
            auto r = PolyphaseS16::create(rates.in, rates.out, 1, 4);
            ASSERT_TRUE(r);
            const auto out = run(*r, 1, std::vector<std::int16_t>(frames, 1000), {frames});
            // ceil(frames * out / in): sample k out is the instant k * in / out in.
            const std::uint64_t expected = (frames * std::uint64_t{rates.out} + rates.in - 1) / rates.in;
            EXPECT_EQ(out.size(), expected);
            EXPECT_EQ(r->ready(), 0U);
        }
    }
}

TEST(PolyphaseS16Test, HowTheInputIsCutDoesNotChangeTheOutput) {
    const auto in = sines(48000, 2, 20000, 1000);
    auto whole = PolyphaseS16::create(48000, 44100, 2, 4);
    ASSERT_TRUE(whole);
    const auto expected = run(*whole, 2, in, {in.size() / 2});
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::size_t> size(1, 3000);
    for (int round = 0; round < 5; ++round) {
        std::vector<std::size_t> pieces(64);
        for (std::size_t& piece : pieces) {
            piece = size(rng);
        }
        auto r = PolyphaseS16::create(48000, 44100, 2, 4);
        ASSERT_TRUE(r);
        EXPECT_EQ(run(*r, 2, in, pieces), expected) << "round " << round;
    }
    // reset() starts over: the same input gives the same output again.
    whole->reset();
    EXPECT_EQ(run(*whole, 2, in, {333}), expected);
}

TEST(PolyphaseS16Test, PlanarAndInterleavedInputGiveTheSameSamples) {
    constexpr std::size_t channels = 3;
    constexpr std::size_t frames = 4800;
    const auto in = sines(44100, channels, frames, 500);
    std::vector<std::int16_t> planar(in.size());
    for (std::size_t i = 0; i < frames; ++i) {
        for (std::size_t c = 0; c < channels; ++c) {
            planar[c * frames + i] = in[i * channels + c];
        }
    }
    auto a = PolyphaseS16::create(44100, 48000, channels, 4);
    auto b = PolyphaseS16::create(44100, 48000, channels, 4);
    ASSERT_TRUE(a && b);
    a->write(in.data(), frames, false);
    b->write(planar.data(), frames, true);
    a->finish();
    b->finish();
    const std::size_t n = a->ready();
    ASSERT_EQ(b->ready(), n);
    std::vector<std::int16_t> interleaved_out(n * channels);
    std::vector<std::int16_t> planar_out(n * channels);
    a->read(interleaved_out.data(), n, false);
    b->read(planar_out.data(), n, true);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t c = 0; c < channels; ++c) {
            ASSERT_EQ(planar_out[c * n + i], interleaved_out[i * channels + c]) << "frame " << i << " channel " << c;
        }
    }
}

// Each phase's 16-bit taps add up to exactly 1.0: constant input comes out
// unchanged wherever the filter's window lies inside the input.
TEST(PolyphaseS16Test, ConstantInputComesOutExactly) {
    for (int quality = 0; quality <= PolyphaseS16::max_quality; ++quality) {
        for (const std::int16_t value : {std::int16_t{12345}, std::int16_t{-32768}, std::int16_t{32767}}) {
            auto r = PolyphaseS16::create(48000, 44100, 1, quality);
            ASSERT_TRUE(r);
            const auto out = run(*r, 1, std::vector<std::int16_t>(9600, value), {1024});
            const std::size_t edge = r->taps();
            for (std::size_t i = edge; i + edge < out.size(); ++i) {
                ASSERT_EQ(out[i], value) << "quality " << quality << ", frame " << i;
            }
        }
    }
}

// A full-scale square wave overshoots after filtering (Gibbs): the output
// clips at the limits instead of wrapping round to the other sign.
TEST(PolyphaseS16Test, OvershootClipsInsteadOfWrapping) {
    std::vector<std::int16_t> in(48000);
    for (std::size_t i = 0; i < in.size(); ++i) {
        in[i] = (i / 240) % 2 == 0 ? std::int16_t{32767} : std::int16_t{-32768}; // 100 Hz
    }
    auto r = PolyphaseS16::create(48000, 44100, 1, 4);
    ASSERT_TRUE(r);
    const auto out = run(*r, 1, in, {1024});
    int clipped = 0;
    for (std::size_t i = 64; i + 64 < out.size(); ++i) {
        // The middle two thirds of each half period keep the input's sign.
        const double t = std::fmod(static_cast<double>(i) * 48000.0 / 44100.0, 480.0);
        if ((t > 40 && t < 200) || (t > 280 && t < 440)) {
            ASSERT_EQ(out[i] > 0, t < 240) << "frame " << i;
        }
        clipped += out[i] == 32767 || out[i] == -32768 ? 1 : 0;
    }
    EXPECT_GT(clipped, 0);
}

// The input that drives one output sample hardest: full scale with the
// sign of each tap of that sample's phase (found from the filter's impulse
// responses). Its true value is about twice full scale, past what 32-bit
// sums of 16-bit products at full precision could hold: it must clip to
// full scale, not wrap round to a negative value.
TEST(PolyphaseS16Test, TheWorstCaseInputClipsInsteadOfOverflowing) {
    constexpr std::size_t frames = 300;
    constexpr std::size_t target = 130; // 141.497 input samples in: the phase half-way between two
    const auto output_for = [&](const std::vector<std::int16_t>& in) {
        auto r = PolyphaseS16::create(48000, 44100, 1, 4);
        EXPECT_TRUE(r);
        const auto out = run(*r, 1, in, {frames});
        return out.at(target);
    };
    std::vector<std::int16_t> worst(frames, 0);
    std::vector<std::int16_t> opposite(frames, 0);
    int taps = 0;
    for (std::size_t i = 0; i < frames; ++i) {
        std::vector<std::int16_t> impulse(frames, 0);
        impulse[i] = 16384;
        const std::int16_t response = output_for(impulse);
        if (response != 0) {
            ++taps;
            worst[i] = response > 0 ? std::int16_t{32767} : std::int16_t{-32768};
            opposite[i] = response > 0 ? std::int16_t{-32768} : std::int16_t{32767};
        }
    }
    EXPECT_GE(taps, 40);
    EXPECT_EQ(output_for(worst), 32767);
    EXPECT_EQ(output_for(opposite), -32768);
    // Stereo goes through its own vector code: both channels, one each way.
    std::vector<std::int16_t> both(2 * frames);
    for (std::size_t i = 0; i < frames; ++i) {
        both[2 * i] = worst[i];
        both[2 * i + 1] = opposite[i];
    }
    auto r = PolyphaseS16::create(48000, 44100, 2, 4);
    ASSERT_TRUE(r);
    const auto out = run(*r, 2, both, {frames});
    EXPECT_EQ(out.at(2 * target), 32767);
    EXPECT_EQ(out.at(2 * target + 1), -32768);
}

// Quality 4 at 48000 -> 44100 Hz: what docs/guide/audio.md states, and more
// than GStreamer 1.22's S16 resampler reaches at the same quality (SNR
// 78.7-80.9 dB from 1 to 17 kHz, 20 kHz at -3.2 dB, 23 kHz at -79.4 dB).
TEST(PolyphaseS16Test, QualityFourIsCleanPassesTwentyKilohertzAndRejectsAliases) {
    const auto through = [](double freq) {
        auto r = PolyphaseS16::create(48000, 44100, 1, 4);
        EXPECT_TRUE(r);
        return channel(run(*r, 1, sines(48000, 1, 96000, freq), {1024}), 1, 0);
    };
    // Clean across the band, not only at 1 kHz: the taps' rounding, which
    // differs from phase to phase, would show as noise at every frequency.
    for (const double freq : {1000.0, 3500.0, 7000.0, 12000.0, 17000.0}) {
        const auto sine = through(freq);
        constexpr std::size_t edge = 882; // 20 ms
        const std::span<const double> middle(sine.data() + edge, sine.size() - 2 * edge);
        const auto fit = check::fit_sine(middle, freq, 44100);
        EXPECT_GT(fit.snr_db, 88.0) << freq << " Hz";
        if (freq < 10000) {
            EXPECT_NEAR(fit.amplitude, 0.5 * 32767, 3.0) << freq << " Hz";
        }
    }
    EXPECT_GT(level_db(through(20000), 0.5, 4410), -3.0);
    EXPECT_LT(level_db(through(23000), 0.5, 4410), -85.0);
}

// The vector code and the portable code compute the same integer sums:
// the same samples, for channels in pairs and one left over, at full scale
// too.
TEST(PolyphaseS16Test, ThePortableCodeGivesTheSameSamples) {
    for (const std::size_t channels : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{6}}) {
        for (const double amplitude : {0.5, 1.0}) {
            const auto in = sines(48000, channels, 9000, 700, amplitude);
            const auto through = [&](bool portable) {
                PolyphaseS16::use_portable_code(portable);
                auto r = PolyphaseS16::create(48000, 44100, channels, 4);
                EXPECT_TRUE(r);
                auto out = run(*r, channels, in, {1000});
                PolyphaseS16::use_portable_code(false);
                return out;
            };
            EXPECT_EQ(through(true), through(false)) << channels << " channels, amplitude " << amplitude;
        }
    }
}

TEST(PolyphaseS16Test, RatiosNeedingTooManyPhasesOrTapsAreDeclined) {
    auto common = PolyphaseS16::create(48000, 44100, 2, 4);
    ASSERT_TRUE(common);
    EXPECT_EQ(common->phases(), 147U);
    EXPECT_EQ(common->taps() % 16, 0U);
    EXPECT_FALSE(PolyphaseS16::create(44100, 47999, 2, 4)); // 47999 phases
    EXPECT_FALSE(PolyphaseS16::create(192000, 2000, 2, 4)); // 96 x 48 taps
    EXPECT_FALSE(PolyphaseS16::create(48000, 48000, 2, 4));
    EXPECT_FALSE(PolyphaseS16::create(0, 48000, 2, 4));
    EXPECT_FALSE(PolyphaseS16::create(48000, 44100, 0, 4));
}

} // namespace
} // namespace parallax::polyphase_s16_test
