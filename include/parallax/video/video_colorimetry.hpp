#pragma once

/// \file
/// VideoColorimetry: how the sample values of a video map to colours (range,
/// matrix, transfer function, primaries), read from and written to
/// GStreamer's `colorimetry` caps strings; and VideoChromaSite, where chroma
/// samples sit relative to luma (the `chroma-site` caps field).
///
/// The numeric values of the enums are GStreamer's, because they appear in
/// caps: `colorimetry=1:4:0:0` is range 1 (full), matrix 4 (BT.601),
/// transfer 0 and primaries 0 (unknown).

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace parallax {

/// The range of sample values (GstVideoColorRange).
enum class VideoColorRange : std::uint8_t {
    unknown = 0,
    full = 1,    ///< 0 to 255 for 8 bits ("0_255").
    limited = 2, ///< 16 to 235 (luma) and 16 to 240 (chroma) for 8 bits ("16_235").
};

/// The matrix from RGB to YUV (GstVideoColorMatrix).
enum class VideoColorMatrix : std::uint8_t {
    unknown = 0,
    rgb = 1, ///< Identity: the samples are RGB.
    fcc = 2,
    bt709 = 3,
    bt601 = 4,
    smpte240m = 5,
    bt2020 = 6,
};

/// The transfer function (GstVideoTransferFunction).
enum class VideoTransferFunction : std::uint8_t {
    unknown = 0,
    gamma10 = 1,
    gamma18 = 2,
    gamma20 = 3,
    gamma22 = 4,
    bt709 = 5,
    smpte240m = 6,
    srgb = 7,
    gamma28 = 8,
    log100 = 9,
    log316 = 10,
    bt2020_12 = 11,
    adobergb = 12,
    bt2020_10 = 13,
    smpte2084 = 14,    ///< PQ.
    arib_std_b67 = 15, ///< HLG.
    bt601 = 16,
};

/// The colour primaries (GstVideoColorPrimaries).
enum class VideoColorPrimaries : std::uint8_t {
    unknown = 0,
    bt709 = 1,
    bt470m = 2,
    bt470bg = 3,
    smpte170m = 4, ///< BT.601 525 lines.
    smpte240m = 5,
    film = 6,
    bt2020 = 7,
    adobergb = 8,
    smptest428 = 9,
    smpterp431 = 10,
    smpteeg432 = 11,
    ebu3213 = 12,
};

/// Range, matrix, transfer function and primaries of a video
/// (GstVideoColorimetry). A small value; default-constructed, all unknown.
struct PARALLAX_API VideoColorimetry {
    VideoColorRange range = VideoColorRange::unknown;
    VideoColorMatrix matrix = VideoColorMatrix::unknown;
    VideoTransferFunction transfer = VideoTransferFunction::unknown;
    VideoColorPrimaries primaries = VideoColorPrimaries::unknown;

    /// "bt601": limited range, BT.601 matrix and transfer, SMPTE 170M primaries.
    static constexpr VideoColorimetry bt601() noexcept {
        return {VideoColorRange::limited, VideoColorMatrix::bt601, VideoTransferFunction::bt601,
                VideoColorPrimaries::smpte170m};
    }
    /// "bt709": limited range, BT.709 matrix, transfer and primaries.
    static constexpr VideoColorimetry bt709() noexcept {
        return {VideoColorRange::limited, VideoColorMatrix::bt709, VideoTransferFunction::bt709,
                VideoColorPrimaries::bt709};
    }
    /// "bt2020": limited range, BT.2020 matrix and primaries, 12-bit BT.2020 transfer.
    static constexpr VideoColorimetry bt2020() noexcept {
        return {VideoColorRange::limited, VideoColorMatrix::bt2020, VideoTransferFunction::bt2020_12,
                VideoColorPrimaries::bt2020};
    }
    /// "bt2020-10": as bt2020 with the 10-bit BT.2020 transfer.
    static constexpr VideoColorimetry bt2020_10() noexcept {
        return {VideoColorRange::limited, VideoColorMatrix::bt2020, VideoTransferFunction::bt2020_10,
                VideoColorPrimaries::bt2020};
    }
    /// "sRGB": full range, RGB matrix, sRGB transfer, BT.709 primaries.
    static constexpr VideoColorimetry srgb() noexcept {
        return {VideoColorRange::full, VideoColorMatrix::rgb, VideoTransferFunction::srgb, VideoColorPrimaries::bt709};
    }

    /// Parses a GStreamer colorimetry string: a name (`bt601`, `bt709`,
    /// `bt2020`, `bt2020-10`, `bt2100-pq`, `bt2100-hlg`, `smpte240m`, `sRGB`)
    /// or the numeric form `range:matrix:transfer:primaries` with GStreamer's
    /// values (`1:4:0:0`). Fails with Errc::invalid_argument, saying which
    /// part is wrong, on anything else (a number GStreamer does not define
    /// included).
    [[nodiscard]] static Result<VideoColorimetry> parse(std::string_view text);

    /// GStreamer's string: the name when the four parts are exactly those of
    /// a named colorimetry, else the numeric form; "" when all four are
    /// unknown (GStreamer then leaves `colorimetry` out of caps).
    [[nodiscard]] std::string to_string() const;

    /// True when all four parts are unknown.
    [[nodiscard]] constexpr bool is_unknown() const noexcept { return *this == VideoColorimetry{}; }

    friend constexpr bool operator==(const VideoColorimetry&, const VideoColorimetry&) noexcept = default;
};

/// Where chroma samples sit relative to luma (GstVideoChromaSite, the
/// `chroma-site` caps field). The values are GStreamer's flags: 1 "none"
/// (centred, as in JPEG), 2 horizontally co-sited, 4 vertically co-sited,
/// 8 alternate lines. Only the combinations below are valid.
enum class VideoChromaSite : std::uint8_t {
    jpeg = 1,                ///< "jpeg": centred between luma samples (GStreamer's "none" flag).
    mpeg2 = 2,               ///< "mpeg2": co-sited horizontally ("h-cosited").
    v_cosited = 4,           ///< "v-cosited".
    cosited = 6,             ///< "cosited": co-sited both ways.
    alt_line = 8,            ///< "alt-line".
    h_cosited_alt_line = 10, ///< "h-cosited+alt-line".
    v_cosited_alt_line = 12, ///< "v-cosited+alt-line".
    dv = 14,                 ///< "dv": co-sited, alternate lines.
};

/// Parses a `chroma-site` value as GStreamer does: a name (`jpeg`, `mpeg2`,
/// `dv`, `cosited`, `none`, `h-cosited`, `v-cosited`, `alt-line`) or flags
/// joined by `+` (`v-cosited+alt-line`). Fails with Errc::invalid_argument.
[[nodiscard]] PARALLAX_API Result<VideoChromaSite> parse_video_chroma_site(std::string_view text);

/// GStreamer's string for `site`: "jpeg", "mpeg2", "dv", "cosited",
/// "v-cosited", "alt-line", "h-cosited+alt-line" or "v-cosited+alt-line".
[[nodiscard]] PARALLAX_API std::string_view to_string(VideoChromaSite site) noexcept;

/// The colorimetry of a stream from the code points of ITU-T H.273
/// (ISO/IEC 23091-2), which AV1 sequence headers, H.264/H.265 VUI, VP9 and
/// MP4's `colr` box all use: `matrix_coefficients` (0 identity: RGB, 1
/// BT.709, 5 and 6 BT.601, 9 BT.2020...), `transfer_characteristics` and
/// `colour_primaries`. A code point GStreamer has no name for is unknown.
[[nodiscard]] PARALLAX_API VideoColorMatrix video_color_matrix_from_iso(unsigned value) noexcept;
[[nodiscard]] PARALLAX_API VideoTransferFunction video_transfer_function_from_iso(unsigned value) noexcept;
[[nodiscard]] PARALLAX_API VideoColorPrimaries video_color_primaries_from_iso(unsigned value) noexcept;

} // namespace parallax
