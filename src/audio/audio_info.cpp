#include <parallax/audio/audio_info.hpp>

#include "video/media_text.hpp"

#include <fmt/format.h>

#include <bit>
#include <limits>

namespace parallax {

namespace {

constexpr std::string_view media_type = "audio/x-raw";
constexpr std::uint32_t max_rate = static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max());
constexpr std::uint64_t valid_mask_bits = (std::uint64_t{1} << (audio_channel_position_max + 1)) - 1;

// Why `mask` does not fit `channels` channels, or "" when it does.
std::string mask_problem(std::uint64_t mask, std::uint32_t channels) {
    if (mask == 0) {
        return {};
    }
    if ((mask & ~valid_mask_bits) != 0) {
        return fmt::format("bits 28 to 63 (0x{:x}) are not channel positions", mask & ~valid_mask_bits);
    }
    const auto bits = static_cast<std::uint32_t>(std::popcount(mask));
    if (bits != channels) {
        return fmt::format("it positions {} channel{} but there {} {}", bits, bits == 1 ? "" : "s",
                           channels == 1 ? "is" : "are", channels);
    }
    return {};
}

} // namespace

std::string_view to_string(AudioLayout layout) noexcept {
    return layout == AudioLayout::interleaved ? "interleaved" : "non-interleaved";
}

Result<AudioInfo> AudioInfo::make(AudioFormat format, std::uint32_t rate, std::uint32_t channels, AudioLayout layout) {
    static_cast<void>(audio_format_info(format)); // aborts on a value that is not an AudioFormat
    if (rate == 0 || rate > max_rate) {
        return fail(Errc::invalid_argument,
                    fmt::format("audio rate {} is not allowed: it must be 1 to {}", rate, max_rate));
    }
    if (channels == 0 || channels > audio_max_channels) {
        return fail(Errc::invalid_argument, fmt::format("{} audio channels are not allowed: there must be 1 to {}",
                                                        channels, audio_max_channels));
    }
    AudioInfo info;
    info.format_ = format;
    info.layout_ = layout;
    info.rate_ = rate;
    info.channels_ = channels;
    info.channel_mask_ = audio_default_channel_mask(channels);
    return info;
}

Result<AudioInfo> AudioInfo::from_caps(const Caps& caps) {
    auto structure = detail::single_fixed_structure(caps, media_type);
    if (!structure) {
        return fail(std::move(structure.error()));
    }
    return from_structure(**structure);
}

Result<AudioInfo> AudioInfo::from_structure(const Structure& s) {
    if (auto ok = detail::check_fixed_structure(s, media_type); !ok) {
        return fail(std::move(ok.error()));
    }

    auto format_name = detail::string_field(s, "format", true);
    if (!format_name) {
        return fail(std::move(format_name.error()));
    }
    auto format = audio_format_from_string(**format_name);
    if (!format) {
        return fail(Errc::invalid_argument, fmt::format("{} field 'format': {}", media_type, format.error().message()));
    }

    auto rate = detail::int_field(s, "rate", true);
    if (!rate) {
        return fail(std::move(rate.error()));
    }
    if (**rate < 1) {
        return fail(detail::field_error(Errc::invalid_argument, media_type, "rate", **rate, "it must be at least 1"));
    }

    auto channels = detail::int_field(s, "channels", true);
    if (!channels) {
        return fail(std::move(channels.error()));
    }
    if (**channels < 1 || **channels > static_cast<std::int32_t>(audio_max_channels)) {
        return fail(detail::field_error(Errc::invalid_argument, media_type, "channels", **channels,
                                        fmt::format("it must be 1 to {}", audio_max_channels)));
    }
    const auto channel_count = static_cast<std::uint32_t>(**channels);

    auto layout_name = detail::string_field(s, "layout", true);
    if (!layout_name) {
        return fail(std::move(layout_name.error()));
    }
    AudioLayout layout = AudioLayout::interleaved;
    if (**layout_name == "non-interleaved") {
        layout = AudioLayout::non_interleaved;
    } else if (**layout_name != "interleaved") {
        return fail(detail::field_error(Errc::invalid_argument, media_type, "layout", **layout_name,
                                        "expected interleaved or non-interleaved"));
    }

    std::uint64_t mask = 0;
    if (const CapsValue* value = s.get("channel-mask")) {
        const auto* bits = value->get_if<Bitmask>();
        if (bits == nullptr) {
            return fail(Errc::invalid_argument,
                        fmt::format("{} field 'channel-mask' is {} ({}); expected a bitmask", media_type,
                                    detail::describe_type(*value), detail::describe_value(*value)));
        }
        mask = bits->bits;
        if (std::string problem = mask_problem(mask, channel_count); !problem.empty()) {
            return fail(detail::field_error(Errc::invalid_argument, media_type, "channel-mask", *value, problem));
        }
    } else if (channel_count == 2) {
        mask = audio_default_channel_mask(2);
    } else if (channel_count > 2) {
        return fail(Errc::invalid_argument,
                    fmt::format("{} caps with {} channels lack the field 'channel-mask' (only mono and stereo may "
                                "leave it out; 0x0 means unpositioned channels)",
                                media_type, channel_count));
    }

    auto info = make(*format, static_cast<std::uint32_t>(**rate), channel_count, layout);
    if (!info) {
        return fail(std::move(info.error()));
    }
    info->channel_mask_ = mask;
    return info;
}

Structure AudioInfo::to_structure() const {
    Structure s(media_type);
    s.set("format", parallax::to_string(format_));
    s.set("layout", parallax::to_string(layout_));
    s.set("rate", static_cast<std::int32_t>(rate_));
    s.set("channels", static_cast<std::int32_t>(channels_));
    if (channels_ > 1 || channel_mask_ != 0) {
        s.set("channel-mask", Bitmask{channel_mask_});
    }
    return s;
}

Caps AudioInfo::to_caps() const {
    Caps caps;
    caps.append(to_structure());
    return caps;
}

Result<void> AudioInfo::set_channel_mask(std::uint64_t mask) {
    if (std::string problem = mask_problem(mask, channels_); !problem.empty()) {
        return fail(Errc::invalid_argument, fmt::format("channel-mask 0x{:x}: {}", mask, problem));
    }
    channel_mask_ = mask;
    return {};
}

Result<std::size_t> AudioInfo::frames_in(std::size_t size) const {
    const std::size_t frame = bytes_per_frame();
    if (size % frame != 0) {
        return fail(Errc::out_of_range,
                    fmt::format("buffer of {} bytes is not a whole number of {} frames of {} bytes ({} frames and {} "
                                "bytes left over)",
                                size, to_string(), frame, size / frame, size % frame));
    }
    return size / frame;
}

Result<void> AudioInfo::check_buffer_size(std::size_t size) const {
    auto frames = frames_in(size);
    if (!frames) {
        return fail(std::move(frames.error()));
    }
    return {};
}

std::string AudioInfo::to_string() const {
    return fmt::format("{} {} Hz {} channel{} {}", format_info().name, rate_, channels_, channels_ == 1 ? "" : "s",
                       parallax::to_string(layout_));
}

} // namespace parallax
