// File I/O engines of filesrc/filesink: copying a 256 MiB file on tmpfs with
// UringReader -> UringWriter (io_uring forced, and their plain read/write path),
// beside the reference every file element is measured against: a plain
// read(2)/write(2) loop with one buffer, which is what `dd bs=N` does.
// tmpfs keeps the disk out of it: the figures are the cost of the copies and
// system calls, the part the elements add.
#include "io/uring_file.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/statfs.h>
#include <unistd.h>
#include <vector>

namespace {

using parallax::detail::IoBackend;
using parallax::detail::UringReader;
using parallax::detail::UringWriter;

constexpr std::size_t file_size = std::size_t{256} << 20;
constexpr long tmpfs_magic = 0x01021994;

bool on_tmpfs(const std::filesystem::path& dir) {
    struct statfs fs {};
    return ::statfs(dir.c_str(), &fs) == 0 && fs.f_type == tmpfs_magic;
}

// The source file, made once per run and removed at exit.
class Files {
public:
    Files() {
        // $TMPDIR when set (to measure another file system), else /dev/shm.
        const char* tmp = std::getenv("TMPDIR");
        dir_ = tmp != nullptr ? tmp : "/dev/shm";
        tmpfs_ = on_tmpfs(dir_);
        const std::string stem = "parallax-uring-bench-" + std::to_string(::getpid());
        src_ = (dir_ / (stem + "-src")).string();
        dst_ = (dir_ / (stem + "-dst")).string();
        std::vector<char> block(std::size_t{1} << 20);
        const int fd = ::open(src_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            std::abort();
        }
        for (std::size_t off = 0; off < file_size; off += block.size()) {
            for (std::size_t i = 0; i < block.size(); ++i) {
                block[i] = static_cast<char>((off + i) * 2654435761U >> 24);
            }
            if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) {
                std::abort();
            }
        }
        ::close(fd);
    }
    Files(const Files&) = delete;
    Files& operator=(const Files&) = delete;
    ~Files() {
        ::unlink(src_.c_str());
        ::unlink(dst_.c_str());
    }

    [[nodiscard]] const std::string& src() const { return src_; }
    [[nodiscard]] const std::string& dst() const { return dst_; }
    [[nodiscard]] std::string label() const { return (tmpfs_ ? "tmpfs " : "NOT tmpfs ") + dir_.string(); }

private:
    std::filesystem::path dir_;
    std::string src_;
    std::string dst_;
    bool tmpfs_ = false;
};

const Files& files() {
    static const Files instance;
    return instance;
}

// The copy loop of a filesrc ! filesink pipeline with the engines: 2 x depth
// buffers, up to `depth` reads ahead and `depth` writes behind.
std::size_t copy_pipelined(const std::string& src, const std::string& dst, std::size_t block, unsigned depth,
                           IoBackend backend) {
    auto reader = UringReader::open(src, depth, backend);
    auto writer = UringWriter::open(dst, false, depth, backend);
    if (!reader || !writer) {
        std::abort();
    }
    std::vector<std::byte> memory(block * 2 * std::size_t{depth});
    std::vector<std::uint64_t> free_ids;
    for (std::uint64_t id = 0; id < std::uint64_t{2} * depth; ++id) {
        free_ids.push_back(id);
    }
    auto buffer = [&](std::uint64_t id) { return std::span(memory).subspan(id * block, block); };
    std::size_t copied = 0;
    bool eof = false;
    while (true) {
        while (!eof && !free_ids.empty() && reader->pending() < depth) {
            const std::uint64_t id = free_ids.back();
            free_ids.pop_back();
            if (!reader->submit(buffer(id), id)) {
                std::abort();
            }
        }
        if (reader->pending() == 0) {
            break;
        }
        auto read = reader->wait();
        if (!read) {
            std::abort();
        }
        if (read->bytes == 0) {
            eof = true;
            free_ids.push_back(read->cookie);
            continue;
        }
        if (writer->pending() == depth) {
            auto written = writer->wait();
            if (!written) {
                std::abort();
            }
            free_ids.push_back(written->cookie);
        }
        if (!writer->submit(buffer(read->cookie).first(read->bytes), read->cookie)) {
            std::abort();
        }
        copied += read->bytes;
    }
    if (!writer->flush()) {
        std::abort();
    }
    return copied;
}

// What dd does.
std::size_t copy_plain_loop(const std::string& src, const std::string& dst, std::size_t block) {
    const int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    const int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (in < 0 || out < 0) {
        std::abort();
    }
    std::vector<std::byte> buf(block);
    std::size_t copied = 0;
    while (true) {
        const ssize_t n = ::read(in, buf.data(), block);
        if (n < 0) {
            std::abort();
        }
        if (n == 0) {
            break;
        }
        if (::write(out, buf.data(), static_cast<std::size_t>(n)) != n) {
            std::abort();
        }
        copied += static_cast<std::size_t>(n);
    }
    ::close(in);
    ::close(out);
    return copied;
}

void BM_UringFileCopy(benchmark::State& state) {
    const auto& f = files();
    const auto block = static_cast<std::size_t>(state.range(0));
    const auto depth = static_cast<unsigned>(state.range(1));
    for (auto _ : state) {
        benchmark::DoNotOptimize(copy_pipelined(f.src(), f.dst(), block, depth, IoBackend::uring));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_size));
    state.SetLabel(f.label());
}
BENCHMARK(BM_UringFileCopy)
    ->ArgNames({"block", "depth"})
    ->ArgsProduct({{4 << 10, 64 << 10, 1 << 20}, {1, 4, 16}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The same engines and loop on their plain pread/pwrite path, which is what
// IoBackend::automatic chooses on tmpfs.
void BM_UringFileCopyPlainPath(benchmark::State& state) {
    const auto& f = files();
    const auto block = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        benchmark::DoNotOptimize(copy_pipelined(f.src(), f.dst(), block, 4, IoBackend::plain));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_size));
    state.SetLabel(f.label());
}
BENCHMARK(BM_UringFileCopyPlainPath)
    ->ArgName("block")
    ->Arg(4 << 10)
    ->Arg(64 << 10)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_UringFileCopyReference(benchmark::State& state) {
    const auto& f = files();
    const auto block = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        benchmark::DoNotOptimize(copy_plain_loop(f.src(), f.dst(), block));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_size));
    state.SetLabel(f.label());
}
BENCHMARK(BM_UringFileCopyReference)
    ->ArgName("block")
    ->Arg(512)
    ->Arg(4 << 10)
    ->Arg(64 << 10)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The reader alone, against a plain read(2) loop.
void BM_UringFileRead(benchmark::State& state) {
    const auto& f = files();
    const auto block = static_cast<std::size_t>(state.range(0));
    const auto depth = static_cast<unsigned>(state.range(1));
    std::vector<std::byte> memory(block * depth);
    for (auto _ : state) {
        auto reader = UringReader::open(f.src(), depth, IoBackend::uring);
        if (!reader) {
            std::abort();
        }
        for (unsigned i = 0; i < depth; ++i) {
            (void)reader->submit(std::span(memory).subspan(i * block, block), i);
        }
        while (reader->pending() > 0) {
            auto c = reader->wait();
            if (!c) {
                std::abort();
            }
            if (c->bytes != 0) {
                (void)reader->submit(std::span(memory).subspan(c->cookie * block, block), c->cookie);
            }
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_size));
    state.SetLabel(f.label());
}
BENCHMARK(BM_UringFileRead)
    ->ArgNames({"block", "depth"})
    ->ArgsProduct({{4 << 10, 64 << 10, 1 << 20}, {1, 4}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_UringFileReadReference(benchmark::State& state) {
    const auto& f = files();
    const auto block = static_cast<std::size_t>(state.range(0));
    std::vector<std::byte> buf(block);
    for (auto _ : state) {
        const int fd = ::open(f.src().c_str(), O_RDONLY | O_CLOEXEC);
        while (::read(fd, buf.data(), block) > 0) {
        }
        ::close(fd);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_size));
    state.SetLabel(f.label());
}
BENCHMARK(BM_UringFileReadReference)
    ->ArgName("block")
    ->Arg(4 << 10)
    ->Arg(64 << 10)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

} // namespace
