#include <parallax/video/video_meta.hpp>

#include <fmt/format.h>

namespace parallax {

void set_video_meta(Metadata& metadata, const VideoMeta& meta) {
    metadata.set(video_meta_api, meta);
}

const VideoMeta* video_meta(const Metadata& metadata) noexcept {
    return metadata.entry_count() == 0 ? nullptr : metadata.get<VideoMeta>(video_meta_api);
}

void clear_video_meta(Metadata& metadata) {
    if (metadata.entry_count() != 0) {
        metadata.erase(video_meta_api);
    }
}

Result<VideoInfo> video_info_with_meta(const VideoInfo& info, const VideoMeta& meta, std::size_t buffer_size) {
    if (meta.format != info.format() || meta.width != info.width() || meta.height != info.height()) {
        return fail(Errc::invalid_argument,
                    fmt::format("the buffer's video meta describes a {} {}x{} frame, the stream is {} {}x{}",
                                video_format_info(meta.format).name, meta.width, meta.height, info.format_info().name,
                                info.width(), info.height()));
    }
    return info.with_layout(meta.offsets, meta.strides, buffer_size);
}

} // namespace parallax
