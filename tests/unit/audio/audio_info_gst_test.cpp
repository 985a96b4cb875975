// AudioInfo against GStreamer's own gst_audio_info_from_caps and
// gst_audio_info_to_caps.

#include <parallax/audio/audio_info.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <gst/audio/audio.h>
#include <gst/gst.h>
#include <optional>
#include <string>

namespace parallax {
namespace {

void init_gstreamer() {
    static const bool initialized = [] {
        gst_init(nullptr, nullptr);
        return true;
    }();
    static_cast<void>(initialized);
}

std::optional<GstAudioInfo> gst_info_of(const std::string& caps_text) {
    init_gstreamer();
    GstCaps* caps = gst_caps_from_string(caps_text.c_str());
    if (caps == nullptr) {
        return std::nullopt;
    }
    GstAudioInfo info;
    const bool ok = gst_audio_info_from_caps(&info, caps) != 0;
    gst_caps_unref(caps);
    if (!ok) {
        return std::nullopt;
    }
    return info;
}

std::string gst_caps_text(const GstAudioInfo& info) {
    GstCaps* caps = gst_audio_info_to_caps(&info);
    gchar* text = gst_caps_to_string(caps);
    std::string result = text;
    g_free(text);
    gst_caps_unref(caps);
    return result;
}

TEST(AudioInfoGstTest, FormatTableMatchesGStreamer) {
    init_gstreamer();
    for (const AudioFormatInfo& fi : audio_format_table) {
        SCOPED_TRACE(fi.name);
        const GstAudioFormat format = gst_audio_format_from_string(std::string(fi.name).c_str());
        ASSERT_NE(format, GST_AUDIO_FORMAT_UNKNOWN);
        const GstAudioFormatInfo* gst = gst_audio_format_get_info(format);
        EXPECT_EQ(fi.width, GST_AUDIO_FORMAT_INFO_WIDTH(gst));
        EXPECT_EQ(fi.depth, GST_AUDIO_FORMAT_INFO_DEPTH(gst));
        if (fi.is_integer()) {
            EXPECT_EQ(fi.is_signed, GST_AUDIO_FORMAT_INFO_IS_SIGNED(gst) != 0);
        }
        EXPECT_EQ(fi.is_float, GST_AUDIO_FORMAT_INFO_IS_FLOAT(gst) != 0);
        for (std::size_t i = 0; i < fi.sample_size(); ++i) {
            EXPECT_EQ(fi.silence_byte, gst->silence[i]);
        }
    }
}

TEST(AudioInfoGstTest, DefaultMasksMatchGStreamer) {
    init_gstreamer();
    for (std::uint32_t channels = 1; channels <= audio_max_channels; ++channels) {
        EXPECT_EQ(audio_default_channel_mask(channels),
                  gst_audio_channel_get_fallback_mask(static_cast<gint>(channels)))
            << channels;
    }
}

TEST(AudioInfoGstTest, CapsReadAndWriteAsInGStreamer) {
    const char* cases[] = {
        "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=2",
        "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=1",
        "audio/x-raw, format=U8, layout=interleaved, rate=8000, channels=1, channel-mask=(bitmask)0x4",
        "audio/x-raw, format=F32LE, layout=non-interleaved, rate=44100, channels=2",
        "audio/x-raw, format=S32LE, layout=interleaved, rate=96000, channels=6, channel-mask=(bitmask)0x3f",
        "audio/x-raw, format=F64LE, layout=interleaved, rate=192000, channels=8, channel-mask=(bitmask)0xc3f",
        "audio/x-raw, format=U8, layout=interleaved, rate=8000, channels=3, channel-mask=(bitmask)0x0",
        "audio/x-raw, format=F32LE, layout=non-interleaved, rate=1, channels=64, channel-mask=(bitmask)0x0",
    };
    for (const char* text : cases) {
        SCOPED_TRACE(text);
        auto ours = AudioInfo::from_caps(Caps::parse(text).value());
        ASSERT_TRUE(ours) << ours.error().to_string();
        auto gst = gst_info_of(text);
        ASSERT_TRUE(gst.has_value());
        EXPECT_EQ(ours->bytes_per_frame(), static_cast<std::size_t>(GST_AUDIO_INFO_BPF(&*gst)));
        EXPECT_EQ(ours->rate(), static_cast<std::uint32_t>(GST_AUDIO_INFO_RATE(&*gst)));
        EXPECT_EQ(ours->channels(), static_cast<std::uint32_t>(GST_AUDIO_INFO_CHANNELS(&*gst)));
        EXPECT_EQ(ours->is_unpositioned(), GST_AUDIO_INFO_IS_UNPOSITIONED(&*gst));
        EXPECT_EQ(ours->to_caps().to_string(), gst_caps_text(*gst));
        const auto positions = ours->positions();
        for (std::size_t c = 0; c < positions.size(); ++c) {
            EXPECT_EQ(static_cast<int>(positions[c]), static_cast<int>(gst->position[c])) << "channel " << c;
        }
    }
}

TEST(AudioInfoGstTest, CapsGStreamerRefusesAreRefused) {
    for (const char* text : {"audio/x-raw, format=S16LE, rate=48000, channels=2",
                             "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=6",
                             "audio/x-raw, format=S16LE, layout=planar, rate=48000, channels=2",
                             "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=0",
                             "audio/x-raw, format=S16LE, layout=interleaved, rate=48000, channels=65"}) {
        SCOPED_TRACE(text);
        EXPECT_FALSE(gst_info_of(text).has_value());
        EXPECT_FALSE(AudioInfo::from_caps(Caps::parse(text).value()));
    }
}

} // namespace
} // namespace parallax
