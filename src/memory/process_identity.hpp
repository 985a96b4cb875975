#pragma once

// Who a process is, in a form that survives pid reuse: the pid plus its start
// time (clock ticks since boot), the boot it ran in and its pid namespace.

#include <cstdint>
#include <optional>

namespace parallax::detail {

struct ProcessIdentity {
    std::uint32_t pid = 0;
    std::uint64_t start_time = 0;
    std::uint64_t boot_id = 0;
    std::uint64_t pid_namespace = 0;

    static ProcessIdentity self();
};

struct ProcessStat {
    char state = '?';
    std::uint64_t start_time = 0;
};

// Reads /proc/<pid>/stat; nullopt when the process does not exist.
std::optional<ProcessStat> read_process_stat(std::uint32_t pid);

// True unless the pid certainly names no process (kill(pid, 0) == ESRCH).
bool pid_alive(std::uint32_t pid);

// True when the process `who` has exited (a zombie counts as exited), or its
// pid now names a different process. A process in another pid namespace or
// another boot cannot be judged from here: it is reported alive unless it
// comes from another boot, which means it is long gone.
bool is_dead(const ProcessIdentity& who, const ProcessIdentity& self);

} // namespace parallax::detail
