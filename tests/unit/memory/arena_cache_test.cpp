#include <parallax/memory/arena_cache.hpp>

#include "memory/arena_layout.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parallax {
namespace {

std::shared_ptr<Arena> make_arena() {
    auto arena = Arena::create({.slot_size = 128, .slot_count = 4, .max_participants = 8});
    EXPECT_TRUE(arena) << arena.error().to_string();
    return *arena;
}

// A byte-for-byte copy of an arena in another memfd: same id, other file.
UniqueFd copy_of(const Arena& arena) {
    struct stat st {};
    EXPECT_EQ(::fstat(arena.fd(), &st), 0);
    std::vector<std::byte> bytes(static_cast<std::size_t>(st.st_size));
    EXPECT_EQ(::pread(arena.fd(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
    UniqueFd fd(::memfd_create("copy", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    EXPECT_EQ(::write(fd.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    EXPECT_EQ(::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
    return fd;
}

TEST(ArenaCacheTest, AttachingTheSameArenaTwiceMapsItOnce) {
    auto owner = make_arena();
    ArenaCache cache;
    auto first = cache.attach(*owner->dup_fd());
    ASSERT_TRUE(first) << first.error().to_string();
    auto second = cache.attach(*owner->dup_fd());
    ASSERT_TRUE(second);
    EXPECT_EQ(first->get(), second->get());
    EXPECT_EQ(cache.size(), 1U);
    EXPECT_EQ(owner->stats().participants, 2U) << "registered once, not twice";
    EXPECT_EQ(cache.find(owner->id()), *first);
}

TEST(ArenaCacheTest, DifferentArenasAreKeptApart) {
    auto a = make_arena();
    auto b = make_arena();
    ArenaCache cache;
    ASSERT_TRUE(cache.attach(*a->dup_fd()));
    ASSERT_TRUE(cache.attach(*b->dup_fd()));
    EXPECT_EQ(cache.size(), 2U);
    EXPECT_EQ(cache.find(a->id())->id(), a->id());
    EXPECT_EQ(cache.find(b->id())->id(), b->id());
}

TEST(ArenaCacheTest, AnotherFileClaimingACachedIdIsRefused) {
    auto owner = make_arena();
    ArenaCache cache;
    ASSERT_TRUE(cache.attach(*owner->dup_fd()));
    auto impostor = cache.attach(copy_of(*owner));
    ASSERT_FALSE(impostor);
    EXPECT_TRUE(impostor.error().is(Errc::corrupt));
    EXPECT_NE(impostor.error().message().find("already mapped from another file"), std::string::npos);
}

TEST(ArenaCacheTest, BadFdsAreErrorsNamingTheCheck) {
    ArenaCache cache;
    auto invalid = cache.attach(UniqueFd());
    ASSERT_FALSE(invalid);
    EXPECT_NE(invalid.error().message().find("not a valid file descriptor"), std::string::npos);

    UniqueFd empty(::memfd_create("empty", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    ASSERT_EQ(::fcntl(empty.get(), F_ADD_SEALS, F_SEAL_SHRINK), 0);
    auto truncated = cache.attach(std::move(empty));
    ASSERT_FALSE(truncated);
    EXPECT_NE(truncated.error().message().find("arena fd"), std::string::npos) << truncated.error().message();

    UniqueFd garbage(::memfd_create("garbage", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    const std::vector<std::byte> bytes(8192, std::byte{0x41});
    ASSERT_EQ(::write(garbage.get(), bytes.data(), bytes.size()), 8192);
    ASSERT_EQ(::fcntl(garbage.get(), F_ADD_SEALS, F_SEAL_SHRINK), 0);
    auto bad = cache.attach(std::move(garbage));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("bad magic"), std::string::npos);
    EXPECT_EQ(cache.size(), 0U);
}

TEST(ArenaCacheTest, InsertFindAndRemove) {
    auto owner = make_arena();
    ArenaCache cache;
    ASSERT_TRUE(cache.insert(owner));
    ASSERT_TRUE(cache.insert(owner)); // the same arena again: nothing changes
    EXPECT_EQ(cache.size(), 1U);
    EXPECT_EQ(cache.find(owner->id()), owner);
    // Its own fd comes back as the same arena.
    auto again = cache.attach(*owner->dup_fd());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->get(), owner.get());
    EXPECT_TRUE(cache.remove(owner->id()));
    EXPECT_FALSE(cache.remove(owner->id()));
    EXPECT_EQ(cache.find(owner->id()), nullptr);
    EXPECT_FALSE(cache.insert(nullptr));
}

TEST(ArenaCacheTest, InsertRefusesASecondArenaWithTheSameId) {
    auto owner = make_arena();
    auto copy = Arena::attach(copy_of(*owner)); // same id, other file
    ASSERT_TRUE(copy);
    ArenaCache cache;
    ASSERT_TRUE(cache.insert(owner));
    auto second = cache.insert(*copy);
    ASSERT_FALSE(second);
    EXPECT_TRUE(second.error().is(Errc::state));
}

TEST(ArenaCacheTest, ConcurrentAttachesOfOneArenaAgree) {
    auto owner = make_arena();
    ArenaCache cache;
    std::vector<Arena*> seen(4, nullptr);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < seen.size(); ++t) {
        threads.emplace_back([&, t] {
            auto arena = cache.attach(*owner->dup_fd());
            seen[t] = arena ? arena->get() : nullptr;
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(cache.size(), 1U);
    for (Arena* arena : seen) {
        EXPECT_EQ(arena, cache.find(owner->id()).get());
    }
}

} // namespace
} // namespace parallax
