#include <parallax/caps/caps.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>

#include "integration/audio_pipeline.hpp"
#include "support/passthrough.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace parallax::volume_test {
namespace {

using check::bytes_of;
using check::values_of;

std::string raw(const char* format, int channels = 1, const char* layout = "interleaved") {
    return fmt::format("audio/x-raw, format={}, layout={}, rate=48000, channels={}", format, layout, channels);
}

// Pushes `values` through the started harness `h` and returns what came out.
template <class T>
std::vector<T> push_values(check::Harness& h, const std::vector<T>& values) {
    auto b = h.make_buffer(bytes_of(values));
    EXPECT_TRUE(b);
    if (!b) {
        return {};
    }
    EXPECT_EQ(h.push(std::move(*b)), Flow::ok);
    auto out = h.pull();
    EXPECT_TRUE(out);
    return out ? values_of<T>(out->data()) : std::vector<T>{};
}

// Pushes `values` through `volume <props>` with caps `caps` and returns what
// came out.
template <class T>
std::vector<T> through(const std::string& props, const std::string& caps, const std::vector<T>& values) {
    auto h = check::Harness::create("volume " + props);
    EXPECT_TRUE(h);
    if (!h) {
        return {};
    }
    EXPECT_TRUE((*h)->set_input_caps(Caps::parse_static(caps)));
    EXPECT_TRUE((*h)->start());
    return push_values(**h, values);
}

TEST(VolumeTest, HasGStreamersPropertiesChangeableWhileRunning) {
    auto e = Registry::global().create("volume");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("volume").value(), "1");
    EXPECT_EQ((*e)->get_property("mute").value(), "false");
    EXPECT_EQ((*e)->property("volume")->mutability(), Mutability::running);
    EXPECT_EQ((*e)->property("mute")->mutability(), Mutability::running);
    for (const char* bad : {"10.5", "-0.1", "loud"}) {
        auto r = (*e)->set_property("volume", bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find("volume"), std::string::npos) << r.error().message();
    }
    EXPECT_TRUE((*e)->set_property("volume", "10"));
}

TEST(VolumeTest, ScalesFloats) {
    EXPECT_EQ(through<float>("volume=0.5", raw("F32LE"), {1.0F, -0.5F, 0.25F}),
              (std::vector<float>{0.5F, -0.25F, 0.125F}));
    EXPECT_EQ(through<double>("volume=2", raw("F64LE"), {0.25, -0.75}),
              (std::vector<double>{0.5, -1.5})); // not clipped
}

TEST(VolumeTest, ScalesAndClipsIntegers) {
    EXPECT_EQ(through<std::int16_t>("volume=0.5", raw("S16LE"), {1000, -1000, 32767, -32768}),
              (std::vector<std::int16_t>{500, -500, 16384, -16384}));
    EXPECT_EQ(through<std::int16_t>("volume=2", raw("S16LE"), {20000, -20000, 100}),
              (std::vector<std::int16_t>{32767, -32768, 200}));
    EXPECT_EQ(through<std::int32_t>("volume=3", raw("S32LE"), {1 << 29, -(1 << 29), 1 << 30}),
              (std::vector<std::int32_t>{3 << 29, -(3 << 29), std::numeric_limits<std::int32_t>::max()}));
    // U8 scales around its centre, 128.
    EXPECT_EQ(through<std::uint8_t>("volume=2", raw("U8"), {128, 160, 96, 250, 5}),
              (std::vector<std::uint8_t>{128, 192, 64, 255, 0}));
}

TEST(VolumeTest, NonInterleavedAudioIsScaledToo) {
    EXPECT_EQ(through<float>("volume=0.25", raw("F32LE", 2, "non-interleaved"), {1.0F, 0.5F, -1.0F, -0.5F}),
              (std::vector<float>{0.25F, 0.125F, -0.25F, -0.125F}));
}

TEST(VolumeTest, MuteAndZeroWriteSilence) {
    EXPECT_EQ(through<float>("mute=true volume=2", raw("F32LE"), {1.0F, -0.5F}), (std::vector<float>{0.0F, 0.0F}));
    EXPECT_EQ(through<std::int16_t>("volume=0", raw("S16LE"), {1000, -5}), (std::vector<std::int16_t>{0, 0}));
    EXPECT_EQ(through<std::uint8_t>("mute=true", raw("U8"), {0, 255, 7}), (std::vector<std::uint8_t>{128, 128, 128}));
}

TEST(VolumeTest, UnityVolumePassesTheSameBufferUntouched) {
    auto h = check::Harness::create("volume");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->set_input_caps(Caps::parse_static(raw("S16LE", 2))));
    ASSERT_TRUE((*h)->start());
    std::optional<Buffer> out;
    ASSERT_TRUE(
        check::passes_same_buffer(**h, (*h)->make_buffer(bytes_of(std::vector<std::int16_t>{1, 2, 3, 4})), &out));
    EXPECT_EQ(values_of<std::int16_t>(out->data()), (std::vector<std::int16_t>{1, 2, 3, 4}));
}

TEST(VolumeTest, ChangesWhileRunningApplyToTheNextBuffer) {
    auto h = check::Harness::create("volume");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->set_input_caps(Caps::parse_static(raw("F32LE"))));
    ASSERT_TRUE((*h)->start());
    const std::vector<float> in = {0.5F, -0.5F};
    const auto push_one = [&] { return push_values(**h, in); };
    EXPECT_EQ(push_one(), in);
    ASSERT_TRUE((*h)->element().set_property("volume", "0.5"));
    EXPECT_EQ(push_one(), (std::vector<float>{0.25F, -0.25F}));
    ASSERT_TRUE((*h)->element().set_property("mute", "true"));
    EXPECT_EQ(push_one(), (std::vector<float>{0.0F, 0.0F}));
    ASSERT_TRUE((*h)->element().set_property("mute", "false"));
    ASSERT_TRUE((*h)->element().set_property("volume", "1"));
    EXPECT_EQ(push_one(), in);
}

TEST(VolumeTest, AFrameCutInHalfIsAnErrorNamingTheElement) {
    auto h = check::Harness::create("volume name=vol volume=0.5");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->set_input_caps(Caps::parse_static(raw("S16LE", 2))));
    ASSERT_TRUE((*h)->start());
    auto b = (*h)->make_buffer(6);
    ASSERT_TRUE(b);
    EXPECT_EQ((*h)->push(std::move(*b)), Flow::error);
    ASSERT_TRUE((*h)->error());
    EXPECT_EQ((*h)->error()->element(), "vol");
}

} // namespace
} // namespace parallax::volume_test
