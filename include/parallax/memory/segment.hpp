#pragma once

/// \file
/// Segment: a shared memory mapping backed by a file descriptor (a memfd, a
/// huge-page memfd, or a regular file), shareable with other processes by fd.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/base/unique_fd.hpp>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

namespace parallax {

/// The page size backing a segment.
enum class PageSize : std::uint8_t {
    normal,  ///< The system page size (4 KiB on x86-64).
    huge_2m, ///< 2 MiB huge pages (MFD_HUGETLB | MFD_HUGE_2MB).
    huge_1g, ///< 1 GiB huge pages (MFD_HUGETLB | MFD_HUGE_1GB).
};

/// Returns "normal", "2MiB" or "1GiB".
PARALLAX_API const char* to_string(PageSize page_size) noexcept;

/// Returns the page size in bytes.
PARALLAX_API std::size_t page_bytes(PageSize page_size) noexcept;

/// How a memfd segment is created.
struct SegmentOptions {
    /// Name shown in /proc/<pid>/fd and /proc/<pid>/maps (memfd:<name>).
    std::string name = "parallax";
    /// Requested page size. Huge pages fall back to normal pages when the
    /// system has none reserved, unless `require_page_size` is set; the
    /// segment reports what it got (Segment::page_size()).
    PageSize page_size = PageSize::normal;
    /// Fail instead of falling back to normal pages.
    bool require_page_size = false;
    /// Create the memfd with MFD_ALLOW_SEALING so that seal() works.
    bool allow_sealing = true;
};

/// Which protections the mapping has.
enum class Access : std::uint8_t { read_only, read_write };

/// A file descriptor and a shared mapping of all of it.
///
/// **Ownership:** the Segment owns both the fd and the mapping; both are
/// released on destruction. Moving transfers them. Other processes get access
/// by receiving the fd (see FdChannel) and calling Segment::map().
class PARALLAX_API Segment {
public:
    /// Creates an anonymous memfd of at least `size` bytes (rounded up to the
    /// page size) and maps it shared, read-write. MFD_CLOEXEC is always set.
    static Result<Segment> create(std::size_t size, const SegmentOptions& options = {});

    /// Maps all of an existing fd (memfd or file) shared. The size is read
    /// from the file; an empty file is an error.
    static Result<Segment> map(UniqueFd fd, Access access = Access::read_write);

    Segment(Segment&& other) noexcept;
    Segment& operator=(Segment&& other) noexcept;
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;
    ~Segment();

    [[nodiscard]] std::byte* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::span<std::byte> bytes() const noexcept { return {data_, size_}; }
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] PageSize page_size() const noexcept { return page_size_; }
    [[nodiscard]] Access access() const noexcept { return access_; }

    /// A duplicate of the fd (CLOEXEC), for sending to another process.
    /// **Ownership:** the caller owns the returned fd.
    [[nodiscard]] Result<UniqueFd> dup_fd() const;

    /// Seals the size (F_SEAL_SHRINK | F_SEAL_GROW), so that a process that
    /// maps the segment can trust its size for as long as it exists.
    /// Fails on segments created without sealing or backed by a file.
    Result<void> seal_size();

    /// True when the file behind the fd can no longer shrink.
    [[nodiscard]] bool size_sealed() const noexcept;

private:
    Segment(UniqueFd fd, std::byte* data, std::size_t size, PageSize page_size, Access access) noexcept;

    UniqueFd fd_;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    PageSize page_size_ = PageSize::normal;
    Access access_ = Access::read_write;
};

/// How MappedFile::open treats an existing file.
enum class FileMode : std::uint8_t {
    open_existing,   ///< The file must exist; its size is kept.
    create_or_open,  ///< Created with the given size when missing; an existing file keeps its contents and is grown to
                     ///< the size if smaller.
    create_truncate, ///< Created, or emptied, then sized.
};

/// A segment backed by a regular file: persistent across processes and
/// restarts. Writes reach the file at the latest at sync() or unmap.
class PARALLAX_API MappedFile {
public:
    /// Opens or creates `path` and maps it shared, read-write. `size` is
    /// ignored for FileMode::open_existing (0 keeps the file's size).
    static Result<MappedFile> open(const std::filesystem::path& path, std::size_t size,
                                   FileMode mode = FileMode::create_or_open);

    /// Flushes dirty pages to the file and waits for the write (msync MS_SYNC).
    Result<void> sync();

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    [[nodiscard]] Segment& segment() noexcept { return segment_; }
    [[nodiscard]] const Segment& segment() const noexcept { return segment_; }
    [[nodiscard]] std::byte* data() const noexcept { return segment_.data(); }
    [[nodiscard]] std::size_t size() const noexcept { return segment_.size(); }
    [[nodiscard]] int fd() const noexcept { return segment_.fd(); }

private:
    MappedFile(std::filesystem::path path, Segment segment) noexcept;

    std::filesystem::path path_;
    Segment segment_;
};

} // namespace parallax
