#include <parallax/audio/audio_format.hpp>

#include "video/media_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace parallax {

namespace detail {

void bad_audio_format(AudioFormat format) {
    fmt::print(stderr, "parallax: {} is not an AudioFormat\n", static_cast<int>(format));
    std::abort();
}

} // namespace detail

Result<AudioFormat> audio_format_from_string(std::string_view name) {
    for (const AudioFormatInfo& info : audio_format_table) {
        if (info.name == name) {
            return info.format;
        }
    }
    std::array<std::string_view, audio_format_table.size()> names{};
    for (std::size_t i = 0; i < names.size(); ++i) {
        names[i] = audio_format_table[i].name;
    }
    if (std::string_view close = detail::closest_name(name, names); !close.empty()) {
        return fail(Errc::invalid_argument, fmt::format("unknown audio format '{}'; did you mean {}?", name, close));
    }
    return fail(Errc::invalid_argument,
                fmt::format("unknown audio format '{}'; known formats: {}", name, fmt::join(names, ", ")));
}

void fill_silence(AudioFormat format, std::span<std::byte> bytes) noexcept {
    std::fill(bytes.begin(), bytes.end(), std::byte{audio_format_info(format).silence_byte});
}

} // namespace parallax
