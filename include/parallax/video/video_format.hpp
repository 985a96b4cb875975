#pragma once

/// \file
/// VideoFormat: the `video/x-raw` pixel formats libparallax understands, and
/// VideoFormatInfo, a constexpr table that describes each one (planes,
/// components, depth, subsampling, pixel strides), named as in GStreamer.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace parallax {

/// A raw video pixel format. The caps string of each (`format=I420`) is
/// GStreamer's name, given in the comment and by to_string().
enum class VideoFormat : std::uint8_t {
    i420,      ///< "I420": planar 4:2:0 YUV, planes Y, U, V.
    yv12,      ///< "YV12": planar 4:2:0 YUV, planes Y, V, U.
    nv12,      ///< "NV12": 4:2:0 YUV, plane Y and one plane of interleaved U, V.
    nv21,      ///< "NV21": as NV12 with V before U.
    yuy2,      ///< "YUY2": packed 4:2:2 YUV, bytes Y0 U Y1 V.
    uyvy,      ///< "UYVY": packed 4:2:2 YUV, bytes U Y0 V Y1.
    y42b,      ///< "Y42B": planar 4:2:2 YUV (I422), planes Y, U, V.
    y444,      ///< "Y444": planar 4:4:4 YUV, planes Y, U, V.
    i420_10le, ///< "I420_10LE": I420 with 10-bit samples in 16-bit little-endian words (low bits).
    p010_10le, ///< "P010_10LE": NV12 with 10-bit samples in 16-bit little-endian words (high bits).
    rgb,       ///< "RGB": packed 24-bit, bytes R G B.
    bgr,       ///< "BGR": packed 24-bit, bytes B G R.
    rgba,      ///< "RGBA": packed 32-bit, bytes R G B A.
    bgra,      ///< "BGRA": packed 32-bit, bytes B G R A.
    argb,      ///< "ARGB": packed 32-bit, bytes A R G B.
    abgr,      ///< "ABGR": packed 32-bit, bytes A B G R.
    rgbx,      ///< "RGBx": packed 32-bit, bytes R G B and one unused byte.
    bgrx,      ///< "BGRx": packed 32-bit, bytes B G R and one unused byte.
    gray8,     ///< "GRAY8": 8-bit luma only.
    gray16_le, ///< "GRAY16_LE": 16-bit little-endian luma only.
    i422_10le, ///< "I422_10LE": Y42B with 10-bit samples in 16-bit little-endian words (low bits).
    y444_10le, ///< "Y444_10LE": Y444 with 10-bit samples in 16-bit little-endian words (low bits).
    i420_12le, ///< "I420_12LE": I420 with 12-bit samples in 16-bit little-endian words (low bits).
    i422_12le, ///< "I422_12LE": Y42B with 12-bit samples in 16-bit little-endian words (low bits).
    y444_12le, ///< "Y444_12LE": Y444 with 12-bit samples in 16-bit little-endian words (low bits).
};

/// How a format encodes colour.
enum class VideoColorFamily : std::uint8_t {
    yuv,  ///< Luma and two chroma components (Y, U, V).
    rgb,  ///< Red, green, blue (and maybe alpha).
    gray, ///< Luma only.
};

/// Component indices, as in GStreamer: Y, U, V for YUV formats, R, G, B for
/// RGB formats, and A for alpha in both. A gray format has component 0 only.
namespace video_comp {
inline constexpr std::size_t y = 0;
inline constexpr std::size_t u = 1;
inline constexpr std::size_t v = 2;
inline constexpr std::size_t r = 0;
inline constexpr std::size_t g = 1;
inline constexpr std::size_t b = 2;
inline constexpr std::size_t a = 3;
} // namespace video_comp

/// Where the samples of one plane lie. A row of a plane holds
/// `ceil(width / 2^x_sub)` sample sites of `pixel_stride` bytes each,
/// rounded up to whole groups of `group` sites (the 2-pixel macropixels of
/// YUY2 and UYVY); a plane has `ceil(padded height / 2^y_sub)` rows.
struct VideoPlaneInfo {
    std::uint8_t x_sub = 0;        ///< log2 of the horizontal subsampling (1: half as many sites as pixels).
    std::uint8_t y_sub = 0;        ///< log2 of the vertical subsampling (1: half as many rows).
    std::uint8_t pixel_stride = 0; ///< Bytes from one sample site of the plane to the next.
    std::uint8_t group = 1;        ///< Sites that are stored together (2 for YUY2 and UYVY, else 1).
};

/// Where the samples of one component lie: the byte at
/// `plane start + row * stride + offset + x * pixel_stride` is the first
/// byte of the sample at column `x` of the component (its `x` counts
/// component samples, so half the pixels for subsampled chroma).
struct VideoComponentInfo {
    std::uint8_t plane = 0;        ///< The plane that holds the component.
    std::uint8_t offset = 0;       ///< Bytes from the start of a row to the component's first sample.
    std::uint8_t pixel_stride = 0; ///< Bytes from one sample of the component to the next in a row.
    std::uint8_t depth = 0;        ///< Significant bits of a sample.
    std::uint8_t shift = 0;        ///< Bits the value is shifted up in its storage word (P010: 6).
    std::uint8_t x_sub = 0;        ///< log2 of the horizontal subsampling of the component.
    std::uint8_t y_sub = 0;        ///< log2 of the vertical subsampling of the component.
};

/// A description of one VideoFormat. Entries of video_format_table().
struct VideoFormatInfo {
    VideoFormat format = VideoFormat::i420;
    std::string_view name;        ///< GStreamer's format string, e.g. "I420".
    std::string_view description; ///< One line for people.
    VideoColorFamily family = VideoColorFamily::yuv;
    std::uint8_t n_planes = 0;       ///< 1 to 3.
    std::uint8_t n_components = 0;   ///< 1 (gray), 3, or 4 (with alpha). RGBx has 3.
    std::uint8_t depth = 0;          ///< Significant bits per component: 8, 10, 12 or 16.
    std::uint8_t bits = 0;           ///< Bits of the storage word of one component: 8 or 16.
    std::uint8_t x_chroma_shift = 0; ///< log2 of the horizontal chroma subsampling (4:2:0 and 4:2:2: 1).
    std::uint8_t y_chroma_shift = 0; ///< log2 of the vertical chroma subsampling (4:2:0: 1).
    bool packed = false;             ///< All components interleaved in one plane (YUY2, RGB...).
    bool has_alpha = false;
    bool little_endian = false;                     ///< Storage words of 16 bits are little-endian (the _LE formats).
    std::array<VideoPlaneInfo, 4> planes{};         ///< The first n_planes are used.
    std::array<VideoComponentInfo, 4> components{}; ///< The first n_components are used.

    [[nodiscard]] constexpr bool is_yuv() const noexcept { return family == VideoColorFamily::yuv; }
    [[nodiscard]] constexpr bool is_rgb() const noexcept { return family == VideoColorFamily::rgb; }
    [[nodiscard]] constexpr bool is_gray() const noexcept { return family == VideoColorFamily::gray; }
    /// True when the components lie in more than one plane (NV12 included).
    [[nodiscard]] constexpr bool is_planar() const noexcept { return !packed; }
    /// "4:2:0", "4:2:2" or "4:4:4" for YUV formats; "" for RGB and gray.
    [[nodiscard]] constexpr std::string_view chroma_subsampling() const noexcept {
        if (!is_yuv()) {
            return "";
        }
        if (x_chroma_shift == 1) {
            return y_chroma_shift == 1 ? "4:2:0" : "4:2:2";
        }
        return "4:4:4";
    }
};

namespace detail {

// Shorthands for the table below.
constexpr VideoPlaneInfo video_plane(std::uint8_t x_sub, std::uint8_t y_sub, std::uint8_t pixel_stride,
                                     std::uint8_t group = 1) {
    return {x_sub, y_sub, pixel_stride, group};
}
constexpr VideoComponentInfo video_component(std::uint8_t plane, std::uint8_t offset, std::uint8_t pixel_stride,
                                             std::uint8_t depth, std::uint8_t x_sub = 0, std::uint8_t y_sub = 0,
                                             std::uint8_t shift = 0) {
    return {plane, offset, pixel_stride, depth, shift, x_sub, y_sub};
}

// The fields every format sets.
constexpr VideoFormatInfo video_format_base(VideoFormat f, std::string_view name, std::string_view description,
                                            VideoColorFamily family, std::uint8_t bytes, std::uint8_t depth) {
    VideoFormatInfo info;
    info.format = f;
    info.name = name;
    info.description = description;
    info.family = family;
    info.depth = depth;
    info.bits = static_cast<std::uint8_t>(8 * bytes);
    info.little_endian = bytes > 1;
    return info;
}

// Three planes Y, U, V (V, U when swap_uv), `bytes` per sample.
constexpr VideoFormatInfo video_yuv_planar(VideoFormat f, std::string_view name, std::string_view description,
                                           std::uint8_t xs, std::uint8_t ys, std::uint8_t bytes, std::uint8_t depth,
                                           bool swap_uv) {
    VideoFormatInfo info = video_format_base(f, name, description, VideoColorFamily::yuv, bytes, depth);
    info.n_planes = 3;
    info.n_components = 3;
    info.x_chroma_shift = xs;
    info.y_chroma_shift = ys;
    info.planes = {video_plane(0, 0, bytes), video_plane(xs, ys, bytes), video_plane(xs, ys, bytes), {}};
    info.components = {video_component(0, 0, bytes, depth),
                       video_component(swap_uv ? 2 : 1, 0, bytes, depth, xs, ys),
                       video_component(swap_uv ? 1 : 2, 0, bytes, depth, xs, ys),
                       {}};
    return info;
}

// 4:2:0: a Y plane, then a plane of U, V pairs (V, U when swap_uv), each
// sample `bytes` wide and shifted up by `shift` bits.
constexpr VideoFormatInfo video_yuv_semi_planar(VideoFormat f, std::string_view name, std::string_view description,
                                                std::uint8_t bytes, std::uint8_t depth, std::uint8_t shift,
                                                bool swap_uv) {
    VideoFormatInfo info = video_format_base(f, name, description, VideoColorFamily::yuv, bytes, depth);
    const auto pair = static_cast<std::uint8_t>(2 * bytes);
    info.n_planes = 2;
    info.n_components = 3;
    info.x_chroma_shift = 1;
    info.y_chroma_shift = 1;
    info.planes = {video_plane(0, 0, bytes), video_plane(1, 1, pair), {}, {}};
    info.components = {video_component(0, 0, bytes, depth, 0, 0, shift),
                       video_component(1, swap_uv ? bytes : 0, pair, depth, 1, 1, shift),
                       video_component(1, swap_uv ? 0 : bytes, pair, depth, 1, 1, shift),
                       {}};
    return info;
}

// 4:2:2 packed in 4-byte macropixels of two pixels.
constexpr VideoFormatInfo video_yuv_packed_422(VideoFormat f, std::string_view name, std::string_view description,
                                               std::uint8_t y_offset, std::uint8_t u_offset, std::uint8_t v_offset) {
    VideoFormatInfo info = video_format_base(f, name, description, VideoColorFamily::yuv, 1, 8);
    info.n_planes = 1;
    info.n_components = 3;
    info.x_chroma_shift = 1;
    info.packed = true;
    info.planes = {video_plane(0, 0, 2, 2), {}, {}, {}};
    info.components = {video_component(0, y_offset, 2, 8),
                       video_component(0, u_offset, 4, 8, 1),
                       video_component(0, v_offset, 4, 8, 1),
                       {}};
    return info;
}

// Offsets of R, G, B and A (alpha_offset < 0: no alpha) in a packed pixel
// of `bytes` bytes.
constexpr VideoFormatInfo video_rgb_packed(VideoFormat f, std::string_view name, std::string_view description,
                                           std::uint8_t bytes, std::uint8_t r, std::uint8_t g, std::uint8_t b,
                                           int alpha_offset) {
    VideoFormatInfo info = video_format_base(f, name, description, VideoColorFamily::rgb, 1, 8);
    const bool alpha = alpha_offset >= 0;
    info.n_planes = 1;
    info.n_components = alpha ? 4 : 3;
    info.packed = true;
    info.has_alpha = alpha;
    info.planes = {video_plane(0, 0, bytes), {}, {}, {}};
    info.components = {
        video_component(0, r, bytes, 8), video_component(0, g, bytes, 8), video_component(0, b, bytes, 8),
        alpha ? video_component(0, static_cast<std::uint8_t>(alpha_offset), bytes, 8) : VideoComponentInfo{}};
    return info;
}

// Luma only, `bytes` per sample, every bit significant.
constexpr VideoFormatInfo video_gray(VideoFormat f, std::string_view name, std::string_view description,
                                     std::uint8_t bytes) {
    const auto depth = static_cast<std::uint8_t>(8 * bytes);
    VideoFormatInfo info = video_format_base(f, name, description, VideoColorFamily::gray, bytes, depth);
    info.n_planes = 1;
    info.n_components = 1;
    info.packed = true;
    info.planes = {video_plane(0, 0, bytes), {}, {}, {}};
    info.components = {video_component(0, 0, bytes, depth), {}, {}, {}};
    return info;
}

/// Aborts: `format` is not a VideoFormat enumerator (a cast gone wrong).
[[noreturn]] PARALLAX_API void bad_video_format(VideoFormat format);

} // namespace detail

/// Every VideoFormat, in enumerator order: `video_format_table[i].format`
/// is `VideoFormat(i)`.
inline constexpr std::array<VideoFormatInfo, 25> video_format_table{{
    detail::video_yuv_planar(VideoFormat::i420, "I420", "planar 4:2:0 YUV, 8 bits", 1, 1, 1, 8, false),
    detail::video_yuv_planar(VideoFormat::yv12, "YV12", "planar 4:2:0 YUV, 8 bits, V plane before U", 1, 1, 1, 8, true),
    detail::video_yuv_semi_planar(VideoFormat::nv12, "NV12", "4:2:0 YUV, Y plane and interleaved UV plane", 1, 8, 0,
                                  false),
    detail::video_yuv_semi_planar(VideoFormat::nv21, "NV21", "4:2:0 YUV, Y plane and interleaved VU plane", 1, 8, 0,
                                  true),
    detail::video_yuv_packed_422(VideoFormat::yuy2, "YUY2", "packed 4:2:2 YUV, Y0 U Y1 V", 0, 1, 3),
    detail::video_yuv_packed_422(VideoFormat::uyvy, "UYVY", "packed 4:2:2 YUV, U Y0 V Y1", 1, 0, 2),
    detail::video_yuv_planar(VideoFormat::y42b, "Y42B", "planar 4:2:2 YUV, 8 bits (I422)", 1, 0, 1, 8, false),
    detail::video_yuv_planar(VideoFormat::y444, "Y444", "planar 4:4:4 YUV, 8 bits", 0, 0, 1, 8, false),
    detail::video_yuv_planar(VideoFormat::i420_10le, "I420_10LE", "planar 4:2:0 YUV, 10 bits in 16-bit LE words", 1, 1,
                             2, 10, false),
    detail::video_yuv_semi_planar(VideoFormat::p010_10le, "P010_10LE",
                                  "4:2:0 YUV as NV12, 10 bits in the high bits of 16-bit LE words", 2, 10, 6, false),
    detail::video_rgb_packed(VideoFormat::rgb, "RGB", "packed RGB, 24 bits", 3, 0, 1, 2, -1),
    detail::video_rgb_packed(VideoFormat::bgr, "BGR", "packed BGR, 24 bits", 3, 2, 1, 0, -1),
    detail::video_rgb_packed(VideoFormat::rgba, "RGBA", "packed RGB with alpha last, 32 bits", 4, 0, 1, 2, 3),
    detail::video_rgb_packed(VideoFormat::bgra, "BGRA", "packed BGR with alpha last, 32 bits", 4, 2, 1, 0, 3),
    detail::video_rgb_packed(VideoFormat::argb, "ARGB", "packed RGB with alpha first, 32 bits", 4, 1, 2, 3, 0),
    detail::video_rgb_packed(VideoFormat::abgr, "ABGR", "packed BGR with alpha first, 32 bits", 4, 3, 2, 1, 0),
    detail::video_rgb_packed(VideoFormat::rgbx, "RGBx", "packed RGB and an unused byte, 32 bits", 4, 0, 1, 2, -1),
    detail::video_rgb_packed(VideoFormat::bgrx, "BGRx", "packed BGR and an unused byte, 32 bits", 4, 2, 1, 0, -1),
    detail::video_gray(VideoFormat::gray8, "GRAY8", "luma only, 8 bits", 1),
    detail::video_gray(VideoFormat::gray16_le, "GRAY16_LE", "luma only, 16-bit LE words", 2),
    detail::video_yuv_planar(VideoFormat::i422_10le, "I422_10LE", "planar 4:2:2 YUV, 10 bits in 16-bit LE words", 1, 0,
                             2, 10, false),
    detail::video_yuv_planar(VideoFormat::y444_10le, "Y444_10LE", "planar 4:4:4 YUV, 10 bits in 16-bit LE words", 0, 0,
                             2, 10, false),
    detail::video_yuv_planar(VideoFormat::i420_12le, "I420_12LE", "planar 4:2:0 YUV, 12 bits in 16-bit LE words", 1, 1,
                             2, 12, false),
    detail::video_yuv_planar(VideoFormat::i422_12le, "I422_12LE", "planar 4:2:2 YUV, 12 bits in 16-bit LE words", 1, 0,
                             2, 12, false),
    detail::video_yuv_planar(VideoFormat::y444_12le, "Y444_12LE", "planar 4:4:4 YUV, 12 bits in 16-bit LE words", 0, 0,
                             2, 12, false),
}};

namespace detail {
constexpr bool video_format_table_in_order() {
    for (std::size_t i = 0; i < video_format_table.size(); ++i) {
        if (static_cast<std::size_t>(video_format_table[i].format) != i) {
            return false;
        }
    }
    return true;
}
static_assert(video_format_table_in_order(), "video_format_table must follow the order of VideoFormat");
} // namespace detail

/// The description of `format`.
[[nodiscard]] constexpr const VideoFormatInfo& video_format_info(VideoFormat format) {
    const auto index = static_cast<std::size_t>(format);
    if (index >= video_format_table.size()) {
        detail::bad_video_format(format);
    }
    return video_format_table[index];
}

/// GStreamer's name of `format`, e.g. "I420".
[[nodiscard]] constexpr std::string_view to_string(VideoFormat format) {
    return video_format_info(format).name;
}

/// The format named `name` (GStreamer's name, case-sensitive as in caps).
/// Fails with Errc::invalid_argument, suggesting the closest name:
/// `unknown video format 'I42O'; did you mean I420?`.
[[nodiscard]] PARALLAX_API Result<VideoFormat> video_format_from_string(std::string_view name);

} // namespace parallax
