#pragma once

// Reading and writing whole files in tests.

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <vector>

namespace parallax::check {

/// Every byte of the file at `path`, as `Byte`s (none when it cannot be read).
template <class Byte = std::byte>
std::vector<Byte> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> chars{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::vector<Byte> bytes(chars.size());
    for (std::size_t i = 0; i < chars.size(); ++i) {
        bytes[i] = static_cast<Byte>(static_cast<unsigned char>(chars[i]));
    }
    return bytes;
}

/// Writes `bytes` to the file at `path`, replacing it.
inline void write_file(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    std::ofstream os(path, std::ios::binary);
    os.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

} // namespace parallax::check
