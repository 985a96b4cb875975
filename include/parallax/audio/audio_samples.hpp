#pragma once

/// \file
/// AudioSamples and WritableAudioSamples: the bytes of a Buffer seen as
/// frames of an AudioInfo, with one plane per channel for non-interleaved
/// audio (GstAudioBuffer).

#include <parallax/audio/audio_info.hpp>
#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/buffer.hpp>

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

namespace parallax {

/// Audio frames mapped from a buffer. Use the aliases AudioSamples
/// (read-only) and WritableAudioSamples.
///
/// Interleaved audio has one plane, the whole buffer. Non-interleaved audio
/// has one plane per channel: the buffer is split into channels() equal
/// parts, channel 0 first, each holding frames() samples (GStreamer's layout
/// of a non-interleaved buffer without an offsets meta).
///
/// **Ownership:** borrows the buffer's bytes and copies the AudioInfo. The
/// Buffer must outlive the mapping and must not be reset, resized, assigned
/// or made writable again while it is used (a temporary Buffer cannot be
/// mapped). Accessors given a plane the mapping does not have return an
/// empty span.
template <bool Writable>
class BasicAudioSamples {
public:
    using Byte = std::conditional_t<Writable, std::byte, const std::byte>;
    using BufferRef = std::conditional_t<Writable, Buffer&, const Buffer&>;

    /// Maps `buffer` as frames of `info`. Fails with Errc::out_of_range when
    /// its size is not a whole number of frames (see AudioInfo::frames_in).
    /// A writable mapping goes through Buffer::map_writable() (copy-on-write).
    /// Called from: any thread.
    [[nodiscard]] static Result<BasicAudioSamples> map(const AudioInfo& info, BufferRef buffer) {
        auto frames = info.frames_in(buffer.size());
        if (!frames) {
            return fail(std::move(frames.error()));
        }
        if constexpr (Writable) {
            auto bytes = buffer.map_writable();
            if (!bytes) {
                return fail(std::move(bytes.error()));
            }
            return BasicAudioSamples(info, *frames, *bytes);
        } else {
            return BasicAudioSamples(info, *frames, buffer.data());
        }
    }
    /// A temporary buffer would leave the mapping dangling.
    static Result<BasicAudioSamples> map(const AudioInfo& info, Buffer&& buffer) = delete;

    /// Maps plain memory (not a Buffer); the same size rule as map().
    /// **Ownership:** borrows `bytes`.
    [[nodiscard]] static Result<BasicAudioSamples> map_bytes(const AudioInfo& info, std::span<Byte> bytes) {
        auto frames = info.frames_in(bytes.size());
        if (!frames) {
            return fail(std::move(frames.error()));
        }
        return BasicAudioSamples(info, *frames, bytes);
    }

    [[nodiscard]] const AudioInfo& info() const noexcept { return info_; }
    /// Frames in the buffer (samples per channel).
    [[nodiscard]] std::size_t frames() const noexcept { return frames_; }
    [[nodiscard]] std::size_t channels() const noexcept { return info_.channels(); }
    /// 1 for interleaved audio, channels() for non-interleaved.
    [[nodiscard]] std::size_t n_planes() const noexcept {
        return info_.layout() == AudioLayout::interleaved ? 1 : info_.channels();
    }
    /// All the bytes.
    [[nodiscard]] std::span<Byte> data() const noexcept { return bytes_; }
    /// Plane `plane`: the whole buffer for interleaved audio; channel `plane`
    /// (frames() * sample_size() bytes) for non-interleaved audio.
    [[nodiscard]] std::span<Byte> plane(std::size_t plane) const noexcept {
        if (plane >= n_planes()) {
            return {};
        }
        const std::size_t size = bytes_.size() / n_planes();
        return bytes_.subspan(plane * size, size);
    }

private:
    BasicAudioSamples(const AudioInfo& info, std::size_t frames, std::span<Byte> bytes)
        : info_(info), frames_(frames), bytes_(bytes) {}

    AudioInfo info_;
    std::size_t frames_ = 0;
    std::span<Byte> bytes_;
};

/// Read-only samples: `AudioSamples::map(info, buffer)`.
using AudioSamples = BasicAudioSamples<false>;
/// Writable samples: `WritableAudioSamples::map(info, buffer)` makes the
/// buffer writable (copy-on-write) and maps it.
using WritableAudioSamples = BasicAudioSamples<true>;

} // namespace parallax
