#pragma once

// The CRC-32 with polynomial 0x04c11db7, most significant bit first, no
// reflection: Ogg pages use it from 0 without a final xor, MPEG-2 sections
// (ISO/IEC 13818-1 Annex A) from 0xffffffff without a final xor.

#include <array>
#include <cstdint>
#include <span>

namespace parallax::detail {

constexpr std::array<std::uint32_t, 256> make_crc32_msb_table() noexcept {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t r = i << 24;
        for (int bit = 0; bit < 8; ++bit) {
            r = (r & 0x80000000U) != 0 ? (r << 1) ^ 0x04c11db7U : r << 1;
        }
        table[i] = r;
    }
    return table;
}

inline constexpr std::array<std::uint32_t, 256> crc32_msb_table = make_crc32_msb_table();

inline std::uint32_t crc32_msb_update(std::uint32_t crc, std::span<const std::uint8_t> bytes) noexcept {
    for (const std::uint8_t b : bytes) {
        crc = (crc << 8) ^ crc32_msb_table[((crc >> 24) ^ b) & 0xFFU];
    }
    return crc;
}

} // namespace parallax::detail
