#pragma once

/// \file
/// VideoMeta: the plane layout of one raw video buffer when it is not the
/// one its caps describe (GStreamer's GstVideoMeta), e.g. a decoder's
/// picture with the strides and padding its library chose.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/metadata.hpp>
#include <parallax/video/video_format.hpp>
#include <parallax/video/video_info.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parallax {

/// The name under which an allocation query lists VideoMeta support
/// (Query::add_meta), and the Metadata key of the entry.
inline constexpr std::string_view video_meta_api = "video-meta";

/// Where each plane of a buffer's frame starts and how far apart its rows
/// are. Format and size repeat the caps', so that a buffer that does not
/// match its stream is refused rather than misread.
///
/// A producer sends such buffers only downstream of an allocation query
/// whose answer lists video_meta_api; VideoFrame::map() honours the meta,
/// so an element that maps frames that way can list it. An element that
/// writes new buffers must not copy the entry onto them (its layout is the
/// input's).
struct VideoMeta {
    VideoFormat format = VideoFormat::i420;
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    /// Bytes from the start of the buffer's data to each plane (planes the
    /// format does not have: 0).
    std::array<std::size_t, VideoInfo::max_planes> offsets{};
    /// Bytes from one row of each plane to the next.
    std::array<std::size_t, VideoInfo::max_planes> strides{};

    friend bool operator==(const VideoMeta&, const VideoMeta&) = default;
};

/// Stores `meta` in `metadata` (under video_meta_api).
PARALLAX_API void set_video_meta(Metadata& metadata, const VideoMeta& meta);
/// The VideoMeta of `metadata`, or nullptr. Valid like Metadata::get().
[[nodiscard]] PARALLAX_API const VideoMeta* video_meta(const Metadata& metadata) noexcept;
/// Removes the VideoMeta, if any.
PARALLAX_API void clear_video_meta(Metadata& metadata);

/// The layout of `info`'s frames in a buffer of `buffer_size` bytes that
/// carries `meta`: `info` with the meta's offsets and strides. Fails with
/// Errc::invalid_argument when the meta's format or size is not the
/// info's, or a stride is shorter than a row of samples, and with
/// Errc::out_of_range when a plane (every row at its full stride) does not
/// fit in the buffer; the message names the plane and the numbers.
[[nodiscard]] PARALLAX_API Result<VideoInfo> video_info_with_meta(const VideoInfo& info, const VideoMeta& meta,
                                                                  std::size_t buffer_size);

} // namespace parallax
