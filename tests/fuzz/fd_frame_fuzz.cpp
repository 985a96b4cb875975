// Fuzz target for the FdChannel frame decoder (src/memory/fd_frame.hpp).
//
// Input: one byte giving how many fds the kernel delivered with the datagram
// (modulo max_fds + 2, so that counts over the limit are reached too), then
// the datagram itself. A frame that decodes must satisfy every limit and
// re-encode to the same header bytes; one that does not must say why with a
// corrupt or version-mismatch error.
#include "memory/fd_frame.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace parallax;
    if (size == 0) {
        return 0;
    }
    const std::size_t fds_received = data[0] % (FdChannel::max_fds + 2);
    const std::span<const std::byte> datagram(reinterpret_cast<const std::byte*>(data + 1), size - 1);

    auto header = detail::decode_frame(datagram, fds_received);
    if (!header) {
        const bool known = header.error().is(Errc::corrupt) || header.error().is(Errc::version_mismatch);
        if (!known || header.error().message().empty()) {
            std::abort();
        }
        return 0;
    }
    if (header->magic != detail::fd_frame_magic || header->version != detail::fd_frame_version ||
        header->payload_size > FdChannel::max_payload_size || header->fd_count > FdChannel::max_fds ||
        header->payload_size != datagram.size() - detail::fd_frame_header_size || header->fd_count != fds_received) {
        std::abort();
    }
    const auto encoded = detail::encode_frame_header(*header);
    if (std::memcmp(encoded.data(), datagram.data(), encoded.size()) != 0) {
        std::abort();
    }
    return 0;
}
