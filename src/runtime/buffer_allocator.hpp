#pragma once

// Buffers for the elements of one pipeline: arenas per power-of-two size
// class, created on first use and added when a class runs out. Memory of a
// memfd slot is only touched (and counted in RSS) once written.

#include <parallax/base/result.hpp>
#include <parallax/buffer/buffer.hpp>
#include <parallax/memory/arena.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parallax::detail {

class BufferAllocator {
public:
    explicit BufferAllocator(std::string name);
    ~BufferAllocator();

    /// A buffer of `size` bytes; size 0 gives an empty buffer without a slot.
    Result<Buffer> allocate(std::size_t size);

    /// Arenas created so far (for tests and the plan).
    [[nodiscard]] std::size_t arena_count() const;

private:
    static constexpr std::size_t min_shift = 8;   // 256 B
    static constexpr std::size_t max_shift = 30;  // 1 GiB
    static constexpr std::size_t max_arenas = 16; // per class
    struct SizeClass {
        std::array<std::atomic<Arena*>, max_arenas> arenas{};
        std::atomic<std::size_t> count{0};
    };

    Result<Arena*> grow(std::size_t cls);

    std::string name_;
    std::array<SizeClass, max_shift - min_shift + 1> classes_;
    mutable std::mutex grow_mutex_;
    std::vector<std::shared_ptr<Arena>> owned_;
};

} // namespace parallax::detail
