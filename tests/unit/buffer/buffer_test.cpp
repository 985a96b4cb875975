#include <parallax/buffer/buffer.hpp>

#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace parallax {
namespace {

std::shared_ptr<Arena> make_arena(std::uint32_t slots = 4, std::size_t slot_size = 256) {
    ArenaConfig config;
    config.slot_count = slots;
    config.slot_size = slot_size;
    auto arena = Arena::create(config);
    EXPECT_TRUE(arena) << arena.error().to_string();
    return *arena;
}

Buffer filled(Arena& arena, std::string_view text) {
    auto buffer = Buffer::allocate(arena, text.size());
    EXPECT_TRUE(buffer) << buffer.error().to_string();
    auto bytes = buffer->map_writable();
    EXPECT_TRUE(bytes);
    std::memcpy(bytes->data(), text.data(), text.size());
    return std::move(*buffer);
}

std::string text_of(const Buffer& buffer) {
    return {reinterpret_cast<const char*>(buffer.data().data()), buffer.size()};
}

TEST(BufferTest, DefaultBufferIsEmptyAndInvalid) {
    Buffer buffer;
    EXPECT_FALSE(buffer.valid());
    EXPECT_FALSE(buffer);
    EXPECT_TRUE(buffer.empty());
    EXPECT_EQ(buffer.size(), 0U);
    EXPECT_TRUE(buffer.data().empty());
    EXPECT_EQ(buffer.ref_count(), 0U);
    EXPECT_EQ(buffer.capacity(), 0U);
    EXPECT_FALSE(buffer.is_writable());
    EXPECT_TRUE(buffer.map_writable().error().is(Errc::state));
    EXPECT_TRUE(buffer.slice(0, 0).error().is(Errc::state));
    EXPECT_TRUE(buffer.resize(1).error().is(Errc::state));
}

TEST(BufferTest, AllocateTakesASlot) {
    auto arena = make_arena();
    auto buffer = Buffer::allocate(*arena, 100);
    ASSERT_TRUE(buffer);
    EXPECT_EQ(buffer->size(), 100U);
    EXPECT_EQ(buffer->capacity(), 256U);
    EXPECT_EQ(buffer->ref_count(), 1U);
    EXPECT_TRUE(buffer->is_writable());
    EXPECT_EQ(buffer->arena(), arena.get());
    EXPECT_EQ(arena->stats().held_slots, 1U);
    buffer->reset();
    EXPECT_EQ(arena->stats().held_slots, 0U);
}

TEST(BufferTest, AllocateRejectsMoreThanASlot) {
    auto arena = make_arena();
    auto buffer = Buffer::allocate(*arena, 257);
    ASSERT_FALSE(buffer);
    EXPECT_TRUE(buffer.error().is(Errc::out_of_range));
}

TEST(BufferTest, AllocateFailsWhenTheArenaIsFull) {
    auto arena = make_arena(1);
    auto first = Buffer::allocate(*arena, 1);
    ASSERT_TRUE(first);
    auto second = Buffer::allocate(*arena, 1);
    ASSERT_FALSE(second);
    EXPECT_TRUE(second.error().is(Errc::exhausted));
}

TEST(BufferTest, CopyAddsAReferenceAndSharesTheBytes) {
    auto arena = make_arena();
    Buffer a = filled(*arena, "abc");
    Buffer b = a;
    EXPECT_EQ(a.ref_count(), 2U);
    EXPECT_EQ(b.data().data(), a.data().data());
    EXPECT_FALSE(a.is_writable());
    Buffer c;
    c = b;
    EXPECT_EQ(a.ref_count(), 3U);
    c = a; // assigning a buffer of the same slot keeps the count right
    EXPECT_EQ(a.ref_count(), 3U);
    b.reset();
    c.reset();
    EXPECT_EQ(a.ref_count(), 1U);
    EXPECT_TRUE(a.is_writable());
}

TEST(BufferTest, MoveTransfersTheReference) {
    auto arena = make_arena();
    Buffer a = filled(*arena, "abc");
    Buffer b = std::move(a);
    EXPECT_FALSE(a.valid()); // NOLINT(bugprone-use-after-move): moved-from buffers are empty
    EXPECT_EQ(b.ref_count(), 1U);
    Buffer c;
    c = std::move(b);
    EXPECT_EQ(c.ref_count(), 1U);
    EXPECT_EQ(text_of(c), "abc");
    Buffer d = filled(*arena, "xyz");
    d = std::move(c); // d's old slot is released
    EXPECT_EQ(arena->stats().held_slots, 1U);
    EXPECT_EQ(text_of(d), "abc");
}

TEST(BufferTest, SliceSharesTheSlot) {
    auto arena = make_arena();
    Buffer whole = filled(*arena, "hello world");
    auto part = whole.slice(6, 5);
    ASSERT_TRUE(part);
    EXPECT_EQ(text_of(*part), "world");
    EXPECT_EQ(part->slot(), whole.slot());
    EXPECT_EQ(part->offset(), 6U);
    EXPECT_EQ(whole.ref_count(), 2U);
    auto empty = whole.slice(11, 0);
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
}

TEST(BufferTest, SliceOutsideTheBufferIsAnError) {
    auto arena = make_arena();
    Buffer whole = filled(*arena, "hello");
    for (auto [offset, size] :
         {std::pair<std::size_t, std::size_t>{6, 0}, {0, 6}, {3, 3}, {SIZE_MAX, 2}, {2, SIZE_MAX}}) {
        auto part = whole.slice(offset, size);
        ASSERT_FALSE(part) << offset << "+" << size;
        EXPECT_TRUE(part.error().is(Errc::out_of_range));
        EXPECT_NE(part.error().message().find("outside a buffer of 5 bytes"), std::string::npos);
    }
    EXPECT_EQ(whole.ref_count(), 1U);
}

TEST(BufferTest, MapWritableCopiesOnlyWhenShared) {
    auto arena = make_arena();
    Buffer a = filled(*arena, "shared");
    const SlotIndex original = a.slot();
    {
        auto bytes = a.map_writable();
        ASSERT_TRUE(bytes);
        EXPECT_EQ(a.slot(), original) << "sole owner must not copy";
    }
    Buffer b = a;
    auto bytes = b.map_writable();
    ASSERT_TRUE(bytes);
    EXPECT_NE(b.slot(), original);
    (*bytes)[0] = std::byte{'S'};
    EXPECT_EQ(text_of(a), "shared");
    EXPECT_EQ(text_of(b), "Shared");
    EXPECT_EQ(a.ref_count(), 1U);
    EXPECT_EQ(b.ref_count(), 1U);
}

TEST(BufferTest, CopyOnWriteOfASliceKeepsOnlyTheSlice) {
    auto arena = make_arena();
    Buffer whole = filled(*arena, "hello world");
    Buffer part = *whole.slice(6, 5);
    ASSERT_TRUE(part.make_writable());
    EXPECT_EQ(part.offset(), 0U);
    EXPECT_EQ(text_of(part), "world");
    EXPECT_EQ(whole.ref_count(), 1U);
}

TEST(BufferTest, CopyOnWriteFailsCleanlyWhenNoSlotIsFree) {
    auto arena = make_arena(1);
    Buffer a = filled(*arena, "x");
    Buffer b = a;
    auto bytes = b.map_writable();
    ASSERT_FALSE(bytes);
    EXPECT_NE(bytes.error().message().find("copy-on-write"), std::string::npos);
    EXPECT_EQ(a.ref_count(), 2U);
    EXPECT_EQ(b.slot(), a.slot());
}

TEST(BufferTest, ResizeStaysWithinTheSlot) {
    auto arena = make_arena();
    Buffer a = filled(*arena, "abc");
    ASSERT_TRUE(a.resize(256));
    EXPECT_EQ(a.size(), 256U);
    auto too_big = a.resize(257);
    ASSERT_FALSE(too_big);
    EXPECT_TRUE(too_big.error().is(Errc::out_of_range));
    Buffer tail = *a.slice(200, 10);
    EXPECT_EQ(tail.capacity(), 56U);
    EXPECT_FALSE(tail.resize(57));
    EXPECT_TRUE(tail.resize(56));
}

TEST(BufferTest, AdoptValidatesTheRange) {
    auto arena = make_arena();
    auto slot = arena->acquire();
    ASSERT_TRUE(slot);
    EXPECT_TRUE(Buffer::adopt(*arena, 99, 0, 1).error().is(Errc::out_of_range));
    EXPECT_TRUE(Buffer::adopt(*arena, *slot, 257, 0).error().is(Errc::out_of_range));
    EXPECT_TRUE(Buffer::adopt(*arena, *slot, 100, 157).error().is(Errc::out_of_range));
    auto buffer = Buffer::adopt(*arena, *slot, 100, 156);
    ASSERT_TRUE(buffer);
    EXPECT_EQ(buffer->ref_count(), 1U);
    buffer->reset();
    EXPECT_FALSE(arena->is_held(*slot));
}

TEST(BufferTest, ReleaseReferenceHandsOwnershipToTheCaller) {
    auto arena = make_arena();
    Buffer a = filled(*arena, "abc");
    const SlotIndex slot = a.release_reference();
    EXPECT_FALSE(a.valid());
    EXPECT_TRUE(arena->is_held(slot));
    arena->release(slot);
    EXPECT_FALSE(arena->is_held(slot));
}

TEST(BufferTest, MetadataTravelsWithCopiesAndSlices) {
    auto arena = make_arena();
    Buffer a = filled(*arena, "abcdef");
    a.meta().set_pts(ClockTime::from_ms(40));
    a.meta().set_flag(BufferFlags::keyframe);
    Buffer b = a;
    EXPECT_EQ(b.meta().pts(), ClockTime::from_ms(40));
    Buffer c = *a.slice(1, 2);
    EXPECT_TRUE(c.meta().has_flag(BufferFlags::keyframe));
    b.meta().set_pts(ClockTime::from_ms(80));
    EXPECT_EQ(a.meta().pts(), ClockTime::from_ms(40)) << "metadata is per buffer, not per slot";
}

TEST(BufferTest, CopySliceAndDropAllocateNothing) {
    auto arena = make_arena();
    Buffer a = filled(*arena, "abcdef");
    a.meta().set_pts(ClockTime::from_ms(1));
    check::AllocationCounter counter;
    {
        Buffer b = a;
        Buffer c = *a.slice(1, 3);
        Buffer d = std::move(b);
        c = d;
        ASSERT_TRUE(d.map_writable()); // sole reference? no: copies into a new slot, still no heap
    }
    EXPECT_EQ(counter.count(), 0U);
}

TEST(BufferTest, SwapExchangesEverything) {
    auto arena = make_arena();
    Buffer a = filled(*arena, "aa");
    Buffer b = filled(*arena, "bbb");
    a.swap(b);
    EXPECT_EQ(text_of(a), "bbb");
    EXPECT_EQ(text_of(b), "aa");
}

} // namespace
} // namespace parallax
