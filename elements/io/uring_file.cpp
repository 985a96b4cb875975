#include "io/uring_file.hpp"

#include <parallax/base/unique_fd.hpp>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <fcntl.h>
#include <liburing.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace parallax::detail {
namespace {

enum class Direction { read, write };

// user_data of the ring's own requests; request slots use 0..depth-1.
constexpr std::uint64_t cancel_tag = ~std::uint64_t{0};
constexpr std::uint64_t fsync_tag = cancel_tag - 1;

// An SQE length is 32 bits, and read(2) stops at 0x7ffff000 anyway: larger
// requests go in pieces, through the short-transfer path.
constexpr std::size_t max_chunk = std::size_t{1} << 30;

constexpr unsigned max_depth = 4096;

bool transient(int err) {
    return err == EINTR || err == EAGAIN;
}

} // namespace

// The engine behind both classes: a FIFO of at most `depth` requests, each
// either handed to the ring (regular files, block devices) or run with a plain
// system call when wait() reaches it (streams, and the fallback).
class UringEngine {
public:
    UringEngine(Direction direction, std::string path, UniqueFd fd, bool seekable, unsigned depth)
        : direction_(direction), path_(std::move(path)), fd_(std::move(fd)), seekable_(seekable), requests_(depth) {}

    UringEngine(const UringEngine&) = delete;
    UringEngine& operator=(const UringEngine&) = delete;

    ~UringEngine() {
        cancel();
        if (ring_ok_) {
            io_uring_queue_exit(&ring_);
        }
    }

    void start_ring() {
        io_uring_params params{};
        params.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL;
        int ret = io_uring_queue_init_params(depth(), &ring_, &params);
        if (ret == -EINVAL) {
            // Kernels before 5.19 reject the flags; they are only optimisations.
            params = io_uring_params{};
            ret = io_uring_queue_init_params(depth(), &ring_, &params);
        }
        ring_ok_ = ret == 0;
        use_ring_ = ring_ok_;
    }

    void set_offset(std::uint64_t offset) noexcept { next_offset_ = offset; }

    Result<void> submit(std::byte* data, std::size_t size, std::uint64_t cookie) {
        if (count_ == requests_.size()) {
            return fail(Errc::exhausted, "all " + std::to_string(depth()) + " requests on " + path_ + " are pending");
        }
        const std::size_t index = (head_ + count_) % requests_.size();
        Request& r = requests_[index];
        r = Request{.data = data, .size = size, .cookie = cookie};
        if (seekable_) {
            r.offset = next_offset_;
            next_offset_ += size;
        }
        ++count_;
        if (size == 0) {
            r.state = State::done;
        } else if (use_ring_) {
            // Prepared at the next wait(), so that a cancel() before it costs
            // the kernel nothing.
            r.state = State::ready;
        }
        return {};
    }

    Result<IoCompletion> wait() {
        if (count_ == 0) {
            return fail(Errc::state, "no request pending on " + path_);
        }
        prepare_ready();
        Request& r = requests_[head_];
        // Even when the oldest request is already done, hand over the queued
        // ones so that the read-ahead (or write-behind) keeps going.
        while (r.state == State::in_kernel || (ring_ok_ && io_uring_sq_ready(&ring_) > 0)) {
            auto entered = enter(r.state == State::in_kernel);
            if (!entered) {
                return fail(std::move(entered.error()));
            }
        }
        if (r.state == State::queued) {
            run_plain(r);
        }
        const Request done = r;
        head_ = (head_ + 1) % requests_.size();
        --count_;
        if (done.state == State::failed) {
            return fail(io_error(done.error));
        }
        return IoCompletion{.cookie = done.cookie, .bytes = done.done, .offset = done.offset};
    }

    Result<void> fsync() {
        int err = 0;
        if (use_ring_) {
            io_uring_sqe* sqe = get_sqe();
            io_uring_prep_fsync(sqe, fd_.get(), 0);
            io_uring_sqe_set_data64(sqe, fsync_tag);
            fsync_done_ = false;
            while (!fsync_done_) {
                auto entered = enter(true);
                if (!entered) {
                    return fail(std::move(entered.error()));
                }
            }
            err = fsync_error_;
        } else {
            err = ::fsync(fd_.get()) == 0 ? 0 : errno;
        }
        // EINVAL/EROFS: a file that cannot be synchronised (pipe, tty, /dev/null).
        if (err != 0 && err != EINVAL && err != EROFS) {
            return fail_errno(err, "cannot sync " + path_);
        }
        return {};
    }

    void cancel() noexcept {
        if (count_ == 0) {
            return;
        }
        if (ring_ok_ && in_kernel_ > 0) {
            canceling_ = true;
            submit_all(); // SQEs of short transfers, left only if entering failed
            for (std::size_t i = 0; i < requests_.size(); ++i) {
                if (requests_[i].state == State::in_kernel) {
                    io_uring_sqe* sqe = get_sqe();
                    io_uring_prep_cancel64(sqe, i, 0);
                    io_uring_sqe_set_data64(sqe, cancel_tag);
                    ++cancels_;
                }
            }
            // A request the kernel has started (a buffered read running in an
            // io-wq worker) cannot be cancelled: wait until it finishes, since
            // it writes into the caller's memory.
            while (in_kernel_ > 0 || cancels_ > 0) {
                const int ret = io_uring_submit_and_wait(&ring_, 1);
                if (ret < 0 && !transient(-ret) && ret != -EBUSY) {
                    break; // Not expected from a live ring; nothing else to try.
                }
                reap();
            }
            canceling_ = false;
        }
        if (seekable_) {
            next_offset_ = requests_[head_].offset;
        }
        head_ = 0;
        count_ = 0;
    }

    [[nodiscard]] std::uint64_t offset() const noexcept { return seekable_ ? next_offset_ : stream_offset_; }
    [[nodiscard]] std::size_t pending() const noexcept { return count_; }
    [[nodiscard]] unsigned depth() const noexcept { return static_cast<unsigned>(requests_.size()); }
    [[nodiscard]] bool uses_uring() const noexcept { return use_ring_; }
    [[nodiscard]] bool seekable() const noexcept { return seekable_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    enum class State : std::uint8_t {
        queued,    // waits for the plain path
        ready,     // waits for an SQE
        in_kernel, // has an SQE, submitted or not; its CQE is not reaped
        done,
        failed,
    };

    struct Request {
        std::byte* data = nullptr; // written by reads only
        std::size_t size = 0;
        std::size_t done = 0;
        std::uint64_t offset = 0;
        std::uint64_t cookie = 0;
        State state = State::queued;
        int error = 0;
    };

    Error io_error(int err) const {
        return Error::from_errno(err, (direction_ == Direction::read ? "cannot read " : "cannot write ") + path_);
    }

    void prepare_ready() {
        for (std::size_t i = 0; i < count_; ++i) {
            const std::size_t index = (head_ + i) % requests_.size();
            if (requests_[index].state == State::ready) {
                if (use_ring_) {
                    queue_sqe(index);
                } else {
                    requests_[index].state = State::queued; // fell back meanwhile
                }
            }
        }
    }

    io_uring_sqe* get_sqe() {
        // The queue holds `depth` entries and each request has at most one SQE
        // at a time, so this only loops after cancel() added its own.
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        while (sqe == nullptr) {
            io_uring_submit(&ring_);
            sqe = io_uring_get_sqe(&ring_);
        }
        return sqe;
    }

    void queue_sqe(std::size_t index) {
        Request& r = requests_[index];
        io_uring_sqe* sqe = get_sqe();
        const auto len = static_cast<unsigned>(std::min(r.size - r.done, max_chunk));
        if (direction_ == Direction::read) {
            io_uring_prep_read(sqe, fd_.get(), r.data + r.done, len, r.offset + r.done);
        } else {
            io_uring_prep_write(sqe, fd_.get(), r.data + r.done, len, r.offset + r.done);
        }
        io_uring_sqe_set_data64(sqe, index);
        r.state = State::in_kernel;
        ++in_kernel_;
    }

    void submit_all() noexcept {
        while (io_uring_sq_ready(&ring_) > 0) {
            const int ret = io_uring_submit(&ring_);
            if (ret < 0 && !transient(-ret) && ret != -EBUSY) {
                return;
            }
            if (ret < 0) {
                reap();
            }
        }
    }

    // Submits what is queued and, with `wait`, blocks for at least one CQE.
    Result<void> enter(bool wait) {
        const int ret = wait ? io_uring_submit_and_wait(&ring_, 1) : io_uring_submit(&ring_);
        if (ret < 0 && !transient(-ret) && ret != -EBUSY) {
            return fail(io_error(-ret));
        }
        reap();
        return {};
    }

    void reap() noexcept {
        unsigned head = 0;
        unsigned seen = 0;
        io_uring_cqe* cqe = nullptr;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            complete(io_uring_cqe_get_data64(cqe), cqe->res);
            ++seen;
        }
        io_uring_cq_advance(&ring_, seen);
    }

    void complete(std::uint64_t tag, int res) noexcept {
        if (tag == cancel_tag) {
            --cancels_;
            return;
        }
        if (tag == fsync_tag) {
            fsync_done_ = true;
            fsync_error_ = res < 0 ? -res : 0;
            return;
        }
        // Every request CQE ends one SQE; queue_sqe() counts a resubmission.
        Request& r = requests_[tag];
        assert(r.state == State::in_kernel && in_kernel_ > 0);
        --in_kernel_;
        r.state = State::done;
        if (canceling_) {
            return;
        }
        if (res < 0 && transient(-res)) {
            queue_sqe(tag);
            return;
        }
        if (res < 0) {
            if ((res == -EINVAL || res == -EOPNOTSUPP) && !ring_proven_) {
                // The file system cannot do this through io_uring: redo the
                // request (and all later ones) with pread/pwrite. A real
                // EINVAL comes back from those as well.
                use_ring_ = false;
                r.state = State::queued;
                return;
            }
            r.state = State::failed;
            r.error = -res;
            return;
        }
        if (res == 0) {
            // Reading nothing is the end of file; writing nothing is no progress.
            if (direction_ == Direction::write) {
                r.state = State::failed;
                r.error = EIO;
            }
            return;
        }
        ring_proven_ = true;
        r.done += static_cast<std::size_t>(res);
        if (r.done < r.size) {
            queue_sqe(tag); // short transfer: the rest, at the next offset
        }
    }

    void run_plain(Request& r) noexcept {
        const int fd = fd_.get();
        if (!seekable_) {
            r.offset = stream_offset_;
        }
        while (r.done < r.size) {
            std::byte* at = r.data + r.done;
            const std::size_t len = std::min(r.size - r.done, max_chunk);
            const auto pos = static_cast<off_t>(r.offset + r.done);
            ssize_t n = 0;
            if (direction_ == Direction::read) {
                n = seekable_ ? ::pread(fd, at, len, pos) : ::read(fd, at, len);
            } else {
                n = seekable_ ? ::pwrite(fd, at, len, pos) : ::write(fd, at, len);
            }
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                r.state = State::failed;
                r.error = errno;
                break;
            }
            if (n == 0) {
                if (direction_ == Direction::write) {
                    r.state = State::failed;
                    r.error = EIO;
                }
                break;
            }
            r.done += static_cast<std::size_t>(n);
            // A stream delivers what it has: do not hold a live source back
            // until a whole block has arrived.
            if (direction_ == Direction::read && !seekable_) {
                break;
            }
        }
        if (!seekable_) {
            stream_offset_ += r.done;
        }
        if (r.state != State::failed) {
            r.state = State::done;
        }
    }

    Direction direction_;
    std::string path_;
    UniqueFd fd_;
    bool seekable_;
    std::vector<Request> requests_; // a circular FIFO of `depth` slots
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    std::uint64_t next_offset_ = 0;
    std::uint64_t stream_offset_ = 0;

    io_uring ring_{};
    bool ring_ok_ = false;     // ring_ is initialised
    bool use_ring_ = false;    // new requests go to the ring
    bool ring_proven_ = false; // a request went through: EINVAL is now a real error
    bool canceling_ = false;
    unsigned in_kernel_ = 0;
    unsigned cancels_ = 0;
    bool fsync_done_ = false;
    int fsync_error_ = 0;
};

namespace {

struct Opened {
    UniqueFd fd;
    bool seekable = false;
    bool in_memory = false; // on a file system that never waits for a device
};

bool memory_file_system(int fd) {
    struct statfs fs {};
    if (::fstatfs(fd, &fs) != 0) {
        return false;
    }
    switch (static_cast<unsigned long>(fs.f_type)) {
    case TMPFS_MAGIC:
    case RAMFS_MAGIC:
    case HUGETLBFS_MAGIC:
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
        return true;
    default:
        return false;
    }
}

bool wants_ring(IoBackend backend, const Opened& opened) {
    switch (backend) {
    case IoBackend::automatic:
        return opened.seekable && !opened.in_memory;
    case IoBackend::uring:
        return opened.seekable;
    case IoBackend::plain:
        return false;
    }
    return false;
}

Result<Opened> open_file(const std::string& path, Direction direction, bool append, unsigned depth) {
    const char* what = direction == Direction::read ? " for reading" : " for writing";
    if (depth == 0 || depth > max_depth) {
        return fail(Errc::invalid_argument, "cannot open " + path + what + ": depth " + std::to_string(depth) +
                                                " is outside 1.." + std::to_string(max_depth));
    }
    int flags = O_CLOEXEC;
    if (direction == Direction::read) {
        flags |= O_RDONLY;
    } else {
        flags |= O_WRONLY | O_CREAT | (append ? 0 : O_TRUNC);
    }
    UniqueFd fd(::open(path.c_str(), flags, 0666));
    if (!fd) {
        return fail_errno(errno, "cannot open " + path + what);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return fail_errno(errno, "cannot open " + path + what);
    }
    if (S_ISDIR(st.st_mode)) {
        // open(2) accepts a directory for reading; read(2) would fail later.
        return fail_errno(EISDIR, "cannot read " + path);
    }
    const bool seekable = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
    const bool in_memory = memory_file_system(fd.get());
    return Opened{.fd = std::move(fd), .seekable = seekable, .in_memory = in_memory};
}

// The check of both seek()s: only where offsets exist, and never under
// requests already queued at the old offset.
Result<void> seek_engine(UringEngine& engine, std::uint64_t offset) {
    if (!engine.seekable()) {
        return fail(Errc::unsupported, "cannot seek in " + engine.path() + ": not a regular file");
    }
    if (engine.pending() != 0) {
        return fail(Errc::state, "cannot seek in " + engine.path() + " with requests pending");
    }
    engine.set_offset(offset);
    return {};
}

} // namespace

// ---- UringReader ----------------------------------------------------------

Result<UringReader> UringReader::open(const std::string& path, unsigned depth, IoBackend backend) {
    auto opened = open_file(path, Direction::read, false, depth);
    if (!opened) {
        return fail(std::move(opened.error()));
    }
    auto engine = std::make_unique<UringEngine>(Direction::read, path, std::move(opened->fd), opened->seekable, depth);
    if (wants_ring(backend, *opened)) {
        engine->start_ring();
    }
    return UringReader(std::move(engine));
}

UringReader::UringReader(std::unique_ptr<UringEngine> engine) noexcept : engine_(std::move(engine)) {}
UringReader::UringReader(UringReader&&) noexcept = default;
UringReader& UringReader::operator=(UringReader&&) noexcept = default;
UringReader::~UringReader() = default;

Result<void> UringReader::submit(std::span<std::byte> dst, std::uint64_t cookie) {
    if (dst.empty()) {
        return fail(Errc::invalid_argument, "empty read submitted on " + engine_->path());
    }
    return engine_->submit(dst.data(), dst.size(), cookie);
}

Result<IoCompletion> UringReader::wait() {
    return engine_->wait();
}

Result<std::size_t> UringReader::read(std::span<std::byte> dst) {
    if (engine_->pending() != 0) {
        return fail(Errc::state, "read() on " + engine_->path() + " with requests pending");
    }
    std::size_t total = 0;
    while (total < dst.size()) {
        auto submitted = engine_->submit(dst.data() + total, dst.size() - total, 0);
        if (!submitted) {
            return fail(std::move(submitted.error()));
        }
        auto completion = engine_->wait();
        if (!completion) {
            return fail(std::move(completion.error()));
        }
        if (completion->bytes == 0) {
            break;
        }
        total += completion->bytes;
    }
    return total;
}

void UringReader::cancel() noexcept {
    engine_->cancel();
}

Result<void> UringReader::seek(std::uint64_t offset) {
    return seek_engine(*engine_, offset);
}

std::uint64_t UringReader::offset() const noexcept {
    return engine_->offset();
}
std::size_t UringReader::pending() const noexcept {
    return engine_->pending();
}
unsigned UringReader::depth() const noexcept {
    return engine_->depth();
}
bool UringReader::uses_uring() const noexcept {
    return engine_->uses_uring();
}
bool UringReader::seekable() const noexcept {
    return engine_->seekable();
}
const std::string& UringReader::path() const noexcept {
    return engine_->path();
}

// ---- UringWriter ----------------------------------------------------------

Result<UringWriter> UringWriter::open(const std::string& path, bool append, unsigned depth, IoBackend backend) {
    auto opened = open_file(path, Direction::write, append, depth);
    if (!opened) {
        return fail(std::move(opened.error()));
    }
    std::uint64_t start = 0;
    if (append && opened->seekable) {
        const off_t end = ::lseek(opened->fd.get(), 0, SEEK_END);
        if (end < 0) {
            return fail_errno(errno, "cannot open " + path + " for writing");
        }
        start = static_cast<std::uint64_t>(end);
    }
    auto engine = std::make_unique<UringEngine>(Direction::write, path, std::move(opened->fd), opened->seekable, depth);
    engine->set_offset(start);
    if (wants_ring(backend, *opened)) {
        engine->start_ring();
    }
    return UringWriter(std::move(engine));
}

UringWriter::UringWriter(std::unique_ptr<UringEngine> engine) noexcept : engine_(std::move(engine)) {}
UringWriter::UringWriter(UringWriter&&) noexcept = default;
UringWriter& UringWriter::operator=(UringWriter&&) noexcept = default;
UringWriter::~UringWriter() = default;

Result<void> UringWriter::submit(std::span<const std::byte> src, std::uint64_t cookie) {
    // The engine keeps one pointer type for both directions; a write only
    // ever reads through it.
    return engine_->submit(const_cast<std::byte*>(src.data()), src.size(), cookie);
}

Result<IoCompletion> UringWriter::wait() {
    return engine_->wait();
}

Result<void> UringWriter::flush() {
    Result<void> first;
    while (engine_->pending() != 0) {
        auto completion = engine_->wait();
        if (!completion && first) {
            first = fail(std::move(completion.error()));
        }
    }
    return first;
}

Result<void> UringWriter::sync() {
    auto flushed = flush();
    if (!flushed) {
        return flushed;
    }
    return engine_->fsync();
}

Result<void> UringWriter::write(std::span<const std::byte> src) {
    if (engine_->pending() != 0) {
        return fail(Errc::state, "write() on " + engine_->path() + " with requests pending");
    }
    auto submitted = submit(src, 0);
    if (!submitted) {
        return submitted;
    }
    auto completion = engine_->wait();
    if (!completion) {
        return fail(std::move(completion.error()));
    }
    return {};
}

Result<void> UringWriter::seek(std::uint64_t offset) {
    return seek_engine(*engine_, offset);
}

std::uint64_t UringWriter::offset() const noexcept {
    return engine_->offset();
}
std::size_t UringWriter::pending() const noexcept {
    return engine_->pending();
}
unsigned UringWriter::depth() const noexcept {
    return engine_->depth();
}
bool UringWriter::uses_uring() const noexcept {
    return engine_->uses_uring();
}
bool UringWriter::seekable() const noexcept {
    return engine_->seekable();
}
const std::string& UringWriter::path() const noexcept {
    return engine_->path();
}

} // namespace parallax::detail
