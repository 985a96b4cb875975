#include "isolation/sandbox.hpp"

#include <parallax/base/log.hpp>

#include "isolation/seccomp_library.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <linux/audit.h>
#include <linux/landlock.h>
#include <memory>
#include <mutex>
#include <sched.h>
#include <signal.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <ucontext.h>
#include <unistd.h>
#include <utility>

namespace parallax {
namespace {

LogCategory isolation_log("isolation", "sandbox of isolated elements: seccomp, namespaces, rlimits, cgroups");

std::string errno_text(int err) {
    return std::strerror(err); // NOLINT(concurrency-mt-unsafe): glibc's is thread-safe for valid errnos
}

// ---------------------------------------------------------------------------
// SIGSYS: every denied call traps here. The handler may only use
// async-signal-safe calls: it writes one record and either makes the call
// fail with EPERM (by setting the return register) or, for the calls that
// end the process, restores the default action and re-raises SIGSYS.

std::atomic<int> report_fd{-1};
// Indexed by system call number: 1 when the call is fatal.
constexpr std::size_t max_syscall = 1024;
std::array<std::atomic<std::uint8_t>, max_syscall> fatal_calls{};

#if defined(__x86_64__) || defined(__aarch64__)
constexpr bool can_set_return_value = true;
#else
constexpr bool can_set_return_value = false;
#endif

void on_sigsys(int /*sig*/, siginfo_t* info, void* context) {
    const int saved_errno = errno;
    SandboxViolation v;
    v.syscall = info->si_syscall;
    v.arch = info->si_arch;
    const bool fatal = v.syscall >= 0 && static_cast<std::size_t>(v.syscall) < max_syscall &&
                       fatal_calls[static_cast<std::size_t>(v.syscall)].load(std::memory_order_relaxed) != 0;
    v.fatal = fatal ? 1 : 0;
    if (const int fd = report_fd.load(std::memory_order_relaxed); fd >= 0) {
        [[maybe_unused]] const auto n = ::write(fd, &v, sizeof v);
    }
    if (fatal) {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(SIGSYS, &dfl, nullptr);
        sigset_t set;
        ::sigemptyset(&set);
        ::sigaddset(&set, SIGSYS);
        ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
        ::syscall(SYS_tgkill, ::getpid(), ::gettid(), SIGSYS);
        ::_exit(128 + SIGSYS); // not reached
    }
    auto* uc = static_cast<ucontext_t*>(context);
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
    uc->uc_mcontext.regs[0] = static_cast<std::uint64_t>(-EPERM);
#else
    (void)uc;
#endif
    errno = saved_errno;
}

// ---------------------------------------------------------------------------
// The seccomp filter: default allow, with the calls below refused (EPERM and
// a record) or fatal (a record, then SIGSYS). A default-allow filter is
// chosen because the code it confines is arbitrary native code (glibc,
// libstdc++, codec libraries, sanitizer runtimes) whose exact set of
// system calls cannot be known in advance; the deny list names every call
// that reaches outside the process: files, sockets, exec, other processes,
// namespaces, the kernel's administration calls, and io_uring (which would
// open files and sockets without going through the filtered calls).

// Calls that end the process: there is no legitimate reason for an element
// to run a program, inspect another process or change the kernel.
constexpr const char* fatal_names[] = {
    "execve",
    "execveat",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "bpf",
};

// Refused under every policy.
constexpr const char* always_refused[] = {
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "swapon",
    "swapoff",
    "setns",
    "unshare",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "userfaultfd",
    "pidfd_getfd",
    "kcmp",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_by_handle_at",
    "name_to_handle_at",
    "fanotify_init",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "iopl",
    "ioperm",
    "quotactl",
    "lookup_dcookie",
    "setrlimit",
    "fsopen",
    "fsmount",
    "fsconfig",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "syslog",
    "vhangup",
    "personality",
};

// Refused unless the policy opens files (with_filesystem under Landlock).
constexpr const char* file_calls[] = {
    "open",
    "openat",
    "openat2",
    "creat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "mknod",
    "mknodat",
    "chmod",
    "fchmodat",
    "chown",
    "lchown",
    "fchownat",
    "truncate",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "inotify_add_watch",
    "fanotify_mark",
    "setxattr",
    "lsetxattr",
    "removexattr",
    "lremovexattr",
};

// Calls newer than the libseccomp this is built with may be unknown to it
// by name; they are added by number (the numbering shared by every
// architecture since Linux 5.1).
struct NumberedCall {
    const char* name;
    int nr;
};
constexpr NumberedCall newer_file_calls[] = {
    {"fchmodat2", 452}, {"setxattrat", 463}, {"removexattrat", 466}, {"open_tree_attr", 467}};

// Refused unless the policy is with_network.
constexpr const char* network_calls[] = {"socket", "connect", "bind", "listen", "accept", "accept4"};

// The namespace flags a clone() may not carry once sandboxed.
constexpr std::uint64_t clone_ns_flags[] = {CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,   CLONE_NEWNS,
                                            CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP};

struct SeccompDeleter {
    const SeccompLibrary* lib = nullptr;
    void operator()(scmp_filter_ctx ctx) const noexcept { lib->seccomp_release(ctx); }
};
using SeccompPtr = std::unique_ptr<void, SeccompDeleter>;

Result<void> add_rule(const SeccompLibrary& lib, scmp_filter_ctx ctx, std::uint32_t action, const char* name,
                      unsigned count = 0, const scmp_arg_cmp* args = nullptr) {
    const int nr = lib.seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
        return {}; // not a call of this architecture (open on arm64)
    }
    const int rc = lib.seccomp_rule_add_array(ctx, action, nr, count, args);
    if (rc < 0) {
        return fail_errno(-rc, fmt::format("sandbox: seccomp rule for {}", name));
    }
    return {};
}

Result<SeccompPtr> build_filter(const SeccompLibrary& lib, SandboxPolicy::Kind kind, bool files_allowed) {
    SeccompPtr ctx(lib.seccomp_init(SCMP_ACT_ALLOW), SeccompDeleter{&lib});
    if (!ctx) {
        return fail(Errc::system, "sandbox: seccomp_init failed");
    }
    // Every thread of the process, atomically.
    if (const int rc = lib.seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc < 0) {
        return fail_errno(-rc, "sandbox: seccomp thread synchronisation");
    }
    // System calls of another ABI (i386 or x32 on x86-64) would bypass the
    // names below: they end the process.
    if (const int rc = lib.seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0) {
        return fail_errno(-rc, "sandbox: seccomp action for foreign architectures");
    }
    const std::uint32_t refuse = can_set_return_value ? SCMP_ACT_TRAP : SCMP_ACT_ERRNO(EPERM);
    for (const char* name : fatal_names) {
        const int nr = lib.seccomp_syscall_resolve_name(name);
        if (nr >= 0 && static_cast<std::size_t>(nr) < max_syscall) {
            fatal_calls[static_cast<std::size_t>(nr)].store(1, std::memory_order_relaxed);
        }
        if (auto ok = add_rule(lib, ctx.get(), SCMP_ACT_TRAP, name); !ok) {
            return fail(ok.error());
        }
    }
    for (const char* name : always_refused) {
        if (auto ok = add_rule(lib, ctx.get(), refuse, name); !ok) {
            return fail(ok.error());
        }
    }
    if (!files_allowed) {
        for (const char* name : file_calls) {
            if (auto ok = add_rule(lib, ctx.get(), refuse, name); !ok) {
                return fail(ok.error());
            }
        }
#if defined(__x86_64__) || defined(__aarch64__)
        for (const NumberedCall& call : newer_file_calls) {
            if (lib.seccomp_syscall_resolve_name(call.name) != __NR_SCMP_ERROR) {
                if (auto ok = add_rule(lib, ctx.get(), refuse, call.name); !ok) {
                    return fail(ok.error());
                }
            } else if (const int rc = lib.seccomp_rule_add_array(ctx.get(), refuse, call.nr, 0, nullptr); rc < 0) {
                return fail_errno(-rc, fmt::format("sandbox: seccomp rule for {}", call.name));
            }
        }
#endif
    }
    if (kind != SandboxPolicy::Kind::with_network) {
        for (const char* name : network_calls) {
            if (auto ok = add_rule(lib, ctx.get(), refuse, name); !ok) {
                return fail(ok.error());
            }
        }
    }
    // Raising a limit: prlimit64 with a new value (reading one, as
    // getrlimit() does, stays allowed).
    {
        const scmp_arg_cmp new_limit = SCMP_A2(SCMP_CMP_NE, 0);
        if (auto ok = add_rule(lib, ctx.get(), refuse, "prlimit64", 1, &new_limit); !ok) {
            return fail(ok.error());
        }
    }
    for (const std::uint64_t flag : clone_ns_flags) {
        const scmp_arg_cmp has_flag = SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag);
        if (auto ok = add_rule(lib, ctx.get(), refuse, "clone", 1, &has_flag); !ok) {
            return fail(ok.error());
        }
    }
    // clone3 passes its flags in memory, where a filter cannot read them:
    // ENOSYS makes glibc fall back to clone(), whose flags are checked above.
    if (auto ok = add_rule(lib, ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "clone3"); !ok) {
        return fail(ok.error());
    }
    return ctx;
}

// ---------------------------------------------------------------------------
// Landlock (with_filesystem): the kernel checks paths, which a seccomp
// filter cannot do reliably (the string lives in memory another thread may
// change after the check).

long landlock_create_ruleset(const void* attr, std::size_t size, std::uint32_t flags) {
    return ::syscall(444, attr, size, flags);
}
long landlock_add_rule(int ruleset, int type, const void* attr, std::uint32_t flags) {
    return ::syscall(445, ruleset, type, attr, flags);
}
long landlock_restrict_self(int ruleset, std::uint32_t flags) {
    return ::syscall(446, ruleset, flags);
}

constexpr std::uint64_t ll_execute = 1ULL << 0;
constexpr std::uint64_t ll_write_file = 1ULL << 1;
constexpr std::uint64_t ll_read_file = 1ULL << 2;
constexpr std::uint64_t ll_truncate = 1ULL << 14;
constexpr std::uint64_t ll_ioctl_dev = 1ULL << 15;

int landlock_abi() {
    const long v = landlock_create_ruleset(nullptr, 0, 1U /* LANDLOCK_CREATE_RULESET_VERSION */);
    return v < 0 ? 0 : static_cast<int>(v);
}

std::uint64_t landlock_fs_rights(int abi) {
    std::uint64_t rights = (1ULL << 13) - 1; // ABI 1: execute .. make_sym
    if (abi >= 2) {
        rights |= 1ULL << 13; // refer
    }
    if (abi >= 3) {
        rights |= ll_truncate;
    }
    if (abi >= 5) {
        rights |= ll_ioctl_dev;
    }
    return rights;
}

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
    Fd& operator=(Fd&&) = delete;
    Fd(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

struct PathRule {
    Fd fd;
    bool directory = false;
};

Result<std::vector<PathRule>> open_allowed_paths(const SandboxPolicy& policy) {
    std::vector<PathRule> rules;
    for (std::size_t i = 0; i < policy.allowed_paths.size(); ++i) {
        const std::string& path = policy.allowed_paths[i];
        Fd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
        if (fd.fd < 0) {
            return fail_errno(errno, fmt::format("sandbox: allowed_paths[{}] '{}'", i, path));
        }
        struct stat st {};
        if (::fstat(fd.fd, &st) != 0) {
            return fail_errno(errno, fmt::format("sandbox: allowed_paths[{}] '{}'", i, path));
        }
        rules.push_back(PathRule{std::move(fd), S_ISDIR(st.st_mode)});
    }
    return rules;
}

Result<void> apply_landlock(int abi, const std::vector<PathRule>& rules) {
    struct {
        std::uint64_t handled_access_fs;
    } attr{landlock_fs_rights(abi)};
    Fd ruleset(static_cast<int>(landlock_create_ruleset(&attr, sizeof attr, 0)));
    if (ruleset.fd < 0) {
        return fail_errno(errno, "sandbox: landlock_create_ruleset");
    }
    for (const PathRule& rule : rules) {
        landlock_path_beneath_attr beneath{};
        beneath.allowed_access =
            rule.directory
                ? attr.handled_access_fs
                : attr.handled_access_fs & (ll_execute | ll_write_file | ll_read_file | ll_truncate | ll_ioctl_dev);
        beneath.parent_fd = rule.fd.fd;
        if (landlock_add_rule(ruleset.fd, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0) {
            return fail_errno(errno, "sandbox: landlock_add_rule");
        }
    }
    if (landlock_restrict_self(ruleset.fd, 0) != 0) {
        return fail_errno(errno, "sandbox: landlock_restrict_self");
    }
    return {};
}

Result<void> set_limit(int resource, const char* name, rlim_t soft, rlim_t hard, SandboxReport& report) {
    const rlimit lim{soft, hard};
    if (::setrlimit(resource, &lim) != 0) {
        return fail_errno(errno, fmt::format("sandbox: setrlimit({})", name));
    }
    report.rlimits.push_back(fmt::format("{}={}", name, soft));
    return {};
}

} // namespace

const char* to_string(SandboxPolicy::Kind kind) noexcept {
    switch (kind) {
    case SandboxPolicy::Kind::compute_only:
        return "compute-only";
    case SandboxPolicy::Kind::with_network:
        return "with-network";
    case SandboxPolicy::Kind::with_filesystem:
        return "with-filesystem";
    }
    return "?";
}

Result<SandboxPolicy::Kind> parse_sandbox_kind(std::string_view text) {
    for (auto k :
         {SandboxPolicy::Kind::compute_only, SandboxPolicy::Kind::with_network, SandboxPolicy::Kind::with_filesystem}) {
        if (text == to_string(k)) {
            return k;
        }
    }
    return fail(Errc::invalid_argument,
                fmt::format("sandbox policy '{}' is not one of compute-only, with-network, with-filesystem", text));
}

Result<void> validate(const SandboxPolicy& policy) {
    if (policy.kind != SandboxPolicy::Kind::with_filesystem && !policy.allowed_paths.empty()) {
        return fail(Errc::invalid_argument,
                    fmt::format("sandbox policy: allowed_paths is only meaningful with with-filesystem, not {}",
                                to_string(policy.kind)));
    }
    for (std::size_t i = 0; i < policy.allowed_paths.size(); ++i) {
        const std::string& p = policy.allowed_paths[i];
        if (p.empty() || p.front() != '/') {
            return fail(Errc::invalid_argument,
                        fmt::format("sandbox policy: allowed_paths[{}] '{}' is not an absolute path", i, p));
        }
    }
    const std::pair<bool, const char*> zero_limits[] = {
        {policy.max_address_space == std::uint64_t{0}, "max_address_space"},
        {policy.max_cpu && policy.max_cpu->count() == 0, "max_cpu"},
        {policy.max_open_files == std::uint64_t{0}, "max_open_files"},
        {policy.cgroup_memory_max == std::uint64_t{0}, "cgroup_memory_max"},
        {policy.cgroup_pids_max == std::uint64_t{0}, "cgroup_pids_max"},
    };
    for (const auto& [zero, field] : zero_limits) {
        if (zero) {
            return fail(Errc::invalid_argument,
                        fmt::format("sandbox policy: {} must not be zero (leave it unset for no limit)", field));
        }
    }
    if (policy.cgroup_cpu_max && (policy.cgroup_cpu_max->quota_us == 0 || policy.cgroup_cpu_max->period_us == 0)) {
        return fail(Errc::invalid_argument, "sandbox policy: cgroup_cpu_max quota_us and period_us must not be zero");
    }
    return {};
}

Result<SandboxReport> enter_sandbox(const SandboxPolicy& policy) {
    if (auto ok = validate(policy); !ok) {
        return fail(ok.error());
    }
    SandboxReport report;
    report.kind = policy.kind;

    // Everything that can fail for ordinary reasons happens before anything
    // irreversible: libseccomp, path fds, the Landlock probe, the filter.
    auto seccomp = seccomp_library();
    if (!seccomp) {
        return fail(Errc::unsupported, fmt::format("sandbox: {}", seccomp.error().message()));
    }
    bool files_allowed = false;
    std::vector<PathRule> rules;
    if (policy.kind == SandboxPolicy::Kind::with_filesystem) {
        auto opened = open_allowed_paths(policy);
        if (!opened) {
            return fail(opened.error());
        }
        rules = std::move(*opened);
        report.landlock_abi = landlock_abi();
        if (report.landlock_abi > 0) {
            files_allowed = true;
        } else {
            report.unavailable.push_back(
                fmt::format("path limits unavailable: the kernel has no Landlock ({}); opening files stays denied",
                            errno_text(errno)));
        }
    }
    auto filter = build_filter(**seccomp, policy.kind, files_allowed);
    if (!filter) {
        return fail(filter.error());
    }

    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return fail_errno(errno, "sandbox: PR_SET_NO_NEW_PRIVS");
    }
    report.no_new_privs = true;
    if (policy.max_address_space) {
        const auto v = static_cast<rlim_t>(*policy.max_address_space);
        if (auto ok = set_limit(RLIMIT_AS, "RLIMIT_AS", v, v, report); !ok) {
            return fail(ok.error());
        }
    }
    if (policy.max_cpu) {
        // SIGXCPU at the soft limit, SIGKILL a second later.
        const auto v = static_cast<rlim_t>(policy.max_cpu->count());
        if (auto ok = set_limit(RLIMIT_CPU, "RLIMIT_CPU", v, v + 1, report); !ok) {
            return fail(ok.error());
        }
    }
    if (policy.max_open_files) {
        const auto v = static_cast<rlim_t>(*policy.max_open_files);
        if (auto ok = set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", v, v, report); !ok) {
            return fail(ok.error());
        }
    }
    if (files_allowed) {
        if (auto ok = apply_landlock(report.landlock_abi, rules); !ok) {
            return fail(ok.error());
        }
        report.landlock = true;
    }

    report_fd.store(policy.report_fd, std::memory_order_relaxed);
    struct sigaction sa {};
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    ::sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGSYS, &sa, nullptr) != 0) {
        return fail_errno(errno, "sandbox: installing the SIGSYS handler");
    }
    if (const int rc = (*seccomp)->seccomp_load(filter->get()); rc < 0) {
        return fail_errno(-rc, "sandbox: loading the seccomp filter");
    }
    report.seccomp = true;
    if (!can_set_return_value) {
        report.unavailable.push_back("denied calls are not reported on this architecture (plain EPERM)");
    }
    return report;
}

std::string syscall_name(int syscall, std::uint32_t arch) {
    const std::uint32_t a = arch == 0 ? SCMP_ARCH_NATIVE : arch;
    auto lib = seccomp_library();
    if (!lib) {
        return fmt::format("syscall {}", syscall);
    }
    if (char* name = (*lib)->seccomp_syscall_resolve_num_arch(a, syscall); name != nullptr) {
        std::string s(name);
        std::free(name); // NOLINT(cppcoreguidelines-no-malloc): libseccomp's allocation
        return s;
    }
    return fmt::format("syscall {}", syscall);
}

PARALLAX_DEFINE_RUNTIME_LIBRARY(seccomp_library, SeccompLibrary, "libseccomp", PARALLAX_LIBSECCOMP_SONAME,
                                PARALLAX_SECCOMP_ENTRIES)

std::vector<SandboxViolation> read_violations(int fd) {
    std::vector<SandboxViolation> out;
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) {
        ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }
    for (;;) {
        SandboxViolation v;
        const auto n = ::read(fd, &v, sizeof v);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n != static_cast<ssize_t>(sizeof v)) {
            break; // EAGAIN, end of file, or a torn record (one write() each: not expected)
        }
        if (v.magic == SandboxViolation::magic_value && v.version == SandboxViolation::current_version) {
            out.push_back(v);
        }
    }
    if (flags >= 0) {
        ::fcntl(fd, F_SETFL, flags);
    }
    return out;
}

// ---------------------------------------------------------------------------
// Namespaces

namespace {

struct NamespaceKind {
    const char* name;
    int flag;
};
constexpr NamespaceKind namespace_kinds[] = {
    {"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET}, {"mnt", CLONE_NEWNS}, {"ipc", CLONE_NEWIPC},
};

// 0 when a forked child could unshare(flags), else its errno.
int try_unshare(int flags) {
    const pid_t pid = ::fork();
    if (pid < 0) {
        return errno;
    }
    if (pid == 0) {
        ::_exit(::unshare(flags) == 0 ? 0 : (errno & 0xff));
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : EINVAL;
}

bool write_file(const std::string& path, std::string_view text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// ---------------------------------------------------------------------------
// cgroup v2: a child cgroup under this process's own, when the hierarchy is
// mounted writable and offers the controllers the limits need.

struct CgroupPlan {
    std::string dir;    // created, limits written
    std::string reason; // why not, when dir is empty
};

std::string find_cgroup2_dir() {
    // This process's cgroup in the v2 hierarchy ("0::/path").
    std::string own;
    {
        std::istringstream in(read_file("/proc/self/cgroup"));
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("0::", 0) == 0) {
                own = line.substr(3);
            }
        }
    }
    std::istringstream in(read_file("/proc/self/mountinfo"));
    for (std::string line; std::getline(in, line);) {
        const auto dash = line.find(" - ");
        if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) {
            continue;
        }
        std::istringstream fields(line.substr(0, dash));
        std::string id, parent, devno, root, mount_point;
        fields >> id >> parent >> devno >> root >> mount_point;
        std::string rel = own;
        if (root != "/" && rel.rfind(root, 0) == 0) {
            rel = rel.substr(root.size());
        }
        if (rel == "/") {
            rel.clear();
        }
        return mount_point + rel;
    }
    return {};
}

CgroupPlan plan_cgroup(const SandboxPolicy& policy) {
    CgroupPlan plan;
    std::vector<std::pair<std::string, std::string>> limits; // file, value
    std::vector<std::string> controllers;
    if (policy.cgroup_memory_max) {
        limits.emplace_back("memory.max", std::to_string(*policy.cgroup_memory_max));
        controllers.emplace_back("memory");
    }
    if (policy.cgroup_pids_max) {
        limits.emplace_back("pids.max", std::to_string(*policy.cgroup_pids_max));
        controllers.emplace_back("pids");
    }
    if (policy.cgroup_cpu_max) {
        limits.emplace_back("cpu.max",
                            fmt::format("{} {}", policy.cgroup_cpu_max->quota_us, policy.cgroup_cpu_max->period_us));
        controllers.emplace_back("cpu");
    }
    const std::string base = find_cgroup2_dir();
    if (base.empty()) {
        plan.reason = "no cgroup v2 hierarchy is mounted";
        return plan;
    }
    if (::access((base + "/cgroup.subtree_control").c_str(), W_OK) != 0) {
        plan.reason = fmt::format("{} is not writable ({})", base, errno_text(errno));
        return plan;
    }
    const std::string offered = " " + read_file(base + "/cgroup.controllers") + " ";
    for (const std::string& c : controllers) {
        if (offered.find(" " + c + " ") == std::string::npos && offered.find(" " + c + "\n") == std::string::npos) {
            plan.reason = fmt::format("the cgroup v2 hierarchy at {} does not offer the {} controller", base, c);
            return plan;
        }
    }
    const std::string enabled = " " + read_file(base + "/cgroup.subtree_control") + " ";
    for (const std::string& c : controllers) {
        if (enabled.find(" " + c) == std::string::npos && !write_file(base + "/cgroup.subtree_control", "+" + c)) {
            plan.reason =
                fmt::format("cannot enable the {} controller for children of {} ({})", c, base, errno_text(errno));
            return plan;
        }
    }
    static std::atomic<unsigned> counter{0};
    const std::string dir = fmt::format("{}/parallax-{}-{}", base, ::getpid(), counter.fetch_add(1));
    if (::mkdir(dir.c_str(), 0755) != 0) {
        plan.reason = fmt::format("cannot create {} ({})", dir, errno_text(errno));
        return plan;
    }
    for (const auto& [file, value] : limits) {
        if (!write_file(dir + "/" + file, value)) {
            plan.reason = fmt::format("cannot write {} to {}/{} ({})", value, dir, file, errno_text(errno));
            ::rmdir(dir.c_str());
            return plan;
        }
    }
    plan.dir = dir;
    return plan;
}

void remove_cgroup(const std::string& dir) {
    // The child's processes may still be leaving the cgroup for a moment
    // after they were reaped.
    for (int i = 0; i < 100; ++i) {
        if (::rmdir(dir.c_str()) == 0 || errno != EBUSY) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

bool write_all(int fd, const void* data, std::size_t size) {
    return ::write(fd, data, size) == static_cast<ssize_t>(size);
}

int wait_status(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return status;
}

// The init of a new pid namespace: runs child_main as pid 2, reaps
// whatever is left, hands pid 2's status to the parent, exits.
[[noreturn]] void run_init(int status_fd, const std::function<int()>& child_main) {
    const pid_t worker = ::fork();
    if (worker < 0) {
        ::_exit(127);
    }
    if (worker == 0) {
        ::close(status_fd);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::_exit(child_main());
    }
    int status = 0;
    for (;;) {
        int s = 0;
        const pid_t p = ::wait(&s);
        if (p == worker) {
            status = s;
            break;
        }
        if (p < 0 && errno != EINTR) {
            break;
        }
    }
    write_all(status_fd, &status, sizeof status);
    ::_exit(0);
}

} // namespace

const NamespaceReport& probe_namespaces() {
    static const NamespaceReport report = [] {
        NamespaceReport r;
        const int user_err = try_unshare(CLONE_NEWUSER);
        for (const NamespaceKind& k : namespace_kinds) {
            // Without privileges the others need a new user namespace too.
            const int flags = (k.flag == CLONE_NEWUSER || user_err != 0) ? k.flag : (k.flag | CLONE_NEWUSER);
            const int err = k.flag == CLONE_NEWUSER ? user_err : try_unshare(flags);
            if (err == 0) {
                r.entered.emplace_back(k.name);
            } else {
                r.unavailable.push_back(fmt::format("{}: {}", k.name, errno_text(err)));
            }
        }
        for (const std::string& u : r.unavailable) {
            PARALLAX_WARNING(isolation_log, "namespace unavailable to sandboxed children: {}", u);
        }
        return r;
    }();
    return report;
}

SandboxedChild::SandboxedChild(SandboxedChild&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_fd_(std::exchange(other.status_fd_, -1)), reaped_(other.reaped_),
      status_(other.status_), namespaces_(std::move(other.namespaces_)), cgroup_(std::move(other.cgroup_)),
      cgroup_dir_(std::move(other.cgroup_dir_)), cgroup_applied_(other.cgroup_applied_) {
    other.cgroup_dir_.clear();
}

SandboxedChild::~SandboxedChild() {
    if (pid_ > 0 && !reaped_) {
        kill();
        wait_status(pid_);
    }
    if (status_fd_ >= 0) {
        ::close(status_fd_);
    }
    if (!cgroup_dir_.empty()) {
        remove_cgroup(cgroup_dir_);
    }
}

void SandboxedChild::kill() noexcept {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
    }
}

Result<int> SandboxedChild::wait() {
    if (reaped_) {
        return status_;
    }
    const int status = wait_status(pid_);
    if (status < 0) {
        return fail_errno(errno, "sandbox: waiting for the child");
    }
    reaped_ = true;
    status_ = status;
    if (status_fd_ >= 0) {
        // The init of a new pid namespace wrote the status of the process
        // that ran child_main; nothing if it was killed first.
        int inner = 0;
        if (::read(status_fd_, &inner, sizeof inner) == static_cast<ssize_t>(sizeof inner)) {
            status_ = inner;
        }
        ::close(status_fd_);
        status_fd_ = -1;
    }
    if (!cgroup_dir_.empty()) {
        remove_cgroup(cgroup_dir_);
        cgroup_dir_.clear();
    }
    return status_;
}

Result<SandboxedChild> spawn_sandboxed(const SandboxPolicy& policy, const std::function<int()>& child_main) {
    if (auto ok = validate(policy); !ok) {
        return fail(ok.error());
    }
    SandboxedChild child;
    const NamespaceReport& available = probe_namespaces();
    int flags = 0;
    for (const NamespaceKind& k : namespace_kinds) {
        const bool have =
            std::find(available.entered.begin(), available.entered.end(), k.name) != available.entered.end();
        if (k.flag == CLONE_NEWNET && policy.kind == SandboxPolicy::Kind::with_network) {
            // A new network namespace holds only a loopback device that is down.
            child.namespaces_.unavailable.emplace_back("net: not created under the with-network policy");
            continue;
        }
        if (have) {
            flags |= k.flag;
            child.namespaces_.entered.emplace_back(k.name);
        }
    }
    for (const std::string& u : available.unavailable) {
        child.namespaces_.unavailable.push_back(u);
    }

    const bool wants_cgroup = policy.cgroup_memory_max || policy.cgroup_pids_max || policy.cgroup_cpu_max;
    if (wants_cgroup) {
        CgroupPlan plan = plan_cgroup(policy);
        if (plan.dir.empty()) {
            child.cgroup_ = "cgroup limits unavailable: " + plan.reason;
            static std::once_flag once;
            std::call_once(once, [&] { PARALLAX_WARNING(isolation_log, "{}", child.cgroup_); });
        } else {
            child.cgroup_dir_ = plan.dir;
            child.cgroup_ = "cgroup " + plan.dir;
        }
    }

    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0) {
        return fail_errno(errno, "sandbox: pipe");
    }
    int status_pipe[2] = {-1, -1};
    const bool new_pid = (flags & CLONE_NEWPID) != 0;
    if (new_pid && ::pipe2(status_pipe, O_CLOEXEC) != 0) {
        const int err = errno;
        ::close(go[0]);
        ::close(go[1]);
        return fail_errno(err, "sandbox: pipe");
    }
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    const pid_t parent = ::getpid();
    // Formatted before the fork: the child should not allocate.
    const std::string uid_map = fmt::format("0 {} 1", uid);
    const std::string gid_map = fmt::format("0 {} 1", gid);

    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        for (int fd : {go[0], go[1], status_pipe[0], status_pipe[1]}) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
        return fail_errno(err, "sandbox: fork");
    }
    if (pid == 0) {
        ::close(go[1]);
        if (status_pipe[0] >= 0) {
            ::close(status_pipe[0]);
        }
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(127);
        }
        char byte = 0;
        while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
        }
        ::close(go[0]);
        if (flags != 0 && ::unshare(flags) != 0) {
            ::_exit(126);
        }
        if ((flags & CLONE_NEWUSER) != 0) {
            write_file("/proc/self/setgroups", "deny");
            write_file("/proc/self/uid_map", uid_map);
            write_file("/proc/self/gid_map", gid_map);
        }
        if (!new_pid) {
            ::_exit(child_main());
        }
        const pid_t init = ::fork();
        if (init < 0) {
            ::_exit(127);
        }
        if (init == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            run_init(status_pipe[1], child_main);
        }
        ::close(status_pipe[1]);
        const int s = wait_status(init);
        ::_exit(WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s));
    }

    ::close(go[0]);
    if (status_pipe[1] >= 0) {
        ::close(status_pipe[1]);
    }
    child.pid_ = pid;
    child.status_fd_ = status_pipe[0];
    if (!child.cgroup_dir_.empty()) {
        child.cgroup_applied_ = write_file(child.cgroup_dir_ + "/cgroup.procs", std::to_string(pid));
        if (!child.cgroup_applied_) {
            child.cgroup_ = fmt::format("cgroup limits unavailable: cannot move the child into {} ({})",
                                        child.cgroup_dir_, errno_text(errno));
        }
    }
    const char go_byte = 1;
    write_all(go[1], &go_byte, 1);
    ::close(go[1]);
    return child;
}

} // namespace parallax
