#pragma once

// The wire frame of FdChannel, kept apart from the socket code so that the
// decoder is a pure function that unit tests and the fuzz target
// (tests/fuzz/fd_frame_fuzz.cpp) call directly. Layout: docs/design/fd_channel.md.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/memory/fd_channel.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace parallax::detail {

/// The header that starts every FdChannel datagram; the payload follows it
/// directly. Every field is little-endian on the wire.
struct FdFrameHeader {
    std::uint32_t magic;        ///< fd_frame_magic: the bytes "PLXF".
    std::uint16_t version;      ///< fd_frame_version.
    std::uint16_t type;         ///< FdMessage::type.
    std::uint32_t payload_size; ///< Bytes after the header; the rest of the datagram.
    std::uint32_t fd_count;     ///< Fds attached as SCM_RIGHTS.
};

inline constexpr std::size_t fd_frame_header_size = 16;
static_assert(sizeof(FdFrameHeader) == fd_frame_header_size);
static_assert(offsetof(FdFrameHeader, magic) == 0);
static_assert(offsetof(FdFrameHeader, version) == 4);
static_assert(offsetof(FdFrameHeader, type) == 6);
static_assert(offsetof(FdFrameHeader, payload_size) == 8);
static_assert(offsetof(FdFrameHeader, fd_count) == 12);
static_assert(std::is_trivially_copyable_v<FdFrameHeader>);

/// "PLXF" read as a little-endian u32.
inline constexpr std::uint32_t fd_frame_magic = 0x46584C50U;
inline constexpr std::uint16_t fd_frame_version = 1;

/// The largest datagram a valid frame can be.
inline constexpr std::size_t fd_frame_max_size = fd_frame_header_size + FdChannel::max_payload_size;

static_assert(FdChannel::max_payload_size <= UINT32_MAX);
static_assert(FdChannel::max_fds <= UINT32_MAX);

template <typename T>
constexpr void store_le(std::byte* out, T value) noexcept {
    static_assert(std::is_unsigned_v<T>);
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        out[i] = static_cast<std::byte>((value >> (8 * i)) & 0xFFU);
    }
}

template <typename T>
constexpr T load_le(const std::byte* in) noexcept {
    static_assert(std::is_unsigned_v<T>);
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        value = static_cast<T>(value | (static_cast<T>(std::to_integer<std::uint8_t>(in[i])) << (8 * i)));
    }
    return value;
}

/// The wire bytes of `header`.
constexpr std::array<std::byte, fd_frame_header_size> encode_frame_header(const FdFrameHeader& header) noexcept {
    std::array<std::byte, fd_frame_header_size> out{};
    store_le(out.data() + offsetof(FdFrameHeader, magic), header.magic);
    store_le(out.data() + offsetof(FdFrameHeader, version), header.version);
    store_le(out.data() + offsetof(FdFrameHeader, type), header.type);
    store_le(out.data() + offsetof(FdFrameHeader, payload_size), header.payload_size);
    store_le(out.data() + offsetof(FdFrameHeader, fd_count), header.fd_count);
    return out;
}

/// A header of the current version for a message of `type`.
constexpr FdFrameHeader make_frame_header(std::uint16_t type, std::uint32_t payload_size,
                                          std::uint32_t fd_count) noexcept {
    return {fd_frame_magic, fd_frame_version, type, payload_size, fd_count};
}

/// Checks one received datagram (header and payload; `datagram` is all of
/// it) against the `fds_received` fds that came with it, and returns its
/// header. Errors name what is wrong: Errc::corrupt for a short header, a bad
/// magic, a payload size over the limit or not matching the datagram, an fd
/// count over the limit or not matching the fds received;
/// Errc::version_mismatch for a version this build does not read.
/// Pure: no system calls. The fds are the caller's to close.
/// Exported for the unit tests and the fuzz target; not public API.
PARALLAX_API Result<FdFrameHeader> decode_frame(std::span<const std::byte> datagram, std::size_t fds_received);

} // namespace parallax::detail
