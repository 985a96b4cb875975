#pragma once

/// \file
/// Opus: the identification and comment headers of RFC 7845 (OpusHead,
/// OpusTags), the packet framing of RFC 6716 section 3 (how many samples a
/// packet holds), and the caps libparallax gives an Opus stream.
///
/// Timing convention of Opus buffers in libparallax: each buffer holds one
/// packet; its pts and duration describe the audio that remains once the
/// decoder has dropped the stream's first `pre_skip` samples (at 48 kHz)
/// and, for the last packet, the padding after the end. A muxer writes the
/// Ogg granule position of a packet's end as pre_skip + (pts + duration) *
/// 48000 / 1e9; a demuxer does the inverse.
///
/// Every parser reads bytes from outside: a malformed input is an Error
/// (Errc::corrupt, Errc::version_mismatch for a newer major version) whose
/// message names the field and its byte offset, never a read out of bounds.

#include <parallax/audio/audio_channels.hpp>
#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/caps/caps.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace parallax::opus {

/// Opus decodes at 48 kHz; every sample count here is at that rate.
inline constexpr std::uint32_t sample_rate = 48000;
/// The longest packet RFC 6716 allows: 120 ms.
inline constexpr std::uint32_t max_packet_samples = 5760;

/// The identification header, OpusHead (RFC 7845 section 5.1).
struct Header {
    std::uint8_t version = 1;
    std::uint8_t channels = 0;
    /// Samples (at 48 kHz) to drop from the start of the decoded stream.
    std::uint16_t pre_skip = 0;
    /// The rate of the original input, for information only (0: unknown).
    std::uint32_t input_sample_rate = 0;
    /// Gain to apply to the decoded output, in Q7.8 dB.
    std::int16_t output_gain = 0;
    /// 0: mono or stereo, one stream; 1: Vorbis channel order, 1 to 8
    /// channels; 255 and others: a table without defined positions.
    std::uint8_t mapping_family = 0;
    std::uint8_t stream_count = 1;
    std::uint8_t coupled_count = 0;
    /// The channel mapping table, one entry per channel (empty for family 0).
    std::vector<std::uint8_t> mapping;

    friend bool operator==(const Header&, const Header&) = default;
};

/// Reads an OpusHead packet: the magic "OpusHead", a version whose major
/// part (upper four bits) is 0, at least one channel; family 0 with one or
/// two channels and no table; any other family with a table of one entry
/// per channel (family 1: at most 8 channels), stream_count >= 1,
/// coupled_count <= stream_count, stream_count + coupled_count <= 255 and
/// every entry below stream_count + coupled_count or 255 (silence). Bytes
/// after the header are allowed (RFC 7845 lets later minor versions add
/// fields) and ignored. For family 0, stream_count is 1 and coupled_count
/// channels - 1.
PARALLAX_API Result<Header> parse_head(std::span<const std::uint8_t> bytes);

/// The OpusHead packet of `h` (19 bytes for family 0, 21 + channels
/// otherwise; family 0 writes no table whatever `mapping` holds).
PARALLAX_API std::vector<std::uint8_t> write_head(const Header& h);

/// The comment header, OpusTags (RFC 7845 section 5.2).
struct Tags {
    std::string vendor;
    /// "NAME=value" strings, as stored (not checked for the '=').
    std::vector<std::string> comments;

    friend bool operator==(const Tags&, const Tags&) = default;
};

/// Reads an OpusTags packet: magic, vendor string, comment count and the
/// comments, each a 32-bit little-endian length and that many bytes. Bytes
/// after the last comment (RFC 7845 allows binary data there) are ignored.
PARALLAX_API Result<Tags> parse_tags(std::span<const std::uint8_t> bytes);

/// The OpusTags packet of `t`.
PARALLAX_API std::vector<std::uint8_t> write_tags(const Tags& t);

/// Samples per frame (at 48 kHz) of the configuration in TOC byte `toc`
/// (RFC 6716 section 3.1): 120 to 2880.
PARALLAX_API std::uint32_t frame_samples(std::uint8_t toc) noexcept;

/// The samples (at 48 kHz) packet `packet` decodes to: its frame size
/// times its frame count (TOC frame count code 0-3, RFC 6716 section
/// 3.2). The whole framing is checked as RFC 6716 section 3.4 requires:
/// frame lengths, padding, code 3 frame counts, CBR sizes. Errors for an
/// empty or malformed packet and for more than 120 ms, naming the byte
/// offset.
PARALLAX_API Result<std::uint32_t> packet_samples(std::span<const std::uint8_t> packet);

/// Caps of an Opus stream: `audio/x-opus, rate=(int)<input rate, 48000
/// when unknown>, channels=(int)N, channel-mapping-family=(int)F,
/// stream-count=(int)S, coupled-count=(int)C, codec_data=(buffer)<OpusHead>`.
PARALLAX_API Caps caps_for(const Header& h);

/// The header Opus caps describe: parsed from codec_data when present,
/// else built from the fields (channels required, 1 or 2;
/// channel-mapping-family must be 0 when present; rate becomes
/// input_sample_rate; pre-skip 0). Errors name the field.
PARALLAX_API Result<Header> header_from_caps(const Caps& caps);

/// The positions of the channels of mapping family 1 in coded order (the
/// Vorbis order, RFC 7845 section 5.1.1.2) for 1 to 8 channels: mono;
/// FL FR; FL FC FR; FL FR RL RR; FL FC FR RL RR; FL FC FR RL RR LFE;
/// FL FC FR SL SR RC LFE; FL FC FR SL SR RL RR LFE. Empty for other
/// counts.
PARALLAX_API std::vector<AudioChannelPosition> vorbis_channel_positions(unsigned channels);

} // namespace parallax::opus
