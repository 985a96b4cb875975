#pragma once

/// \file
/// AudioInfo: a fixed `audio/x-raw` format (sample format, layout, rate,
/// channels, channel mask) and the sizes that follow from it, as GStreamer's
/// GstAudioInfo; and AudioLayout.

#include <parallax/audio/audio_channels.hpp>
#include <parallax/audio/audio_format.hpp>
#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/caps/structure.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parallax {

/// How the channels of a buffer are arranged (the `layout` caps field).
enum class AudioLayout : std::uint8_t {
    interleaved,     ///< "interleaved": frame after frame, each frame one sample per channel.
    non_interleaved, ///< "non-interleaved": one plane per channel, each plane all of its samples.
};

/// GStreamer's name of `layout`: "interleaved" or "non-interleaved".
[[nodiscard]] PARALLAX_API std::string_view to_string(AudioLayout layout) noexcept;

/// A fixed raw audio format. A small value.
///
/// A frame is one sample of every channel. Built only through make() or
/// from_caps(), so that it always holds a valid format, a rate of at least
/// 1, 1 to 64 channels and a channel mask that fits them.
class PARALLAX_API AudioInfo {
public:
    /// Audio of `format` at `rate` frames per second with `channels`
    /// channels and GStreamer's default mask for that many channels (see
    /// audio_default_channel_mask). Fails (Errc::invalid_argument) when the
    /// rate is 0 or above 2^31 - 1 or the channels are not 1 to 64.
    [[nodiscard]] static Result<AudioInfo> make(AudioFormat format, std::uint32_t rate, std::uint32_t channels,
                                                AudioLayout layout = AudioLayout::interleaved);

    /// Reads fixed `audio/x-raw` caps with one structure and no caps features
    /// other than `memory:SystemMemory`: `format` (string), `rate` (int >= 1),
    /// `channels` (int, 1 to 64) and `layout` (string) are required;
    /// `channel-mask` (bitmask) may be left out for mono and stereo only (as
    /// in GStreamer), and then is 0 (mono) or 0x3 (stereo). A mask of 0 with
    /// several channels means unpositioned channels; any other mask must set
    /// as many bits as there are channels, all of them positions 0 to 27.
    /// Other fields are ignored. Errors (Errc::invalid_argument) name the
    /// field and its value.
    [[nodiscard]] static Result<AudioInfo> from_caps(const Caps& caps);
    /// Same, from one structure.
    [[nodiscard]] static Result<AudioInfo> from_structure(const Structure& structure);

    /// The caps GStreamer's gst_audio_info_to_caps writes, fields in its
    /// order: `audio/x-raw, format=(string)S16LE, layout=(string)interleaved,
    /// rate=(int)48000, channels=(int)2,
    /// channel-mask=(bitmask)0x0000000000000003`. channel-mask is left out
    /// for mono without a mask.
    [[nodiscard]] Caps to_caps() const;
    /// The structure of to_caps().
    [[nodiscard]] Structure to_structure() const;

    [[nodiscard]] AudioFormat format() const noexcept { return format_; }
    [[nodiscard]] const AudioFormatInfo& format_info() const noexcept { return audio_format_info(format_); }
    [[nodiscard]] AudioLayout layout() const noexcept { return layout_; }
    /// Frames per second.
    [[nodiscard]] std::uint32_t rate() const noexcept { return rate_; }
    [[nodiscard]] std::uint32_t channels() const noexcept { return channels_; }
    /// The channel mask: one bit per channel, in channel order (see
    /// AudioChannelPosition); 0 for mono without a mask and for
    /// unpositioned channels.
    [[nodiscard]] std::uint64_t channel_mask() const noexcept { return channel_mask_; }
    /// True when several channels have no positions (mask 0).
    [[nodiscard]] bool is_unpositioned() const noexcept { return channels_ > 1 && channel_mask_ == 0; }
    /// The position of each channel, in channel order.
    [[nodiscard]] std::vector<AudioChannelPosition> positions() const {
        return audio_channel_positions(channel_mask_, channels_);
    }

    /// Sets the channel mask; fails (Errc::invalid_argument) unless it is 0
    /// or sets exactly channels() bits, all of them positions 0 to 27.
    Result<void> set_channel_mask(std::uint64_t mask);

    /// Bytes of one sample.
    [[nodiscard]] std::size_t sample_size() const noexcept { return format_info().sample_size(); }
    /// Bytes of one frame: sample_size() * channels().
    [[nodiscard]] std::size_t bytes_per_frame() const noexcept { return sample_size() * channels_; }

    /// The number of frames in `size` bytes. Fails with Errc::out_of_range,
    /// naming the size, the frame size and the format, when `size` is not a
    /// whole number of frames; the error is ready for Error::at_element.
    [[nodiscard]] Result<std::size_t> frames_in(std::size_t size) const;
    /// Same as frames_in(), without the count: ok when `size` is a whole
    /// number of frames.
    [[nodiscard]] Result<void> check_buffer_size(std::size_t size) const;

    /// "S16LE 48000 Hz 2 channels interleaved", for logs and messages.
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const AudioInfo&, const AudioInfo&) = default;

private:
    AudioInfo() = default;

    AudioFormat format_ = AudioFormat::s16le;
    AudioLayout layout_ = AudioLayout::interleaved;
    std::uint32_t rate_ = 0;
    std::uint32_t channels_ = 0;
    std::uint64_t channel_mask_ = 0;
};

} // namespace parallax
