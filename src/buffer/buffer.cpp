#include <parallax/buffer/buffer.hpp>

#include <fmt/format.h>

#include <cstring>

namespace parallax {

Result<Buffer> Buffer::adopt(Arena& arena, SlotIndex slot, std::size_t offset, std::size_t size, Metadata meta) {
    if (slot >= arena.slot_count()) {
        return fail(Errc::out_of_range,
                    fmt::format("buffer: slot {} outside arena of {} slots", slot, arena.slot_count()));
    }
    if (offset > arena.slot_size() || size > arena.slot_size() - offset) {
        return fail(Errc::out_of_range, fmt::format("buffer: bytes {} … {} outside a slot of {} bytes", offset,
                                                    offset + size, arena.slot_size()));
    }
    return Buffer(&arena, slot, offset, size, std::move(meta));
}

Result<Buffer> Buffer::allocate(Arena& arena, std::size_t size) {
    if (size > arena.slot_size()) {
        return fail(Errc::out_of_range,
                    fmt::format("buffer: {} bytes do not fit a slot of {} bytes", size, arena.slot_size()));
    }
    auto slot = arena.acquire();
    if (!slot) {
        return fail(std::move(slot.error()));
    }
    return Buffer(&arena, *slot, 0, size, Metadata{});
}

Result<void> Buffer::make_writable() {
    if (arena_ == nullptr) {
        return fail(Errc::state, "buffer: an empty buffer has no bytes to write");
    }
    if (arena_->is_sole_reference(slot_)) {
        return {};
    }
    auto slot = arena_->acquire();
    if (!slot) {
        return fail(Error(slot.error().code(), "buffer: copy-on-write: " + slot.error().message()));
    }
    std::memcpy(arena_->slot_data(*slot), arena_->slot_data(slot_) + offset_, size_);
    arena_->release(slot_);
    slot_ = *slot;
    offset_ = 0;
    return {};
}

Result<std::span<std::byte>> Buffer::map_writable() {
    if (auto writable = make_writable(); !writable) {
        return fail(std::move(writable.error()));
    }
    return std::span<std::byte>(arena_->slot_data(slot_) + offset_, size_);
}

Result<Buffer> Buffer::slice(std::size_t offset, std::size_t size) const {
    if (arena_ == nullptr) {
        return fail(Errc::state, "buffer: cannot slice an empty buffer");
    }
    if (offset > size_ || size > size_ - offset) {
        return fail(Errc::out_of_range,
                    fmt::format("buffer: slice {} … {} outside a buffer of {} bytes", offset, offset + size, size_));
    }
    arena_->retain(slot_);
    return Buffer(arena_, slot_, offset_ + offset, size, meta_);
}

Result<void> Buffer::resize(std::size_t size) {
    if (arena_ == nullptr) {
        return fail(Errc::state, "buffer: cannot resize an empty buffer");
    }
    if (size > capacity()) {
        return fail(Errc::out_of_range,
                    fmt::format("buffer: size {} exceeds the {} bytes left in the slot", size, capacity()));
    }
    size_ = size;
    return {};
}

} // namespace parallax
