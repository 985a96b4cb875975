#pragma once

/// \file
/// IVF, the simple container of aomenc, vpxenc and dav1d: a 32-byte file
/// header ("DKIF") and, per frame, a 12-byte header (size, timestamp) and
/// the frame's bytes. All integers are little-endian.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/caps/value.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace parallax::ivf {

inline constexpr std::size_t file_header_size = 32;
inline constexpr std::size_t frame_header_size = 12;

/// The file header.
struct FileHeader {
    std::array<char, 4> fourcc{}; ///< "AV01", "VP80", "VP90"...
    std::uint16_t width = 0;
    std::uint16_t height = 0;
    /// rate/scale of the header: the frame rate, i.e. the timebase
    /// (scale/rate seconds per timestamp unit) turned over.
    Fraction framerate;
    std::uint32_t frame_count = 0; ///< 0 when the writer did not know it.

    friend bool operator==(const FileHeader&, const FileHeader&) = default;
};

/// Parses the first 32 bytes of `bytes`: magic "DKIF", version 0, header
/// size 32, a non-zero rate and scale that fit a Fraction. Errors name the
/// byte offset of the wrong field.
PARALLAX_API Result<FileHeader> parse_file_header(std::span<const std::uint8_t> bytes);

/// The 32 bytes of `header` (version 0, header size 32, rate and scale from
/// the framerate; a framerate of 0 or below is written as 1/1).
PARALLAX_API std::array<std::uint8_t, file_header_size> write_file_header(const FileHeader& header);

/// A frame header: the size of the frame's bytes that follow and its
/// timestamp in timebase units.
struct FrameHeader {
    std::uint32_t size = 0;
    std::uint64_t timestamp = 0;

    friend bool operator==(const FrameHeader&, const FrameHeader&) = default;
};

/// Parses the first 12 bytes of `bytes`; `offset_for_errors` is where they
/// sit in the file, for the message of an error (too few bytes).
PARALLAX_API Result<FrameHeader> parse_frame_header(std::span<const std::uint8_t> bytes, std::size_t offset_for_errors);

PARALLAX_API std::array<std::uint8_t, frame_header_size> write_frame_header(const FrameHeader& header);

} // namespace parallax::ivf
