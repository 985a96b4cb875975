// Fuzz target: the plugin descriptor reader (read_plugin_descriptor) on
// arbitrary file contents. Whatever the bytes, it returns a value or an
// Error; it never crashes or reads out of bounds.
#include <parallax/element/registry.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const int fd = ::memfd_create("plugin-fuzz", MFD_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    std::size_t written = 0;
    while (written < size) {
        const ssize_t n = ::write(fd, data + written, size - written);
        if (n <= 0) {
            break;
        }
        written += static_cast<std::size_t>(n);
    }
    static_cast<void>(parallax::read_plugin_descriptor("/proc/self/fd/" + std::to_string(fd)));
    ::close(fd);
    return 0;
}
