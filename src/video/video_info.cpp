#include <parallax/video/video_info.hpp>

#include "video/media_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace parallax {

namespace {

constexpr std::string_view video_media_type = "video/x-raw";

// GStreamer keeps strides in a gint; so do we, so that a stride can be
// handed to any C library as an int.
constexpr std::uint64_t max_stride = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
// Offsets into a span must fit in a ptrdiff_t.
constexpr std::uint64_t max_frame_size = static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max());
constexpr std::uint32_t max_dimension = static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max());

constexpr std::uint64_t round_to_multiple(std::uint64_t value, std::uint64_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

constexpr std::uint64_t ceil_shift(std::uint64_t value, unsigned shift) {
    return (value + (std::uint64_t{1} << shift) - 1) >> shift;
}

bool is_power_of_two(std::uint32_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

Fraction unit_fraction() {
    return Fraction::make(1, 1).value();
}

} // namespace

VideoColorimetry VideoInfo::default_colorimetry(VideoFormat format, std::uint32_t height) noexcept {
    const VideoFormatInfo& info = video_format_info(format);
    switch (info.family) {
    case VideoColorFamily::yuv:
        return height > 576 ? VideoColorimetry::bt709() : VideoColorimetry::bt601();
    case VideoColorFamily::rgb:
        return VideoColorimetry::srgb();
    case VideoColorFamily::gray:
        return {VideoColorRange::full, VideoColorMatrix::bt601, VideoTransferFunction::unknown,
                VideoColorPrimaries::unknown};
    }
    return {};
}

std::optional<VideoChromaSite> VideoInfo::default_chroma_site(VideoFormat format, std::uint32_t height) noexcept {
    if (!video_format_info(format).is_yuv()) {
        return std::nullopt;
    }
    return height > 576 ? VideoChromaSite::mpeg2 : VideoChromaSite::jpeg;
}

Result<VideoInfo> VideoInfo::make(VideoFormat format, std::uint32_t width, std::uint32_t height,
                                  VideoAlignment alignment) {
    const VideoFormatInfo& fi = video_format_info(format);
    if (width == 0 || height == 0 || width > max_dimension || height > max_dimension) {
        return fail(Errc::invalid_argument,
                    fmt::format("{} {}x{}: width and height must be 1 to {}", fi.name, width, height, max_dimension));
    }
    if (!is_power_of_two(alignment.stride_align) || alignment.stride_align < 4 || alignment.stride_align > 4096) {
        return fail(Errc::invalid_argument,
                    fmt::format("stride alignment {} is not allowed: it must be a power of two from 4 to 4096",
                                alignment.stride_align));
    }
    VideoInfo info;
    info.format_ = format;
    info.width_ = width;
    info.height_ = height;
    info.par_ = unit_fraction();
    info.colorimetry_ = default_colorimetry(format, height);
    info.chroma_site_ = default_chroma_site(format, height);
    info.alignment_ = alignment;
    if (auto ok = info.compute_layout(); !ok) {
        return fail(std::move(ok.error()));
    }
    return info;
}

Result<void> VideoInfo::compute_layout() {
    const VideoFormatInfo& fi = format_info();
    // A 4:2:0 frame of odd height still has whole chroma rows: the luma
    // plane is laid out as if it had one more row (as GStreamer does).
    // GStreamer also gives the high-depth 4:2:2 formats an even number of
    // rows in every plane; layouts stay interchangeable with its.
    const bool even_rows = fi.format == VideoFormat::i422_10le || fi.format == VideoFormat::i422_12le;
    const std::uint64_t padded_height =
        round_to_multiple(height_, std::uint64_t{1} << (even_rows ? 1 : fi.y_chroma_shift));
    std::uint64_t offset = 0;
    for (std::size_t p = 0; p < fi.n_planes; ++p) {
        const VideoPlaneInfo& plane = fi.planes[p];
        const std::uint64_t sites = round_to_multiple(ceil_shift(width_, plane.x_sub), plane.group);
        const std::uint64_t row = sites * plane.pixel_stride;
        const std::uint64_t stride = round_to_multiple(row, alignment_.stride_align);
        if (stride > max_stride) {
            return fail(Errc::out_of_range,
                        fmt::format("{} {}x{}: plane {} would need a stride of {} bytes, more than {}", fi.name, width_,
                                    height_, p, stride, max_stride));
        }
        const std::uint64_t rows = padded_height >> plane.y_sub;
        // stride < 2^31 and rows < 2^31: the product fits, and so does its
        // sum with an offset below 2^63.
        const std::uint64_t plane_size = stride * rows;
        offsets_[p] = static_cast<std::size_t>(offset);
        strides_[p] = static_cast<std::size_t>(stride);
        rows_[p] = static_cast<std::size_t>(rows);
        row_sizes_[p] = static_cast<std::size_t>(row);
        offset += plane_size;
        if (offset > max_frame_size) {
            return fail(Errc::out_of_range, fmt::format("{} {}x{}: the frame size overflows ({} bytes at most)",
                                                        fi.name, width_, height_, max_frame_size));
        }
    }
    size_ = static_cast<std::size_t>(offset);
    return {};
}

Result<VideoInfo> VideoInfo::from_caps(const Caps& caps, VideoAlignment alignment) {
    auto structure = detail::single_fixed_structure(caps, video_media_type);
    if (!structure) {
        return fail(std::move(structure.error()));
    }
    return from_structure(**structure, alignment);
}

Result<VideoInfo> VideoInfo::from_structure(const Structure& s, VideoAlignment alignment) {
    if (auto ok = detail::check_fixed_structure(s, video_media_type); !ok) {
        return fail(std::move(ok.error()));
    }

    auto format_name = detail::string_field(s, "format", true);
    if (!format_name) {
        return fail(std::move(format_name.error()));
    }
    auto format = video_format_from_string(**format_name);
    if (!format) {
        return fail(Errc::invalid_argument,
                    fmt::format("{} field 'format': {}", video_media_type, format.error().message()));
    }

    std::uint32_t dimensions[2] = {};
    const std::string_view dimension_names[2] = {"width", "height"};
    for (std::size_t i = 0; i < 2; ++i) {
        auto value = detail::int_field(s, dimension_names[i], true);
        if (!value) {
            return fail(std::move(value.error()));
        }
        if (**value < 1) {
            return fail(detail::field_error(Errc::invalid_argument, video_media_type, dimension_names[i], **value,
                                            "it must be at least 1"));
        }
        dimensions[i] = static_cast<std::uint32_t>(**value);
    }

    auto framerate = detail::fraction_field(s, "framerate", false);
    if (!framerate) {
        return fail(std::move(framerate.error()));
    }
    if (*framerate && (*framerate)->num() < 0) {
        return fail(detail::field_error(Errc::invalid_argument, video_media_type, "framerate", **framerate,
                                        "a frame rate cannot be negative (0/1 is a variable rate)"));
    }

    auto par = detail::fraction_field(s, "pixel-aspect-ratio", false);
    if (!par) {
        return fail(std::move(par.error()));
    }
    if (*par && (*par)->num() <= 0) {
        return fail(detail::field_error(Errc::invalid_argument, video_media_type, "pixel-aspect-ratio", **par,
                                        "a pixel aspect ratio must be positive"));
    }

    auto interlace = detail::string_field(s, "interlace-mode", false);
    if (!interlace) {
        return fail(std::move(interlace.error()));
    }
    if (*interlace && **interlace != "progressive") {
        const std::string_view mode = **interlace;
        if (mode == "interleaved" || mode == "mixed" || mode == "fields" || mode == "alternate") {
            return fail(detail::field_error(Errc::unsupported, video_media_type, "interlace-mode", mode,
                                            "only progressive video is supported"));
        }
        return fail(detail::field_error(Errc::invalid_argument, video_media_type, "interlace-mode", mode,
                                        "expected progressive, interleaved, mixed, fields or alternate"));
    }

    auto colorimetry_text = detail::string_field(s, "colorimetry", false);
    if (!colorimetry_text) {
        return fail(std::move(colorimetry_text.error()));
    }
    auto site_text = detail::string_field(s, "chroma-site", false);
    if (!site_text) {
        return fail(std::move(site_text.error()));
    }
    std::optional<VideoChromaSite> site;
    if (*site_text) {
        auto parsed = parse_video_chroma_site(**site_text);
        if (!parsed) {
            return fail(Errc::invalid_argument,
                        fmt::format("{} field 'chroma-site': {}", video_media_type, parsed.error().message()));
        }
        site = *parsed;
    }

    auto info = make(*format, dimensions[0], dimensions[1], alignment);
    if (!info) {
        return fail(std::move(info.error()));
    }
    if (*framerate) {
        info->framerate_ = **framerate;
    }
    if (*par) {
        info->par_ = **par;
    }

    // make() set the default colorimetry and chroma site.
    bool default_colorimetry_used = true;
    if (*colorimetry_text) {
        auto parsed = VideoColorimetry::parse(**colorimetry_text);
        if (!parsed) {
            return fail(Errc::invalid_argument,
                        fmt::format("{} field 'colorimetry': {}", video_media_type, parsed.error().message()));
        }
        // GStreamer's adjustments of a colorimetry that contradicts the
        // format, so that the same caps mean the same here and there.
        const VideoFormatInfo& fi = info->format_info();
        if (fi.is_rgb()) {
            parsed->matrix = VideoColorMatrix::rgb;
            default_colorimetry_used = false;
        } else if (fi.is_yuv()) {
            default_colorimetry_used =
                parsed->matrix == VideoColorMatrix::rgb || parsed->matrix == VideoColorMatrix::unknown;
        } else {
            default_colorimetry_used = parsed->matrix == VideoColorMatrix::rgb;
        }
        if (!default_colorimetry_used) {
            info->colorimetry_ = *parsed;
        }
    }
    if (site) {
        info->chroma_site_ = site;
    } else if (!default_colorimetry_used) {
        info->chroma_site_.reset();
    }
    return info;
}

Structure VideoInfo::to_structure() const {
    Structure s(video_media_type);
    s.set("format", parallax::to_string(format_));
    s.set("width", static_cast<std::int32_t>(width_));
    s.set("height", static_cast<std::int32_t>(height_));
    s.set("interlace-mode", "progressive");
    s.set("pixel-aspect-ratio", par_);
    if (chroma_site_) {
        s.set("chroma-site", parallax::to_string(*chroma_site_));
    }
    if (!colorimetry_.is_unknown()) {
        s.set("colorimetry", colorimetry_.to_string());
    }
    s.set("framerate", framerate_);
    return s;
}

Caps VideoInfo::to_caps() const {
    Caps caps;
    caps.append(to_structure());
    return caps;
}

Result<void> VideoInfo::set_framerate(Fraction framerate) {
    if (framerate.num() < 0) {
        return fail(Errc::invalid_argument,
                    fmt::format("frame rate {} is negative (0/1 is a variable rate)", framerate.to_string()));
    }
    framerate_ = framerate;
    return {};
}

Result<void> VideoInfo::set_pixel_aspect_ratio(Fraction par) {
    if (par.num() <= 0) {
        return fail(Errc::invalid_argument, fmt::format("pixel aspect ratio {} is not positive", par.to_string()));
    }
    par_ = par;
    return {};
}

std::uint32_t VideoInfo::component_width(std::size_t comp) const noexcept {
    if (comp >= n_components()) {
        return 0;
    }
    return static_cast<std::uint32_t>(ceil_shift(width_, format_info().components[comp].x_sub));
}

std::uint32_t VideoInfo::component_height(std::size_t comp) const noexcept {
    if (comp >= n_components()) {
        return 0;
    }
    return static_cast<std::uint32_t>(ceil_shift(height_, format_info().components[comp].y_sub));
}

Result<void> VideoInfo::check_buffer_size(std::size_t size) const {
    if (size >= size_) {
        return {};
    }
    return fail(Errc::out_of_range,
                fmt::format("buffer of {} bytes is too small for a {} {}x{} frame: expected at least {} bytes", size,
                            format_info().name, width_, height_, size_));
}

Result<VideoInfo> VideoInfo::with_layout(const std::array<std::size_t, max_planes>& offsets,
                                         const std::array<std::size_t, max_planes>& strides,
                                         std::size_t buffer_size) const {
    VideoInfo laid = *this;
    std::size_t end = 0;
    for (std::size_t p = 0; p < n_planes(); ++p) {
        if (strides[p] < row_sizes_[p] || strides[p] > max_stride) {
            return fail(Errc::invalid_argument,
                        fmt::format("{} {}x{}: plane {} has a stride of {} bytes; its rows need {} to {}",
                                    format_info().name, width_, height_, p, strides[p], row_sizes_[p], max_stride));
        }
        // stride <= 2^31 - 1 and rows < 2^31: the product fits in 62 bits.
        const std::size_t bytes = strides[p] * rows_[p];
        if (offsets[p] > buffer_size || bytes > buffer_size - offsets[p]) {
            return fail(Errc::out_of_range,
                        fmt::format("{} {}x{}: plane {} ({} rows of {} bytes at offset {}) ends past the buffer's {} "
                                    "bytes",
                                    format_info().name, width_, height_, p, rows_[p], strides[p], offsets[p],
                                    buffer_size));
        }
        laid.offsets_[p] = offsets[p];
        laid.strides_[p] = strides[p];
        end = std::max(end, offsets[p] + bytes);
    }
    laid.size_ = end;
    return laid;
}

std::string VideoInfo::to_string() const {
    return fmt::format("{} {}x{} @ {}", format_info().name, width_, height_, framerate_.to_string());
}

} // namespace parallax
