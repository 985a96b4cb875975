#pragma once

/// \file
/// KLV packets in a byte stream: a 16-byte SMPTE Universal Label key, a BER
/// length and that many value bytes. next_packet() finds where the first
/// packet of a stream ends, find_key() where the next one may start.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace parallax::klv {

/// The length of a Universal Label key.
inline constexpr std::size_t key_size = 16;
using Key = std::array<std::uint8_t, key_size>;

/// The first four bytes of every SMPTE Universal Label.
inline constexpr std::array<std::uint8_t, 4> ul_prefix{0x06, 0x0E, 0x2B, 0x34};

/// The largest packet next_packet() accepts by default (a guard against a
/// corrupt length making a reader wait for gigabytes).
inline constexpr std::size_t default_max_packet_size = std::size_t{1} << 24;

/// Where the first KLV packet of `stream` ends.
///
/// Returns the packet's total size (key, length field and value) when the
/// whole packet is in `stream`, or std::nullopt when more bytes are needed
/// to know or to hold it. Fails (Errc::corrupt) when `stream` does not start
/// with the UL prefix 06 0E 2B 34, when the BER length is invalid (indefinite,
/// more than 8 bytes) or when the packet would be larger than `max_size`;
/// messages name the byte offset in `stream`.
PARALLAX_API Result<std::optional<std::size_t>> next_packet(std::span<const std::uint8_t> stream,
                                                            std::size_t max_size = default_max_packet_size);

/// The offset of the first place at or after `from` in `stream` where a UL
/// key may start: where the UL prefix begins, or where a partial prefix runs
/// to the end of `stream`. `stream.size()` when there is none.
PARALLAX_API std::size_t find_key(std::span<const std::uint8_t> stream, std::size_t from = 0) noexcept;

} // namespace parallax::klv
