// IVF file and frame headers.

#include <parallax/container/ivf.hpp>

#include <fmt/format.h>

#include <cctype>
#include <string>

namespace parallax::ivf {
namespace {

std::uint32_t read_le(std::span<const std::uint8_t> b, std::size_t at, std::size_t bytes) noexcept {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
        v |= static_cast<std::uint32_t>(b[at + i]) << (8 * i);
    }
    return v;
}

template <std::size_t N>
void write_le(std::array<std::uint8_t, N>& out, std::size_t at, std::uint64_t v, std::size_t bytes) noexcept {
    for (std::size_t i = 0; i < bytes; ++i) {
        out[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
}

// The four bytes as text for a message, unprintable ones in hex.
std::string printable(std::span<const std::uint8_t> b) {
    std::string s;
    for (const std::uint8_t c : b) {
        if (c >= 0x20 && c < 0x7F) {
            s += static_cast<char>(c);
        } else {
            s += fmt::format("\\x{:02x}", c);
        }
    }
    return s;
}

} // namespace

Result<FileHeader> parse_file_header(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < file_header_size) {
        return fail(Errc::corrupt, fmt::format("IVF file header: {} bytes, 32 needed (truncated at byte {})",
                                               bytes.size(), bytes.size()));
    }
    if (bytes[0] != 'D' || bytes[1] != 'K' || bytes[2] != 'I' || bytes[3] != 'F') {
        return fail(Errc::corrupt,
                    fmt::format("IVF file header: magic at byte 0 is \"{}\", not \"DKIF\"", printable(bytes.first(4))));
    }
    if (const std::uint32_t version = read_le(bytes, 4, 2); version != 0) {
        return fail(Errc::version_mismatch,
                    fmt::format("IVF file header: version {} at byte 4 is not supported (only 0)", version));
    }
    if (const std::uint32_t size = read_le(bytes, 6, 2); size != file_header_size) {
        return fail(Errc::corrupt, fmt::format("IVF file header: header size {} at byte 6 is not 32", size));
    }
    FileHeader h;
    for (std::size_t i = 0; i < 4; ++i) {
        h.fourcc[i] = static_cast<char>(bytes[8 + i]);
    }
    h.width = static_cast<std::uint16_t>(read_le(bytes, 12, 2));
    h.height = static_cast<std::uint16_t>(read_le(bytes, 14, 2));
    const std::uint32_t rate = read_le(bytes, 16, 4);
    const std::uint32_t scale = read_le(bytes, 20, 4);
    if (rate == 0) {
        return fail(Errc::corrupt, "IVF file header: timebase denominator (rate, byte 16) is 0");
    }
    if (scale == 0) {
        return fail(Errc::corrupt, "IVF file header: timebase numerator (scale, byte 20) is 0");
    }
    auto rate_fraction = Fraction::make(rate, scale);
    if (!rate_fraction) {
        return fail(Errc::corrupt, fmt::format("IVF file header: rate {} / scale {} (bytes 16-23): {}", rate, scale,
                                               rate_fraction.error().message()));
    }
    h.framerate = *rate_fraction;
    h.frame_count = read_le(bytes, 24, 4);
    return h;
}

std::array<std::uint8_t, file_header_size> write_file_header(const FileHeader& header) {
    std::array<std::uint8_t, file_header_size> out{};
    out[0] = 'D';
    out[1] = 'K';
    out[2] = 'I';
    out[3] = 'F';
    write_le(out, 4, 0, 2);
    write_le(out, 6, file_header_size, 2);
    for (std::size_t i = 0; i < 4; ++i) {
        out[8 + i] = static_cast<std::uint8_t>(header.fourcc[i]);
    }
    write_le(out, 12, header.width, 2);
    write_le(out, 14, header.height, 2);
    const bool valid = header.framerate.num() > 0 && header.framerate.den() > 0;
    write_le(out, 16, valid ? static_cast<std::uint32_t>(header.framerate.num()) : 1U, 4);
    write_le(out, 20, valid ? static_cast<std::uint32_t>(header.framerate.den()) : 1U, 4);
    write_le(out, 24, header.frame_count, 4);
    return out;
}

Result<FrameHeader> parse_frame_header(std::span<const std::uint8_t> bytes, std::size_t offset_for_errors) {
    if (bytes.size() < frame_header_size) {
        return fail(Errc::corrupt,
                    fmt::format("IVF frame header at byte {}: {} bytes, 12 needed", offset_for_errors, bytes.size()));
    }
    FrameHeader h;
    h.size = read_le(bytes, 0, 4);
    h.timestamp =
        static_cast<std::uint64_t>(read_le(bytes, 4, 4)) | (static_cast<std::uint64_t>(read_le(bytes, 8, 4)) << 32);
    return h;
}

std::array<std::uint8_t, frame_header_size> write_frame_header(const FrameHeader& header) {
    std::array<std::uint8_t, frame_header_size> out{};
    write_le(out, 0, header.size, 4);
    write_le(out, 4, header.timestamp, 8);
    return out;
}

} // namespace parallax::ivf
