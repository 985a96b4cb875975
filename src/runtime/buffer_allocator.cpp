#include "runtime/buffer_allocator.hpp"

#include <fmt/format.h>

#include <bit>

namespace parallax::detail {

BufferAllocator::BufferAllocator(std::string name) : name_(std::move(name)) {}
BufferAllocator::~BufferAllocator() = default;

Result<Buffer> BufferAllocator::allocate(std::size_t size) {
    if (size == 0) {
        return Buffer();
    }
    if (size > (std::size_t{1} << max_shift)) {
        return fail(Errc::out_of_range, fmt::format("cannot allocate a buffer of {} bytes (at most {})", size,
                                                    std::size_t{1} << max_shift));
    }
    const std::size_t shift = std::max<std::size_t>(min_shift, std::bit_width(size - 1));
    const std::size_t cls = shift - min_shift;
    SizeClass& c = classes_[cls];
    const std::size_t n = c.count.load(std::memory_order_acquire);
    // Newest arena first: older ones are likelier to be full.
    for (std::size_t i = n; i-- > 0;) {
        Arena* a = c.arenas[i].load(std::memory_order_acquire);
        if (auto slot = a->try_acquire()) {
            return Buffer::adopt(*a, *slot, 0, size);
        }
    }
    auto grown = grow(cls);
    if (!grown) {
        return fail(grown.error());
    }
    // grow() may hand back an arena whose slot states show a free slot that
    // its hints do not yet: one that another process is releasing right
    // now. acquire() looks at every slot when the hints come up empty.
    auto slot = (*grown)->acquire();
    if (!slot) {
        return fail(Errc::exhausted, fmt::format("no free buffer of {} bytes: {}", size, slot.error().message()));
    }
    return Buffer::adopt(**grown, *slot, 0, size);
}

Result<Arena*> BufferAllocator::grow(std::size_t cls) {
    std::lock_guard lock(grow_mutex_);
    SizeClass& c = classes_[cls];
    const std::size_t n = c.count.load(std::memory_order_acquire);
    // Another thread may have grown the class meanwhile.
    for (std::size_t i = n; i-- > 0;) {
        Arena* a = c.arenas[i].load(std::memory_order_acquire);
        if (a->stats().free_slots > 0) {
            return a;
        }
    }
    if (n == max_arenas) {
        return fail(Errc::exhausted,
                    fmt::format("{}: every buffer of {} bytes is in use ({} arenas); a queue without limits or a "
                                "sink that keeps buffers holds them",
                                name_, std::size_t{1} << (cls + min_shift), n));
    }
    const std::size_t slot_size = std::size_t{1} << (cls + min_shift);
    ArenaConfig config;
    config.slot_size = slot_size;
    // About 64 MiB of address space per arena (touched only when used), at
    // least 8 and at most 4096 slots.
    config.slot_count = static_cast<std::uint32_t>(
        std::clamp<std::size_t>((std::size_t{64} << 20) / slot_size, 8, 4096));
    config.name = fmt::format("parallax-{}-{}", name_, slot_size);
    auto arena = Arena::create(config);
    if (!arena) {
        return fail(arena.error());
    }
    Arena* raw = arena->get();
    owned_.push_back(std::move(*arena));
    c.arenas[n].store(raw, std::memory_order_release);
    c.count.store(n + 1, std::memory_order_release);
    return raw;
}

std::size_t BufferAllocator::arena_count() const {
    std::lock_guard lock(grow_mutex_);
    return owned_.size();
}

} // namespace parallax::detail
