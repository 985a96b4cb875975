// fdsrc reading pipes (and a directory) that the test makes. Timeouts here
// only guard against hangs; nothing asserts on elapsed time.

#include <parallax/base/unique_fd.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <parallax/elements/app/appsink.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace parallax::fdsrc_test {
namespace {

using namespace std::chrono_literals;

constexpr auto hang_guard = 10s;

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Pipe make_pipe() {
    int fds[2] = {-1, -1};
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0) << std::strerror(errno);
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// A descriptor number that is not open: well above what the process uses.
int unused_fd() {
    for (int fd = 1000; fd < 4000; ++fd) {
        if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            return fd;
        }
    }
    ADD_FAILURE() << "no unused descriptor number";
    return -1;
}

struct FdPipeline {
    std::unique_ptr<Pipeline> pipeline;
    AppSink* sink = nullptr;
};

// fdsrc name=src <props> ! appsink name=sink sync=false
FdPipeline make_fd_pipeline(std::initializer_list<PropertySetting> props) {
    FdPipeline f;
    f.pipeline = Pipeline::create();
    auto built = f.pipeline->chain().then("fdsrc", props, "src").then("appsink", {{"sync", "false"}}, "sink").done();
    EXPECT_TRUE(built) << built.error().to_string();
    if (auto sink = f.pipeline->get<AppSink>("sink")) {
        f.sink = *sink;
    }
    return f;
}

TEST(FdSrcTest, IsRegisteredWithGStreamerDefaults) {
    auto e = Registry::global().create("fdsrc");
    ASSERT_TRUE(e) << e.error().to_string();
    EXPECT_EQ(*(*e)->get_property("fd"), "0");
    EXPECT_EQ(*(*e)->get_property("blocksize"), "4096");
    EXPECT_EQ(*(*e)->get_property("timeout"), "0");
}

TEST(FdSrcTest, ReadsWhatIsWrittenToAPipeUntilItCloses) {
    Pipe p = make_pipe();
    std::vector<std::byte> written(10'000);
    for (std::size_t i = 0; i < written.size(); ++i) {
        written[i] = static_cast<std::byte>(i * 7);
    }
    // Fits in the pipe's buffer: written whole before the pipeline runs.
    ASSERT_EQ(::write(p.write.get(), written.data(), written.size()), static_cast<ssize_t>(written.size()));
    p.write.reset();

    auto f = make_fd_pipeline({{"fd", p.read.get()}, {"blocksize", 1000}});
    ASSERT_NE(f.sink, nullptr);
    ASSERT_TRUE(f.pipeline->set_state(State::running));
    std::vector<std::byte> read;
    while (true) {
        auto s = f.sink->try_pull_sample(hang_guard);
        if (!s) {
            EXPECT_TRUE(s.error().is(Errc::closed)) << s.error().to_string();
            break;
        }
        EXPECT_LE(s->buffer.size(), 1000U);
        EXPECT_EQ(s->buffer.meta().byte_offset(), read.size()) << "byte_offset is where the buffer starts";
        read.insert(read.end(), s->buffer.data().begin(), s->buffer.data().end());
    }
    EXPECT_EQ(read, written);
    auto eos = f.pipeline->bus().pop({MessageType::eos, MessageType::error}, hang_guard);
    ASSERT_TRUE(eos);
    EXPECT_EQ(eos->type, MessageType::eos) << eos->to_string();
    EXPECT_TRUE(f.pipeline->set_state(State::idle));
}

TEST(FdSrcTest, ABadFdGivesAnErrorNamingTheFd) {
    const int fd = unused_fd();
    auto f = make_fd_pipeline({{"fd", fd}});
    auto ok = f.pipeline->run(hang_guard);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().element(), "src");
    EXPECT_NE(ok.error().message().find(fmt::format("cannot read fd {}: ", fd)), std::string::npos)
        << ok.error().to_string();
}

TEST(FdSrcTest, AWriteOnlyFdIsRefused) {
    Pipe p = make_pipe();
    auto f = make_fd_pipeline({{"fd", p.write.get()}});
    auto ok = f.pipeline->run(hang_guard);
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.error().message().find(fmt::format("fd {}", p.write.get())), std::string::npos)
        << ok.error().to_string();
}

TEST(FdSrcTest, AReadErrorNamesTheFd) {
    // A directory opens for reading, polls readable, and fails read().
    UniqueFd dir(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir) << std::strerror(errno);
    auto f = make_fd_pipeline({{"fd", dir.get()}});
    auto ok = f.pipeline->run(hang_guard);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().element(), "src");
    EXPECT_NE(ok.error().to_string().find(fmt::format("src: cannot read fd {}: ", dir.get())), std::string::npos)
        << ok.error().to_string();
}

TEST(FdSrcTest, StopsCleanlyOnAPipeThatNeverDelivers) {
    Pipe p = make_pipe(); // The write end stays open and silent.
    auto f = make_fd_pipeline({{"fd", p.read.get()}});
    ASSERT_TRUE(f.pipeline->set_state(State::running));
    EXPECT_FALSE(f.sink->try_pull_sample(20ms));
    ASSERT_TRUE(f.pipeline->set_state(State::idle));
    EXPECT_FALSE(f.pipeline->bus().pop({MessageType::error}, 0ms));
    // And it starts again.
    ASSERT_TRUE(f.pipeline->set_state(State::running));
    const char text[] = "late";
    ASSERT_EQ(::write(p.write.get(), text, 4), 4);
    auto s = f.sink->try_pull_sample(hang_guard);
    ASSERT_TRUE(s) << s.error().to_string();
    EXPECT_EQ(s->buffer.size(), 4U);
    ASSERT_TRUE(f.pipeline->set_state(State::idle));
}

TEST(FdSrcTest, SendEosEndsAStreamThatNeverDelivers) {
    Pipe p = make_pipe();
    auto f = make_fd_pipeline({{"fd", p.read.get()}});
    ASSERT_TRUE(f.pipeline->set_state(State::running));
    f.pipeline->send_eos();
    auto eos = f.pipeline->bus().pop({MessageType::eos, MessageType::error}, hang_guard);
    ASSERT_TRUE(eos);
    EXPECT_EQ(eos->type, MessageType::eos) << eos->to_string();
    EXPECT_TRUE(f.pipeline->set_state(State::idle));
}

TEST(FdSrcTest, TimeoutPostsAnElementMessageAndWaitsOn) {
    Pipe p = make_pipe();
    auto f = make_fd_pipeline({{"fd", p.read.get()}, {"timeout", 1000}});
    ASSERT_TRUE(f.pipeline->set_state(State::running));
    auto m = f.pipeline->bus().pop({MessageType::element}, hang_guard);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->source, "src");
    ASSERT_TRUE(m->structure);
    EXPECT_EQ(m->structure->name(), "GstFdSrcTimeout");
    EXPECT_EQ(m->structure->get_int("timeout"), 1000);
    // Still reading after the message.
    ASSERT_EQ(::write(p.write.get(), "x", 1), 1);
    EXPECT_TRUE(f.sink->try_pull_sample(hang_guard));
    EXPECT_TRUE(f.pipeline->set_state(State::idle));
}

} // namespace
} // namespace parallax::fdsrc_test
