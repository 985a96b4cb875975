#include <parallax/video/video_colorimetry.hpp>

#include "video/media_text.hpp"

#include <fmt/format.h>

#include <array>
#include <cstddef>

namespace parallax {

namespace {

struct NamedColorimetry {
    std::string_view name;
    VideoColorimetry colorimetry;
};

// GStreamer's named colorimetries; to_string() prints the first exact match.
constexpr std::array<NamedColorimetry, 8> named_colorimetries{{
    {"bt601", VideoColorimetry::bt601()},
    {"bt709", VideoColorimetry::bt709()},
    {"smpte240m",
     {VideoColorRange::limited, VideoColorMatrix::smpte240m, VideoTransferFunction::smpte240m,
      VideoColorPrimaries::smpte240m}},
    {"sRGB", VideoColorimetry::srgb()},
    {"bt2020", VideoColorimetry::bt2020()},
    {"bt2020-10", VideoColorimetry::bt2020_10()},
    {"bt2100-pq",
     {VideoColorRange::limited, VideoColorMatrix::bt2020, VideoTransferFunction::smpte2084,
      VideoColorPrimaries::bt2020}},
    {"bt2100-hlg",
     {VideoColorRange::limited, VideoColorMatrix::bt2020, VideoTransferFunction::arib_std_b67,
      VideoColorPrimaries::bt2020}},
}};

// The largest value GStreamer defines for each part, in the order of the
// numeric form.
constexpr std::array<std::uint32_t, 4> part_max{2, 6, 16, 12};
constexpr std::array<std::string_view, 4> part_names{"range", "matrix", "transfer", "primaries"};

struct ChromaName {
    std::string_view name;
    std::uint8_t bits;
};

constexpr std::uint8_t site_none = 1;
constexpr std::uint8_t site_h_cosited = 2;
constexpr std::uint8_t site_v_cosited = 4;
constexpr std::uint8_t site_alt_line = 8;

// Names that stand alone, then flags that combine with `+` (GStreamer also
// lets mpeg2 and cosited combine, as the flags they stand for).
constexpr std::array<ChromaName, 8> chroma_names{{
    {"jpeg", site_none},
    {"none", site_none},
    {"mpeg2", site_h_cosited},
    {"h-cosited", site_h_cosited},
    {"v-cosited", site_v_cosited},
    {"cosited", site_h_cosited | site_v_cosited},
    {"alt-line", site_alt_line},
    {"dv", site_h_cosited | site_v_cosited | site_alt_line},
}};

bool is_valid_site(unsigned bits) {
    switch (bits) {
    case 1:
    case 2:
    case 4:
    case 6:
    case 8:
    case 10:
    case 12:
    case 14:
        return true;
    default:
        return false;
    }
}

} // namespace

Result<VideoColorimetry> VideoColorimetry::parse(std::string_view text) {
    for (const NamedColorimetry& named : named_colorimetries) {
        if (named.name == text) {
            return named.colorimetry;
        }
    }
    std::array<std::uint32_t, 4> parts{};
    std::string_view rest = text;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::size_t colon = rest.find(':');
        const bool last = i + 1 == parts.size();
        if (last != (colon == std::string_view::npos)) {
            std::array<std::string_view, named_colorimetries.size()> names{};
            for (std::size_t n = 0; n < names.size(); ++n) {
                names[n] = named_colorimetries[n].name;
            }
            std::string hint;
            if (std::string_view close = detail::closest_name(text, names); !close.empty()) {
                hint = fmt::format("; did you mean {}?", close);
            }
            return fail(Errc::invalid_argument, fmt::format("unknown colorimetry '{}': expected a name ({}) or "
                                                            "range:matrix:transfer:primaries{}",
                                                            text, fmt::join(names, ", "), hint));
        }
        const std::string_view part = last ? rest : rest.substr(0, colon);
        const auto value = detail::parse_small_decimal(part);
        if (!value) {
            return fail(Errc::invalid_argument,
                        fmt::format("colorimetry '{}': the {} '{}' is not a number", text, part_names[i], part));
        }
        if (*value > part_max[i]) {
            return fail(Errc::invalid_argument, fmt::format("colorimetry '{}': {} {} is not a known value (0 to {})",
                                                            text, part_names[i], *value, part_max[i]));
        }
        parts[i] = *value;
        rest = last ? std::string_view{} : rest.substr(colon + 1);
    }
    return VideoColorimetry{static_cast<VideoColorRange>(parts[0]), static_cast<VideoColorMatrix>(parts[1]),
                            static_cast<VideoTransferFunction>(parts[2]), static_cast<VideoColorPrimaries>(parts[3])};
}

std::string VideoColorimetry::to_string() const {
    if (is_unknown()) {
        return {};
    }
    for (const NamedColorimetry& named : named_colorimetries) {
        if (named.colorimetry == *this) {
            return std::string(named.name);
        }
    }
    return fmt::format("{}:{}:{}:{}", static_cast<unsigned>(range), static_cast<unsigned>(matrix),
                       static_cast<unsigned>(transfer), static_cast<unsigned>(primaries));
}

Result<VideoChromaSite> parse_video_chroma_site(std::string_view text) {
    unsigned bits = 0;
    std::string_view rest = text;
    std::size_t tokens = 0;
    while (true) {
        const std::size_t plus = rest.find('+');
        const std::string_view token = rest.substr(0, plus);
        const ChromaName* found = nullptr;
        for (const ChromaName& name : chroma_names) {
            if (name.name == token) {
                found = &name;
            }
        }
        if (found == nullptr) {
            std::array<std::string_view, chroma_names.size()> names{};
            for (std::size_t n = 0; n < names.size(); ++n) {
                names[n] = chroma_names[n].name;
            }
            std::string hint;
            if (std::string_view close = detail::closest_name(token, names); !close.empty()) {
                hint = fmt::format("; did you mean {}?", close);
            }
            return fail(Errc::invalid_argument,
                        fmt::format("unknown chroma-site '{}': expected {} or flags joined by '+'{}", text,
                                    fmt::join(names, ", "), hint));
        }
        bits |= found->bits;
        ++tokens;
        if (plus == std::string_view::npos) {
            break;
        }
        rest = rest.substr(plus + 1);
    }
    // "none" (centred) contradicts every other flag.
    if ((bits & site_none) != 0 && tokens > 1) {
        return fail(Errc::invalid_argument,
                    fmt::format("chroma-site '{}': jpeg (none) cannot be combined with other flags", text));
    }
    if (!is_valid_site(bits)) {
        return fail(Errc::invalid_argument, fmt::format("chroma-site '{}' is not a valid combination", text));
    }
    return static_cast<VideoChromaSite>(bits);
}

std::string_view to_string(VideoChromaSite site) noexcept {
    switch (site) {
    case VideoChromaSite::jpeg:
        return "jpeg";
    case VideoChromaSite::mpeg2:
        return "mpeg2";
    case VideoChromaSite::v_cosited:
        return "v-cosited";
    case VideoChromaSite::cosited:
        return "cosited";
    case VideoChromaSite::alt_line:
        return "alt-line";
    case VideoChromaSite::h_cosited_alt_line:
        return "h-cosited+alt-line";
    case VideoChromaSite::v_cosited_alt_line:
        return "v-cosited+alt-line";
    case VideoChromaSite::dv:
        return "dv";
    }
    return "";
}

// ITU-T H.273 code points, as every codec and container states them.
VideoColorMatrix video_color_matrix_from_iso(unsigned v) noexcept {
    switch (v) {
    case 0:
        return VideoColorMatrix::rgb;
    case 1:
        return VideoColorMatrix::bt709;
    case 4:
        return VideoColorMatrix::fcc;
    case 5:
    case 6:
        return VideoColorMatrix::bt601;
    case 7:
        return VideoColorMatrix::smpte240m;
    case 9:
        return VideoColorMatrix::bt2020;
    default:
        return VideoColorMatrix::unknown;
    }
}

VideoTransferFunction video_transfer_function_from_iso(unsigned v) noexcept {
    switch (v) {
    case 1:
        return VideoTransferFunction::bt709;
    case 4:
        return VideoTransferFunction::gamma22;
    case 5:
        return VideoTransferFunction::gamma28;
    case 6:
        return VideoTransferFunction::bt601;
    case 7:
        return VideoTransferFunction::smpte240m;
    case 8:
        return VideoTransferFunction::gamma10;
    case 9:
        return VideoTransferFunction::log100;
    case 10:
        return VideoTransferFunction::log316;
    case 13:
        return VideoTransferFunction::srgb;
    case 14:
        return VideoTransferFunction::bt2020_10;
    case 15:
        return VideoTransferFunction::bt2020_12;
    case 16:
        return VideoTransferFunction::smpte2084;
    case 18:
        return VideoTransferFunction::arib_std_b67;
    default:
        return VideoTransferFunction::unknown;
    }
}

VideoColorPrimaries video_color_primaries_from_iso(unsigned v) noexcept {
    switch (v) {
    case 1:
        return VideoColorPrimaries::bt709;
    case 4:
        return VideoColorPrimaries::bt470m;
    case 5:
        return VideoColorPrimaries::bt470bg;
    case 6:
        return VideoColorPrimaries::smpte170m;
    case 7:
        return VideoColorPrimaries::smpte240m;
    case 8:
        return VideoColorPrimaries::film;
    case 9:
        return VideoColorPrimaries::bt2020;
    case 10:
        return VideoColorPrimaries::smptest428;
    case 11:
        return VideoColorPrimaries::smpterp431;
    case 12:
        return VideoColorPrimaries::smpteeg432;
    case 22:
        return VideoColorPrimaries::ebu3213;
    default:
        return VideoColorPrimaries::unknown;
    }
}

} // namespace parallax
