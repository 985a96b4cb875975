#include <parallax/video/video_format.hpp>

#include "video/media_text.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace parallax {

namespace detail {

void bad_video_format(VideoFormat format) {
    fmt::print(stderr, "parallax: {} is not a VideoFormat\n", static_cast<int>(format));
    std::abort();
}

} // namespace detail

Result<VideoFormat> video_format_from_string(std::string_view name) {
    for (const VideoFormatInfo& info : video_format_table) {
        if (info.name == name) {
            return info.format;
        }
    }
    std::array<std::string_view, video_format_table.size()> names{};
    for (std::size_t i = 0; i < names.size(); ++i) {
        names[i] = video_format_table[i].name;
    }
    if (std::string_view close = detail::closest_name(name, names); !close.empty()) {
        return fail(Errc::invalid_argument, fmt::format("unknown video format '{}'; did you mean {}?", name, close));
    }
    return fail(Errc::invalid_argument,
                fmt::format("unknown video format '{}'; known formats: {}", name, fmt::join(names, ", ")));
}

} // namespace parallax
