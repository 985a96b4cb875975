#include <parallax/audio/audio_channels.hpp>

#include <array>
#include <bit>

namespace parallax {

namespace {

// GStreamer's nicks of GstAudioChannelPosition, indexed by bit.
constexpr std::array<std::string_view, audio_channel_position_max + 1> position_names{
    "front-left",
    "front-right",
    "front-center",
    "lfe1",
    "rear-left",
    "rear-right",
    "front-left-of-center",
    "front-right-of-center",
    "rear-center",
    "lfe2",
    "side-left",
    "side-right",
    "top-front-left",
    "top-front-right",
    "top-front-center",
    "top-center",
    "top-rear-left",
    "top-rear-right",
    "top-side-left",
    "top-side-right",
    "top-rear-center",
    "bottom-front-center",
    "bottom-front-left",
    "bottom-front-right",
    "wide-left",
    "wide-right",
    "surround-left",
    "surround-right",
};

constexpr std::uint64_t valid_bits = (std::uint64_t{1} << (audio_channel_position_max + 1)) - 1;

} // namespace

std::string_view to_string(AudioChannelPosition position) noexcept {
    switch (position) {
    case AudioChannelPosition::none:
        return "none";
    case AudioChannelPosition::mono:
        return "mono";
    default:
        break;
    }
    const auto index = static_cast<int>(position);
    if (index < 0 || index > audio_channel_position_max) {
        return "invalid";
    }
    return position_names[static_cast<std::size_t>(index)];
}

std::vector<AudioChannelPosition> audio_channel_positions(std::uint64_t mask, std::uint32_t channels) {
    if (channels == 0 || channels > audio_max_channels) {
        return {};
    }
    if (mask == 0) {
        return std::vector<AudioChannelPosition>(channels, channels == 1 ? AudioChannelPosition::mono
                                                                         : AudioChannelPosition::none);
    }
    if ((mask & ~valid_bits) != 0 || static_cast<std::uint32_t>(std::popcount(mask)) != channels) {
        return {};
    }
    std::vector<AudioChannelPosition> positions;
    positions.reserve(channels);
    for (int bit = 0; bit <= audio_channel_position_max; ++bit) {
        if ((mask & (std::uint64_t{1} << bit)) != 0) {
            positions.push_back(static_cast<AudioChannelPosition>(bit));
        }
    }
    return positions;
}

} // namespace parallax
