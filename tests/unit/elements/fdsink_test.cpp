// fdsink writing to pipes that the test reads, fed by appsrc. Timeouts here
// only guard against hangs; nothing asserts on elapsed time.

#include <parallax/base/unique_fd.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <future>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <sys/ioctl.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parallax::fdsink_test {
namespace {

using namespace std::chrono_literals;

constexpr auto hang_guard = 10s;

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Pipe make_pipe(int flags = 0) {
    int fds[2] = {-1, -1};
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | flags), 0) << std::strerror(errno);
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

int unused_fd() {
    for (int fd = 1000; fd < 4000; ++fd) {
        if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            return fd;
        }
    }
    ADD_FAILURE() << "no unused descriptor number";
    return -1;
}

// Reads `fd` to its end (the reader's copy of the descriptor is its own).
std::future<std::vector<std::byte>> read_all_async(int fd) {
    return std::async(std::launch::async, [fd] {
        std::vector<std::byte> out;
        std::byte chunk[8192];
        while (true) {
            const ssize_t n = ::read(fd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return out;
            }
            out.insert(out.end(), chunk, chunk + n);
            // A slow reader: the writer meets a full pipe now and then.
            std::this_thread::sleep_for(100us);
        }
    });
}

struct SinkPipeline {
    std::unique_ptr<Pipeline> pipeline;
    AppSrc* src = nullptr;
};

// appsrc name=src max-bytes=0 ! fdsink name=sink <props>
SinkPipeline make_sink_pipeline(std::initializer_list<PropertySetting> props) {
    SinkPipeline s;
    s.pipeline = Pipeline::create();
    auto built = s.pipeline->chain().then("appsrc", {{"max-bytes", 0}}, "src").then("fdsink", props, "sink").done();
    EXPECT_TRUE(built) << built.error().to_string();
    if (auto src = s.pipeline->get<AppSrc>("src")) {
        s.src = *src;
    }
    return s;
}

// Queues `count` buffers of `size` bytes of a running pattern, then eos;
// returns every byte queued.
std::vector<std::byte> queue_pattern(AppSrc& src, std::size_t count, std::size_t size) {
    std::vector<std::byte> all;
    for (std::size_t i = 0; i < count; ++i) {
        auto b = src.allocate(size);
        EXPECT_TRUE(b);
        if (!b) {
            return all;
        }
        auto bytes = b->map_writable();
        EXPECT_TRUE(bytes);
        for (auto& x : *bytes) {
            x = static_cast<std::byte>(all.size() * 13 % 251);
            all.push_back(x);
        }
        EXPECT_TRUE(src.push_buffer(std::move(*b)));
    }
    EXPECT_TRUE(src.end_of_stream());
    return all;
}

TEST(FdSinkTest, IsRegisteredWithGStreamerDefaults) {
    auto e = Registry::global().create("fdsink");
    ASSERT_TRUE(e) << e.error().to_string();
    EXPECT_EQ(*(*e)->get_property("fd"), "1");
    EXPECT_EQ(*(*e)->get_property("sync"), "false");
}

TEST(FdSinkTest, WritesEveryByteToAPipe) {
    Pipe p = make_pipe();
    auto s = make_sink_pipeline({{"fd", p.write.get()}});
    ASSERT_NE(s.src, nullptr);
    // More than a pipe holds, so the writes wait for the reader.
    const auto written = queue_pattern(*s.src, 50, 4000);
    auto reader = read_all_async(p.read.get());
    auto ok = s.pipeline->run(hang_guard);
    ASSERT_TRUE(ok) << ok.error().to_string();
    p.write.reset(); // The reader sees the end.
    ASSERT_EQ(reader.wait_for(hang_guard), std::future_status::ready);
    EXPECT_EQ(reader.get(), written);
}

StreamSegment byte_segment(std::uint64_t start) {
    StreamSegment s;
    s.format = Format::bytes;
    s.start = start;
    return s;
}

void push_text(check::Harness& h, std::string_view text) {
    auto b = h.make_buffer(std::as_bytes(std::span(text.data(), text.size())));
    ASSERT_TRUE(b);
    EXPECT_EQ(h.push(std::move(*b)), Flow::ok);
}

std::string as_text(const std::vector<std::byte>& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

TEST(FdSinkTest, AByteSegmentMovesTheWritePositionInAFile) {
    // Offsets count from where the descriptor stood at start.
    const auto path = std::filesystem::temp_directory_path() / ("plx-fdsink-seek-" + std::to_string(::getpid()));
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::write(fd.get(), "pre", 3), 3);
    auto h = check::Harness::create(fmt::format("fdsink fd={}", fd.get()));
    ASSERT_TRUE(h && (*h)->start());
    push_text(**h, "abcdef");
    ASSERT_TRUE((*h)->push_event(Event::segment(byte_segment(2))));
    push_text(**h, "XY");
    ASSERT_TRUE((*h)->push_event(Event::segment(byte_segment(8))));
    push_text(**h, "!");
    ASSERT_TRUE((*h)->push_event(Event::eos()));
    ASSERT_TRUE((*h)->stop());
    EXPECT_FALSE((*h)->error());
    std::vector<std::byte> file(32);
    const ssize_t n = ::pread(fd.get(), file.data(), file.size(), 0);
    ASSERT_GE(n, 0);
    file.resize(static_cast<std::size_t>(n));
    EXPECT_EQ(as_text(file), std::string("preabXYef\0\0!", 12));
    std::filesystem::remove(path);
}

TEST(FdSinkTest, AByteSegmentOnAPipeDropsItsDataWithAWarning) {
    Pipe p = make_pipe();
    auto reader = read_all_async(p.read.get());
    const int write_fd = p.write.get();
    auto h = check::Harness::create(fmt::format("fdsink name=out fd={}", write_fd));
    ASSERT_TRUE(h && (*h)->start());
    push_text(**h, "abc");
    ASSERT_TRUE((*h)->push_event(Event::segment(byte_segment(0))));
    push_text(**h, "XYZ"); // would land after "abc": dropped
    ASSERT_TRUE((*h)->push_event(Event::segment(byte_segment(3))));
    push_text(**h, "d");
    ASSERT_TRUE((*h)->push_event(Event::eos()));
    ASSERT_TRUE((*h)->stop());
    p.write.reset();
    ASSERT_EQ(reader.wait_for(hang_guard), std::future_status::ready);
    EXPECT_EQ(as_text(reader.get()), "abcd");
    EXPECT_FALSE((*h)->error());
    std::size_t warnings = 0;
    for (const Message& m : (*h)->messages()) {
        if (m.type == MessageType::warning && m.error) {
            ++warnings;
            EXPECT_EQ(m.source, "out");
            EXPECT_NE(m.error->message().find(fmt::format("fd {}", write_fd)), std::string::npos) << m.error->message();
        }
    }
    EXPECT_EQ(warnings, 1U);
}

// Asks, from appsrc through a queue, whether fdsink on `fd` can seek in
// `format`; the pipeline is paused so that the sink has looked at the fd.
std::optional<Query> ask_seeking(int fd, Format format) {
    auto p = Pipeline::create();
    auto built = p->chain().then("appsrc", {}, "src").then("queue").then("fdsink", {{"fd", fd}}).done();
    EXPECT_TRUE(built) << built.error().to_string();
    auto src = p->get<AppSrc>("src");
    if (!built || !src || !p->set_state(State::paused)) {
        ADD_FAILURE() << "the pipeline did not pause";
        return std::nullopt;
    }
    Query q = Query::seeking(format);
    const bool answered = (*src)->src_pad().peer_query(q);
    EXPECT_TRUE(p->set_state(State::idle));
    if (!answered) {
        ADD_FAILURE() << "nobody answered the seeking query";
        return std::nullopt;
    }
    return q;
}

TEST(FdSinkTest, AnswersTheSeekingQueryInBytesOnlyWhereItCanSeek) {
    EXPECT_EQ(to_string(QueryType::seeking), "seeking");
    const auto path = std::filesystem::temp_directory_path() / ("plx-fdsink-query-" + std::to_string(::getpid()));
    UniqueFd file(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(file);
    auto bytes = ask_seeking(file.get(), Format::bytes);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(bytes->type(), QueryType::seeking);
    EXPECT_EQ(bytes->format(), Format::bytes);
    EXPECT_TRUE(bytes->seekable());
    EXPECT_EQ(bytes->seek_start(), 0U);
    EXPECT_FALSE(bytes->seek_end()) << "the end is wherever the stream ends";
    // In time a byte sink cannot seek.
    auto time = ask_seeking(file.get(), Format::time);
    ASSERT_TRUE(time);
    EXPECT_FALSE(time->seekable());
    // Every write of an O_APPEND descriptor goes to the end, whatever the
    // offset.
    UniqueFd appending(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    ASSERT_TRUE(appending);
    auto append = ask_seeking(appending.get(), Format::bytes);
    ASSERT_TRUE(append);
    EXPECT_FALSE(append->seekable());
    Pipe p = make_pipe();
    auto pipe = ask_seeking(p.write.get(), Format::bytes);
    ASSERT_TRUE(pipe);
    EXPECT_FALSE(pipe->seekable());
    std::filesystem::remove(path);
}

TEST(FdSinkTest, WaitsOnANonBlockingPipeAndLosesNothing) {
    Pipe p = make_pipe(O_NONBLOCK);
    auto s = make_sink_pipeline({{"fd", p.write.get()}});
    ASSERT_NE(s.src, nullptr);
    // Buffers larger than the pipe: every one ends in short writes and
    // EAGAIN.
    const auto written = queue_pattern(*s.src, 8, 100'000);
    // The reader blocks in read(): only the write end is non-blocking here.
    const int read_flags = ::fcntl(p.read.get(), F_GETFL);
    ASSERT_EQ(::fcntl(p.read.get(), F_SETFL, read_flags & ~O_NONBLOCK), 0);
    auto reader = read_all_async(p.read.get());
    auto ok = s.pipeline->run(hang_guard);
    ASSERT_TRUE(ok) << ok.error().to_string();
    p.write.reset();
    ASSERT_EQ(reader.wait_for(hang_guard), std::future_status::ready);
    EXPECT_EQ(reader.get(), written);
}

TEST(FdSinkTest, ABadFdGivesAnErrorNamingTheFd) {
    const int fd = unused_fd();
    auto s = make_sink_pipeline({{"fd", fd}});
    auto ok = s.pipeline->run(hang_guard);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().element(), "sink");
    EXPECT_NE(ok.error().message().find(fmt::format("cannot write to fd {}: ", fd)), std::string::npos)
        << ok.error().to_string();
}

TEST(FdSinkTest, AGoneReaderIsAnErrorNotASignal) {
    Pipe p = make_pipe();
    p.read.reset();
    auto s = make_sink_pipeline({{"fd", p.write.get()}});
    ASSERT_NE(s.src, nullptr);
    queue_pattern(*s.src, 1, 16);
    auto ok = s.pipeline->run(hang_guard);
    ASSERT_FALSE(ok) << "writing to a pipe without reader must fail";
    EXPECT_EQ(ok.error().element(), "sink");
    EXPECT_NE(ok.error().message().find(fmt::format("cannot write to fd {}: ", p.write.get())), std::string::npos)
        << ok.error().to_string();
    EXPECT_EQ(ok.error().code(), std::error_code(EPIPE, std::system_category()));
}

TEST(FdSinkTest, StopsCleanlyWhileAWriteWaitsOnAFullPipe) {
    Pipe p = make_pipe(O_NONBLOCK); // Nobody reads.
    auto s = make_sink_pipeline({{"fd", p.write.get()}});
    ASSERT_NE(s.src, nullptr);
    queue_pattern(*s.src, 4, 100'000);
    ASSERT_TRUE(s.pipeline->set_state(State::running));
    // Bounded wait until the pipe is full: the sink then waits in poll().
    const int capacity = ::fcntl(p.write.get(), F_GETPIPE_SZ);
    ASSERT_GT(capacity, 0);
    int queued = 0;
    for (int i = 0; i < 10000; ++i) {
        ASSERT_EQ(::ioctl(p.read.get(), FIONREAD, &queued), 0);
        if (queued >= capacity) {
            break;
        }
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(queued, capacity);
    auto stopped = std::async(std::launch::async, [&] { return s.pipeline->set_state(State::idle); });
    ASSERT_EQ(stopped.wait_for(hang_guard), std::future_status::ready) << "stopping hung";
    EXPECT_TRUE(stopped.get());
    EXPECT_FALSE(s.pipeline->bus().pop({MessageType::error}, 0ms));
}

} // namespace
} // namespace parallax::fdsink_test
