// Test input and output for the Opus elements' tests: sine audio as raw
// bytes, and buffers kept after their harness is gone.
#pragma once

#include <parallax/buffer/buffer.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

namespace parallax::test {

// `frames` frames at `rate` of a sine per channel (channel c at freqs[c] Hz,
// amplitude 0.5), as S16LE or F32LE bytes.
inline std::vector<std::byte> sine_bytes(bool f32, std::uint32_t rate, const std::vector<double>& freqs,
                                         std::size_t frames) {
    std::vector<std::byte> out;
    for (std::size_t i = 0; i < frames; ++i) {
        for (double freq : freqs) {
            const double v = 0.5 * std::sin(2 * std::numbers::pi * freq * static_cast<double>(i) / rate);
            if (f32) {
                const auto s = static_cast<float>(v);
                const auto* p = reinterpret_cast<const std::byte*>(&s);
                out.insert(out.end(), p, p + 4);
            } else {
                const auto s = static_cast<std::int16_t>(std::lrint(v * 32767));
                const auto* p = reinterpret_cast<const std::byte*>(&s);
                out.insert(out.end(), p, p + 2);
            }
        }
    }
    return out;
}

// A buffer's bytes and metadata, kept after its harness (and arena) is gone.
struct Packet {
    std::vector<std::byte> bytes;
    Metadata metadata;
    [[nodiscard]] std::span<const std::byte> data() const { return bytes; }
    [[nodiscard]] std::size_t size() const { return bytes.size(); }
    [[nodiscard]] Metadata& meta() { return metadata; }
    [[nodiscard]] const Metadata& meta() const { return metadata; }
};

inline Packet packet_of(const Buffer& b) {
    return Packet{std::vector<std::byte>(b.data().begin(), b.data().end()), b.meta()};
}

} // namespace parallax::test
