#pragma once

// Private to the video and image decoders: the output layout's rate and
// aspect ratio taken from the input caps, and a picture that a decoder
// library hands out in its own memory, copied into a buffer of the
// pipeline.

#include <parallax/base/result.hpp>
#include <parallax/buffer/buffer.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/element/element_context.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <utility>

namespace parallax::detail {

/// Gives `vi` the frame rate and pixel aspect ratio of a decoder's input
/// caps, where those are one structure that has them (a decoded picture
/// tells neither).
inline void set_rate_and_aspect_of(VideoInfo& vi, const Caps& input_caps) {
    if (input_caps.size() != 1) {
        return;
    }
    const Structure& in = input_caps.structure(0);
    if (auto rate = in.get_fraction("framerate")) {
        static_cast<void>(vi.set_framerate(*rate));
    }
    if (auto par = in.get_fraction("pixel-aspect-ratio")) {
        static_cast<void>(vi.set_pixel_aspect_ratio(*par));
    }
}

/// One plane of a decoded picture: its first row, the distance in bytes
/// from one row to the next, and how many bytes of a row hold samples.
struct PicturePlane {
    const std::byte* data = nullptr;
    std::ptrdiff_t stride = 0;
    std::size_t row_bytes = 0;
};

/// A buffer from `context` holding a frame of `vi` copied row by row from
/// `planes` (one per plane of `vi`); a row longer than the frame's row is
/// cut to it. Fails when no buffer can be had or mapped.
inline Result<Buffer> copy_picture(ElementContext& context, const VideoInfo& vi, std::span<const PicturePlane> planes) {
    auto out = context.allocate(vi.size());
    if (!out) {
        return fail(std::move(out.error()));
    }
    auto frame = WritableVideoFrame::map(vi, *out);
    if (!frame) {
        return fail(std::move(frame.error()));
    }
    for (std::size_t plane = 0; plane < vi.n_planes() && plane < planes.size(); ++plane) {
        const PicturePlane& src = planes[plane];
        const std::size_t rows = vi.plane_rows(plane);
        const std::size_t row_bytes = std::min(vi.row_size(plane), src.row_bytes);
        for (std::size_t y = 0; y < rows; ++y) {
            std::memcpy(frame->row(plane, y).data(), src.data + static_cast<std::ptrdiff_t>(y) * src.stride, row_bytes);
        }
    }
    return std::move(*out);
}

} // namespace parallax::detail
