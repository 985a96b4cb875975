#pragma once

/// \file
/// Buffer: a slice of an arena slot plus its metadata. A small value: copying
/// it costs one atomic increment on the slot's shared reference count.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/metadata.hpp>
#include <parallax/memory/arena.hpp>

#include <cstddef>
#include <span>
#include <utility>

namespace parallax {

/// A reference to bytes in an arena slot, with metadata.
///
/// The bytes are readable through data(). They are writable only while this
/// is the only reference to the slot, in any process; map_writable() and
/// make_writable() first copy them into a new slot of the same arena when
/// the slot is shared (copy-on-write).
///
/// **Ownership:** each Buffer owns one reference on its slot, counted for this
/// process in the arena's shared memory. Copying adds one, destruction drops
/// one; the last drop, in whatever process, frees the slot. The Arena must
/// outlive the Buffer (a BufferPool keeps its arena alive; an arena whose
/// process still holds references is never unmapped).
class PARALLAX_API Buffer {
public:
    /// An empty buffer: no slot, no bytes.
    Buffer() noexcept = default;

    /// Takes ownership of one reference that this process already holds on
    /// `slot` (from Arena::acquire(), or credited by another process through
    /// Arena::share()). Fails when the range lies outside the slot.
    static Result<Buffer> adopt(Arena& arena, SlotIndex slot, std::size_t offset, std::size_t size, Metadata meta = {});

    /// Acquires a slot of `arena` and returns a buffer of `size` bytes at its
    /// start. The bytes are not cleared.
    static Result<Buffer> allocate(Arena& arena, std::size_t size);

    Buffer(const Buffer& other) noexcept
        : arena_(other.arena_), slot_(other.slot_), offset_(other.offset_), size_(other.size_), meta_(other.meta_) {
        if (arena_ != nullptr) {
            arena_->retain(slot_);
        }
    }
    Buffer(Buffer&& other) noexcept
        : arena_(std::exchange(other.arena_, nullptr)), slot_(other.slot_), offset_(other.offset_),
          size_(std::exchange(other.size_, 0)), meta_(std::move(other.meta_)) {}
    Buffer& operator=(const Buffer& other) noexcept {
        if (this != &other) {
            Buffer copy(other);
            swap(copy);
        }
        return *this;
    }
    Buffer& operator=(Buffer&& other) noexcept {
        if (this != &other) {
            reset();
            arena_ = std::exchange(other.arena_, nullptr);
            slot_ = other.slot_;
            offset_ = other.offset_;
            size_ = std::exchange(other.size_, 0);
            meta_ = std::move(other.meta_);
        }
        return *this;
    }
    ~Buffer() { reset(); }

    /// Drops the reference; the buffer becomes empty.
    void reset() noexcept {
        if (arena_ != nullptr) {
            std::exchange(arena_, nullptr)->release(slot_);
            size_ = 0;
        }
    }

    void swap(Buffer& other) noexcept {
        std::swap(arena_, other.arena_);
        std::swap(slot_, other.slot_);
        std::swap(offset_, other.offset_);
        std::swap(size_, other.size_);
        std::swap(meta_, other.meta_);
    }

    /// True when the buffer refers to a slot.
    [[nodiscard]] bool valid() const noexcept { return arena_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

    /// The bytes, read-only.
    [[nodiscard]] std::span<const std::byte> data() const noexcept {
        return arena_ == nullptr ? std::span<const std::byte>{}
                                 : std::span<const std::byte>(arena_->slot_data(slot_) + offset_, size_);
    }

    /// The bytes, writable: copies them into a new slot first when the slot
    /// is shared. Fails when the buffer is empty or the copy finds no slot.
    Result<std::span<std::byte>> map_writable();

    /// Makes this buffer the sole reference to its bytes (copying if shared).
    Result<void> make_writable();

    /// True when this buffer holds the only reference to its slot.
    [[nodiscard]] bool is_writable() const noexcept { return arena_ != nullptr && arena_->is_sole_reference(slot_); }

    /// A buffer of `size` bytes starting `offset` bytes into this one,
    /// sharing the slot (one more reference). Metadata is copied.
    [[nodiscard]] Result<Buffer> slice(std::size_t offset, std::size_t size) const;

    /// Changes the size, within the slot: a producer acquires a whole slot,
    /// writes, then states how much it wrote.
    Result<void> resize(std::size_t size);

    /// Bytes available from this buffer's start to the end of its slot.
    [[nodiscard]] std::size_t capacity() const noexcept {
        return arena_ == nullptr ? 0 : arena_->slot_size() - offset_;
    }

    /// References on the slot over all processes (for tests and tools).
    [[nodiscard]] std::uint32_t ref_count() const noexcept { return arena_ == nullptr ? 0 : arena_->ref_count(slot_); }

    [[nodiscard]] Metadata& meta() noexcept { return meta_; }
    [[nodiscard]] const Metadata& meta() const noexcept { return meta_; }

    /// Where the bytes live: enough to name them to another process that
    /// maps the same arena.
    [[nodiscard]] Arena* arena() const noexcept { return arena_; }
    [[nodiscard]] SlotIndex slot() const noexcept { return slot_; }
    [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

    /// Gives up ownership of the reference without dropping it: the caller
    /// now owns one reference on slot() (used when handing a reference to
    /// another process). The buffer becomes empty.
    SlotIndex release_reference() noexcept {
        arena_ = nullptr;
        size_ = 0;
        return slot_;
    }

private:
    friend class BufferPool; // hands out whole slots without re-checking their range

    Buffer(Arena* arena, SlotIndex slot, std::size_t offset, std::size_t size, Metadata meta) noexcept
        : arena_(arena), slot_(slot), offset_(offset), size_(size), meta_(std::move(meta)) {}

    Arena* arena_ = nullptr;
    SlotIndex slot_ = 0;
    std::size_t offset_ = 0;
    std::size_t size_ = 0;
    Metadata meta_;
};

} // namespace parallax
