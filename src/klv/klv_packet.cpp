#include <parallax/klv/ber.hpp>
#include <parallax/klv/klv_packet.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace parallax::klv {

Result<std::optional<std::size_t>> next_packet(std::span<const std::uint8_t> stream, std::size_t max_size) {
    const std::size_t prefix = std::min(stream.size(), ul_prefix.size());
    for (std::size_t i = 0; i < prefix; ++i) {
        if (stream[i] != ul_prefix[i]) {
            return fail(Errc::corrupt, fmt::format("no UL key at byte 0: byte {} is 0x{:02X}, a key has 0x{:02X} there",
                                                   i, stream[i], ul_prefix[i]));
        }
    }
    if (stream.size() <= key_size) {
        return std::optional<std::size_t>();
    }
    // A long-form length whose bytes have not all arrived is not an error
    // here: the stream may bring them.
    const std::uint8_t first = stream[key_size];
    if (first > 0x80 && first <= 0x80 + max_ber_length_bytes && stream.size() - key_size - 1 < (first & 0x7FU)) {
        return std::optional<std::size_t>();
    }
    auto length = decode_ber_length(stream.subspan(key_size), key_size);
    if (!length) {
        return fail(length.error());
    }
    const std::size_t header = key_size + length->size;
    if (length->value > max_size || header + length->value > max_size) {
        return fail(Errc::corrupt, fmt::format("KLV length {} at byte {} exceeds the {}-byte packet limit",
                                               length->value, key_size, max_size));
    }
    const std::size_t total = header + static_cast<std::size_t>(length->value);
    if (stream.size() < total) {
        return std::optional<std::size_t>();
    }
    return std::optional<std::size_t>(total);
}

std::size_t find_key(std::span<const std::uint8_t> stream, std::size_t from) noexcept {
    for (std::size_t i = from; i < stream.size(); ++i) {
        const std::size_t n = std::min(ul_prefix.size(), stream.size() - i);
        if (std::equal(ul_prefix.begin(), ul_prefix.begin() + static_cast<std::ptrdiff_t>(n),
                       stream.begin() + static_cast<std::ptrdiff_t>(i))) {
            return i;
        }
    }
    return stream.size();
}

} // namespace parallax::klv
