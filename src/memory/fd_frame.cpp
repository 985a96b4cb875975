#include "memory/fd_frame.hpp"

#include <fmt/format.h>

namespace parallax::detail {

Result<FdFrameHeader> decode_frame(std::span<const std::byte> datagram, std::size_t fds_received) {
    if (datagram.size() < fd_frame_header_size) {
        return fail(Errc::corrupt, fmt::format("fd frame: short header: datagram of {} bytes, the header needs {}",
                                               datagram.size(), fd_frame_header_size));
    }
    const std::byte* in = datagram.data();
    FdFrameHeader header{};
    header.magic = load_le<std::uint32_t>(in + offsetof(FdFrameHeader, magic));
    header.version = load_le<std::uint16_t>(in + offsetof(FdFrameHeader, version));
    header.type = load_le<std::uint16_t>(in + offsetof(FdFrameHeader, type));
    header.payload_size = load_le<std::uint32_t>(in + offsetof(FdFrameHeader, payload_size));
    header.fd_count = load_le<std::uint32_t>(in + offsetof(FdFrameHeader, fd_count));

    if (header.magic != fd_frame_magic) {
        return fail(Errc::corrupt, fmt::format("fd frame: bad magic {:#010x} (expected {:#010x}, \"PLXF\")",
                                               header.magic, fd_frame_magic));
    }
    // Checked before anything else in the header: a later version may lay out
    // the remaining fields differently.
    if (header.version != fd_frame_version) {
        return fail(Errc::version_mismatch,
                    fmt::format("fd frame: unsupported version {} (this build reads version {})", header.version,
                                fd_frame_version));
    }
    if (header.payload_size > FdChannel::max_payload_size) {
        return fail(Errc::corrupt, fmt::format("fd frame: payload size {} exceeds the limit of {} bytes",
                                               header.payload_size, FdChannel::max_payload_size));
    }
    const std::size_t payload_received = datagram.size() - fd_frame_header_size;
    if (header.payload_size != payload_received) {
        return fail(
            Errc::corrupt,
            fmt::format("fd frame: payload size {} does not match the datagram ({} bytes: header {} + payload {})",
                        header.payload_size, datagram.size(), fd_frame_header_size, payload_received));
    }
    if (header.fd_count > FdChannel::max_fds) {
        return fail(Errc::corrupt,
                    fmt::format("fd frame: fd count {} exceeds the limit of {}", header.fd_count, FdChannel::max_fds));
    }
    if (header.fd_count != fds_received) {
        return fail(Errc::corrupt, fmt::format("fd frame: fd count {} does not match the {} fds received",
                                               header.fd_count, fds_received));
    }
    return header;
}

} // namespace parallax::detail
