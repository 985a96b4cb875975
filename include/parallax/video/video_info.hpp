#pragma once

/// \file
/// VideoInfo: a fixed `video/x-raw` format (pixel format, size, frame rate,
/// pixel aspect ratio, colorimetry) and the memory layout of one frame
/// (plane offsets, strides, frame size), as GStreamer's GstVideoInfo; and
/// VideoAlignment, the row alignment the layout uses.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/caps/structure.hpp>
#include <parallax/caps/value.hpp>
#include <parallax/video/video_colorimetry.hpp>
#include <parallax/video/video_format.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace parallax {

/// How rows are aligned in a frame's memory.
///
/// The default gives GStreamer's default layout (gst_video_info_from_caps):
/// every stride rounded up to a multiple of 4 bytes. A larger alignment
/// rounds each plane's stride up to a multiple of `stride_align` on its own;
/// plane offsets are then multiples of it too. (GStreamer's
/// gst_video_info_align widens the whole picture instead, so its strides
/// for a given alignment can be larger.)
struct VideoAlignment {
    /// Bytes: a power of two from 4 to 4096.
    std::uint32_t stride_align = 4;

    friend constexpr bool operator==(VideoAlignment, VideoAlignment) noexcept = default;
};

/// A fixed raw video format and the layout of its frames. A small value.
///
/// Built only through make() or from_caps(), so that a VideoInfo always
/// holds a valid format, a non-zero size and a layout whose sizes did not
/// overflow (every stride fits in 31 bits, the frame size in 63 bits).
///
/// Layout (GStreamer's default for every format here): planes lie one after
/// the other from offset 0, in plane order. A plane's stride is its row of
/// samples (see VideoPlaneInfo) rounded up to the alignment. For 4:2:0
/// formats the luma plane has an even number of rows (a frame of odd height
/// gets one more luma row), and chroma planes have half that many. I420
/// 320x240 is 115200 bytes: strides 320, 160, 160 at offsets 0, 76800,
/// 96000. I420 321x241: strides 324, 164, 164 at 0, 78408, 98252; 118096
/// bytes.
class PARALLAX_API VideoInfo {
public:
    static constexpr std::size_t max_planes = 4;
    static constexpr std::size_t max_components = 4;

    /// A video of `format`, `width` x `height` pixels, progressive, variable
    /// frame rate (0/1), square pixels, and GStreamer's default colorimetry
    /// and chroma site for the format and height (see default_colorimetry).
    /// Fails (Errc::invalid_argument) when width or height is zero or above
    /// 2^31 - 1 or the alignment is not allowed, and (Errc::out_of_range)
    /// when a stride or the frame size overflows.
    [[nodiscard]] static Result<VideoInfo> make(VideoFormat format, std::uint32_t width, std::uint32_t height,
                                                VideoAlignment alignment = {});

    /// Reads fixed `video/x-raw` caps with one structure and no caps features
    /// other than `memory:SystemMemory`:
    /// - `format` (string), `width` and `height` (ints >= 1): required;
    /// - `framerate` (fraction >= 0; absent: 0/1, variable);
    /// - `pixel-aspect-ratio` (fraction > 0; absent: 1/1);
    /// - `interlace-mode`: absent or `progressive`; other modes fail with
    ///   Errc::unsupported;
    /// - `colorimetry`: absent means the default for the format and height;
    ///   a colorimetry that contradicts the format is adjusted as GStreamer
    ///   does (an RGB format keeps the range, transfer and primaries but gets
    ///   the RGB matrix; a YUV format given the RGB or an unknown matrix, and
    ///   a gray format given the RGB matrix, get the default);
    /// - `chroma-site` (absent: the default for the format when colorimetry
    ///   is absent too, else none).
    /// Other fields are ignored. Errors name the field and its value:
    /// Errc::invalid_argument for a missing, ill-typed or bad value,
    /// Errc::unsupported for what this layer does not handle, and
    /// Errc::out_of_range when the layout would overflow.
    [[nodiscard]] static Result<VideoInfo> from_caps(const Caps& caps, VideoAlignment alignment = {});

    /// Same, from one structure.
    [[nodiscard]] static Result<VideoInfo> from_structure(const Structure& structure, VideoAlignment alignment = {});

    /// The caps GStreamer's gst_video_info_to_caps writes, fields in its
    /// order: `video/x-raw, format=(string)I420, width=(int)320,
    /// height=(int)240, interlace-mode=(string)progressive,
    /// pixel-aspect-ratio=(fraction)1/1, chroma-site=(string)jpeg,
    /// colorimetry=(string)bt601, framerate=(fraction)0/1`. chroma-site is
    /// left out when unknown, colorimetry when all unknown.
    [[nodiscard]] Caps to_caps() const;
    /// The structure of to_caps().
    [[nodiscard]] Structure to_structure() const;

    /// GStreamer's default colorimetry: YUV taller than 576 rows: bt709;
    /// other YUV: bt601; RGB: sRGB; gray: full range with the BT.601 matrix
    /// (`1:4:0:0`). (GStreamer 1.22 picks bt709, not bt2020, for UHD too.)
    [[nodiscard]] static VideoColorimetry default_colorimetry(VideoFormat format, std::uint32_t height) noexcept;
    /// GStreamer's default chroma site: YUV taller than 576 rows: mpeg2;
    /// other YUV: jpeg; RGB and gray: none.
    [[nodiscard]] static std::optional<VideoChromaSite> default_chroma_site(VideoFormat format,
                                                                            std::uint32_t height) noexcept;

    // The format.

    [[nodiscard]] VideoFormat format() const noexcept { return format_; }
    [[nodiscard]] const VideoFormatInfo& format_info() const noexcept { return video_format_info(format_); }
    [[nodiscard]] std::uint32_t width() const noexcept { return width_; }
    [[nodiscard]] std::uint32_t height() const noexcept { return height_; }
    /// Frames per second; 0/1 for a variable rate.
    [[nodiscard]] Fraction framerate() const noexcept { return framerate_; }
    [[nodiscard]] Fraction pixel_aspect_ratio() const noexcept { return par_; }
    [[nodiscard]] const VideoColorimetry& colorimetry() const noexcept { return colorimetry_; }
    /// nullopt when unknown.
    [[nodiscard]] std::optional<VideoChromaSite> chroma_site() const noexcept { return chroma_site_; }
    [[nodiscard]] VideoAlignment alignment() const noexcept { return alignment_; }

    /// Sets the frame rate; fails (Errc::invalid_argument) when negative.
    Result<void> set_framerate(Fraction framerate);
    /// Sets the pixel aspect ratio; fails (Errc::invalid_argument) unless
    /// positive.
    Result<void> set_pixel_aspect_ratio(Fraction par);
    void set_colorimetry(const VideoColorimetry& colorimetry) noexcept { colorimetry_ = colorimetry; }
    void set_chroma_site(std::optional<VideoChromaSite> site) noexcept { chroma_site_ = site; }

    // The layout.

    [[nodiscard]] std::size_t n_planes() const noexcept { return format_info().n_planes; }
    [[nodiscard]] std::size_t n_components() const noexcept { return format_info().n_components; }
    /// Bytes of one frame: where the last plane ends.
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    /// Bytes from the start of a row of plane `plane` to the next; 0 for a
    /// plane the format does not have.
    [[nodiscard]] std::size_t stride(std::size_t plane) const noexcept {
        return plane < max_planes ? strides_[plane] : 0;
    }
    /// Bytes from the start of the frame to plane `plane`; 0 for a plane the
    /// format does not have.
    [[nodiscard]] std::size_t offset(std::size_t plane) const noexcept {
        return plane < max_planes ? offsets_[plane] : 0;
    }
    /// Rows of plane `plane` (0 for a plane the format does not have).
    [[nodiscard]] std::size_t plane_rows(std::size_t plane) const noexcept {
        return plane < max_planes ? rows_[plane] : 0;
    }
    /// Bytes of a row of plane `plane` that hold samples (the stride less
    /// the padding).
    [[nodiscard]] std::size_t row_size(std::size_t plane) const noexcept {
        return plane < max_planes ? row_sizes_[plane] : 0;
    }
    /// Bytes of plane `plane`: stride times rows.
    [[nodiscard]] std::size_t plane_size(std::size_t plane) const noexcept { return stride(plane) * plane_rows(plane); }
    /// Samples in a row of component `comp` (half the width, rounded up,
    /// for subsampled chroma); 0 for a component the format does not have.
    [[nodiscard]] std::uint32_t component_width(std::size_t comp) const noexcept;
    /// Rows of component `comp` (half the height, rounded up, for 4:2:0
    /// chroma); 0 for a component the format does not have.
    [[nodiscard]] std::uint32_t component_height(std::size_t comp) const noexcept;

    /// Checks that a buffer of `size` bytes holds a whole frame: ok when it
    /// has at least size() bytes (more is fine, as in GStreamer). Otherwise
    /// Errc::out_of_range with a message naming both sizes and the format,
    /// ready for Error::at_element.
    [[nodiscard]] Result<void> check_buffer_size(std::size_t size) const;

    /// This format and size laid out with the given plane offsets and
    /// strides instead of the default layout (a buffer's VideoMeta), for a
    /// buffer of `buffer_size` bytes; size() is then where the furthest
    /// plane ends. Fails with Errc::invalid_argument when a stride is
    /// shorter than its plane's row of samples or above 2^31 - 1, and with
    /// Errc::out_of_range when a plane (its rows at their full stride) does
    /// not fit in the buffer; messages name the plane and the numbers.
    [[nodiscard]] Result<VideoInfo> with_layout(const std::array<std::size_t, max_planes>& offsets,
                                                const std::array<std::size_t, max_planes>& strides,
                                                std::size_t buffer_size) const;

    /// "I420 320x240 @ 30/1", for logs and messages.
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const VideoInfo&, const VideoInfo&) = default;

private:
    VideoInfo() = default;

    Result<void> compute_layout();

    VideoFormat format_ = VideoFormat::i420;
    std::uint32_t width_ = 0;
    std::uint32_t height_ = 0;
    Fraction framerate_;
    Fraction par_;
    VideoColorimetry colorimetry_;
    std::optional<VideoChromaSite> chroma_site_;
    VideoAlignment alignment_;
    std::size_t size_ = 0;
    std::array<std::size_t, max_planes> strides_{};
    std::array<std::size_t, max_planes> offsets_{};
    std::array<std::size_t, max_planes> rows_{};
    std::array<std::size_t, max_planes> row_sizes_{};
};

} // namespace parallax
