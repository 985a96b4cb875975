#include <parallax/base/log.hpp>
#include <parallax/memory/segment.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace parallax {
namespace {

LogCategory segment_log("segment", "memfd, huge-page and file-backed segments");

std::size_t round_up(std::size_t value, std::size_t to) {
    return (value + to - 1) / to * to;
}

unsigned int memfd_flags(const SegmentOptions& options, PageSize page_size) {
    unsigned int flags = MFD_CLOEXEC;
    if (options.allow_sealing) {
        flags |= MFD_ALLOW_SEALING;
    }
    switch (page_size) {
    case PageSize::normal:
        break;
    case PageSize::huge_2m:
        flags |= MFD_HUGETLB | MFD_HUGE_2MB;
        break;
    case PageSize::huge_1g:
        flags |= MFD_HUGETLB | MFD_HUGE_1GB;
        break;
    }
    return flags;
}

// One attempt at a memfd of exactly `page_size` pages; errno is left for the caller.
Result<Segment> try_create(std::size_t size, const SegmentOptions& options, PageSize page_size,
                           Result<Segment> (*finish)(UniqueFd, std::size_t, PageSize)) {
    const std::size_t bytes = round_up(size, page_bytes(page_size));
    UniqueFd fd(::memfd_create(options.name.c_str(), memfd_flags(options, page_size)));
    if (!fd) {
        return fail_errno(errno, fmt::format("memfd_create(\"{}\", {} pages)", options.name, to_string(page_size)));
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) {
        return fail_errno(errno, fmt::format("sizing memfd \"{}\" to {} bytes", options.name, bytes));
    }
    return finish(std::move(fd), bytes, page_size);
}

} // namespace

const char* to_string(PageSize page_size) noexcept {
    switch (page_size) {
    case PageSize::normal:
        return "normal";
    case PageSize::huge_2m:
        return "2MiB";
    case PageSize::huge_1g:
        return "1GiB";
    }
    return "unknown";
}

std::size_t page_bytes(PageSize page_size) noexcept {
    switch (page_size) {
    case PageSize::normal:
        return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    case PageSize::huge_2m:
        return std::size_t{2} << 20U;
    case PageSize::huge_1g:
        return std::size_t{1} << 30U;
    }
    return 4096;
}

Segment::Segment(UniqueFd fd, std::byte* data, std::size_t size, PageSize page_size, Access access) noexcept
    : fd_(std::move(fd)), data_(data), size_(size), page_size_(page_size), access_(access) {}

Segment::Segment(Segment&& other) noexcept
    : fd_(std::move(other.fd_)), data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      page_size_(other.page_size_), access_(other.access_) {}

Segment& Segment::operator=(Segment&& other) noexcept {
    if (this != &other) {
        if (data_ != nullptr) {
            ::munmap(data_, size_);
        }
        fd_ = std::move(other.fd_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        page_size_ = other.page_size_;
        access_ = other.access_;
    }
    return *this;
}

Segment::~Segment() {
    if (data_ != nullptr) {
        ::munmap(data_, size_);
    }
}

Result<Segment> Segment::create(std::size_t size, const SegmentOptions& options) {
    if (size == 0) {
        return fail(Errc::invalid_argument, "a segment cannot be empty");
    }
    auto finish = [](UniqueFd fd, std::size_t bytes, PageSize page_size) -> Result<Segment> {
        void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        if (mem == MAP_FAILED) {
            return fail_errno(errno, fmt::format("mapping {} bytes of {} pages", bytes, to_string(page_size)));
        }
        return Segment(std::move(fd), static_cast<std::byte*>(mem), bytes, page_size, Access::read_write);
    };
    auto segment = try_create(size, options, options.page_size, finish);
    if (segment || options.page_size == PageSize::normal || options.require_page_size) {
        return segment;
    }
    // No huge pages reserved (or none of that size): the caller asked for a
    // preference, not a guarantee, and page_size() tells what it got.
    PARALLAX_INFO(segment_log, "segment \"{}\": no {} pages ({}); using normal pages", options.name,
                  to_string(options.page_size), segment.error().message());
    return try_create(size, options, PageSize::normal, finish);
}

Result<Segment> Segment::map(UniqueFd fd, Access access) {
    if (!fd) {
        return fail(Errc::invalid_argument, "cannot map an invalid fd");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return fail_errno(errno, "fstat of the fd to map");
    }
    if (!S_ISREG(st.st_mode)) {
        return fail(Errc::invalid_argument, "the fd to map is not a memfd or regular file");
    }
    if (st.st_size <= 0) {
        return fail(Errc::invalid_argument, "the fd to map is empty");
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    const int prot = access == Access::read_write ? PROT_READ | PROT_WRITE : PROT_READ;
    void* mem = ::mmap(nullptr, size, prot, MAP_SHARED, fd.get(), 0);
    if (mem == MAP_FAILED) {
        return fail_errno(errno, fmt::format("mapping {} bytes of a received fd", size));
    }
    // A huge-page memfd reports its page size as st_blksize.
    PageSize page_size = PageSize::normal;
    if (static_cast<std::size_t>(st.st_blksize) == page_bytes(PageSize::huge_2m)) {
        page_size = PageSize::huge_2m;
    } else if (static_cast<std::size_t>(st.st_blksize) == page_bytes(PageSize::huge_1g)) {
        page_size = PageSize::huge_1g;
    }
    return Segment(std::move(fd), static_cast<std::byte*>(mem), size, page_size, access);
}

Result<UniqueFd> Segment::dup_fd() const {
    UniqueFd copy(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
    if (!copy) {
        return fail_errno(errno, "duplicating a segment fd");
    }
    return copy;
}

Result<void> Segment::seal_size() {
    if (::fcntl(fd_.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) {
        return fail_errno(errno, "sealing the segment's size");
    }
    return {};
}

bool Segment::size_sealed() const noexcept {
    const int seals = ::fcntl(fd_.get(), F_GET_SEALS);
    return seals > 0 && (seals & F_SEAL_SHRINK) != 0;
}

MappedFile::MappedFile(std::filesystem::path path, Segment segment) noexcept
    : path_(std::move(path)), segment_(std::move(segment)) {}

Result<MappedFile> MappedFile::open(const std::filesystem::path& path, std::size_t size, FileMode mode) {
    int flags = O_RDWR | O_CLOEXEC;
    switch (mode) {
    case FileMode::open_existing:
        break;
    case FileMode::create_or_open:
        flags |= O_CREAT;
        break;
    case FileMode::create_truncate:
        flags |= O_CREAT | O_TRUNC;
        break;
    }
    UniqueFd fd(::open(path.c_str(), flags, 0644));
    if (!fd) {
        return fail_errno(errno, fmt::format("opening {}", path.string()));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return fail_errno(errno, fmt::format("fstat of {}", path.string()));
    }
    if (!S_ISREG(st.st_mode)) {
        return fail(Errc::invalid_argument, fmt::format("{} is not a regular file", path.string()));
    }
    if (mode != FileMode::open_existing && static_cast<std::size_t>(st.st_size) < size) {
        if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
            return fail_errno(errno, fmt::format("sizing {} to {} bytes", path.string(), size));
        }
    }
    auto segment = Segment::map(std::move(fd));
    if (!segment) {
        return fail(Error(segment.error().code(), fmt::format("{}: {}", path.string(), segment.error().message())));
    }
    return MappedFile(path, std::move(*segment));
}

Result<void> MappedFile::sync() {
    if (::msync(segment_.data(), segment_.size(), MS_SYNC) != 0) {
        return fail_errno(errno, fmt::format("msync of {}", path_.string()));
    }
    return {};
}

} // namespace parallax
