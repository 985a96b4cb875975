#pragma once

/// \file
/// VideoFrame and WritableVideoFrame: the bytes of a Buffer seen as one
/// frame of a VideoInfo, plane by plane and component by component
/// (GstVideoFrame).

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/buffer.hpp>
#include <parallax/video/video_info.hpp>
#include <parallax/video/video_meta.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

namespace parallax {

/// A frame mapped from a buffer: spans over its planes, rows and components.
/// Use the aliases VideoFrame (read-only) and WritableVideoFrame.
///
/// **Ownership:** the frame borrows the buffer's bytes and copies the
/// VideoInfo. The Buffer must outlive the frame and must not be reset,
/// resized, assigned or made writable again while the frame is used
/// (a temporary Buffer cannot be mapped).
///
/// Accessors given a plane, component or row the frame does not have return
/// an empty span (or 0), never memory outside the buffer.
template <bool Writable>
class BasicVideoFrame {
public:
    /// `std::byte` for a writable frame, `const std::byte` otherwise.
    using Byte = std::conditional_t<Writable, std::byte, const std::byte>;
    /// What map() takes: `Buffer&` for a writable frame, `const Buffer&`
    /// otherwise.
    using BufferRef = std::conditional_t<Writable, Buffer&, const Buffer&>;

    /// Maps `buffer` as a frame of `info`. Fails with Errc::out_of_range,
    /// naming the expected and actual sizes, when the buffer is smaller than
    /// info.size(); a larger buffer is fine (the frame uses its first
    /// info.size() bytes). A writable frame goes through
    /// Buffer::map_writable(): the bytes are copied first when the slot is
    /// shared (copy-on-write), which can fail when the arena has no free
    /// slot. Called from: any thread.
    ///
    /// A buffer that carries a VideoMeta is mapped with the meta's plane
    /// offsets and strides (info() then has them); a meta that does not
    /// match `info` or the buffer fails as video_info_with_meta() says.
    [[nodiscard]] static Result<BasicVideoFrame> map(const VideoInfo& info, BufferRef buffer) {
        if (const VideoMeta* meta = video_meta(buffer.meta()); meta != nullptr) [[unlikely]] {
            auto laid = video_info_with_meta(info, *meta, buffer.size());
            if (!laid) {
                return fail(std::move(laid.error()));
            }
            return map_laid_out(*laid, buffer);
        }
        if (auto ok = info.check_buffer_size(buffer.size()); !ok) {
            return fail(std::move(ok.error()));
        }
        return map_laid_out(info, buffer);
    }
    /// A temporary buffer would leave the frame dangling.
    static Result<BasicVideoFrame> map(const VideoInfo& info, Buffer&& buffer) = delete;

    /// Maps plain memory (not a Buffer) as a frame of `info`; the same size
    /// rule as map(). **Ownership:** borrows `bytes`.
    [[nodiscard]] static Result<BasicVideoFrame> map_bytes(const VideoInfo& info, std::span<Byte> bytes) {
        if (auto ok = info.check_buffer_size(bytes.size()); !ok) {
            return fail(std::move(ok.error()));
        }
        return BasicVideoFrame(info, bytes.first(info.size()));
    }

    [[nodiscard]] const VideoInfo& info() const noexcept { return info_; }
    [[nodiscard]] VideoFormat format() const noexcept { return info_.format(); }
    [[nodiscard]] std::uint32_t width() const noexcept { return info_.width(); }
    [[nodiscard]] std::uint32_t height() const noexcept { return info_.height(); }
    [[nodiscard]] std::size_t n_planes() const noexcept { return info_.n_planes(); }
    [[nodiscard]] std::size_t n_components() const noexcept { return info_.n_components(); }

    /// The whole frame: info().size() bytes.
    [[nodiscard]] std::span<Byte> data() const noexcept { return bytes_; }

    /// The bytes of plane `plane`: stride(plane) * rows, padding included.
    [[nodiscard]] std::span<Byte> plane(std::size_t plane) const noexcept {
        if (plane >= n_planes()) {
            return {};
        }
        return bytes_.subspan(info_.offset(plane), info_.plane_size(plane));
    }
    /// Bytes from one row of plane `plane` to the next.
    [[nodiscard]] std::size_t stride(std::size_t plane) const noexcept {
        return plane < n_planes() ? info_.stride(plane) : 0;
    }
    /// Row `y` of plane `plane`: its row_size() bytes of samples, padding
    /// excluded.
    [[nodiscard]] std::span<Byte> row(std::size_t plane, std::size_t y) const noexcept {
        if (plane >= n_planes() || y >= info_.plane_rows(plane)) {
            return {};
        }
        return bytes_.subspan(info_.offset(plane) + y * info_.stride(plane), info_.row_size(plane));
    }

    // Components: Y, U, V (or R, G, B), A; see video_comp.

    /// The plane that holds component `comp`.
    [[nodiscard]] std::size_t component_plane(std::size_t comp) const noexcept {
        return comp < n_components() ? info_.format_info().components[comp].plane : 0;
    }
    /// Bytes from one sample of component `comp` to the next in a row.
    [[nodiscard]] std::size_t component_pixel_stride(std::size_t comp) const noexcept {
        return comp < n_components() ? info_.format_info().components[comp].pixel_stride : 0;
    }
    /// The stride of the plane that holds component `comp`.
    [[nodiscard]] std::size_t component_stride(std::size_t comp) const noexcept {
        return comp < n_components() ? stride(component_plane(comp)) : 0;
    }
    [[nodiscard]] std::uint32_t component_width(std::size_t comp) const noexcept { return info_.component_width(comp); }
    [[nodiscard]] std::uint32_t component_height(std::size_t comp) const noexcept {
        return info_.component_height(comp);
    }
    /// Row `y` of component `comp`, from its first sample to its last:
    /// sample `x` starts at byte `x * component_pixel_stride(comp)`. In a
    /// packed or semi-planar format the span also covers the other
    /// components' bytes between the samples.
    [[nodiscard]] std::span<Byte> component_row(std::size_t comp, std::size_t y) const noexcept {
        if (comp >= n_components() || y >= component_height(comp)) {
            return {};
        }
        const VideoComponentInfo& c = info_.format_info().components[comp];
        const std::size_t start = info_.offset(c.plane) + y * info_.stride(c.plane) + c.offset;
        const std::size_t length = (static_cast<std::size_t>(component_width(comp)) - 1) * c.pixel_stride +
                                   static_cast<std::size_t>(info_.format_info().bits / 8);
        return bytes_.subspan(start, length);
    }

private:
    static Result<BasicVideoFrame> map_laid_out(const VideoInfo& info, BufferRef buffer) {
        if constexpr (Writable) {
            auto bytes = buffer.map_writable();
            if (!bytes) {
                return fail(std::move(bytes.error()));
            }
            return BasicVideoFrame(info, bytes->first(info.size()));
        } else {
            return BasicVideoFrame(info, buffer.data().first(info.size()));
        }
    }

    BasicVideoFrame(const VideoInfo& info, std::span<Byte> bytes) : info_(info), bytes_(bytes) {}

    VideoInfo info_;
    std::span<Byte> bytes_;
};

/// A read-only frame: `VideoFrame::map(info, buffer)`.
using VideoFrame = BasicVideoFrame<false>;
/// A writable frame: `WritableVideoFrame::map(info, buffer)` makes the buffer
/// writable (copy-on-write) and maps it.
using WritableVideoFrame = BasicVideoFrame<true>;

} // namespace parallax
