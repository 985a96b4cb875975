#include <parallax/klv/ber.hpp>

#include <fmt/format.h>

namespace parallax::klv {

Result<BerValue> decode_ber_length(std::span<const std::uint8_t> in, std::size_t offset) {
    if (in.empty()) {
        return fail(Errc::corrupt, fmt::format("BER length missing at byte {}", offset));
    }
    const std::uint8_t first = in[0];
    if (first < 0x80) {
        return BerValue{first, 1};
    }
    const std::size_t n = first & 0x7FU;
    if (n == 0) {
        return fail(Errc::corrupt,
                    fmt::format("indefinite BER length (0x80) at byte {}: KLV needs a definite length", offset));
    }
    if (n > max_ber_length_bytes) {
        return fail(Errc::corrupt, fmt::format("BER length at byte {} has {} length bytes (at most {})", offset, n,
                                               max_ber_length_bytes));
    }
    if (in.size() - 1 < n) {
        return fail(Errc::corrupt, fmt::format("BER length at byte {} is truncated: {} length bytes, {} present",
                                               offset, n, in.size() - 1));
    }
    std::uint64_t value = 0;
    for (std::size_t i = 1; i <= n; ++i) {
        value = (value << 8) | in[i];
    }
    return BerValue{value, n + 1};
}

std::size_t ber_length_size(std::uint64_t length) noexcept {
    if (length < 0x80) {
        return 1;
    }
    std::size_t n = 0;
    for (std::uint64_t v = length; v != 0; v >>= 8) {
        ++n;
    }
    return n + 1;
}

void encode_ber_length(std::uint64_t length, std::vector<std::uint8_t>& out) {
    const std::size_t size = ber_length_size(length);
    if (size == 1) {
        out.push_back(static_cast<std::uint8_t>(length));
        return;
    }
    const std::size_t n = size - 1;
    out.push_back(static_cast<std::uint8_t>(0x80U | n));
    for (std::size_t i = n; i > 0; --i) {
        out.push_back(static_cast<std::uint8_t>(length >> (8 * (i - 1))));
    }
}

Result<BerValue> decode_ber_oid(std::span<const std::uint8_t> in, std::size_t offset) {
    if (in.empty()) {
        return fail(Errc::corrupt, fmt::format("BER-OID number missing at byte {}", offset));
    }
    if (in[0] == 0x80) {
        return fail(Errc::corrupt, fmt::format("BER-OID number at byte {} is not minimal (starts with 0x80)", offset));
    }
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        value = (value << 7) | (in[i] & 0x7FU);
        if (value > 0xFFFFFFFFU) {
            return fail(Errc::corrupt, fmt::format("BER-OID number at byte {} exceeds 32 bits", offset));
        }
        if ((in[i] & 0x80U) == 0) {
            return BerValue{value, i + 1};
        }
    }
    return fail(Errc::corrupt, fmt::format("BER-OID number at byte {} is truncated after {} bytes", offset, in.size()));
}

void encode_ber_oid(std::uint32_t value, std::vector<std::uint8_t>& out) {
    int groups = 1;
    while (groups < 5 && (value >> (7 * groups)) != 0) {
        ++groups;
    }
    for (int g = groups - 1; g >= 0; --g) {
        const auto bits = static_cast<std::uint8_t>((value >> (7 * g)) & 0x7FU);
        out.push_back(g == 0 ? bits : static_cast<std::uint8_t>(bits | 0x80U));
    }
}

} // namespace parallax::klv
