#pragma once

// The frame conversion behind videoconvert: plans how frames of one
// VideoInfo become frames of another (pixel format, range, matrix, depth)
// and runs that plan, frame after frame. Private to the video family; the
// unit tests include it to check which path a pair of formats takes.

#include <parallax/base/result.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

namespace parallax::detail {

/// How a VideoConverter converts.
enum class VideoConvertPath : std::uint8_t {
    /// The same format and the same colours: rows are copied.
    copy,
    /// 8-bit YUV or gray to another 8-bit YUV or gray layout with the same
    /// range and matrix: lossless (libyuv split, merge and pack functions;
    /// chroma repeated when upsampled, averaged when downsampled).
    repack_yuv,
    /// 8-bit RGB to another 8-bit RGB byte order with the same range: bytes
    /// reordered (libyuv ARGBShuffle, RGB24/RAW packing), lossless.
    repack_rgb,
    /// I420_10LE and P010_10LE with the same colours: a shift (libyuv
    /// I010ToP010 / P010ToI010), lossless.
    repack_10bit,
    /// YUV to YUV with the same colours where one side or both are deeper
    /// than 8 bits (I420_10LE, P010_10LE, I422_10LE, Y444_10LE, I420_12LE,
    /// I422_12LE, Y444_12LE, and the planar and semi-planar 8-bit layouts):
    /// each sample shifted by the depth change (rounded to nearest when bits
    /// are dropped), chroma repeated when upsampled and averaged when
    /// downsampled, in one rounding. libyuv copies planes that keep their
    /// depth and layout.
    repack_depth,
    /// 8-bit YUV or gray to 8-bit RGB, any matrix and range: a fixed-point
    /// kernel with 13-bit coefficients (AVX2 where the CPU has it).
    yuv_to_rgb,
    /// Anything else: unpack to 4:4:4, a fixed-point 3x3 matrix with offsets
    /// (range, matrix and depth in one step), pack.
    generic,
};

[[nodiscard]] std::string_view to_string(VideoConvertPath path) noexcept;

/// Range and Y'CbCr matrix as the conversion sees them: what a format's
/// colorimetry means for its sample values.
struct VideoColourModel {
    bool ycbcr = false; ///< Y'CbCr (YUV and gray formats) rather than R'G'B'.
    bool full = false;  ///< Full range (else limited: 16-235 / 16-240 at 8 bits).
    double kr = 0.299;  ///< Luma weights of the matrix (BT.601 unless said otherwise).
    double kb = 0.114;
    unsigned depth = 8; ///< Significant bits of a sample.
};

/// The model for `info`: its colorimetry's range (unknown: limited for YUV,
/// full for RGB and gray) and matrix (BT.601, BT.709, BT.2020, SMPTE 240M,
/// FCC; unknown: BT.601).
[[nodiscard]] VideoColourModel colour_model(const VideoInfo& info) noexcept;

/// The sample values of black (Y, U, V or R, G, B, then alpha fully opaque)
/// in `info`'s format and range, at its depth (P010's shift not applied).
[[nodiscard]] std::array<std::uint32_t, 4> black_values(const VideoInfo& info) noexcept;

/// Converts frames of one VideoInfo into frames of another. Made once per
/// caps (it holds its scratch rows), used from one streaming thread.
class VideoConverter {
public:
    /// A converter from frames of `in` to frames of `out`, which must have
    /// the same width and height. Transfer functions and primaries are not
    /// converted (as GStreamer's videoconvert by default).
    [[nodiscard]] static Result<std::unique_ptr<VideoConverter>> make(const VideoInfo& in, const VideoInfo& out);

    VideoConverter(const VideoConverter&) = delete;
    VideoConverter& operator=(const VideoConverter&) = delete;
    virtual ~VideoConverter() = default;

    /// Converts one frame; `in` is a frame of the input info and `out` one
    /// of the output info (both mapped, so their sizes are checked).
    virtual void convert(const VideoFrame& in, const WritableVideoFrame& out) = 0;
    [[nodiscard]] VideoConvertPath path() const noexcept { return path_; }

protected:
    explicit VideoConverter(VideoConvertPath path) noexcept : path_(path) {}

private:
    VideoConvertPath path_;
};

#if defined(__x86_64__) || defined(__i386__)
#define PARALLAX_VIDEO_X86 1

// Whether this CPU runs the AVX2 rows (asked once).
inline bool have_avx2() {
    static const bool avx2 = __builtin_cpu_supports("avx2") != 0;
    return avx2;
}
#endif

} // namespace parallax::detail
