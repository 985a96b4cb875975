// The sandbox is tested in forked children: entering it is irreversible.
// A child reports through its exit code (0 = every check passed, otherwise
// the number of the check that failed) and through the violation records
// it writes to a pipe.

#include "isolation/sandbox.hpp"
#include "support/sanitizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parallax {
namespace {

struct ChildResult {
    int status = 0;
    std::vector<SandboxViolation> violations;

    [[nodiscard]] bool exited_with(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
    [[nodiscard]] std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& v : violations) {
            out.push_back(syscall_name(v.syscall, v.arch));
        }
        return out;
    }
    [[nodiscard]] bool reported(const std::string& name) const {
        auto n = names();
        return std::find(n.begin(), n.end(), name) != n.end();
    }
    [[nodiscard]] std::string describe() const {
        std::string s = WIFEXITED(status)     ? "exit " + std::to_string(WEXITSTATUS(status))
                        : WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                              : "status " + std::to_string(status);
        for (const auto& n : names()) {
            s += ", denied " + n;
        }
        return s;
    }
};

// Exit code of a child whose enter_sandbox() failed.
constexpr int enter_failed = 100;

// Forks; the child enters the sandbox with `policy` (reporting to a pipe)
// and exits with body()'s value.
ChildResult run_sandboxed(SandboxPolicy policy, const std::function<int(const SandboxReport&)>& body) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        policy.report_fd = fds[1];
        auto report = enter_sandbox(policy);
        if (!report) {
            const std::string text = report.error().to_string() + "\n";
            [[maybe_unused]] auto n = ::write(STDERR_FILENO, text.data(), text.size());
            ::_exit(enter_failed);
        }
        ::_exit(body(*report));
    }
    ::close(fds[1]);
    ChildResult r;
    ::waitpid(pid, &r.status, 0);
    r.violations = read_violations(fds[0]);
    ::close(fds[0]);
    return r;
}

SandboxPolicy compute_only() {
    return SandboxPolicy{};
}

TEST(SandboxTest, OpeningAFileIsRefusedAndReportedByName) {
    auto r = run_sandboxed(compute_only(), [](const SandboxReport& report) {
        if (!report.seccomp || !report.no_new_privs) {
            return 1;
        }
        errno = 0;
        const int fd = ::open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 || errno != EPERM) {
            return 2;
        }
        std::ifstream in("/etc/passwd");
        if (in.is_open()) {
            return 3;
        }
        return 0;
    });
    EXPECT_TRUE(r.exited_with(0)) << r.describe();
    EXPECT_TRUE(r.reported("openat")) << r.describe();
    for (const auto& v : r.violations) {
        EXPECT_EQ(v.fatal, 0U);
    }
}

TEST(SandboxTest, SocketsAreRefusedUnderComputeOnly) {
    auto r = run_sandboxed(compute_only(), [](const SandboxReport&) {
        errno = 0;
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return fd < 0 && errno == EPERM ? 0 : 1;
    });
    EXPECT_TRUE(r.exited_with(0)) << r.describe();
    EXPECT_TRUE(r.reported("socket")) << r.describe();
}

TEST(SandboxTest, ExecKillsTheProcessAndNamesTheCall) {
    auto r = run_sandboxed(compute_only(), [](const SandboxReport&) {
        char arg0[] = "/bin/true";
        char* argv[] = {arg0, nullptr};
        ::execv("/bin/true", argv);
        return 1; // not reached: the sandbox kills the process
    });
    ASSERT_TRUE(WIFSIGNALED(r.status)) << r.describe();
    EXPECT_EQ(WTERMSIG(r.status), SIGSYS);
    ASSERT_EQ(r.violations.size(), 1U) << r.describe();
    EXPECT_EQ(syscall_name(r.violations[0].syscall, r.violations[0].arch), "execve");
    EXPECT_EQ(r.violations[0].fatal, 1U);
}

TEST(SandboxTest, NamespacesMountsAndRaisedLimitsAreRefused) {
    auto r = run_sandboxed(compute_only(), [](const SandboxReport&) {
        if (::unshare(CLONE_NEWNS) == 0 || errno != EPERM) {
            return 1;
        }
        if (::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr) >= 0 || errno != EPERM) {
            return 2;
        }
        rlimit lim{};
        if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) { // reading stays allowed
            return 3;
        }
        if (::setrlimit(RLIMIT_NOFILE, &lim) == 0 || errno != EPERM) {
            return 4;
        }
        return 0;
    });
    EXPECT_TRUE(r.exited_with(0)) << r.describe();
    EXPECT_TRUE(r.reported("unshare")) << r.describe();
    EXPECT_TRUE(r.reported("clone")) << r.describe();
    EXPECT_TRUE(r.reported("prlimit64")) << r.describe();
}

TEST(SandboxTest, FileCallsNewerThanLibseccompAreRefusedToo) {
    auto r = run_sandboxed(compute_only(), [](const SandboxReport&) {
        // fchmodat2 (Linux 6.6): refused by number; ENOSYS on older kernels.
        errno = 0;
        if (::syscall(452, AT_FDCWD, "/tmp", 0777, 0) == 0 || errno != EPERM) {
            return 1;
        }
        if (::syscall(SYS_setxattr, "/tmp", "user.plx", "x", 1, 0) == 0 || errno != EPERM) {
            return 2;
        }
        return 0;
    });
    EXPECT_TRUE(r.exited_with(0)) << r.describe();
    EXPECT_TRUE(r.reported("setxattr")) << r.describe();
}

TEST(SandboxTest, PtraceKillsTheProcess) {
    auto r = run_sandboxed(compute_only(), [](const SandboxReport&) {
        ::syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
        return 1;
    });
    ASSERT_TRUE(WIFSIGNALED(r.status)) << r.describe();
    EXPECT_EQ(WTERMSIG(r.status), SIGSYS);
    EXPECT_TRUE(r.reported("ptrace")) << r.describe();
}

// What an element's code does all the time must keep working: the
// allocator (small blocks and mmap-backed large ones), threads, futex
// waits, exceptions, and the fds it held before (a memfd mapped again).
TEST(SandboxTest, OrdinaryCodeRunsInside) {
    const int memfd = ::memfd_create("sandbox-test", MFD_CLOEXEC);
    ASSERT_GE(memfd, 0);
    ASSERT_EQ(::ftruncate(memfd, 1 << 20), 0);
    auto r = run_sandboxed(compute_only(), [memfd](const SandboxReport&) {
        for (int i = 0; i < 4; ++i) {
            auto big = std::make_unique<std::uint8_t[]>(16U << 20); // 16 MiB: mmap'd by malloc
            std::memset(big.get(), i, 16U << 20);
            if (big[12345] != i) {
                return 1;
            }
        }
        std::vector<std::string> small;
        for (int i = 0; i < 100000; ++i) {
            small.push_back(std::to_string(i));
        }
        try {
            throw std::runtime_error("thrown inside the sandbox");
        } catch (const std::runtime_error& e) {
            if (std::string(e.what()) != "thrown inside the sandbox") {
                return 2;
            }
        }
        std::mutex m;
        std::condition_variable cv;
        bool ready = false;
        std::atomic<int> flag{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                {
                    std::unique_lock lock(m);
                    cv.wait(lock, [&] { return ready; });
                }
                flag.fetch_add(1);
                flag.notify_all();
            });
        }
        {
            std::lock_guard lock(m);
            ready = true;
        }
        cv.notify_all();
        for (int seen = flag.load(); seen < 4; seen = flag.load()) {
            flag.wait(seen);
        }
        for (auto& t : threads) {
            t.join();
        }
        void* p = ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
        if (p == MAP_FAILED) {
            return 3;
        }
        static_cast<char*>(p)[100] = 'x';
        ::munmap(p, 1 << 20);
        char c = 0;
        if (::pread(memfd, &c, 1, 100) != 1 || c != 'x') {
            return 4;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return 0;
    });
    ::close(memfd);
    EXPECT_TRUE(r.exited_with(0)) << r.describe();
    EXPECT_TRUE(r.violations.empty()) << r.describe();
}

TEST(SandboxTest, WithNetworkAllowsSocketsButNotFiles) {
    SandboxPolicy policy;
    policy.kind = SandboxPolicy::Kind::with_network;
    auto r = run_sandboxed(policy, [](const SandboxReport&) {
        const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            return 1;
        }
        ::close(s);
        if (::open("/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0 || errno != EPERM) {
            return 2;
        }
        return 0;
    });
    EXPECT_TRUE(r.exited_with(0)) << r.describe();
    EXPECT_TRUE(r.reported("openat")) << r.describe();
    EXPECT_FALSE(r.reported("socket")) << r.describe();
}

bool kernel_has_landlock() {
    return ::syscall(444, nullptr, 0, 1U) > 0;
}

class SandboxFilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = std::filesystem::temp_directory_path() / ("plx-sandbox-" + std::to_string(::getpid()));
        std::filesystem::create_directories(root_ / "allowed");
        std::filesystem::create_directories(root_ / "other");
        std::ofstream(root_ / "allowed" / "in.txt") << "allowed";
        std::ofstream(root_ / "other" / "in.txt") << "other";
    }
    void TearDown() override { std::filesystem::remove_all(root_); }
    std::filesystem::path root_;
};

// Landlock enforces the declared paths when the kernel has it; otherwise
// the sandbox says so and refuses every open (the safe default).
TEST_F(SandboxFilesTest, WithFilesystemOpensOnlyUnderDeclaredPaths) {
    SandboxPolicy policy;
    policy.kind = SandboxPolicy::Kind::with_filesystem;
    policy.allowed_paths = {(root_ / "allowed").string()};
    const std::string allowed = (root_ / "allowed" / "in.txt").string();
    const std::string created = (root_ / "allowed" / "out.txt").string();
    const std::string other = (root_ / "other" / "in.txt").string();
    auto r = run_sandboxed(policy, [&](const SandboxReport& report) {
        const int a = ::open(allowed.c_str(), O_RDONLY | O_CLOEXEC);
        const int a_errno = errno;
        const int o = ::open(other.c_str(), O_RDONLY | O_CLOEXEC);
        const int o_errno = errno;
        if (report.landlock) {
            if (a < 0) {
                return 1;
            }
            const int w = ::open(created.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (w < 0 || ::write(w, "x", 1) != 1) {
                return 2;
            }
            ::close(w);
            if (o >= 0 || o_errno != EACCES) {
                return 3;
            }
            return 0;
        }
        const bool said =
            !report.unavailable.empty() && report.unavailable[0].find("path limits unavailable") != std::string::npos;
        return a < 0 && a_errno == EPERM && o < 0 && o_errno == EPERM && said ? 10 : 11;
    });
    if (kernel_has_landlock()) {
        EXPECT_TRUE(r.exited_with(0)) << r.describe();
        EXPECT_TRUE(std::filesystem::exists(created));
    } else {
        EXPECT_TRUE(r.exited_with(10)) << r.describe();
    }
    EXPECT_FALSE(r.reported("execve"));
}

TEST_F(SandboxFilesTest, AMissingAllowedPathIsAnErrorNamingIt) {
    SandboxPolicy policy;
    policy.kind = SandboxPolicy::Kind::with_filesystem;
    policy.allowed_paths = {(root_ / "allowed").string(), (root_ / "missing").string()};
    auto r = run_sandboxed(policy, [](const SandboxReport&) { return 0; });
    EXPECT_TRUE(r.exited_with(enter_failed)) << r.describe();
}

TEST(SandboxTest, AddressSpaceLimitMakesAHugeAllocationFail) {
#ifdef PARALLAX_TEST_SANITIZER
    GTEST_SKIP() << "sanitizer runtimes reserve terabytes of address space: RLIMIT_AS cannot be tested under them";
#else
    SandboxPolicy policy;
    policy.max_address_space = std::uint64_t{512} << 20;
    policy.max_cpu = std::chrono::seconds(60);
    policy.max_open_files = 64;
    auto r = run_sandboxed(policy, [](const SandboxReport& report) {
        if (std::find(report.rlimits.begin(), report.rlimits.end(), "RLIMIT_AS=536870912") == report.rlimits.end() ||
            std::find(report.rlimits.begin(), report.rlimits.end(), "RLIMIT_CPU=60") == report.rlimits.end()) {
            return 1;
        }
        void* p = std::malloc(std::size_t{1} << 30); // NOLINT(cppcoreguidelines-no-malloc)
        if (p != nullptr) {
            return 2;
        }
        try {
            auto big = std::make_unique<char[]>(std::size_t{1} << 30);
            // Used, so that the allocation cannot be elided.
            static_cast<volatile char*>(big.get())[0] = 1;
            return 3;
        } catch (const std::bad_alloc&) {
        }
        auto fine = std::make_unique<char[]>(std::size_t{16} << 20);
        fine[0] = 1;
        return 0;
    });
    EXPECT_TRUE(r.exited_with(0)) << r.describe();
#endif
}

TEST(SandboxTest, BadPolicyIsAnErrorNamingTheField) {
    SandboxPolicy relative;
    relative.kind = SandboxPolicy::Kind::with_filesystem;
    relative.allowed_paths = {"/tmp", "data/in"};
    auto e1 = validate(relative);
    ASSERT_FALSE(e1);
    EXPECT_TRUE(e1.error().is(Errc::invalid_argument));
    EXPECT_NE(e1.error().message().find("allowed_paths[1]"), std::string::npos) << e1.error().message();

    SandboxPolicy paths_without_files;
    paths_without_files.allowed_paths = {"/tmp"};
    auto e2 = validate(paths_without_files);
    ASSERT_FALSE(e2);
    EXPECT_NE(e2.error().message().find("allowed_paths"), std::string::npos) << e2.error().message();

    SandboxPolicy zero_as;
    zero_as.max_address_space = 0;
    auto e3 = enter_sandbox(zero_as); // refused before anything is applied
    ASSERT_FALSE(e3);
    EXPECT_NE(e3.error().message().find("max_address_space"), std::string::npos) << e3.error().message();

    SandboxPolicy zero_cpu;
    zero_cpu.max_cpu = std::chrono::seconds(0);
    auto e4 = validate(zero_cpu);
    ASSERT_FALSE(e4);
    EXPECT_NE(e4.error().message().find("max_cpu"), std::string::npos);

    SandboxPolicy zero_quota;
    zero_quota.cgroup_cpu_max = SandboxPolicy::CpuMax{0, 100000};
    auto e5 = spawn_sandboxed(zero_quota, [] { return 0; });
    ASSERT_FALSE(e5);
    EXPECT_NE(e5.error().message().find("cgroup_cpu_max"), std::string::npos);

    EXPECT_EQ(parse_sandbox_kind("with-network").value(), SandboxPolicy::Kind::with_network);
    auto e6 = parse_sandbox_kind("paranoid");
    ASSERT_FALSE(e6);
    EXPECT_NE(e6.error().message().find("'paranoid'"), std::string::npos);
    EXPECT_TRUE(validate(SandboxPolicy{}));
}

TEST(SandboxTest, ViolationRecordsWithABadMagicAreDropped) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    SandboxViolation good;
    good.syscall = 59;
    SandboxViolation bad;
    bad.magic = 0x12345678;
    ASSERT_EQ(::write(fds[1], &bad, sizeof bad), static_cast<ssize_t>(sizeof bad));
    ASSERT_EQ(::write(fds[1], &good, sizeof good), static_cast<ssize_t>(sizeof good));
    ::close(fds[1]);
    auto got = read_violations(fds[0]);
    ::close(fds[0]);
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].syscall, 59);
    EXPECT_EQ(syscall_name(100000), "syscall 100000");
}

// ---------------------------------------------------------------------------
// spawn_sandboxed(): namespaces, cgroups, the child's status.

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(SandboxSpawnTest, NamespaceReportListsEveryNamespaceOnce) {
    const NamespaceReport& probed = probe_namespaces();
    EXPECT_EQ(&probed, &probe_namespaces()) << "probed once per process";
    for (const char* ns : {"user", "pid", "net", "mnt", "ipc"}) {
        const bool entered = contains(probed.entered, ns);
        const bool refused = std::any_of(probed.unavailable.begin(), probed.unavailable.end(),
                                         [&](const std::string& u) { return u.rfind(std::string(ns) + ": ", 0) == 0; });
        EXPECT_NE(entered, refused) << ns;
    }
    auto child = spawn_sandboxed(compute_only(), [] {
        // In a new pid namespace the function runs as pid 2 under an init.
        return static_cast<int>(::getpid());
    });
    ASSERT_TRUE(child) << child.error().to_string();
    for (const auto& ns : child->namespaces().entered) {
        EXPECT_TRUE(contains(probed.entered, ns)) << ns;
    }
    auto status = child->wait();
    ASSERT_TRUE(status);
    ASSERT_TRUE(WIFEXITED(*status));
    if (contains(child->namespaces().entered, "pid")) {
        EXPECT_EQ(WEXITSTATUS(*status), 2);
    }
}

TEST(SandboxSpawnTest, ANewNetworkNamespaceHasNoInterfaceButLoopback) {
    if (!contains(probe_namespaces().entered, "net")) {
        GTEST_SKIP() << "the kernel refuses network namespaces here";
    }
    auto child = spawn_sandboxed(compute_only(), [] {
        std::ifstream dev("/proc/net/dev");
        int interfaces = 0;
        for (std::string line; std::getline(dev, line);) {
            if (line.find(':') != std::string::npos) {
                ++interfaces;
                if (line.find("lo:") == std::string::npos) {
                    return 1;
                }
            }
        }
        return interfaces == 1 ? 0 : 2;
    });
    ASSERT_TRUE(child);
    auto status = child->wait();
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

TEST(SandboxSpawnTest, WithNetworkKeepsTheNetworkNamespace) {
    SandboxPolicy policy;
    policy.kind = SandboxPolicy::Kind::with_network;
    auto child = spawn_sandboxed(policy, [] { return 0; });
    ASSERT_TRUE(child);
    EXPECT_FALSE(contains(child->namespaces().entered, "net"));
    EXPECT_TRUE(contains(child->namespaces().unavailable, "net: not created under the with-network policy"));
    EXPECT_TRUE(child->wait());
}

TEST(SandboxSpawnTest, TheStatusIsThatOfTheChildFunction) {
    auto code = spawn_sandboxed(compute_only(), [] { return 7; });
    ASSERT_TRUE(code);
    auto s1 = code->wait();
    ASSERT_TRUE(s1);
    EXPECT_TRUE(WIFEXITED(*s1) && WEXITSTATUS(*s1) == 7) << *s1;

    auto aborts = spawn_sandboxed(compute_only(), []() -> int { std::abort(); });
    ASSERT_TRUE(aborts);
    auto s2 = aborts->wait();
    ASSERT_TRUE(s2);
    EXPECT_TRUE(WIFSIGNALED(*s2) && WTERMSIG(*s2) == SIGABRT) << *s2;

    auto sandboxed = spawn_sandboxed(compute_only(), [] {
        if (!enter_sandbox(SandboxPolicy{})) {
            return 1;
        }
        char arg0[] = "/bin/true";
        char* argv[] = {arg0, nullptr};
        ::execv("/bin/true", argv);
        return 2;
    });
    ASSERT_TRUE(sandboxed);
    auto s3 = sandboxed->wait();
    ASSERT_TRUE(s3);
    EXPECT_TRUE(WIFSIGNALED(*s3) && WTERMSIG(*s3) == SIGSYS) << *s3;
}

TEST(SandboxSpawnTest, KillEndsAChildThatHangs) {
    auto child = spawn_sandboxed(compute_only(), [] {
        for (;;) {
            ::pause();
        }
        return 0;
    });
    ASSERT_TRUE(child);
    child->kill();
    auto status = child->wait();
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFSIGNALED(*status)) << *status;
}

TEST(SandboxSpawnTest, CgroupLimitsAreAppliedOrReportedUnavailable) {
    SandboxPolicy policy;
    policy.cgroup_pids_max = 32;
    policy.cgroup_memory_max = std::uint64_t{256} << 20;
    auto child = spawn_sandboxed(policy, [] { return 0; });
    ASSERT_TRUE(child);
    if (child->cgroup_applied()) {
        EXPECT_EQ(child->cgroup().rfind("cgroup /", 0), 0U) << child->cgroup();
    } else {
        EXPECT_EQ(child->cgroup().rfind("cgroup limits unavailable: ", 0), 0U) << child->cgroup();
    }
    auto status = child->wait();
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
}

} // namespace
} // namespace parallax
