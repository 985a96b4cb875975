#pragma once

/// \file
/// UringReader and UringWriter: pipelined file I/O over io_uring, with a plain
/// read(2)/write(2) path where io_uring is unavailable or unsuitable. These are
/// the I/O engines of the `filesrc` and `filesink` elements.
///
/// The caller owns the memory: it hands a span to submit() and gets it back,
/// filled or written, from wait(). Up to `depth` requests are in flight, and
/// wait() always completes the *oldest* one, so completions come back in
/// submission order and the caller can keep its buffers in a simple FIFO.
///
/// Which path is taken:
///  - regular files and block devices go through io_uring, with reads and
///    writes at explicit offsets so that several are in flight at once;
///  - except on file systems whose data lives in memory (tmpfs, ramfs,
///    hugetlbfs, procfs, sysfs): there is no device latency to hide, and as
///    they do not support non-blocking (RWF_NOWAIT) I/O io_uring would hand
///    every request to a kernel worker thread, which costs 2-10 times a plain
///    pread(2) for small blocks. They use pread(2)/pwrite(2) unless
///    IoBackend::uring is asked for;
///  - pipes, FIFOs, sockets and character devices (/dev/zero, /dev/full, ttys)
///    have no offsets and no ordering between concurrent requests, so they use
///    plain sequential read(2)/write(2), performed when wait() reaches them;
///  - when io_uring_queue_init fails (kernel without io_uring, sysctl
///    kernel.io_uring_disabled, seccomp, memlock limits) or the first io_uring
///    request on the file fails with EINVAL/EOPNOTSUPP (file systems without
///    read_iter/write_iter), the object switches to pread(2)/pwrite(2) for
///    good. uses_uring() tells which path is in use.
///
/// Neither class is thread-safe: one thread (the element's streaming thread)
/// uses an object at a time. The objects may move between threads.

#include <parallax/base/result.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace parallax::detail {

/// Which I/O path an object may use.
enum class IoBackend {
    automatic, ///< io_uring for regular files and block devices outside memory file systems.
    uring,     ///< io_uring for every regular file and block device (tests, benchmarks).
    plain,     ///< Never create a ring: read(2)/write(2), pread(2)/pwrite(2) only.
};

/// The outcome of one request, as returned by wait().
struct IoCompletion {
    std::uint64_t cookie = 0; ///< The value given to submit().
    std::size_t bytes = 0;    ///< Bytes transferred; 0 from a reader means end of file.
    std::uint64_t offset = 0; ///< Position in the file (or stream) of the first byte.
};

class UringEngine;

/// Reads a file into caller-provided memory with up to `depth` reads in flight
/// (read-ahead at successive offsets), completed in order.
///
/// For a regular file or block device a completion holds the full requested
/// size except at end of file (short reads are resubmitted for the rest); for a
/// pipe or character device it holds what one read(2) returned, at least one
/// byte, so that a live stream is not held back to fill a block.
class UringReader {
public:
    /// Opens `path` for reading. Fails, naming the path, when it cannot be
    /// opened or is a directory. `depth` (1..4096) bounds the requests in flight.
    static Result<UringReader> open(const std::string& path, unsigned depth = 4,
                                    IoBackend backend = IoBackend::automatic);

    UringReader(UringReader&&) noexcept;
    UringReader& operator=(UringReader&&) noexcept;
    UringReader(const UringReader&) = delete;
    UringReader& operator=(const UringReader&) = delete;
    /// Cancels or waits for every request still in flight: once it returns, no
    /// submitted memory is written any more.
    ~UringReader();

    /// Queues a read of `dst.size()` bytes at the running offset, which then
    /// advances by that size. The request goes to the kernel at the latest with
    /// the next wait(). Fails with Errc::exhausted when `depth` requests are
    /// already pending, Errc::invalid_argument for an empty span.
    /// **Ownership:** `dst` must stay valid, and is written by the kernel,
    /// until wait() has returned this request, cancel() has returned, or the
    /// reader is destroyed.
    Result<void> submit(std::span<std::byte> dst, std::uint64_t cookie);

    /// Waits for the oldest pending request and returns it; on a read error the
    /// Error names the path and the errno ("cannot read /x: Input/output
    /// error") and the request is consumed all the same. Any requests after it
    /// stay pending. Errc::state when nothing is pending. (Should entering the
    /// ring itself fail, which a live ring does not do, the request stays.)
    Result<IoCompletion> wait();

    /// Synchronous convenience: reads into `dst` until it is full or the end of
    /// the file, and returns the bytes read (0 at end of file). Needs nothing
    /// pending (Errc::state otherwise).
    Result<std::size_t> read(std::span<std::byte> dst);

    /// Drops every pending request. When it returns the kernel no longer
    /// touches their memory; the running offset goes back to the first dropped
    /// request, so the next submit() reads what the oldest would have read.
    void cancel() noexcept;

    /// Moves the running offset. Only with nothing pending (Errc::state) and on
    /// a seekable file (Errc::unsupported for pipes and character devices).
    Result<void> seek(std::uint64_t offset);

    /// The offset of the next submit() on a seekable file; on a stream, the
    /// bytes read so far.
    [[nodiscard]] std::uint64_t offset() const noexcept;
    [[nodiscard]] std::size_t pending() const noexcept;
    [[nodiscard]] unsigned depth() const noexcept;
    /// True while requests go through io_uring (false on the plain path,
    /// including after a fallback).
    [[nodiscard]] bool uses_uring() const noexcept;
    /// True for regular files and block devices, false for streams.
    [[nodiscard]] bool seekable() const noexcept;
    [[nodiscard]] const std::string& path() const noexcept;

private:
    explicit UringReader(std::unique_ptr<UringEngine> engine) noexcept;
    std::unique_ptr<UringEngine> engine_;
};

/// Writes caller-provided memory to a file with up to `depth` writes in flight
/// at successive offsets, completed in order.
class UringWriter {
public:
    /// Opens `path` for writing, creating it with mode 0666 & ~umask. Without
    /// `append` the file is truncated. With `append` writes start at the file's
    /// size at open time; the file is not opened O_APPEND (with O_APPEND the
    /// kernel ignores offsets and writes in flight could land out of order), so
    /// a second process appending at the same time is not supported.
    static Result<UringWriter> open(const std::string& path, bool append, unsigned depth = 4,
                                    IoBackend backend = IoBackend::automatic);

    UringWriter(UringWriter&&) noexcept;
    UringWriter& operator=(UringWriter&&) noexcept;
    UringWriter(const UringWriter&) = delete;
    UringWriter& operator=(const UringWriter&) = delete;
    /// Waits for every write still in flight (a write cannot be taken back
    /// once the kernel started it) and cancels the rest; errors are lost, so
    /// call flush() first to see them.
    ~UringWriter();

    /// Queues a write of all of `src` at the running offset, which then
    /// advances by its size. Errc::exhausted when `depth` requests are pending.
    /// **Ownership:** `src` must stay valid and unchanged until wait() or
    /// flush() has returned this request, or the writer is destroyed.
    Result<void> submit(std::span<const std::byte> src, std::uint64_t cookie);

    /// Waits for the oldest pending write. A write is complete only when every
    /// byte is written (short writes are resubmitted); failures (ENOSPC, EIO,
    /// EPIPE, ...) name the path: "cannot write /x: No space left on device".
    /// The request is consumed either way. Errc::state when nothing is pending.
    Result<IoCompletion> wait();

    /// Waits for every pending write; returns the first error.
    Result<void> flush();

    /// flush(), then makes the data durable (IORING_OP_FSYNC or fsync(2)). On
    /// files that cannot be synced (pipes, character devices) only flushes.
    Result<void> sync();

    /// Synchronous convenience: writes all of `src`. Needs nothing pending.
    Result<void> write(std::span<const std::byte> src);

    /// Moves the running offset: the next submit() writes at `offset` (past
    /// the end of the file leaves a hole). Only with nothing pending
    /// (Errc::state: flush() first, so that writes land in order) and on a
    /// seekable file (Errc::unsupported for pipes, sockets and character
    /// devices, naming the path).
    Result<void> seek(std::uint64_t offset);

    /// The offset of the next submit() (bytes written so far on a stream).
    [[nodiscard]] std::uint64_t offset() const noexcept;
    [[nodiscard]] std::size_t pending() const noexcept;
    [[nodiscard]] unsigned depth() const noexcept;
    [[nodiscard]] bool uses_uring() const noexcept;
    [[nodiscard]] bool seekable() const noexcept;
    [[nodiscard]] const std::string& path() const noexcept;

private:
    explicit UringWriter(std::unique_ptr<UringEngine> engine) noexcept;
    std::unique_ptr<UringEngine> engine_;
};

} // namespace parallax::detail
