// crashtest: the harmless modes in process; the ones that end the process
// in forked children, checked by their termination status; the forbidden
// calls in children inside the sandbox.

#include <parallax/check/harness.hpp>
#include <parallax/element.hpp>

#include "isolation/sandbox.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <optional>
#include <signal.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "support/sanitizer.hpp"

namespace parallax {
namespace {

using check::Harness;

std::unique_ptr<Harness> make(const std::string& description) {
    auto h = Harness::create(description);
    EXPECT_TRUE(h) << (h ? "" : h.error().to_string());
    if (!h) {
        return nullptr;
    }
    EXPECT_TRUE((*h)->start());
    return std::move(*h);
}

// Pushes `n` buffers; the number that came out.
int pass(Harness& h, int n) {
    int out = 0;
    for (int i = 0; i < n; ++i) {
        if (h.push(h.make_buffer(64, static_cast<std::uint8_t>(i)).value()) != Flow::ok) {
            break;
        }
        if (h.pull(std::chrono::seconds(5))) {
            ++out;
        }
    }
    return out;
}

// Runs `body` in a forked child; its wait status.
int in_child(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::_exit(body());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

// The child pushes `n` buffers through `description` and exits 0 when they
// all passed, 1 otherwise (if nothing ended the process first).
int push_in_child(const std::string& description, int n) {
    return in_child([&] {
        // A sanitizer runtime's own SIGSEGV handler would turn the crash
        // into an exit with its report: the status should be the signal.
        std::signal(SIGSEGV, SIG_DFL);
        auto h = Harness::create(description);
        if (!h || !(*h)->start()) {
            return 2;
        }
        return pass(**h, n) == n ? 0 : 1;
    });
}

std::string describe(int status) {
    if (WIFEXITED(status)) {
        return "exit " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return "signal " + std::to_string(WTERMSIG(status));
    }
    return "status " + std::to_string(status);
}

TEST(CrashTestTest, IsRegisteredAsAnUntrustedElementThatIsolationShouldTake) {
    const ElementFactory* f = Registry::global().find("crashtest");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->hints().trust_level, TrustLevel::untrusted);
    EXPECT_FALSE(f->hints().crash_safe);
    auto e = Registry::global().create("crashtest");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("mode").value(), "none");
    EXPECT_EQ((*e)->get_property("after").value(), "0");
}

TEST(CrashTestTest, ModeNonePassesEveryBuffer) {
    auto h = make("crashtest");
    ASSERT_TRUE(h);
    EXPECT_EQ(pass(*h, 20), 20);
    EXPECT_FALSE(h->error());
    EXPECT_TRUE(h->stop());
}

TEST(CrashTestTest, ModesAreSetByNickOrNumberAndBadValuesAreRefusedByName) {
    auto by_number = Harness::create("crashtest mode=3 after=5");
    ASSERT_TRUE(by_number);
    EXPECT_EQ((*by_number)->element().get_property("mode").value(), "hang");
    for (const char* nick : {"none", "segv", "abort", "hang", "exit", "leak", "try-open", "try-socket"}) {
        auto h = Harness::create(std::string("crashtest mode=") + nick);
        ASSERT_TRUE(h) << nick;
        EXPECT_EQ((*h)->element().get_property("mode").value(), nick);
    }
    for (const char* bad :
         {"crashtest mode=explode", "crashtest after=-1", "crashtest exit-code=256", "crashtest leak-size=0"}) {
        auto h = Harness::create(bad);
        ASSERT_FALSE(h) << bad;
        const std::string property = std::string(bad).substr(10, std::string(bad).find('=') - 10);
        EXPECT_NE(h.error().message().find(property), std::string::npos) << h.error().to_string();
    }
}

TEST(CrashTestTest, TryOpenPassesAndSaysSoWhenNothingDeniesIt) {
    auto h = make("crashtest mode=try-open after=2");
    ASSERT_TRUE(h);
    EXPECT_EQ(pass(*h, 4), 4);
    EXPECT_FALSE(h->error());
    int allowed = 0;
    for (const Message& m : h->messages()) {
        if (m.structure && m.structure->name() == "crashtest") {
            EXPECT_EQ(m.structure->get_string("action").value_or(""), "open");
            EXPECT_TRUE(m.structure->get_bool("allowed").value_or(false));
            ++allowed;
        }
    }
    EXPECT_EQ(allowed, 2) << "one report per buffer after the first two";
    EXPECT_TRUE(h->stop());
}

TEST(CrashTestTest, LeakHoldsMemoryWhileRunningAndPassesBuffers) {
    auto h = make("crashtest mode=leak leak-size=1 after=1");
    ASSERT_TRUE(h);
    EXPECT_EQ(pass(*h, 5), 5);
    EXPECT_TRUE(h->stop()); // gives it back
}

TEST(CrashTestTest, SegvKillsTheProcessWithSigsegvAfterTheGivenBuffers) {
    EXPECT_EQ(push_in_child("crashtest mode=segv after=3", 3), 0) << "the first three pass";
    const int status = push_in_child("crashtest mode=segv after=3", 4);
#ifdef PARALLAX_TEST_SANITIZER
    // ASan's own SEGV handler reports the fault and exits with status 1.
    if (WIFEXITED(status)) {
        EXPECT_NE(WEXITSTATUS(status), 0) << describe(status);
        return;
    }
#endif
    ASSERT_TRUE(WIFSIGNALED(status)) << describe(status);
    EXPECT_EQ(WTERMSIG(status), SIGSEGV);
}

TEST(CrashTestTest, AbortKillsTheProcessWithSigabrt) {
    const int status = push_in_child("crashtest mode=abort", 1);
    ASSERT_TRUE(WIFSIGNALED(status)) << describe(status);
    EXPECT_EQ(WTERMSIG(status), SIGABRT);
}

TEST(CrashTestTest, ExitEndsTheProcessWithTheExitCode) {
    const int dflt = push_in_child("crashtest mode=exit after=1", 2);
    ASSERT_TRUE(WIFEXITED(dflt)) << describe(dflt);
    EXPECT_EQ(WEXITSTATUS(dflt), 3);
    const int chosen = push_in_child("crashtest mode=exit exit-code=42", 1);
    ASSERT_TRUE(WIFEXITED(chosen)) << describe(chosen);
    EXPECT_EQ(WEXITSTATUS(chosen), 42);
}

TEST(CrashTestTest, HangBlocksTheStreamingThreadUntilKilled) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(ready[0]);
        auto h = Harness::create("crashtest mode=hang after=1");
        if (!h || !(*h)->start() || pass(**h, 1) != 1) {
            ::_exit(2);
        }
        [[maybe_unused]] auto n = ::write(ready[1], "x", 1);
        pass(**h, 1);
        ::_exit(0); // not reached
    }
    ::close(ready[1]);
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    ::close(ready[0]);
    // Given time to misbehave otherwise, it is still there (no exit, no crash).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0) << describe(status);
    ::kill(pid, SIGKILL);
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << describe(status);
}

// In the sandbox: the forbidden calls are denied, and the element says so.
int try_in_sandbox(const std::string& mode, SandboxPolicy::Kind kind) {
    return in_child([&] {
        auto h = Harness::create("crashtest mode=" + mode + " after=1");
        if (!h || !(*h)->start()) {
            return 2;
        }
        SandboxPolicy policy;
        policy.kind = kind;
        if (!enter_sandbox(policy)) {
            return 3;
        }
        if (pass(**h, 2) != 1) { // the first passes, the second is an error
            return 4;
        }
        auto error = (*h)->error();
        if (!error || error->message().find("was denied") == std::string::npos ||
            error->element() != (*h)->element().name()) {
            return 5;
        }
        for (const Message& m : (*h)->messages()) {
            if (m.structure && m.structure->name() == "crashtest") {
                return m.structure->get_bool("allowed").value_or(true) ? 6 : 0;
            }
        }
        return 7;
    });
}

TEST(CrashTestTest, TryOpenAndTrySocketAreDeniedInTheSandboxAndReported) {
    const int open_status = try_in_sandbox("try-open", SandboxPolicy::Kind::compute_only);
    EXPECT_TRUE(WIFEXITED(open_status) && WEXITSTATUS(open_status) == 0) << describe(open_status);
    const int socket_status = try_in_sandbox("try-socket", SandboxPolicy::Kind::compute_only);
    EXPECT_TRUE(WIFEXITED(socket_status) && WEXITSTATUS(socket_status) == 0) << describe(socket_status);
}

TEST(CrashTestTest, LeakRunsIntoTheAddressSpaceLimit) {
#ifdef PARALLAX_TEST_SANITIZER
    GTEST_SKIP() << "sanitizer runtimes reserve terabytes of address space: RLIMIT_AS cannot be tested under them";
#else
    const int status = in_child([] {
        auto h = Harness::create("crashtest mode=leak leak-size=16");
        if (!h || !(*h)->start() || pass(**h, 1) != 1) {
            return 2;
        }
        // 128 MiB more than the process holds now.
        std::uint64_t vm_kib = 0;
        std::ifstream proc_status("/proc/self/status");
        for (std::string line; std::getline(proc_status, line);) {
            if (line.rfind("VmSize:", 0) == 0) {
                vm_kib = std::stoull(line.substr(7));
            }
        }
        if (vm_kib == 0) {
            return 6;
        }
        SandboxPolicy policy;
        policy.max_address_space = (vm_kib << 10) + (std::uint64_t{128} << 20);
        if (!enter_sandbox(policy)) {
            return 3;
        }
        for (int i = 0; i < 64; ++i) { // 1 GiB: far past the limit
            if ((*h)->push((*h)->make_buffer(16).value()) != Flow::ok) {
                auto error = (*h)->error();
                return error && error->message().find("could not allocate") != std::string::npos ? 0 : 4;
            }
            (*h)->pull();
        }
        return 5;
    });
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
#endif
}

} // namespace
} // namespace parallax
