#include <parallax/memory/segment.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/mman.h>
#include <unistd.h>

namespace parallax {
namespace {

std::filesystem::path temp_path(const char* stem) {
    return std::filesystem::temp_directory_path() / (std::string(stem) + "-" + std::to_string(::getpid()));
}

TEST(SegmentTest, CreateRoundsUpToWholePages) {
    auto segment = Segment::create(100);
    ASSERT_TRUE(segment) << segment.error().to_string();
    EXPECT_EQ(segment->size(), page_bytes(PageSize::normal));
    EXPECT_EQ(segment->page_size(), PageSize::normal);
    EXPECT_GE(segment->fd(), 0);
    EXPECT_EQ(::fcntl(segment->fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(SegmentTest, CreateRejectsAnEmptySegment) {
    auto segment = Segment::create(0);
    ASSERT_FALSE(segment);
    EXPECT_TRUE(segment.error().is(Errc::invalid_argument));
}

TEST(SegmentTest, SecondMappingOfTheFdSeesTheSameBytes) {
    auto segment = Segment::create(8192);
    ASSERT_TRUE(segment);
    std::memcpy(segment->data(), "shared", 6);
    auto fd = segment->dup_fd();
    ASSERT_TRUE(fd);
    auto other = Segment::map(std::move(*fd));
    ASSERT_TRUE(other) << other.error().to_string();
    EXPECT_EQ(other->size(), segment->size());
    EXPECT_NE(other->data(), segment->data());
    EXPECT_EQ(std::memcmp(other->data(), "shared", 6), 0);
    other->data()[100] = std::byte{42};
    EXPECT_EQ(segment->data()[100], std::byte{42});
}

TEST(SegmentTest, ReadOnlyMappingHasTheBytes) {
    auto segment = Segment::create(4096);
    ASSERT_TRUE(segment);
    segment->data()[7] = std::byte{9};
    auto other = Segment::map(*segment->dup_fd(), Access::read_only);
    ASSERT_TRUE(other);
    EXPECT_EQ(other->access(), Access::read_only);
    EXPECT_EQ(other->data()[7], std::byte{9});
}

TEST(SegmentTest, SealedSizeCannotShrink) {
    auto segment = Segment::create(4096);
    ASSERT_TRUE(segment);
    EXPECT_FALSE(segment->size_sealed());
    ASSERT_TRUE(segment->seal_size());
    EXPECT_TRUE(segment->size_sealed());
    EXPECT_NE(::ftruncate(segment->fd(), 0), 0);
    EXPECT_NE(::ftruncate(segment->fd(), 1 << 20), 0);
}

TEST(SegmentTest, SealingFailsWithoutAllowSealing) {
    SegmentOptions options;
    options.allow_sealing = false;
    auto segment = Segment::create(4096, options);
    ASSERT_TRUE(segment);
    auto sealed = segment->seal_size();
    ASSERT_FALSE(sealed);
    EXPECT_NE(sealed.error().message().find("sealing"), std::string::npos);
}

TEST(SegmentTest, HugePagesFallBackAndSayWhatTheyGot) {
    SegmentOptions options;
    options.page_size = PageSize::huge_2m;
    auto segment = Segment::create(4096, options);
    ASSERT_TRUE(segment) << segment.error().to_string();
    // Either the system had a 2 MiB page reserved, or the segment fell back.
    if (segment->page_size() == PageSize::huge_2m) {
        EXPECT_EQ(segment->size(), std::size_t{2} << 20U);
    } else {
        EXPECT_EQ(segment->page_size(), PageSize::normal);
        EXPECT_EQ(segment->size(), page_bytes(PageSize::normal));
    }
    segment->data()[0] = std::byte{1};
}

TEST(SegmentTest, RequiredHugePagesFailWhenNoneAreReserved) {
    SegmentOptions options;
    options.page_size = PageSize::huge_1g;
    options.require_page_size = true;
    auto segment = Segment::create(4096, options);
    if (segment) {
        EXPECT_EQ(segment->page_size(), PageSize::huge_1g); // a machine with 1 GiB pages reserved
    } else {
        EXPECT_NE(segment.error().message().find("1GiB"), std::string::npos) << segment.error().message();
    }
}

TEST(SegmentTest, PageSizeNamesAndBytes) {
    EXPECT_STREQ(to_string(PageSize::normal), "normal");
    EXPECT_STREQ(to_string(PageSize::huge_2m), "2MiB");
    EXPECT_STREQ(to_string(PageSize::huge_1g), "1GiB");
    EXPECT_EQ(page_bytes(PageSize::huge_2m), std::size_t{2} << 20U);
    EXPECT_EQ(page_bytes(PageSize::huge_1g), std::size_t{1} << 30U);
}

TEST(SegmentTest, MapRejectsAnInvalidFd) {
    auto segment = Segment::map(UniqueFd());
    ASSERT_FALSE(segment);
    EXPECT_TRUE(segment.error().is(Errc::invalid_argument));
}

TEST(SegmentTest, MapRejectsAPipe) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    UniqueFd write_end(fds[1]);
    auto segment = Segment::map(UniqueFd(fds[0]));
    ASSERT_FALSE(segment);
    EXPECT_NE(segment.error().message().find("not a memfd"), std::string::npos);
}

TEST(SegmentTest, MapRejectsAnEmptyFile) {
    UniqueFd fd(::memfd_create("empty", MFD_CLOEXEC));
    ASSERT_TRUE(fd);
    auto segment = Segment::map(std::move(fd));
    ASSERT_FALSE(segment);
    EXPECT_NE(segment.error().message().find("empty"), std::string::npos);
}

TEST(SegmentTest, MappedFilePersistsAcrossOpens) {
    const auto path = temp_path("plx-mapped-file");
    std::filesystem::remove(path);
    {
        auto file = MappedFile::open(path, 10000, FileMode::create_truncate);
        ASSERT_TRUE(file) << file.error().to_string();
        EXPECT_EQ(file->size(), 10000U);
        std::memcpy(file->data(), "persistent", 10);
        ASSERT_TRUE(file->sync());
        EXPECT_EQ(file->path(), path);
        EXPECT_GE(file->fd(), 0);
    }
    EXPECT_EQ(std::filesystem::file_size(path), 10000U);
    {
        auto file = MappedFile::open(path, 0, FileMode::open_existing);
        ASSERT_TRUE(file) << file.error().to_string();
        EXPECT_EQ(file->size(), 10000U);
        EXPECT_EQ(std::memcmp(file->data(), "persistent", 10), 0);
    }
    {
        // create_or_open keeps contents and grows a smaller file.
        auto file = MappedFile::open(path, 20000, FileMode::create_or_open);
        ASSERT_TRUE(file);
        EXPECT_EQ(file->size(), 20000U);
        EXPECT_EQ(std::memcmp(file->data(), "persistent", 10), 0);
        // Its fd is shareable like any segment's.
        auto fd = file->segment().dup_fd();
        ASSERT_TRUE(fd);
        auto other = Segment::map(std::move(*fd));
        ASSERT_TRUE(other);
        EXPECT_EQ(std::memcmp(other->data(), "persistent", 10), 0);
    }
    std::filesystem::remove(path);
}

TEST(SegmentTest, MappedFileOpenExistingFailsForAMissingFile) {
    const auto path = temp_path("plx-missing");
    std::filesystem::remove(path);
    auto file = MappedFile::open(path, 0, FileMode::open_existing);
    ASSERT_FALSE(file);
    EXPECT_NE(file.error().message().find(path.string()), std::string::npos);
}

TEST(SegmentTest, MappedFileRejectsADirectory) {
    auto file = MappedFile::open(std::filesystem::temp_directory_path(), 0, FileMode::open_existing);
    ASSERT_FALSE(file);
}

TEST(SegmentTest, MovedSegmentOwnsTheMapping) {
    auto segment = Segment::create(4096);
    ASSERT_TRUE(segment);
    std::byte* data = segment->data();
    Segment moved(std::move(*segment));
    EXPECT_EQ(moved.data(), data);
    EXPECT_EQ(segment->data(), nullptr); // NOLINT(bugprone-use-after-move): the moved-from state is specified
    Segment assigned = std::move(moved);
    EXPECT_EQ(assigned.data(), data);
}

} // namespace
} // namespace parallax
