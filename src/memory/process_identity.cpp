#include "memory/process_identity.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace parallax::detail {
namespace {

std::uint64_t fnv1a(const char* data, std::size_t size) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < size; ++i) {
        hash ^= static_cast<unsigned char>(data[i]);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

std::uint64_t read_boot_id() {
    char buf[64] = {};
    const int fd = ::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    return n > 0 ? fnv1a(buf, static_cast<std::size_t>(n)) : 0;
}

std::uint64_t read_pid_namespace() {
    struct stat st {};
    return ::stat("/proc/self/ns/pid", &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

} // namespace

std::optional<ProcessStat> read_process_stat(std::uint32_t pid) {
    char path[48];
    (void)std::snprintf(path, sizeof(path), "/proc/%u/stat", pid);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    char buf[1024];
    const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    if (n <= 0) {
        return std::nullopt;
    }
    buf[n] = '\0';
    // The command name (field 2) may hold spaces and parentheses: fields
    // resume after the last ')'.
    const char* p = std::strrchr(buf, ')');
    if (p == nullptr || p[1] != ' ') {
        return std::nullopt;
    }
    ProcessStat stat;
    stat.state = p[2];
    // Field 3 is the state; field 22 is the start time: 19 more fields.
    const char* field = p + 2;
    for (int i = 0; i < 19 && field != nullptr; ++i) {
        field = std::strchr(field, ' ');
        if (field != nullptr) {
            ++field;
        }
    }
    if (field == nullptr) {
        return std::nullopt;
    }
    stat.start_time = std::strtoull(field, nullptr, 10);
    return stat;
}

ProcessIdentity ProcessIdentity::self() {
    // Computed once per process (a sandboxed worker computes it before its
    // sandbox forbids reading /proc); a forked child must not reuse the
    // parent's.
    static std::mutex mutex;
    static ProcessIdentity cached;
    const auto pid = static_cast<std::uint32_t>(::getpid());
    std::lock_guard lock(mutex);
    if (cached.pid != pid) {
        ProcessIdentity id;
        id.pid = pid;
        if (auto stat = read_process_stat(pid)) {
            id.start_time = stat->start_time;
        }
        id.boot_id = read_boot_id();
        id.pid_namespace = read_pid_namespace();
        cached = id;
    }
    return cached;
}

bool pid_alive(std::uint32_t pid) {
    if (pid == 0) {
        return false;
    }
    if (::kill(static_cast<pid_t>(pid), 0) == 0) {
        auto stat = read_process_stat(pid);
        return !stat || (stat->state != 'Z' && stat->state != 'X');
    }
    return errno != ESRCH;
}

bool is_dead(const ProcessIdentity& who, const ProcessIdentity& self) {
    if (who.boot_id != 0 && self.boot_id != 0 && who.boot_id != self.boot_id) {
        return true;
    }
    if (who.pid_namespace != self.pid_namespace) {
        return false;
    }
    auto stat = read_process_stat(who.pid);
    if (!stat) {
        return !pid_alive(who.pid);
    }
    if (stat->state == 'Z' || stat->state == 'X') {
        return true;
    }
    return stat->start_time != who.start_time;
}

} // namespace parallax::detail
