#pragma once

// Private to the audio elements: reading the AudioInfo of negotiated
// `audio/x-raw` caps, and the last steps of fixating such caps, as every
// audio element does them.

#include <parallax/audio/audio_info.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/caps/caps_ops.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string_view>
#include <utility>

namespace parallax::detail {

/// The AudioInfo of `caps`; when they do not describe raw audio, a
/// not_negotiated error that begins with `side` ("input" or "output") so
/// that the message says which caps were wrong. The element's name is added
/// by the caller of set_caps().
inline Result<AudioInfo> audio_info_from_caps(const Caps& caps, std::string_view side) {
    auto info = AudioInfo::from_caps(caps);
    if (!info) {
        return fail(Errc::not_negotiated, fmt::format("{} caps: {}", side, info.error().message()));
    }
    return info;
}

/// The input and output of a transform.
struct AudioInfoPair {
    AudioInfo in;
    AudioInfo out;
};

/// The AudioInfo of both sides of a transform (see audio_info_from_caps()).
inline Result<AudioInfoPair> audio_infos_from_caps(const Caps& in_caps, const Caps& out_caps) {
    auto in = audio_info_from_caps(in_caps, "input");
    if (!in) {
        return fail(std::move(in.error()));
    }
    auto out = audio_info_from_caps(out_caps, "output");
    if (!out) {
        return fail(std::move(out.error()));
    }
    return AudioInfoPair{std::move(*in), std::move(*out)};
}

/// Caps of the one structure `s`, fixated (every field at one value), with
/// `features`. More than two channels without a channel-mask get the
/// default mask of their count, as GStreamer's audio elements give them.
inline Caps fixated_audio_caps(const Structure& s, const CapsFeatures& features) {
    Structure fixed = fixate(s);
    const auto channels = fixed.get_int("channels");
    if (channels && *channels > 2 && !fixed.has("channel-mask")) {
        fixed.set("channel-mask", Bitmask{audio_default_channel_mask(static_cast<std::uint32_t>(*channels))});
    }
    Caps out;
    out.append(std::move(fixed), features);
    return out;
}

} // namespace parallax::detail
