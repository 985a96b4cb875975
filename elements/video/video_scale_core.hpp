#pragma once

// The frame scaling behind videoscale: resizes frames of one VideoInfo into
// frames of another of the same pixel format, optionally into a centred
// rectangle with black borders around it. Private to the video family; the
// unit tests include it for the border geometry.

#include <parallax/base/result.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace parallax::detail {

/// The scaling methods; the numbers are GStreamer's videoscale `method`
/// values where GStreamer has the method (box is libparallax's own).
enum class VideoScaleMethod : std::uint8_t {
    nearest = 0,  ///< "nearest-neighbour": the input pixel under each output pixel's centre.
    bilinear = 1, ///< "bilinear": 2 taps each way, centres aligned.
    box = 10,     ///< "box": the mean of the input area each output pixel covers.
};

/// A rectangle of a frame, in pixels.
struct VideoRect {
    std::uint32_t x = 0;
    std::uint32_t y = 0;
    std::uint32_t width = 0;
    std::uint32_t height = 0;

    friend constexpr bool operator==(const VideoRect&, const VideoRect&) noexcept = default;
};

/// Where a picture of `in` goes in a frame of `out` so that its display
/// aspect ratio (size times pixel aspect ratio) stays: the largest centred
/// rectangle of that shape, its edges on whole chroma samples. The whole of
/// `out` when the ratios already agree.
[[nodiscard]] VideoRect keep_aspect_rect(const VideoInfo& in, const VideoInfo& out) noexcept;

/// Scales frames. Made once per caps (it holds its scratch planes), used
/// from one streaming thread.
class VideoScaler {
public:
    /// A scaler from frames of `in` to frames of `out` (the same format),
    /// drawing the picture into `target` (a rectangle of `out`; the rest is
    /// painted black). Fails when the formats differ or `target` does not
    /// fit.
    [[nodiscard]] static Result<std::unique_ptr<VideoScaler>> make(const VideoInfo& in, const VideoInfo& out,
                                                                   VideoScaleMethod method, VideoRect target);

    VideoScaler(const VideoScaler&) = delete;
    VideoScaler& operator=(const VideoScaler&) = delete;
    ~VideoScaler();

    /// Scales one frame; `in` is a frame of the input info and `out` one of
    /// the output info.
    void scale(const VideoFrame& in, const WritableVideoFrame& out);

    [[nodiscard]] VideoRect target() const noexcept { return target_; }

    struct Impl;

private:
    VideoScaler(std::unique_ptr<Impl> impl, VideoRect target);

    std::unique_ptr<Impl> impl_;
    VideoRect target_;
};

} // namespace parallax::detail
