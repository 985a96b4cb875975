#pragma once

/// \file
/// AudioChannelPosition: where a channel's speaker stands, and the channel
/// masks of `audio/x-raw` caps (the `channel-mask` field), with GStreamer's
/// bit positions and default masks.

#include <parallax/base/export.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace parallax {

/// A speaker position. The value of each positioned entry is its bit in a
/// channel mask (GstAudioChannelPosition): front_left is bit 0 (0x1),
/// front_right bit 1 (0x2), front_center bit 2 (0x4), lfe1 bit 3 (0x8),
/// rear_left bit 4 (0x10), rear_right bit 5 (0x20), and so on.
enum class AudioChannelPosition : std::int8_t {
    none = -3, ///< An unpositioned channel (a mask of 0 with several channels).
    mono = -2, ///< The one channel of mono audio without a mask.
    front_left = 0,
    front_right = 1,
    front_center = 2,
    lfe1 = 3,
    rear_left = 4,
    rear_right = 5,
    front_left_of_center = 6,
    front_right_of_center = 7,
    rear_center = 8,
    lfe2 = 9,
    side_left = 10,
    side_right = 11,
    top_front_left = 12,
    top_front_right = 13,
    top_front_center = 14,
    top_center = 15,
    top_rear_left = 16,
    top_rear_right = 17,
    top_side_left = 18,
    top_side_right = 19,
    top_rear_center = 20,
    bottom_front_center = 21,
    bottom_front_left = 22,
    bottom_front_right = 23,
    wide_left = 24,
    wide_right = 25,
    surround_left = 26,
    surround_right = 27,
};

/// The highest positioned AudioChannelPosition; masks use bits 0 to 27.
inline constexpr int audio_channel_position_max = 27;
/// The most channels `audio/x-raw` caps may have.
inline constexpr std::uint32_t audio_max_channels = 64;

/// The mask bit of `position`; 0 for none and mono.
[[nodiscard]] constexpr std::uint64_t audio_channel_bit(AudioChannelPosition position) noexcept {
    const auto p = static_cast<int>(position);
    return p < 0 ? 0 : std::uint64_t{1} << p;
}

/// GStreamer's default mask for `channels` channels
/// (gst_audio_channel_get_fallback_mask): 1: 0 (mono), 2: 0x3 (stereo),
/// 3: 0xb (2.1), 4: 0x33 (quad), 5: 0x37, 6: 0x3f (5.1), 7: 0x13f (6.1),
/// 8: 0xc3f (7.1); 0 (unpositioned) for more.
[[nodiscard]] constexpr std::uint64_t audio_default_channel_mask(std::uint32_t channels) noexcept {
    constexpr std::uint64_t masks[] = {0x0, 0x0, 0x3, 0xb, 0x33, 0x37, 0x3f, 0x13f, 0xc3f};
    return channels < sizeof(masks) / sizeof(masks[0]) ? masks[channels] : 0;
}

/// GStreamer's name of `position`: "front-left", "lfe1", "mono", "none"...
[[nodiscard]] PARALLAX_API std::string_view to_string(AudioChannelPosition position) noexcept;

/// The positions of the channels of `channels`-channel audio with mask
/// `mask`, in channel order (that is, bit order, lowest first): `mono` for
/// one channel without a mask, `none` for each channel of an unpositioned
/// (zero) mask. Empty when the mask does not fit the channel count (bits
/// set must equal `channels`, and only bits 0 to 27 may be set).
[[nodiscard]] PARALLAX_API std::vector<AudioChannelPosition> audio_channel_positions(std::uint64_t mask,
                                                                                     std::uint32_t channels);

} // namespace parallax
