// fdsink: writes every buffer to a file descriptor the application opened
// (GStreamer's fdsink).
//
// A byte segment moves the write position to its start, counted from where
// the descriptor stood at start(), as filesink does for a muxer rewriting its
// header. A pipe cannot go back: that segment's data is dropped with a
// warning rather than appended to what is already out. The seeking query
// (in bytes) says beforehand which it is: seekable on a regular file or a
// block device not open with O_APPEND, so that a muxer writing into a pipe
// does not try.

#include <parallax/base/unique_fd.hpp>
#include <parallax/element.hpp>

#include "io/byte_position.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <fcntl.h>
#include <limits>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace parallax {
namespace {

// Keeps SIGPIPE away from the process while this thread writes: a pipe
// whose reader went away then fails the write with EPIPE, which becomes an
// error on the bus, instead of killing the application. Only this thread's
// mask changes, and only for the scope; a SIGPIPE that the write raised is
// taken back before the mask is restored.
class SigpipeBlock {
public:
    SigpipeBlock() noexcept {
        sigemptyset(&set_);
        sigaddset(&set_, SIGPIPE);
        sigset_t pending;
        sigemptyset(&pending);
        was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &set_, &old_);
    }
    ~SigpipeBlock() {
        if (raised_ && !was_pending_) {
            const timespec zero{};
            while (sigtimedwait(&set_, nullptr, &zero) < 0 && errno == EINTR) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

    void raised() noexcept { raised_ = true; }

private:
    sigset_t set_{};
    sigset_t old_{};
    bool was_pending_ = false;
    bool raised_ = false;
};

class FdSink final : public SimpleSink {
public:
    static constexpr ElementInfo info{.factory = "fdsink",
                                      .klass = "Sink/File",
                                      .summary = "Write data to a file descriptor",
                                      .description = "Writes every buffer whole to an open file descriptor; short "
                                                     "writes continue, a non-blocking descriptor is waited on with "
                                                     "poll(), and stopping interrupts the wait. A byte segment "
                                                     "moves the write position to its start on a regular file; "
                                                     "elsewhere its data is dropped with a warning. Answers the "
                                                     "seeking query in bytes."};
    static constexpr ExecutionHints hints = ExecutionHints::io_bound();

    // Wakes the poll in render(): the pipeline is stopping.
    void unblock() override {
        if (wake_) {
            const std::uint64_t one = 1;
            static_cast<void>(::write(wake_.get(), &one, sizeof one));
        }
    }

protected:
    Result<void> start() override {
        const int fd = fd_.get();
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags < 0) {
            return fail(Error::from_errno(errno, fmt::format("cannot write to fd {}", fd)).at_element(name()));
        }
        if ((flags & O_ACCMODE) == O_RDONLY) {
            return fail(
                Error(Errc::invalid_argument, fmt::format("cannot write to fd {}: it is open for reading only", fd))
                    .at_element(name()));
        }
        if (!wake_) {
            return fail(Error::from_errno(wake_errno_, "cannot make an eventfd").at_element(name()));
        }
        // Forget the wake-ups of the last run.
        std::uint64_t count = 0;
        while (::read(wake_.get(), &count, sizeof count) > 0) {
        }
        // With O_APPEND every write goes to the end whatever the offset.
        struct stat st {};
        const off_t at = ::lseek(fd, 0, SEEK_CUR);
        const bool seekable =
            ::fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) && (flags & O_APPEND) == 0 && at >= 0;
        position_.reset(seekable ? static_cast<std::uint64_t>(at) : 0, seekable);
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::segment && event.segment_value()->format == Format::bytes) {
            if (!move_to(event.segment_value()->start)) {
                return false;
            }
        }
        return SimpleSink::sink_event(pad, std::move(event));
    }

    bool query(Pad& pad, Query& q) override {
        if (q.type() == QueryType::seeking) {
            position_.answer(q);
            return true;
        }
        return SimpleSink::query(pad, q);
    }

    Flow render(Buffer& buffer, SinkContext& ctx) override {
        if (position_.dropping()) {
            return Flow::ok;
        }
        if (sync_.get()) {
            if (const Flow f = wait_for_buffer_time(buffer); f != Flow::ok) {
                return f;
            }
        }
        const int fd = fd_.get();
        const auto bytes = buffer.data();
        std::size_t done = 0;
        SigpipeBlock no_sigpipe;
        while (done < bytes.size()) {
            const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
            if (n >= 0) {
                done += static_cast<std::size_t>(n);
                continue;
            }
            const int err = errno;
            if (err == EINTR) {
                continue;
            }
            if (err == EAGAIN || err == EWOULDBLOCK) {
                if (const Flow f = wait_writable(fd, ctx); f != Flow::ok) {
                    return f;
                }
                continue;
            }
            if (err == EPIPE) {
                no_sigpipe.raised();
            }
            return ctx.error(Error::from_errno(err, fmt::format("cannot write to fd {}", fd)));
        }
        position_.advance(done);
        return Flow::ok;
    }

private:
    // Continues at byte `start` of the stream. Writes are synchronous, so
    // nothing is pending at the old position.
    bool move_to(std::uint64_t start) {
        const int fd = fd_.get();
        switch (position_.segment(start)) {
        case detail::BytePosition::Move::none:
            return true;
        case detail::BytePosition::Move::drop:
            position_.warn_dropping(context(), name(), fmt::format("fd {}", fd),
                                    "it is not a regular file (or is open for appending)");
            return true;
        case detail::BytePosition::Move::seek:
            break;
        }
        if (::lseek(fd, static_cast<off_t>(position_.target()), SEEK_SET) < 0) {
            context().error(Error::from_errno(errno, fmt::format("cannot seek to byte {} in fd {}", start, fd)));
            return false;
        }
        position_.seeked();
        return true;
    }

    Flow wait_writable(int fd, SinkContext& ctx) {
        while (true) {
            pollfd fds[2] = {{fd, POLLOUT, 0}, {wake_.get(), POLLIN, 0}};
            const int r = ::poll(fds, 2, -1);
            if (r < 0) {
                if (errno == EINTR || errno == EAGAIN) {
                    continue;
                }
                return ctx.error(Error::from_errno(errno, fmt::format("cannot poll fd {}", fd)));
            }
            if (fds[1].revents != 0) {
                return Flow::flushing;
            }
            // Writable, or an error or hang-up that the next write() reports.
            return Flow::ok;
        }
    }

    // Made with the element and kept for its whole life, so that unblock()
    // and request_eos() can ring it from any thread at any time.
    UniqueFd wake_{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    int wake_errno_ = wake_ ? 0 : errno;
    detail::BytePosition position_;

    Property<std::int32_t> fd_{this, "fd", 1, "An open file descriptor to write to",
                               PropertyRange<std::int32_t>(0, std::numeric_limits<std::int32_t>::max())};
    Property<bool> sync_{this, "sync", false, "Sync on the clock", Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::FdSink);
