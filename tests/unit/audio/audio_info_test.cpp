#include <parallax/audio/audio_info.hpp>

#include "support/caps_helpers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace parallax {
namespace {

using check::parsed;

AudioInfo info_of(std::string_view caps) {
    auto info = AudioInfo::from_caps(parsed(caps));
    EXPECT_TRUE(info) << caps << ": " << (info ? "" : info.error().to_string());
    return info ? *info : AudioInfo::make(AudioFormat::u8, 8000, 1).value();
}

Error error_of(std::string_view caps) {
    auto info = AudioInfo::from_caps(parsed(caps));
    EXPECT_FALSE(info) << caps;
    return info ? Error(Errc::failed, "no error") : info.error();
}

TEST(AudioInfoTest, MakeUsesTheDefaultMask) {
    auto stereo = AudioInfo::make(AudioFormat::s16le, 48000, 2);
    ASSERT_TRUE(stereo);
    EXPECT_EQ(stereo->format(), AudioFormat::s16le);
    EXPECT_EQ(stereo->rate(), 48000U);
    EXPECT_EQ(stereo->channels(), 2U);
    EXPECT_EQ(stereo->channel_mask(), 0x3U);
    EXPECT_EQ(stereo->layout(), AudioLayout::interleaved);
    EXPECT_EQ(stereo->sample_size(), 2U);
    EXPECT_EQ(stereo->bytes_per_frame(), 4U);
    EXPECT_FALSE(stereo->is_unpositioned());

    EXPECT_EQ(AudioInfo::make(AudioFormat::f32le, 48000, 6).value().channel_mask(), 0x3fU);
    EXPECT_EQ(AudioInfo::make(AudioFormat::f32le, 48000, 1).value().channel_mask(), 0U);
    auto many = AudioInfo::make(AudioFormat::f64le, 96000, 16, AudioLayout::non_interleaved);
    ASSERT_TRUE(many);
    EXPECT_TRUE(many->is_unpositioned());
    EXPECT_EQ(many->bytes_per_frame(), 128U);
}

TEST(AudioInfoTest, MakeRejectsBadRatesAndChannelCounts) {
    EXPECT_TRUE(AudioInfo::make(AudioFormat::u8, 0, 1).error().is(Errc::invalid_argument));
    EXPECT_TRUE(AudioInfo::make(AudioFormat::u8, 0x80000000U, 1).error().is(Errc::invalid_argument));
    EXPECT_TRUE(AudioInfo::make(AudioFormat::u8, 8000, 0).error().is(Errc::invalid_argument));
    EXPECT_TRUE(AudioInfo::make(AudioFormat::u8, 8000, 65).error().is(Errc::invalid_argument));
    EXPECT_TRUE(AudioInfo::make(AudioFormat::u8, 8000, 64));
}

TEST(AudioInfoTest, FromCapsReadsEveryField) {
    const AudioInfo info = info_of("audio/x-raw, format=F32LE, layout=non-interleaved, rate=44100, channels=6, "
                                   "channel-mask=(bitmask)0x3f");
    EXPECT_EQ(info.format(), AudioFormat::f32le);
    EXPECT_EQ(info.layout(), AudioLayout::non_interleaved);
    EXPECT_EQ(info.rate(), 44100U);
    EXPECT_EQ(info.channels(), 6U);
    EXPECT_EQ(info.channel_mask(), 0x3fU);
    EXPECT_EQ(info.positions().size(), 6U);
    EXPECT_EQ(info.positions()[3], AudioChannelPosition::lfe1);
}

TEST(AudioInfoTest, MonoAndStereoMayLeaveOutTheMask) {
    const AudioInfo mono = info_of("audio/x-raw, format=S16LE, layout=interleaved, rate=8000, channels=1");
    EXPECT_EQ(mono.channel_mask(), 0U);
    EXPECT_EQ(mono.positions(), std::vector<AudioChannelPosition>{AudioChannelPosition::mono});
    const AudioInfo stereo = info_of("audio/x-raw, format=S16LE, layout=interleaved, rate=8000, channels=2");
    EXPECT_EQ(stereo.channel_mask(), 0x3U);
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, layout=interleaved, rate=8000, channels=6").message(),
              "audio/x-raw caps with 6 channels lack the field 'channel-mask' (only mono and stereo may leave it "
              "out; 0x0 means unpositioned channels)");
}

TEST(AudioInfoTest, ZeroMaskMeansUnpositioned) {
    const AudioInfo info = info_of("audio/x-raw, format=U8, layout=interleaved, rate=8000, channels=4, "
                                   "channel-mask=(bitmask)0x0");
    EXPECT_TRUE(info.is_unpositioned());
    EXPECT_EQ(info.positions(), std::vector<AudioChannelPosition>(4, AudioChannelPosition::none));
}

TEST(AudioInfoTest, ToCapsWritesGStreamersFieldsInItsOrder) {
    EXPECT_EQ(AudioInfo::make(AudioFormat::s16le, 48000, 2).value().to_caps().to_string(),
              "audio/x-raw, format=(string)S16LE, layout=(string)interleaved, rate=(int)48000, channels=(int)2, "
              "channel-mask=(bitmask)0x0000000000000003");
    EXPECT_EQ(AudioInfo::make(AudioFormat::u8, 8000, 1).value().to_caps().to_string(),
              "audio/x-raw, format=(string)U8, layout=(string)interleaved, rate=(int)8000, channels=(int)1");
    auto front_center = AudioInfo::make(AudioFormat::u8, 8000, 1).value();
    ASSERT_TRUE(front_center.set_channel_mask(0x4));
    EXPECT_EQ(front_center.to_structure().get("channel-mask")->to_string(), "(bitmask)0x0000000000000004");
    EXPECT_EQ(AudioInfo::make(AudioFormat::f64le, 8000, 12, AudioLayout::non_interleaved).value().to_caps().to_string(),
              "audio/x-raw, format=(string)F64LE, layout=(string)non-interleaved, rate=(int)8000, channels=(int)12, "
              "channel-mask=(bitmask)0x0000000000000000");
}

TEST(AudioInfoTest, CapsRoundTrip) {
    for (const AudioFormatInfo& fi : audio_format_table) {
        for (std::uint32_t channels : {1U, 2U, 3U, 6U, 8U, 9U, 64U}) {
            for (AudioLayout layout : {AudioLayout::interleaved, AudioLayout::non_interleaved}) {
                auto info = AudioInfo::make(fi.format, 22050, channels, layout);
                ASSERT_TRUE(info);
                auto back = AudioInfo::from_caps(parsed(info->to_caps().to_string()));
                ASSERT_TRUE(back) << back.error().to_string();
                EXPECT_EQ(*back, *info) << info->to_string();
            }
        }
    }
}

TEST(AudioInfoTest, ErrorsNameTheFieldAndTheValue) {
    EXPECT_EQ(error_of("audio/x-raw, format=S16EL, layout=interleaved, rate=8000, channels=1").message(),
              "audio/x-raw field 'format': unknown audio format 'S16EL'; did you mean S16LE?");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, layout=interleaved, rate=0, channels=1").message(),
              "audio/x-raw field 'rate' is 0: it must be at least 1");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, layout=interleaved, rate=8000, channels=65").message(),
              "audio/x-raw field 'channels' is 65: it must be 1 to 64");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, layout=interleaved, rate=8000, channels=0").message(),
              "audio/x-raw field 'channels' is 0: it must be 1 to 64");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, layout=planar, rate=8000, channels=1").message(),
              "audio/x-raw field 'layout' is 'planar': expected interleaved or non-interleaved");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, rate=8000, channels=1").message(),
              "audio/x-raw caps lack the field 'layout'");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, layout=interleaved, channels=1").message(),
              "audio/x-raw caps lack the field 'rate'");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, layout=interleaved, rate=44100.0, channels=1").message(),
              "audio/x-raw field 'rate' is a double (44100); expected an int");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, layout=interleaved, rate=8000, channels=6, "
                       "channel-mask=(bitmask)0x3")
                  .message(),
              "audio/x-raw field 'channel-mask' is 0x0000000000000003: it positions 2 channels but there are 6");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, layout=interleaved, rate=8000, channels=1, "
                       "channel-mask=(bitmask)0x10000000")
                  .message(),
              "audio/x-raw field 'channel-mask' is 0x0000000010000000: bits 28 to 63 (0x10000000) are not channel "
              "positions");
    EXPECT_EQ(
        error_of("audio/x-raw, format=S16LE, layout=interleaved, rate=8000, channels=2, channel-mask=3").message(),
        "audio/x-raw field 'channel-mask' is an int (3); expected a bitmask");
    EXPECT_EQ(error_of("audio/x-raw, format=S16LE, layout=interleaved, rate=[ 8000, 48000 ], channels=2").message(),
              "audio/x-raw caps are not fixed: field 'rate' is an int range ([ 8000, 48000 ])");
    EXPECT_EQ(error_of("video/x-raw, format=I420").message(), "expected audio/x-raw caps, got video/x-raw");
}

TEST(AudioInfoTest, SetChannelMaskChecksTheBits) {
    auto info = AudioInfo::make(AudioFormat::s16le, 48000, 2).value();
    EXPECT_TRUE(info.set_channel_mask(0x0));
    EXPECT_TRUE(info.is_unpositioned());
    EXPECT_TRUE(info.set_channel_mask(0x600)); // lfe2 and side-left
    auto bad = info.set_channel_mask(0x7);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message(), "channel-mask 0x7: it positions 3 channels but there are 2");
    EXPECT_EQ(info.channel_mask(), 0x600U);
}

TEST(AudioInfoTest, FramesInABufferMustBeWhole) {
    auto info = AudioInfo::make(AudioFormat::s16le, 48000, 2).value();
    EXPECT_EQ(info.frames_in(0).value(), 0U);
    EXPECT_EQ(info.frames_in(4096).value(), 1024U);
    EXPECT_TRUE(info.check_buffer_size(4096));
    auto odd = info.frames_in(4098);
    ASSERT_FALSE(odd);
    EXPECT_TRUE(odd.error().is(Errc::out_of_range));
    EXPECT_EQ(odd.error().message(), "buffer of 4098 bytes is not a whole number of S16LE 48000 Hz 2 channels "
                                     "interleaved frames of 4 bytes (1024 frames and 2 bytes left over)");
    Error attached = info.check_buffer_size(3).error();
    attached.at_element("audioconvert0");
    EXPECT_EQ(attached.element(), "audioconvert0");
    EXPECT_NE(attached.to_string().find("audioconvert0"), std::string::npos);
}

} // namespace
} // namespace parallax
