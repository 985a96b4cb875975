// What the muxer tests share about where the output goes: a pipe whose read
// end is drained in the background (a sink that cannot seek), and a run
// that counts the warnings on the bus (a sink asked to seek where it cannot
// warns). Timeouts only guard against hangs.
#pragma once

#include <parallax/pipeline/pipeline.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace parallax::test {

// A pipe; what comes out of its read end is kept until the write end closes.
class PipeReader {
public:
    PipeReader() {
        int fds[2] = {-1, -1};
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            ADD_FAILURE() << "pipe2: " << std::strerror(errno);
            return;
        }
        read_ = fds[0];
        write_ = fds[1];
        const int fd = read_;
        bytes_ = std::async(std::launch::async, [fd] {
            std::vector<std::uint8_t> out;
            std::uint8_t chunk[4096];
            ssize_t n = 0;
            while ((n = ::read(fd, chunk, sizeof chunk)) > 0) {
                out.insert(out.end(), chunk, chunk + n);
            }
            return out;
        });
    }
    PipeReader(const PipeReader&) = delete;
    PipeReader& operator=(const PipeReader&) = delete;
    ~PipeReader() { static_cast<void>(finish()); }

    // For the sink: `fdsink fd=<write_fd()>`.
    [[nodiscard]] int write_fd() const noexcept { return write_; }

    // Closes the write end; everything that came out of the pipe.
    std::vector<std::uint8_t> finish() {
        if (write_ >= 0) {
            ::close(write_);
            write_ = -1;
        }
        std::vector<std::uint8_t> out;
        if (bytes_.valid()) {
            out = bytes_.get();
        }
        if (read_ >= 0) {
            ::close(read_);
            read_ = -1;
        }
        return out;
    }

private:
    int read_ = -1;
    int write_ = -1;
    std::future<std::vector<std::uint8_t>> bytes_;
};

// Runs `text` to its end; each warning posted fails the test, saying what
// it was. Returns how many there were.
inline int run_counting_warnings(const std::string& text,
                                 std::chrono::nanoseconds timeout = std::chrono::seconds(120)) {
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << (p ? "" : p.error().to_string());
    if (!p) {
        return -1;
    }
    auto warnings = std::make_shared<std::atomic<int>>(0);
    (*p)->bus().set_sync_handler([warnings](const Message& m) {
        if (m.type == MessageType::warning) {
            ADD_FAILURE() << m.to_string();
            ++*warnings;
        }
        return true;
    });
    auto ok = (*p)->run(timeout);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    return warnings->load();
}

} // namespace parallax::test
