// fdsrc: reads a file descriptor the application opened (a pipe, a socket,
// stdin, a file) into buffers (GStreamer's fdsrc).

#include <parallax/base/unique_fd.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <limits>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace parallax {
namespace {

class FdSrc final : public SimpleSource {
public:
    static constexpr ElementInfo info{.factory = "fdsrc",
                                      .klass = "Source/File",
                                      .summary = "Read from a file descriptor",
                                      .description = "Reads blocksize bytes at a time from an open file descriptor "
                                                     "until end of file; waits with poll(), so that stopping never "
                                                     "hangs on a descriptor that delivers nothing."};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h = ExecutionHints::io_bound();
        h.trust_level = TrustLevel::semi_trusted;
        return h;
    }();

    // Both wake the poll in create(): the pipeline is stopping, or the
    // stream is to end even though the fd has nothing to read.
    void unblock() override {
        unblocked_.store(true, std::memory_order_release);
        wake();
    }
    void request_eos() override {
        SimpleSource::request_eos();
        wake();
    }

protected:
    Result<void> start() override {
        const int fd = fd_.get();
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags < 0) {
            return fail(Error::from_errno(errno, fmt::format("cannot read fd {}", fd)).at_element(name()));
        }
        if ((flags & O_ACCMODE) == O_WRONLY) {
            return fail(Error(Errc::invalid_argument, fmt::format("cannot read fd {}: it is open for writing only", fd))
                            .at_element(name()));
        }
        if (!wake_) {
            return fail(Error::from_errno(wake_errno_, "cannot make an eventfd").at_element(name()));
        }
        // Forget the wake-ups of the last run.
        std::uint64_t count = 0;
        while (::read(wake_.get(), &count, sizeof count) > 0) {
        }
        unblocked_.store(false, std::memory_order_relaxed);
        offset_ = 0;
        sent_ = 0;
        return SimpleSource::start();
    }

    [[nodiscard]] StreamSegment output_segment() const override {
        StreamSegment s;
        s.format = Format::bytes;
        return s;
    }

    Flow create(Buffer& out, SourceContext& ctx) override {
        const std::int32_t limit = num_buffers_.get();
        if (limit >= 0 && sent_ >= static_cast<std::uint64_t>(limit)) {
            return Flow::eos;
        }
        const int fd = fd_.get();
        if (const Flow f = wait_readable(fd, ctx); f != Flow::ok) {
            return f;
        }
        const std::size_t blocksize = blocksize_.get();
        auto buffer = ctx.allocate(blocksize);
        if (!buffer) {
            return ctx.error(buffer.error());
        }
        auto bytes = buffer->map_writable();
        if (!bytes) {
            return ctx.error(bytes.error());
        }
        ssize_t n = 0;
        do {
            n = ::read(fd, bytes->data(), bytes->size());
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return Flow::dropped; // A non-blocking fd that poll() woke early: poll again.
            }
            return ctx.error(Error::from_errno(errno, fmt::format("cannot read fd {}", fd)));
        }
        if (n == 0) {
            return Flow::eos;
        }
        if (auto ok = buffer->resize(static_cast<std::size_t>(n)); !ok) {
            return ctx.error(ok.error());
        }
        Metadata& m = buffer->meta();
        m.set_byte_offset(offset_);
        m.set_sequence(sent_);
        if (do_timestamp_.get()) {
            m.set_pts(ctx.running_time());
        }
        offset_ += static_cast<std::uint64_t>(n);
        ++sent_;
        out = std::move(*buffer);
        return Flow::ok;
    }

private:
    // Waits until `fd` has data (or end of file, or an error for read() to
    // report); flushing when unblock() rang.
    Flow wait_readable(int fd, SourceContext& ctx) {
        const std::uint64_t timeout_us = timeout_.get();
        // poll() counts in milliseconds: round up, and cap what an int holds.
        const int timeout_ms =
            timeout_us == 0
                ? -1
                : static_cast<int>(std::min<std::uint64_t>((timeout_us + 999) / 1000, std::numeric_limits<int>::max()));
        while (true) {
            pollfd fds[2] = {{fd, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
            const int r = ::poll(fds, 2, timeout_ms);
            if (r < 0) {
                if (errno == EINTR || errno == EAGAIN) {
                    continue;
                }
                return ctx.error(Error::from_errno(errno, fmt::format("cannot poll fd {}", fd)));
            }
            if (fds[1].revents != 0) {
                return unblocked_.load(std::memory_order_acquire) ? Flow::flushing : Flow::eos;
            }
            if (r == 0) {
                // GStreamer's fdsrc says so on the bus and waits on. The
                // caps value model has no 64-bit integers: the field is an
                // int, capped.
                Structure s("GstFdSrcTimeout");
                s.set("timeout", static_cast<std::int32_t>(
                                     std::min<std::uint64_t>(timeout_us, std::numeric_limits<std::int32_t>::max())));
                ctx.post_element_message(std::move(s));
                continue;
            }
            return Flow::ok;
        }
    }

    void wake() {
        if (wake_) {
            const std::uint64_t one = 1;
            static_cast<void>(::write(wake_.get(), &one, sizeof one));
        }
    }

    // Made with the element and kept for its whole life, so that unblock()
    // and request_eos() can ring it from any thread at any time.
    UniqueFd wake_{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    int wake_errno_ = wake_ ? 0 : errno;
    std::atomic<bool> unblocked_{false};
    std::uint64_t offset_ = 0;
    std::uint64_t sent_ = 0;

    Property<std::int32_t> fd_{this, "fd", 0, "An open file descriptor to read from",
                               PropertyRange<std::int32_t>(0, std::numeric_limits<std::int32_t>::max())};
    Property<std::uint32_t> blocksize_{this,
                                       "blocksize",
                                       4096,
                                       "Size in bytes to read per buffer",
                                       PropertyRange<std::uint32_t>(1, std::numeric_limits<std::uint32_t>::max()),
                                       Mutability::running};
    Property<std::uint64_t> timeout_{this,
                                     "timeout",
                                     0,
                                     "Post a message after timeout microseconds without data (0 = disabled)",
                                     PropertyRange<std::uint64_t>(),
                                     Mutability::running};
    Property<std::int32_t> num_buffers_{this, "num-buffers", -1,
                                        "Number of buffers to output before sending EOS (-1 = unlimited)",
                                        PropertyRange<std::int32_t>(-1, std::numeric_limits<std::int32_t>::max())};
    Property<bool> do_timestamp_{this, "do-timestamp", false, "Apply the running time to buffers as their pts",
                                 Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::FdSrc);
