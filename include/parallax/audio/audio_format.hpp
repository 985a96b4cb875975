#pragma once

/// \file
/// AudioFormat: the `audio/x-raw` sample formats libparallax understands,
/// and AudioFormatInfo, a constexpr table that describes each one (width,
/// depth, signedness, integer or float, silence), named as in GStreamer.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace parallax {

/// A raw audio sample format. The caps string of each (`format=S16LE`) is
/// GStreamer's name, given in the comment and by to_string().
enum class AudioFormat : std::uint8_t {
    u8,    ///< "U8": unsigned 8-bit integers, silence 128.
    s16le, ///< "S16LE": signed 16-bit little-endian integers.
    s32le, ///< "S32LE": signed 32-bit little-endian integers.
    f32le, ///< "F32LE": 32-bit little-endian IEEE floats, full scale -1.0 to 1.0.
    f64le, ///< "F64LE": 64-bit little-endian IEEE floats, full scale -1.0 to 1.0.
};

/// A description of one AudioFormat. Entries of audio_format_table.
struct AudioFormatInfo {
    AudioFormat format = AudioFormat::u8;
    std::string_view name;        ///< GStreamer's format string, e.g. "S16LE".
    std::string_view description; ///< One line for people.
    std::uint8_t width = 0;       ///< Bits a sample takes in memory.
    std::uint8_t depth = 0;       ///< Significant bits of a sample.
    /// Samples can be negative: the signed integers and the floats. (GStreamer
    /// sets its SIGNED flag on the signed integer formats only.)
    bool is_signed = false;
    bool is_float = false;
    /// The value of every byte of a silent sample (0x80 for U8, 0 otherwise:
    /// for these formats silence is one byte repeated).
    std::uint8_t silence_byte = 0;

    /// Bytes a sample takes in memory.
    [[nodiscard]] constexpr std::size_t sample_size() const noexcept { return width / 8U; }
    [[nodiscard]] constexpr bool is_integer() const noexcept { return !is_float; }
};

namespace detail {
/// Aborts: `format` is not an AudioFormat enumerator (a cast gone wrong).
[[noreturn]] PARALLAX_API void bad_audio_format(AudioFormat format);
} // namespace detail

/// Every AudioFormat, in enumerator order.
inline constexpr std::array<AudioFormatInfo, 5> audio_format_table{{
    {AudioFormat::u8, "U8", "unsigned 8-bit integer", 8, 8, false, false, 0x80},
    {AudioFormat::s16le, "S16LE", "signed 16-bit little-endian integer", 16, 16, true, false, 0},
    {AudioFormat::s32le, "S32LE", "signed 32-bit little-endian integer", 32, 32, true, false, 0},
    {AudioFormat::f32le, "F32LE", "32-bit little-endian float", 32, 32, true, true, 0},
    {AudioFormat::f64le, "F64LE", "64-bit little-endian float", 64, 64, true, true, 0},
}};

namespace detail {
constexpr bool audio_format_table_in_order() {
    for (std::size_t i = 0; i < audio_format_table.size(); ++i) {
        if (static_cast<std::size_t>(audio_format_table[i].format) != i) {
            return false;
        }
    }
    return true;
}
static_assert(audio_format_table_in_order(), "audio_format_table must follow the order of AudioFormat");
} // namespace detail

/// The description of `format`.
[[nodiscard]] constexpr const AudioFormatInfo& audio_format_info(AudioFormat format) {
    const auto index = static_cast<std::size_t>(format);
    if (index >= audio_format_table.size()) {
        detail::bad_audio_format(format);
    }
    return audio_format_table[index];
}

/// GStreamer's name of `format`, e.g. "S16LE".
[[nodiscard]] constexpr std::string_view to_string(AudioFormat format) {
    return audio_format_info(format).name;
}

/// The format named `name` (GStreamer's name, case-sensitive as in caps).
/// Fails with Errc::invalid_argument, suggesting the closest name:
/// `unknown audio format 'S16EL'; did you mean S16LE?`.
[[nodiscard]] PARALLAX_API Result<AudioFormat> audio_format_from_string(std::string_view name);

/// Fills `bytes` with silence of `format` (every byte silence_byte).
PARALLAX_API void fill_silence(AudioFormat format, std::span<std::byte> bytes) noexcept;

} // namespace parallax
