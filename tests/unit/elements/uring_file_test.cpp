#include "io/uring_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <liburing.h>
#include <linux/magic.h>
#include <string>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parallax::detail {
namespace {

namespace fs = std::filesystem;

// A byte pattern whose period matches none of the block sizes under test.
std::byte pattern_at(std::size_t i) {
    return static_cast<std::byte>((i % 251) ^ ((i / 4093) & 0xff));
}

std::vector<std::byte> pattern(std::size_t size, std::size_t start = 0) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) {
        bytes[i] = pattern_at(start + i);
    }
    return bytes;
}

void write_file(const fs::path& path, const std::vector<std::byte>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::byte> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

// False where io_uring is disabled (kernel.io_uring_disabled, seccomp): the
// objects then take the plain path even when asked for the ring.
bool ring_available() {
    static const bool available = [] {
        io_uring ring{};
        if (io_uring_queue_init(1, &ring, 0) != 0) {
            return false;
        }
        io_uring_queue_exit(&ring);
        return true;
    }();
    return available;
}

bool on_tmpfs(const fs::path& path) {
    struct statfs st {};
    return ::statfs(path.c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
}

std::span<const std::byte> as_bytes(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

class UringFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("uring-file-test-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    [[nodiscard]] fs::path file(const std::string& name) const { return dir_ / name; }

    fs::path dir_;
};

// Reads the whole file with `depth` caller-owned buffers kept in flight, the
// way filesrc does, and checks that completions come back in file order.
std::vector<std::byte> read_pipelined(UringReader& reader, std::size_t block_size) {
    const unsigned depth = reader.depth();
    std::vector<std::vector<std::byte>> buffers(depth, std::vector<std::byte>(block_size));
    for (unsigned i = 0; i < depth; ++i) {
        EXPECT_TRUE(reader.submit(buffers[i], i));
    }
    std::vector<std::byte> out;
    bool eof = false;
    while (reader.pending() > 0) {
        auto c = reader.wait();
        EXPECT_TRUE(c) << c.error().to_string();
        if (!c) {
            break;
        }
        if (c->bytes == 0) {
            eof = true;
            continue;
        }
        EXPECT_FALSE(eof) << "data after end of file";
        EXPECT_EQ(c->offset, out.size());
        const auto& buf = buffers[c->cookie];
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(c->bytes));
        if (!eof) {
            EXPECT_TRUE(reader.submit(buffers[c->cookie], c->cookie));
        }
    }
    return out;
}

TEST_F(UringFileTest, ReadsEveryByteForEveryBlockSizeAndDepth) {
    const auto big = pattern((std::size_t{5} << 20) / 2 + 17);
    const auto small = pattern(5003);
    write_file(file("big"), big);
    write_file(file("small"), small);
    for (const IoBackend backend : {IoBackend::uring, IoBackend::plain}) {
        for (const std::size_t block : {std::size_t{1}, std::size_t{4096}, std::size_t{4097}, std::size_t{1} << 20}) {
            const auto& expected = block == 1 ? small : big;
            for (unsigned depth = 1; depth <= 8; ++depth) {
                SCOPED_TRACE("block " + std::to_string(block) + " depth " + std::to_string(depth) +
                             (backend == IoBackend::plain ? " plain" : " uring"));
                auto reader = UringReader::open(file(block == 1 ? "small" : "big"), depth, backend);
                ASSERT_TRUE(reader) << reader.error().to_string();
                EXPECT_EQ(reader->uses_uring(), backend == IoBackend::uring && ring_available());
                EXPECT_TRUE(reader->seekable());
                const auto got = read_pipelined(*reader, block);
                ASSERT_EQ(got.size(), expected.size());
                EXPECT_TRUE(got == expected);
            }
        }
    }
}

TEST_F(UringFileTest, EmptyFileEndsAtOnce) {
    write_file(file("empty"), {});
    auto reader = UringReader::open(file("empty"));
    ASSERT_TRUE(reader);
    std::vector<std::byte> buf(4096);
    ASSERT_TRUE(reader->submit(buf, 7));
    auto c = reader->wait();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->cookie, 7U);
    EXPECT_EQ(c->bytes, 0U);
    EXPECT_EQ(c->offset, 0U);
    EXPECT_EQ(*reader->read(buf), 0U);
}

TEST_F(UringFileTest, MissingFileErrorNamesThePath) {
    const auto path = file("does-not-exist").string();
    auto reader = UringReader::open(path);
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code(), std::errc::no_such_file_or_directory);
    EXPECT_NE(reader.error().message().find(path), std::string::npos) << reader.error().message();
    EXPECT_NE(reader.error().message().find("No such file or directory"), std::string::npos);
}

TEST_F(UringFileTest, DirectoryIsRejectedByName) {
    auto reader = UringReader::open(dir_.string());
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code(), std::errc::is_a_directory);
    EXPECT_EQ(reader.error().message(), "cannot read " + dir_.string() + ": Is a directory");
    auto writer = UringWriter::open(dir_.string(), false);
    ASSERT_FALSE(writer);
    EXPECT_EQ(writer.error().code(), std::errc::is_a_directory);
    EXPECT_NE(writer.error().message().find(dir_.string()), std::string::npos);
}

TEST_F(UringFileTest, UnreadableFileErrorNamesThePath) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "root reads files whatever their mode";
    }
    write_file(file("secret"), pattern(10));
    fs::permissions(file("secret"), fs::perms::none);
    auto reader = UringReader::open(file("secret"));
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().message(), "cannot open " + file("secret").string() + " for reading: Permission denied");
}

TEST_F(UringFileTest, OutOfRangeDepthIsRejected) {
    write_file(file("f"), pattern(10));
    EXPECT_TRUE(UringReader::open(file("f"), 0).error().is(Errc::invalid_argument));
    EXPECT_TRUE(UringReader::open(file("f"), 5000).error().is(Errc::invalid_argument));
}

TEST_F(UringFileTest, SubmitBeyondDepthIsExhausted) {
    write_file(file("f"), pattern(100));
    auto reader = UringReader::open(file("f"), 2);
    ASSERT_TRUE(reader);
    std::vector<std::byte> a(10);
    std::vector<std::byte> b(10);
    std::vector<std::byte> c(10);
    ASSERT_TRUE(reader->submit(a, 0));
    ASSERT_TRUE(reader->submit(b, 1));
    auto third = reader->submit(c, 2);
    ASSERT_FALSE(third);
    EXPECT_TRUE(third.error().is(Errc::exhausted));
    EXPECT_TRUE(reader->submit(std::span<std::byte>{}, 3).error().is(Errc::invalid_argument));
    EXPECT_EQ(reader->wait()->cookie, 0U);
    EXPECT_EQ(reader->wait()->cookie, 1U);
    EXPECT_TRUE(reader->wait().error().is(Errc::state));
    EXPECT_TRUE(a == pattern(10));
    EXPECT_TRUE(b == pattern(10, 10));
}

TEST_F(UringFileTest, DevZeroReadsZerosThroughThePlainPath) {
    auto reader = UringReader::open("/dev/zero", 4);
    ASSERT_TRUE(reader) << reader.error().to_string();
    EXPECT_FALSE(reader->uses_uring());
    EXPECT_FALSE(reader->seekable());
    std::vector<std::vector<std::byte>> buffers(4, std::vector<std::byte>(65536, std::byte{1}));
    for (unsigned i = 0; i < 4; ++i) {
        ASSERT_TRUE(reader->submit(buffers[i], i));
    }
    std::uint64_t expected_offset = 0;
    for (unsigned i = 0; i < 4; ++i) {
        auto c = reader->wait();
        ASSERT_TRUE(c);
        EXPECT_EQ(c->cookie, i);
        EXPECT_EQ(c->offset, expected_offset);
        ASSERT_GT(c->bytes, 0U);
        expected_offset += c->bytes;
        EXPECT_TRUE(std::all_of(buffers[i].begin(), buffers[i].begin() + static_cast<std::ptrdiff_t>(c->bytes),
                                [](std::byte b) { return b == std::byte{0}; }));
    }
    EXPECT_TRUE(reader->seek(0).error().is(Errc::unsupported));
}

TEST_F(UringFileTest, FifoIsReadInOrderThroughThePlainPath) {
    const auto fifo = file("fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const auto data = pattern(300000);
    std::thread producer([&] {
        auto writer = UringWriter::open(fifo, false, 3);
        ASSERT_TRUE(writer) << writer.error().to_string();
        EXPECT_FALSE(writer->uses_uring());
        // Odd-sized writes, several in flight.
        std::size_t at = 0;
        std::uint64_t cookie = 0;
        while (at < data.size()) {
            const std::size_t n = std::min<std::size_t>(7777, data.size() - at);
            if (writer->pending() == writer->depth()) {
                ASSERT_TRUE(writer->wait());
            }
            ASSERT_TRUE(writer->submit(std::span(data).subspan(at, n), cookie++));
            at += n;
        }
        ASSERT_TRUE(writer->flush());
        EXPECT_EQ(writer->offset(), data.size());
    });
    auto reader = UringReader::open(fifo, 5);
    ASSERT_TRUE(reader) << reader.error().to_string();
    EXPECT_FALSE(reader->uses_uring());
    EXPECT_FALSE(reader->seekable());
    const auto got = read_pipelined(*reader, 4096);
    producer.join();
    ASSERT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
}

TEST_F(UringFileTest, WrittenBlocksReadBackForBothBackends) {
    const auto data = pattern((std::size_t{3} << 20) + 5);
    for (const IoBackend backend : {IoBackend::uring, IoBackend::plain}) {
        for (const std::size_t block : {std::size_t{4096}, std::size_t{4097}, std::size_t{1} << 20}) {
            SCOPED_TRACE("block " + std::to_string(block));
            auto writer = UringWriter::open(file("out"), false, 6, backend);
            ASSERT_TRUE(writer) << writer.error().to_string();
            EXPECT_EQ(writer->uses_uring(), backend == IoBackend::uring && ring_available());
            std::size_t at = 0;
            std::size_t next_done = 0;
            while (at < data.size()) {
                if (writer->pending() == writer->depth()) {
                    auto c = writer->wait();
                    ASSERT_TRUE(c) << c.error().to_string();
                    EXPECT_EQ(c->offset, next_done);
                    next_done += c->bytes;
                }
                const std::size_t n = std::min(block, data.size() - at);
                ASSERT_TRUE(writer->submit(std::span(data).subspan(at, n), at));
                at += n;
            }
            ASSERT_TRUE(writer->sync());
            EXPECT_EQ(writer->pending(), 0U);
            EXPECT_EQ(writer->offset(), data.size());
            EXPECT_TRUE(read_file(file("out")) == data);
        }
    }
}

TEST_F(UringFileTest, ReopeningTruncatesAndAppendAddsAtTheEnd) {
    write_file(file("log"), pattern(5000));
    {
        auto writer = UringWriter::open(file("log"), false);
        ASSERT_TRUE(writer);
        ASSERT_TRUE(writer->write(as_bytes("abc")));
    }
    {
        auto writer = UringWriter::open(file("log"), true, 2);
        ASSERT_TRUE(writer);
        EXPECT_EQ(writer->offset(), 3U);
        const std::string d = "de";
        const std::string f = "f";
        ASSERT_TRUE(writer->submit(as_bytes(d), 0));
        ASSERT_TRUE(writer->submit(as_bytes(f), 1));
        ASSERT_TRUE(writer->flush());
    }
    const auto bytes = read_file(file("log"));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "abcdef");
}

TEST_F(UringFileTest, CreatedFileHonoursTheUmask) {
    const mode_t old = ::umask(027);
    auto writer = UringWriter::open(file("new"), false);
    ::umask(old);
    ASSERT_TRUE(writer);
    struct stat st {};
    ASSERT_EQ(::stat(file("new").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640U);
}

TEST_F(UringFileTest, DevFullReportsNoSpaceNamingThePath) {
    auto writer = UringWriter::open("/dev/full", false);
    ASSERT_TRUE(writer) << writer.error().to_string();
    const auto data = pattern(4096);
    ASSERT_TRUE(writer->submit(data, 1));
    ASSERT_TRUE(writer->submit(data, 2));
    auto flushed = writer->flush();
    ASSERT_FALSE(flushed);
    EXPECT_EQ(flushed.error().code(), std::errc::no_space_on_device);
    EXPECT_EQ(flushed.error().message(), "cannot write /dev/full: No space left on device");
    EXPECT_EQ(writer->pending(), 0U);
    EXPECT_TRUE(writer->sync()); // nothing to sync on a character device
}

TEST_F(UringFileTest, WriteToDevNullSucceeds) {
    auto writer = UringWriter::open("/dev/null", true);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write(pattern(100000)));
    EXPECT_TRUE(writer->sync());
}

TEST_F(UringFileTest, WriterSeeksBackWhenNothingIsPending) {
    const auto data = pattern(10000);
    const std::vector<std::byte> patch(16, std::byte{0xEE});
    for (const IoBackend backend : {IoBackend::uring, IoBackend::plain}) {
        auto writer = UringWriter::open(file("seek"), false, 4, backend);
        ASSERT_TRUE(writer) << writer.error().to_string();
        ASSERT_TRUE(writer->submit(data, 1));
        // Requests queued at the old offset would land out of order.
        EXPECT_TRUE(writer->seek(0).error().is(Errc::state));
        ASSERT_TRUE(writer->flush());
        ASSERT_TRUE(writer->seek(100));
        EXPECT_EQ(writer->offset(), 100U);
        ASSERT_TRUE(writer->write(patch));
        EXPECT_EQ(writer->offset(), 116U);
        ASSERT_TRUE(writer->sync());
        auto expected = data;
        std::copy(patch.begin(), patch.end(), expected.begin() + 100);
        EXPECT_TRUE(read_file(file("seek")) == expected);
    }
}

TEST_F(UringFileTest, WriterCannotSeekInACharacterDevice) {
    auto writer = UringWriter::open("/dev/null", false);
    ASSERT_TRUE(writer);
    EXPECT_FALSE(writer->seekable());
    auto sought = writer->seek(0);
    ASSERT_FALSE(sought);
    EXPECT_TRUE(sought.error().is(Errc::unsupported));
    EXPECT_NE(sought.error().message().find("/dev/null"), std::string::npos) << sought.error().message();
}

TEST_F(UringFileTest, MovedObjectsKeepTheirRequests) {
    const auto data = pattern(20000);
    write_file(file("f"), data);
    auto opened = UringReader::open(file("f"), 3, IoBackend::uring);
    ASSERT_TRUE(opened);
    std::vector<std::byte> a(8000);
    std::vector<std::byte> b(8000);
    ASSERT_TRUE(opened->submit(a, 1));
    ASSERT_TRUE(opened->submit(b, 2));
    UringReader moved(std::move(*opened));
    EXPECT_EQ(moved.pending(), 2U);
    auto c = moved.wait();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->cookie, 1U);

    write_file(file("g"), pattern(10));
    auto other = UringReader::open(file("g"));
    ASSERT_TRUE(other);
    *other = std::move(moved); // drops other's file, keeps the pending read
    c = other->wait();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->cookie, 2U);
    EXPECT_EQ(c->offset, 8000U);
    EXPECT_TRUE(b == pattern(8000, 8000));
    EXPECT_EQ(other->path(), file("f").string());

    auto writer = UringWriter::open(file("w"), false, 4, IoBackend::uring);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->submit(data, 0));
    UringWriter moved_writer(std::move(*writer));
    ASSERT_TRUE(moved_writer.flush());
    EXPECT_TRUE(read_file(file("w")) == data);
}

TEST_F(UringFileTest, DestructionWithRequestsInFlightIsSafe) {
    // On tmpfs the ring hands requests to kernel worker threads, so they are
    // really in flight when the destructor runs.
    std::vector<fs::path> dirs{dir_};
    if (on_tmpfs("/dev/shm")) {
        dirs.emplace_back("/dev/shm");
    }
    for (const auto& dir : dirs) {
        SCOPED_TRACE(dir.string());
        const auto path = dir / ("uring-file-test-inflight-" + std::to_string(::getpid()));
        write_file(path, pattern(std::size_t{8} << 20));
        for (int round = 0; round < 20; ++round) {
            std::vector<std::vector<std::byte>> buffers(8, std::vector<std::byte>(std::size_t{1} << 20));
            {
                auto reader = UringReader::open(path, 8, IoBackend::uring);
                ASSERT_TRUE(reader);
                for (unsigned i = 0; i < 8; ++i) {
                    ASSERT_TRUE(reader->submit(buffers[i], i));
                }
                if (round % 2 == 1) {
                    ASSERT_TRUE(reader->wait()); // the rest goes to the kernel
                    ASSERT_TRUE(reader->submit(buffers[0], 0));
                }
            }
            // The buffers are freed right after; AddressSanitizer and the
            // allocator would catch late writes into them.
        }
        {
            std::vector<std::byte> buf(std::size_t{1} << 20);
            auto writer = UringWriter::open(path, false, 4, IoBackend::uring);
            ASSERT_TRUE(writer);
            for (unsigned i = 0; i < 4; ++i) {
                ASSERT_TRUE(writer->submit(buf, i));
            }
            ASSERT_TRUE(writer->wait());
        }
        fs::remove(path);
    }
}

TEST_F(UringFileTest, CancelRewindsToTheOldestDroppedRead) {
    const auto data = pattern(100000);
    write_file(file("f"), data);
    auto reader = UringReader::open(file("f"), 4, IoBackend::uring);
    ASSERT_TRUE(reader);
    std::vector<std::vector<std::byte>> buffers(4, std::vector<std::byte>(1000));
    for (unsigned i = 0; i < 4; ++i) {
        ASSERT_TRUE(reader->submit(buffers[i], i));
    }
    ASSERT_TRUE(reader->wait());
    reader->cancel();
    EXPECT_EQ(reader->pending(), 0U);
    EXPECT_EQ(reader->offset(), 1000U);
    std::vector<std::byte> buf(1000);
    ASSERT_EQ(*reader->read(buf), 1000U);
    EXPECT_TRUE(buf == pattern(1000, 1000));

    ASSERT_TRUE(reader->seek(99500));
    EXPECT_EQ(*reader->read(buf), 500U);
    EXPECT_TRUE(std::equal(buf.begin(), buf.begin() + 500, data.begin() + 99500));
    EXPECT_EQ(*reader->read(buf), 0U);

    ASSERT_TRUE(reader->submit(buf, 0));
    EXPECT_TRUE(reader->seek(0).error().is(Errc::state));
    EXPECT_TRUE(reader->read(buf).error().is(Errc::state));
}

TEST_F(UringFileTest, AutomaticTakesThePlainPathOnTmpfs) {
    if (!on_tmpfs("/dev/shm")) {
        GTEST_SKIP() << "/dev/shm is not tmpfs here";
    }
    const std::string path = "/dev/shm/uring-file-test-" + std::to_string(::getpid());
    const auto data = pattern((std::size_t{3} << 20) + 1);
    {
        auto writer = UringWriter::open(path, false);
        ASSERT_TRUE(writer);
        EXPECT_FALSE(writer->uses_uring());
        EXPECT_TRUE(writer->seekable());
        auto reader = UringReader::open(path);
        ASSERT_TRUE(reader);
        EXPECT_FALSE(reader->uses_uring());
    }
    {
        // Forced onto the ring, tmpfs requests run in kernel worker threads
        // and finish out of order: completions must still come back in order.
        auto writer = UringWriter::open(path, false, 8, IoBackend::uring);
        ASSERT_TRUE(writer);
        EXPECT_EQ(writer->uses_uring(), ring_available());
        std::uint64_t expected_offset = 0;
        for (std::size_t at = 0; at < data.size(); at += 4097) {
            if (writer->pending() == writer->depth()) {
                auto c = writer->wait();
                ASSERT_TRUE(c);
                EXPECT_EQ(c->offset, expected_offset);
                expected_offset += c->bytes;
            }
            ASSERT_TRUE(writer->submit(std::span(data).subspan(at, std::min<std::size_t>(4097, data.size() - at)), at));
        }
        ASSERT_TRUE(writer->flush());
        auto reader = UringReader::open(path, 8, IoBackend::uring);
        ASSERT_TRUE(reader);
        EXPECT_EQ(reader->uses_uring(), ring_available());
        EXPECT_TRUE(read_pipelined(*reader, 4097) == data);
    }
    ::unlink(path.c_str());
}

TEST_F(UringFileTest, ProcFileIsReadWhateverItsStatedSize) {
    // procfs reports size 0 and hands out short reads.
    for (const IoBackend backend : {IoBackend::automatic, IoBackend::uring}) {
        auto reader = UringReader::open("/proc/self/status", 2, backend);
        ASSERT_TRUE(reader) << reader.error().to_string();
        const auto got = read_pipelined(*reader, 64);
        const std::string text(reinterpret_cast<const char*>(got.data()), got.size());
        EXPECT_EQ(text.rfind("Name:", 0), 0U) << text;
        EXPECT_NE(text.find("\nPid:"), std::string::npos);
    }
}

TEST_F(UringFileTest, SyncReadFillsLargeBuffer) {
    const auto data = pattern((std::size_t{9} << 20) + 3);
    write_file(file("f"), data);
    auto reader = UringReader::open(file("f"), 1);
    ASSERT_TRUE(reader);
    std::vector<std::byte> buf(std::size_t{16} << 20);
    auto n = reader->read(buf);
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, data.size());
    EXPECT_TRUE(std::equal(data.begin(), data.end(), buf.begin()));
}

} // namespace
} // namespace parallax::detail
