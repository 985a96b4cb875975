#include <parallax/audio/audio_info.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>

#include "integration/audio_analysis.hpp"
#include "integration/audio_pipeline.hpp"
#include "support/passthrough.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace parallax {
namespace {

using check::AudioInput;
using check::bytes_of;
using check::run_audio;

// Pushes `input` (bytes of `in_caps`) through `audioconvert <props>` into an
// appsink that takes `out_caps`, and returns the run.
check::AudioRun convert(const std::string& in_caps, const std::string& out_caps, std::vector<std::byte> input,
                        const std::string& props = "dithering=none") {
    const std::string text = fmt::format("appsrc name=src format=time block=true caps=\"{}\" ! audioconvert {} ! "
                                         "appsink name=sink sync=false caps=\"{}\"",
                                         in_caps, props, out_caps);
    std::vector<AudioInput> inputs(1);
    inputs[0].bytes = std::move(input);
    inputs[0].pts = ClockTime::from_ms(20);
    inputs[0].duration = ClockTime::from_ms(1);
    auto run = run_audio(text, inputs);
    EXPECT_TRUE(run) << text << ": " << (run ? "" : run.error().to_string());
    return run ? *run : check::AudioRun{};
}

template <class T>
std::vector<T> values_of(const check::AudioRun& run) {
    return check::values_of<T>(run.bytes());
}

std::string raw(const char* format, int channels = 1, const char* layout = "interleaved", int rate = 48000) {
    return fmt::format("audio/x-raw, format={}, layout={}, rate={}, channels={}", format, layout, rate, channels);
}

TEST(AudioConvertTest, IsAConverterWithGStreamersProperties) {
    const ElementFactory* f = Registry::global().find("audioconvert");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().convert_cost, 5U);
    auto e = f->create();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("dithering").value(), "tpdf");
    EXPECT_EQ((*e)->get_property("dithering-threshold").value(), "20");
    EXPECT_EQ((*e)->get_property("noise-shaping").value(), "none");
    EXPECT_EQ((*e)->get_property("mix-matrix").value(), "");
}

TEST(AudioConvertTest, UnimplementedNoiseShapingAndBadMatricesAreRefusedNamingTheProperty) {
    auto e = Registry::global().create("audioconvert");
    ASSERT_TRUE(e);
    auto shaping = (*e)->set_property("noise-shaping", "simple");
    ASSERT_FALSE(shaping);
    EXPECT_NE(shaping.error().message().find("noise-shaping"), std::string::npos) << shaping.error().message();
    EXPECT_EQ((*e)->get_property("noise-shaping").value(), "none");
    for (const char* bad : {"<<1, 0>, <0>>", "<<1, x>>", "<1, 0>", "<<1, 0>"}) {
        auto r = (*e)->set_property("mix-matrix", bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find("mix-matrix"), std::string::npos) << r.error().message();
    }
    EXPECT_TRUE((*e)->set_property("mix-matrix", "<<(float)0.5, (float)0.5>>"));
    EXPECT_TRUE((*e)->set_property("mix-matrix", "<  >"));
    EXPECT_FALSE((*e)->set_property("dithering-threshold", "33"));
}

TEST(AudioConvertTest, S16ToF32IsExactAtKnownPoints) {
    const std::vector<std::int16_t> in = {-32768, -16384, -1, 0, 1, 16384, 32767};
    auto run = convert(raw("S16LE"), "audio/x-raw, format=F32LE", bytes_of(in));
    const auto out = values_of<float>(run);
    ASSERT_EQ(out.size(), in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        EXPECT_EQ(out[i], static_cast<float>(in[i]) / 32768.0F) << in[i];
    }
    EXPECT_EQ(out[0], -1.0F);
    EXPECT_EQ(out[5], 0.5F);
    // Timestamps go through.
    ASSERT_EQ(run.samples.size(), 1U);
    EXPECT_EQ(run.samples[0].buffer.meta().pts(), ClockTime::from_ms(20));
    EXPECT_EQ(run.samples[0].buffer.meta().duration(), ClockTime::from_ms(1));
}

TEST(AudioConvertTest, F32ToS16ScalesRoundsAndClips) {
    const std::vector<float> in = {0.0F,
                                   0.5F,
                                   -0.5F,
                                   1.0F,
                                   -1.0F,
                                   1.5F,
                                   -1.5F,
                                   1e-6F,
                                   16383.5F / 32768,
                                   -16383.5F / 32768,
                                   std::numeric_limits<float>::quiet_NaN()};
    // Ties round upwards, as in GStreamer: 16383.5 -> 16384, -16383.5 -> -16383.
    const std::vector<std::int16_t> expected = {0, 16384, -16384, 32767, -32768, 32767, -32768, 0, 16384, -16383, 0};
    auto run = convert(raw("F32LE"), "audio/x-raw, format=S16LE", bytes_of(in));
    EXPECT_EQ(values_of<std::int16_t>(run), expected);

    // The same values at every position of a long buffer (the converter's
    // loops take samples several at a time, the last few one by one; also
    // with infinities, which clip).
    std::vector<float> many;
    std::vector<std::int16_t> many_expected;
    for (std::size_t i = 0; i < 257; ++i) {
        const std::size_t k = (i * 7) % (in.size() + 2);
        if (k < in.size()) {
            many.push_back(in[k]);
            many_expected.push_back(expected[k]);
        } else {
            const bool positive = k == in.size();
            many.push_back(positive ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity());
            many_expected.push_back(positive ? std::int16_t{32767} : std::int16_t{-32768});
        }
    }
    auto long_run = convert(raw("F32LE"), "audio/x-raw, format=S16LE", bytes_of(many));
    EXPECT_EQ(values_of<std::int16_t>(long_run), many_expected);
}

TEST(AudioConvertTest, U8AndS16ConvertBothWays) {
    const std::vector<std::uint8_t> u8 = {0, 64, 128, 192, 255};
    auto up = convert(raw("U8"), "audio/x-raw, format=S16LE", bytes_of(u8));
    EXPECT_EQ(values_of<std::int16_t>(up), (std::vector<std::int16_t>{-32768, -16384, 0, 16384, 32512}));
    const std::vector<std::int16_t> s16 = {-32768, -16384, -128, 0, 127, 128, 16384, 32767};
    auto down = convert(raw("S16LE"), "audio/x-raw, format=U8", bytes_of(s16));
    EXPECT_EQ(values_of<std::uint8_t>(down), (std::vector<std::uint8_t>{0, 64, 128, 128, 128, 129, 192, 255}));
}

TEST(AudioConvertTest, S32AndF64ConvertBothWays) {
    const std::vector<std::int32_t> s32 = {std::numeric_limits<std::int32_t>::min(), -1, 0, 1,
                                           std::numeric_limits<std::int32_t>::max()};
    auto up = convert(raw("S32LE"), "audio/x-raw, format=F64LE", bytes_of(s32));
    const auto f64 = values_of<double>(up);
    ASSERT_EQ(f64.size(), s32.size());
    for (std::size_t i = 0; i < s32.size(); ++i) {
        EXPECT_EQ(f64[i], s32[i] / 2147483648.0);
    }
    auto back = convert(raw("F64LE"), "audio/x-raw, format=S32LE", bytes_of(f64));
    EXPECT_EQ(values_of<std::int32_t>(back), s32);
    auto clipped = convert(raw("F64LE"), "audio/x-raw, format=S32LE", bytes_of(std::vector<double>{1.0, -1.0, 2.0}));
    EXPECT_EQ(values_of<std::int32_t>(clipped), (std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::max(),
                                                                           std::numeric_limits<std::int32_t>::min(),
                                                                           std::numeric_limits<std::int32_t>::max()}));
}

TEST(AudioConvertTest, FloatsConvertWithoutClipping) {
    const std::vector<float> in = {0.25F, -3.0F, 2.5F};
    auto run = convert(raw("F32LE"), "audio/x-raw, format=F64LE", bytes_of(in));
    EXPECT_EQ(values_of<double>(run), (std::vector<double>{0.25, -3.0, 2.5}));
}

TEST(AudioConvertTest, RoundTripsAreExactOrWithinTheirPrecision) {
    std::vector<std::int16_t> s16(4096);
    for (std::size_t i = 0; i < s16.size(); ++i) {
        s16[i] = static_cast<std::int16_t>(static_cast<int>(i * 16) - 32768);
    }
    // Each format that holds 16 bits gives S16 back exactly.
    for (const char* via : {"S32LE", "F32LE", "F64LE"}) {
        auto there = convert(raw("S16LE"), fmt::format("audio/x-raw, format={}", via), bytes_of(s16));
        auto back = convert(raw(via), "audio/x-raw, format=S16LE", there.bytes());
        EXPECT_EQ(values_of<std::int16_t>(back), s16) << via;
    }
    // Through U8: within half of U8's step (128 S16 steps), except at the
    // top, where U8's largest value (127/128) clips.
    auto there = convert(raw("S16LE"), "audio/x-raw, format=U8", bytes_of(s16));
    const auto back = values_of<std::int16_t>(convert(raw("U8"), "audio/x-raw, format=S16LE", there.bytes()));
    ASSERT_EQ(back.size(), s16.size());
    for (std::size_t i = 0; i < s16.size(); ++i) {
        if (s16[i] >= 32512 + 128) {
            EXPECT_EQ(back[i], 32512) << i;
        } else {
            EXPECT_LE(std::abs(back[i] - s16[i]), 128) << i;
        }
    }
    // F32 -> S16 -> F32: within half an S16 step.
    std::vector<float> f(1000);
    for (std::size_t i = 0; i < f.size(); ++i) {
        f[i] = static_cast<float>(std::sin(static_cast<double>(i) * 0.01) * 0.9);
    }
    auto s = convert(raw("F32LE"), "audio/x-raw, format=S16LE", bytes_of(f));
    const auto g = values_of<float>(convert(raw("S16LE"), "audio/x-raw, format=F32LE", s.bytes()));
    ASSERT_EQ(g.size(), f.size());
    for (std::size_t i = 0; i < f.size(); ++i) {
        EXPECT_LE(std::abs(g[i] - f[i]), 0.5F / 32768 + 1e-7F) << i;
    }
}

TEST(AudioConvertTest, TpdfDitherIsUnbiasedAndWithinOneStep) {
    // A constant 1000.3 steps: undithered it is always 1000; dithered it
    // spreads over 999..1001 with the right mean.
    const std::vector<float> in(48000, static_cast<float>(1000.3 / 32768));
    const auto plain = values_of<std::int16_t>(convert(raw("F32LE"), "audio/x-raw, format=S16LE", bytes_of(in)));
    EXPECT_TRUE(std::all_of(plain.begin(), plain.end(), [](std::int16_t v) { return v == 1000; }));
    for (const char* method : {"tpdf", "rpdf", "tpdf-hf"}) {
        const auto d = values_of<std::int16_t>(
            convert(raw("F32LE"), "audio/x-raw, format=S16LE", bytes_of(in), fmt::format("dithering={}", method)));
        ASSERT_EQ(d.size(), in.size());
        double mean = 0;
        for (std::int16_t v : d) {
            EXPECT_GE(v, 999) << method;
            EXPECT_LE(v, 1001) << method;
            mean += v;
        }
        mean /= static_cast<double>(d.size());
        EXPECT_NEAR(mean, 1000.3, 0.02) << method;
        EXPECT_FALSE(std::all_of(d.begin(), d.end(), [](std::int16_t v) { return v == 1000; })) << method;
    }
    // The default is tpdf; a threshold below 16 bits turns it off for S16.
    const auto dflt = values_of<std::int16_t>(convert(raw("F32LE"), "audio/x-raw, format=S16LE", bytes_of(in), ""));
    EXPECT_FALSE(std::all_of(dflt.begin(), dflt.end(), [](std::int16_t v) { return v == 1000; }));
    const auto off = values_of<std::int16_t>(
        convert(raw("F32LE"), "audio/x-raw, format=S16LE", bytes_of(in), "dithering-threshold=15"));
    EXPECT_TRUE(std::all_of(off.begin(), off.end(), [](std::int16_t v) { return v == 1000; }));
    // No dither where nothing is lost (S16 -> S32).
    const std::vector<std::int16_t> s16(100, 7);
    const auto s32 = values_of<std::int32_t>(convert(raw("S16LE"), "audio/x-raw, format=S32LE", bytes_of(s16), ""));
    EXPECT_TRUE(std::all_of(s32.begin(), s32.end(), [](std::int32_t v) { return v == 7 << 16; }));
}

TEST(AudioConvertTest, InterleavedAndNonInterleavedConvertIntoEachOther) {
    // Frames (L, R): (1, -1), (2, -2), (3, -3) in S16 steps.
    const std::vector<std::int16_t> interleaved = {1, -1, 2, -2, 3, -3};
    auto planar = convert(raw("S16LE", 2), raw("F32LE", 2, "non-interleaved"), bytes_of(interleaved));
    const auto p = values_of<float>(planar);
    ASSERT_EQ(p.size(), 6U);
    const float s = 1.0F / 32768;
    EXPECT_EQ(p, (std::vector<float>{1 * s, 2 * s, 3 * s, -1 * s, -2 * s, -3 * s}));
    auto back = convert(raw("F32LE", 2, "non-interleaved"), raw("S16LE", 2), planar.bytes());
    EXPECT_EQ(values_of<std::int16_t>(back), interleaved);
    // Same format, only the layout changes.
    auto same = convert(raw("S16LE", 2), raw("S16LE", 2, "non-interleaved"), bytes_of(interleaved));
    EXPECT_EQ(values_of<std::int16_t>(same), (std::vector<std::int16_t>{1, 2, 3, -1, -2, -3}));
}

TEST(AudioConvertTest, StereoToMonoAveragesTheChannels) {
    const std::vector<float> in = {0.5F, 0.25F, 1.0F, 1.0F, -1.0F, -1.0F, 1.0F, -1.0F};
    auto run = convert(raw("F32LE", 2), raw("F32LE", 1), bytes_of(in));
    EXPECT_EQ(values_of<float>(run), (std::vector<float>{0.375F, 1.0F, -1.0F, 0.0F}));
}

TEST(AudioConvertTest, MonoToStereoDuplicates) {
    const std::vector<std::int16_t> in = {100, -200, 32767};
    auto run = convert(raw("S16LE", 1), raw("S16LE", 2), bytes_of(in));
    EXPECT_EQ(values_of<std::int16_t>(run), (std::vector<std::int16_t>{100, 100, -200, -200, 32767, 32767}));
}

// The output frame for an input frame with `value` in channel `channel`
// only (F32, `in_mask` to `out_mask`).
std::vector<float> response(int in_channels, std::uint64_t in_mask, int out_channels, std::uint64_t out_mask,
                            int channel, float value = 1.0F) {
    std::vector<float> in(static_cast<std::size_t>(in_channels), 0.0F);
    in[static_cast<std::size_t>(channel)] = value;
    const auto caps = [](int channels, std::uint64_t mask) {
        return fmt::format("audio/x-raw, format=F32LE, layout=interleaved, rate=48000, channels={}, "
                           "channel-mask=(bitmask)0x{:016x}",
                           channels, mask);
    };
    return values_of<float>(convert(caps(in_channels, in_mask), caps(out_channels, out_mask), bytes_of(in)));
}

TEST(AudioConvertTest, FiveOneToStereoUsesItuCoefficientsNormalisedAgainstClipping) {
    // 5.1 (FL FR FC LFE RL RR) to stereo: L = FL + 0.7071 FC + 0.7071 RL,
    // R alike, LFE dropped; scaled by 1 / (1 + 2 * 0.7071) so that all
    // channels at full scale give exactly full scale.
    const double k = 1.0 / (1.0 + std::sqrt(2.0));
    const double c = std::sqrt(0.5) * k;
    const std::vector<std::vector<double>> expected = {{k, 0}, {0, k}, {c, c}, {0, 0}, {c, 0}, {0, c}};
    for (int ch = 0; ch < 6; ++ch) {
        const auto out = response(6, 0x3f, 2, 0x3, ch);
        ASSERT_EQ(out.size(), 2U);
        EXPECT_NEAR(out[0], expected[static_cast<std::size_t>(ch)][0], 1e-6) << ch;
        EXPECT_NEAR(out[1], expected[static_cast<std::size_t>(ch)][1], 1e-6) << ch;
    }
    const std::vector<float> full(6, 1.0F);
    const auto all =
        values_of<float>(convert(raw("F32LE", 6) + ", channel-mask=(bitmask)0x3f", raw("F32LE", 2), bytes_of(full)));
    ASSERT_EQ(all.size(), 2U);
    EXPECT_NEAR(all[0], 1.0, 1e-6);
    EXPECT_NEAR(all[1], 1.0, 1e-6);
}

TEST(AudioConvertTest, FiveOneToMonoFoldsTheStereoDownmix) {
    const double k = 1.0 / (1.0 + std::sqrt(2.0));
    const std::vector<double> expected = {
        0.5 * k, 0.5 * k, std::sqrt(0.5) * k, 0, 0.5 * std::sqrt(0.5) * k, 0.5 * std::sqrt(0.5) * k};
    for (int ch = 0; ch < 6; ++ch) {
        const auto out = response(6, 0x3f, 1, 0, ch);
        ASSERT_EQ(out.size(), 1U);
        EXPECT_NEAR(out[0], expected[static_cast<std::size_t>(ch)], 1e-6) << ch;
    }
}

TEST(AudioConvertTest, StereoToFiveOneFillsTheFrontPairOnly) {
    const auto left = response(2, 0x3, 6, 0x3f, 0, 0.5F);
    EXPECT_EQ(left, (std::vector<float>{0.5F, 0, 0, 0, 0, 0}));
    const auto right = response(2, 0x3, 6, 0x3f, 1, 0.5F);
    EXPECT_EQ(right, (std::vector<float>{0, 0.5F, 0, 0, 0, 0}));
}

TEST(AudioConvertTest, ChannelsAreReorderedByTheirMasks) {
    // 5.0 (FL FR FC RL RR) into 5.1 (FL FR FC LFE RL RR): the rear channels
    // move one place up, LFE is silent.
    for (int ch = 0; ch < 5; ++ch) {
        const auto out = response(5, 0x37, 6, 0x3f, ch, 0.25F);
        std::vector<float> expected(6, 0.0F);
        expected[static_cast<std::size_t>(ch < 3 ? ch : ch + 1)] = 0.25F;
        EXPECT_EQ(out, expected) << ch;
    }
    // And back: nothing is lost, LFE is dropped (ITU), no scaling needed.
    for (int ch = 0; ch < 6; ++ch) {
        const auto out = response(6, 0x3f, 5, 0x37, ch, 0.25F);
        std::vector<float> expected(5, 0.0F);
        if (ch != 3) {
            expected[static_cast<std::size_t>(ch < 3 ? ch : ch - 1)] = 0.25F;
        }
        EXPECT_EQ(out, expected) << ch;
    }
}

TEST(AudioConvertTest, AMixMatrixReplacesTheAutomaticOne) {
    const std::vector<float> in = {0.5F, 0.25F};
    auto swapped = convert(raw("F32LE", 2), raw("F32LE", 2), bytes_of(in), "mix-matrix=\"<<0, 1>, <1, 0>>\"");
    EXPECT_EQ(values_of<float>(swapped), (std::vector<float>{0.25F, 0.5F}));
    auto summed = convert(raw("F32LE", 2), "audio/x-raw, format=F32LE", bytes_of(in),
                          "mix-matrix=\"<<(float)1.0, (float)1.0>>\"");
    EXPECT_EQ(values_of<float>(summed), (std::vector<float>{0.75F}));
    EXPECT_EQ(AudioInfo::from_caps(summed.caps())->channels(), 1U); // the matrix has one row
}

TEST(AudioConvertTest, AMixMatrixSetsTheChannelCountsNegotiationWorksWith) {
    // A 1x3 matrix takes three channels: a stereo source needs a converter
    // in front, which negotiation refuses to insert here.
    auto p = Pipeline::parse("appsrc name=src format=time caps=\"" + raw("F32LE", 2) +
                             "\" ! audioconvert name=conv mix-matrix=\"<<1, 0, 0>>\" ! appsink name=sink");
    ASSERT_TRUE(p);
    (*p)->set_converter_policy(ConverterPolicy::deny);
    auto r = (*p)->set_state(State::idle);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(Errc::not_negotiated)) << r.error().to_string();
    EXPECT_NE(r.error().message().find("channels"), std::string::npos) << r.error().message();
}

TEST(AudioConvertTest, CapsThatDoNotFitTheMixMatrixAreRefusedNamingIt) {
    auto h = check::Harness::create("audioconvert mix-matrix=\"<<1, 0, 0>>\"");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->start());
    EXPECT_FALSE((*h)->set_input_caps(Caps::parse_static(raw("F32LE", 2))));
    ASSERT_TRUE((*h)->error());
    EXPECT_NE((*h)->error()->message().find("mix-matrix"), std::string::npos) << (*h)->error()->message();
}

TEST(AudioConvertTest, NothingToConvertPassesTheSameBuffer) {
    auto h = check::Harness::create("audioconvert");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->set_input_caps(Caps::parse_static(raw("S16LE", 2))));
    ASSERT_TRUE((*h)->start());
    EXPECT_TRUE(check::passes_same_buffer(**h, (*h)->make_buffer(64, 3)));
}

TEST(AudioConvertTest, AFrameCutInHalfIsAnErrorNamingTheElement) {
    std::vector<AudioInput> inputs(1);
    inputs[0].bytes.resize(6);
    auto r = run_audio("appsrc name=src format=time block=true caps=\"" + raw("S16LE", 2) +
                           "\" ! audioconvert name=conv ! appsink name=sink sync=false caps=\"audio/x-raw, "
                           "format=F32LE\"",
                       inputs);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("conv"), std::string::npos) << r.error().message();
}

// --- negotiation through real pipelines ------------------------------------

std::vector<std::string> inserted(const check::AudioRun& run) {
    std::vector<std::string> out;
    for (const auto& c : run.negotiation.inserted) {
        out.push_back(c.factory);
    }
    return out;
}

TEST(AudioConvertTest, AudioTestSrcMeetsAnAppsinkWithoutConverters) {
    // audiotestsrc produces any format, rate and channel count itself (as in
    // GStreamer): nothing needs converting.
    auto run = run_audio("audiotestsrc num-buffers=5 ! appsink name=sink sync=false "
                         "caps=audio/x-raw,format=F32LE,rate=44100,channels=2");
    ASSERT_TRUE(run) << run.error().to_string();
    EXPECT_TRUE(inserted(*run).empty());
    EXPECT_TRUE(is_equal(run->caps(), Caps::parse_static("audio/x-raw, format=F32LE, layout=interleaved, rate=44100, "
                                                         "channels=2")))
        << run->caps().to_string();
    EXPECT_EQ(run->samples.size(), 5U);
}

TEST(AudioConvertTest, NegotiationInsertsAudioconvertAndAudioresample) {
    // The source is held to S16 mono at 48 kHz; the sink wants F32 stereo at
    // 44.1 kHz: the cheapest chain is audioconvert (5) + audioresample (10).
    auto run = run_audio("audiotestsrc num-buffers=5 freq=1000 ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! "
                         "appsink name=sink sync=false caps=audio/x-raw,format=F32LE,rate=44100,channels=2");
    ASSERT_TRUE(run) << run.error().to_string();
    auto kinds = inserted(*run);
    std::sort(kinds.begin(), kinds.end());
    EXPECT_EQ(kinds, (std::vector<std::string>{"audioconvert", "audioresample"}));
    for (const auto& c : run->negotiation.inserted) {
        EXPECT_TRUE(c.name == "auto-audioconvert0" || c.name == "auto-audioresample0") << c.name;
    }
    EXPECT_TRUE(is_equal(run->caps(), Caps::parse_static("audio/x-raw, format=F32LE, layout=interleaved, rate=44100, "
                                                         "channels=2")))
        << run->caps().to_string();
    // The data: 5 x 1024 frames at 48 kHz are 4704 frames at 44.1 kHz, both
    // channels the same 1 kHz sine.
    std::vector<std::byte> all = run->bytes();
    ASSERT_EQ(all.size(), 4704U * 8);
    const auto left = check::decode_channel(AudioFormat::f32le, 2, false, all, 0);
    const auto right = check::decode_channel(AudioFormat::f32le, 2, false, all, 1);
    EXPECT_EQ(left, right);
    const std::span<const double> middle(left.data() + 200, left.size() - 400);
    EXPECT_NEAR(check::zero_crossing_frequency(middle, 44100), 1000.0, 0.5);
    const auto fit = check::fit_sine(middle, 1000, 44100);
    EXPECT_NEAR(fit.amplitude, 0.8, 0.001);
    EXPECT_GT(fit.snr_db, 80); // S16 source: about 98 dB at best
}

TEST(AudioConvertTest, ChannelCountsAreConvertedDuringNegotiation) {
    auto run = run_audio("audiotestsrc num-buffers=2 ! audio/x-raw,channels=6 ! audioconvert ! appsink name=sink "
                         "sync=false caps=audio/x-raw,channels=2");
    ASSERT_TRUE(run) << run.error().to_string();
    const auto info = AudioInfo::from_caps(run->caps());
    ASSERT_TRUE(info);
    EXPECT_EQ(info->channels(), 2U);
    EXPECT_EQ(info->format(), AudioFormat::s16le); // kept from the input
}

} // namespace
} // namespace parallax
