#pragma once

/// \file
/// BER lengths (SMPTE 336) and BER-OID numbers, the two variable-length
/// integer forms of KLV.
///
/// A BER length is either the short form (one byte below 0x80) or the long
/// form (0x80 | n, then n big-endian bytes). A BER-OID number carries 7 bits
/// per byte, most significant group first, with the high bit set on every
/// byte but the last; MISB ST 0601 writes its tag numbers that way.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parallax::klv {

/// A decoded variable-length integer and how many bytes it took.
struct BerValue {
    std::uint64_t value = 0;
    std::size_t size = 0; ///< Bytes read, the first byte included.
    friend bool operator==(const BerValue&, const BerValue&) = default;
};

/// The most bytes a long-form length may carry after its first byte.
inline constexpr std::size_t max_ber_length_bytes = 8;

/// Decodes the BER length at the start of `in`. `offset` is where `in`
/// starts in the caller's data: error messages name the byte at
/// `offset + i`. Fails (Errc::corrupt) on an empty or truncated field, on the
/// indefinite form (0x80) and on a long form of more than 8 bytes. Whether
/// the length fits the data that follows is the caller's check.
PARALLAX_API Result<BerValue> decode_ber_length(std::span<const std::uint8_t> in, std::size_t offset = 0);

/// Appends the minimal BER form of `length` to `out` (short form below 128).
PARALLAX_API void encode_ber_length(std::uint64_t length, std::vector<std::uint8_t>& out);

/// How many bytes encode_ber_length() writes for `length`.
PARALLAX_API std::size_t ber_length_size(std::uint64_t length) noexcept;

/// Decodes the BER-OID number at the start of `in`, which must fit 32 bits.
/// Fails (Errc::corrupt, naming the byte at `offset + i`) when the number is
/// truncated (its last byte has the high bit set), not minimal (starts with
/// 0x80) or too large.
PARALLAX_API Result<BerValue> decode_ber_oid(std::span<const std::uint8_t> in, std::size_t offset = 0);

/// Appends the BER-OID form of `value` to `out`.
PARALLAX_API void encode_ber_oid(std::uint32_t value, std::vector<std::uint8_t>& out);

} // namespace parallax::klv
