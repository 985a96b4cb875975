#pragma once

/// \file
/// The sandbox of isolated elements: what a worker process applies to itself
/// after its set-up (arena mapped, channel connected) and before the element
/// sees any data, and the spawn helper that starts such a process in new
/// namespaces and a cgroup of its own. Internal to the core library; the
/// policies are described in docs/design/sandbox.md.

#include <parallax/base/result.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace parallax {

/// What an isolated element may do besides computing on what it was given.
struct SandboxPolicy {
    enum class Kind : std::uint8_t {
        compute_only,    ///< No files, no sockets, no exec: only the fds it already holds.
        with_network,    ///< compute_only plus creating and using sockets.
        with_filesystem, ///< compute_only plus opening files under allowed_paths (Landlock).
    };
    Kind kind = Kind::compute_only;
    /// with_filesystem only: absolute paths (directories or files) under which
    /// files may be opened, read and written. Each must exist when the sandbox
    /// is entered.
    std::vector<std::string> allowed_paths;
    /// RLIMIT_AS in bytes; nullopt leaves it as inherited. Zero is refused.
    std::optional<std::uint64_t> max_address_space;
    /// RLIMIT_CPU; nullopt leaves it as inherited. Zero is refused.
    std::optional<std::chrono::seconds> max_cpu;
    /// RLIMIT_NOFILE; nullopt leaves it as inherited. Zero is refused.
    std::optional<std::uint64_t> max_open_files;
    /// cgroup v2 limits, applied by spawn_sandboxed() when the hierarchy is
    /// writable and offers the controller: memory.max in bytes, pids.max, and
    /// cpu.max as a quota per period (both in microseconds).
    std::optional<std::uint64_t> cgroup_memory_max;
    std::optional<std::uint64_t> cgroup_pids_max;
    struct CpuMax {
        std::uint64_t quota_us = 0;
        std::uint64_t period_us = 100000;
    };
    std::optional<CpuMax> cgroup_cpu_max;
    /// A pre-opened fd (pipe or socket) to which every denied system call is
    /// reported as a SandboxViolation record; -1 for none. **Ownership:**
    /// stays with the caller, and must stay open while the sandbox lives.
    int report_fd = -1;
};

/// "compute-only", "with-network", "with-filesystem".
const char* to_string(SandboxPolicy::Kind kind) noexcept;
/// The reverse of to_string(); an Error naming the value otherwise.
Result<SandboxPolicy::Kind> parse_sandbox_kind(std::string_view text);

/// Checks a policy without applying it: an Error that names the field for a
/// relative or empty allowed path, paths under a policy other than
/// with_filesystem, a zero limit, or a cpu.max quota or period of zero.
Result<void> validate(const SandboxPolicy& policy);

/// What enter_sandbox() put in place, and what it could not.
struct SandboxReport {
    SandboxPolicy::Kind kind = SandboxPolicy::Kind::compute_only;
    bool no_new_privs = false;
    bool seccomp = false;
    /// True when with_filesystem path limits are enforced by Landlock.
    bool landlock = false;
    int landlock_abi = 0;
    std::vector<std::string> rlimits; ///< "RLIMIT_AS=1073741824", ...
    /// One sentence per missing protection ("path limits unavailable: ...").
    std::vector<std::string> unavailable;
};

/// Applies `policy` to the calling process: PR_SET_NO_NEW_PRIVS, the
/// rlimits, Landlock rules (with_filesystem) and a seccomp filter on every
/// thread. Irreversible. A denied call fails with EPERM and, when
/// report_fd is set, writes a SandboxViolation; exec, ptrace and the
/// like kill the process with SIGSYS after writing theirs. Errors name the
/// step that failed. What can fail for ordinary reasons (a missing allowed
/// path, building the filter) is done before anything irreversible; the
/// seccomp filter is loaded last. After an error the process may hold part
/// of the sandbox (no_new_privs, limits) and must not run the element: the
/// worker reports the error and exits. Called from: the worker, once, after
/// its set-up and before data flows.
Result<SandboxReport> enter_sandbox(const SandboxPolicy& policy);

/// One denied system call, written by the sandboxed process to report_fd
/// (from its SIGSYS handler, with one write()). Fixed layout: it crosses
/// a process boundary.
struct SandboxViolation {
    static constexpr std::uint32_t magic_value = 0x53425856; // "VXBS"
    static constexpr std::uint32_t current_version = 1;
    std::uint32_t magic = magic_value;
    std::uint32_t version = current_version;
    std::int32_t syscall = -1; ///< The system call number, in `arch`'s numbering.
    std::uint32_t arch = 0;    ///< AUDIT_ARCH_* of the call.
    std::uint32_t fatal = 0;   ///< 1 when the process is killed for it.
    std::uint32_t reserved = 0;
};
static_assert(sizeof(SandboxViolation) == 24);

/// The name of a system call number ("openat"), or "syscall <n>".
std::string syscall_name(int syscall, std::uint32_t arch = 0);
/// Reads every complete record available on `fd` (non-blocking reads until
/// EAGAIN or end of file); records with a bad magic or version are dropped.
std::vector<SandboxViolation> read_violations(int fd);

/// The namespaces a spawned child gets.
struct NamespaceReport {
    std::vector<std::string> entered;     ///< "user", "pid", "net", "mnt", "ipc".
    std::vector<std::string> unavailable; ///< "pid: Operation not permitted", ...
};

/// Probes once per process which of the user, pid, net, mount and ipc
/// namespaces the kernel lets this process create (in a forked child), and
/// logs what is unavailable once. Later calls return the same answer.
const NamespaceReport& probe_namespaces();

/// A child started by spawn_sandboxed(). **Ownership:** owns the child: the
/// destructor kills it (SIGKILL) and reaps it unless wait() did, and
/// removes its cgroup.
class SandboxedChild {
public:
    SandboxedChild(SandboxedChild&& other) noexcept;
    SandboxedChild& operator=(SandboxedChild&&) = delete;
    SandboxedChild(const SandboxedChild&) = delete;
    ~SandboxedChild();

    /// The process the parent waits for (outside the new pid namespace).
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] const NamespaceReport& namespaces() const noexcept { return namespaces_; }
    /// "cgroup limits unavailable: ..." or "cgroup /sys/fs/cgroup/...".
    [[nodiscard]] const std::string& cgroup() const noexcept { return cgroup_; }
    [[nodiscard]] bool cgroup_applied() const noexcept { return cgroup_applied_; }

    /// Waits for the child function's end; the status is as waitpid()'s
    /// (WIFEXITED, WTERMSIG...) of the process that ran it, also when it ran
    /// as a grandchild inside a new pid namespace.
    Result<int> wait();
    /// Sends SIGKILL: the whole child tree goes.
    void kill() noexcept;

private:
    friend Result<SandboxedChild> spawn_sandboxed(const SandboxPolicy&, const std::function<int()>&);
    SandboxedChild() = default;

    pid_t pid_ = -1;
    int status_fd_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    NamespaceReport namespaces_;
    std::string cgroup_;
    std::string cgroup_dir_;
    bool cgroup_applied_ = false;
};

/// Forks a child in new user, pid, net, mount and ipc namespaces (those
/// probe_namespaces() found available; uid and gid 0 inside map to the
/// caller's), inside a cgroup of its own when the policy sets cgroup limits
/// and the cgroup v2 hierarchy allows, and runs `child_main` there; its
/// return value is the child's exit code. The child does not enter the
/// seccomp sandbox by itself: child_main calls enter_sandbox() after its
/// set-up. When the pid namespace is new, child_main runs as pid 2 under a
/// minimal init (pid 1 ignores signals it sends itself, which would turn
/// abort() into something else). As after any fork of a multithreaded
/// program, child_main may only use async-signal-safe calls when the caller
/// has other threads (exec'ing plx-worker is the intended use).
Result<SandboxedChild> spawn_sandboxed(const SandboxPolicy& policy, const std::function<int()>& child_main);

} // namespace parallax
