#include <parallax/audio/audio_channels.hpp>
#include <parallax/audio/audio_format.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace parallax {
namespace {

TEST(AudioFormatTest, TableDescribesEveryFormat) {
    struct Case {
        AudioFormat format;
        const char* name;
        unsigned width;
        bool is_signed;
        bool is_float;
        std::uint8_t silence;
    };
    const Case cases[] = {
        {AudioFormat::u8, "U8", 8, false, false, 0x80},    {AudioFormat::s16le, "S16LE", 16, true, false, 0},
        {AudioFormat::s32le, "S32LE", 32, true, false, 0}, {AudioFormat::f32le, "F32LE", 32, true, true, 0},
        {AudioFormat::f64le, "F64LE", 64, true, true, 0},
    };
    ASSERT_EQ(audio_format_table.size(), std::size(cases));
    for (const Case& c : cases) {
        const AudioFormatInfo& info = audio_format_info(c.format);
        EXPECT_EQ(info.name, c.name);
        EXPECT_EQ(to_string(c.format), c.name);
        EXPECT_EQ(info.width, c.width);
        EXPECT_EQ(info.depth, c.width);
        EXPECT_EQ(info.sample_size(), c.width / 8);
        EXPECT_EQ(info.is_signed, c.is_signed);
        EXPECT_EQ(info.is_float, c.is_float);
        EXPECT_EQ(info.is_integer(), !c.is_float);
        EXPECT_EQ(info.silence_byte, c.silence);
        EXPECT_EQ(audio_format_from_string(c.name).value(), c.format);
    }
}

TEST(AudioFormatTest, UnknownNameSuggestsTheClosestFormat) {
    EXPECT_EQ(audio_format_from_string("S16EL").error().message(), "unknown audio format 'S16EL'; did you mean S16LE?");
    EXPECT_EQ(audio_format_from_string("f32le").error().message(), "unknown audio format 'f32le'; did you mean F32LE?");
    auto far = audio_format_from_string("S24_32BE_PLANAR");
    ASSERT_FALSE(far);
    EXPECT_TRUE(far.error().is(Errc::invalid_argument));
    EXPECT_EQ(far.error().message(),
              "unknown audio format 'S24_32BE_PLANAR'; known formats: U8, S16LE, S32LE, F32LE, F64LE");
}

TEST(AudioFormatTest, FillSilenceWritesTheSilentByte) {
    std::array<std::byte, 6> bytes{};
    fill_silence(AudioFormat::u8, bytes);
    for (std::byte b : bytes) {
        EXPECT_EQ(b, std::byte{0x80});
    }
    fill_silence(AudioFormat::f32le, bytes);
    for (std::byte b : bytes) {
        EXPECT_EQ(b, std::byte{0});
    }
}

TEST(AudioChannelsTest, PositionsAreGStreamersBits) {
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::front_left), 0x1U);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::front_right), 0x2U);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::front_center), 0x4U);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::lfe1), 0x8U);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::rear_left), 0x10U);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::rear_right), 0x20U);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::rear_center), 0x100U);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::side_left), 0x400U);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::side_right), 0x800U);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::surround_right), std::uint64_t{1} << 27);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::mono), 0U);
    EXPECT_EQ(audio_channel_bit(AudioChannelPosition::none), 0U);
    EXPECT_EQ(to_string(AudioChannelPosition::front_left), "front-left");
    EXPECT_EQ(to_string(AudioChannelPosition::lfe1), "lfe1");
    EXPECT_EQ(to_string(AudioChannelPosition::bottom_front_right), "bottom-front-right");
    EXPECT_EQ(to_string(AudioChannelPosition::mono), "mono");
    EXPECT_EQ(to_string(AudioChannelPosition::none), "none");
}

TEST(AudioChannelsTest, DefaultMasksAreGStreamers) {
    const std::uint64_t expected[] = {0, 0x0, 0x3, 0xb, 0x33, 0x37, 0x3f, 0x13f, 0xc3f, 0};
    for (std::uint32_t channels = 0; channels < std::size(expected); ++channels) {
        EXPECT_EQ(audio_default_channel_mask(channels), expected[channels]) << channels;
    }
    EXPECT_EQ(audio_default_channel_mask(64), 0U);
}

TEST(AudioChannelsTest, PositionsOfAMaskFollowBitOrder) {
    using P = AudioChannelPosition;
    EXPECT_EQ(audio_channel_positions(0x3f, 6),
              (std::vector<P>{P::front_left, P::front_right, P::front_center, P::lfe1, P::rear_left, P::rear_right}));
    EXPECT_EQ(audio_channel_positions(0, 1), (std::vector<P>{P::mono}));
    EXPECT_EQ(audio_channel_positions(0x4, 1), (std::vector<P>{P::front_center}));
    EXPECT_EQ(audio_channel_positions(0, 3), (std::vector<P>{P::none, P::none, P::none}));
    EXPECT_TRUE(audio_channel_positions(0x3, 3).empty());
    EXPECT_TRUE(audio_channel_positions(std::uint64_t{1} << 28, 1).empty());
    EXPECT_TRUE(audio_channel_positions(0, 0).empty());
    EXPECT_TRUE(audio_channel_positions(0, 65).empty());
}

} // namespace
} // namespace parallax
