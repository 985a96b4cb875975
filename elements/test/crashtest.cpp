// crashtest: passes buffers through, then misbehaves on purpose (crashes,
// aborts, hangs, exits, leaks memory, or tries what a sandbox forbids), so
// that isolation, sandboxing and crash reporting can be tested end to end.

#include <parallax/element.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <memory>
#include <sys/mman.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace parallax {
namespace {

enum class Mode { none = 0, segv = 1, abort = 2, hang = 3, exit = 4, leak = 5, try_open = 6, try_socket = 7, try_exec = 8 };

constexpr EnumValue modes[] = {
    {0, "none", "Pass every buffer through (the default: harmless)"},
    {1, "segv", "Write through a null pointer: the process dies of SIGSEGV"},
    {2, "abort", "Call std::abort(): the process dies of SIGABRT"},
    {3, "hang", "Block forever in the streaming thread, without using CPU, ignoring unblock"},
    {4, "exit", "End the process at once with _exit(exit-code)"},
    {5, "leak", "Keep leak-size MiB more for every buffer, never giving it back while running"},
    {6, "try-open", "Open /etc/passwd for reading; report the outcome on the bus, an error when denied"},
    {7, "try-socket", "Create a TCP socket; report the outcome on the bus, an error when denied"},
    {8, "try-exec", "Run /bin/true in a child process; report the outcome on the bus, an error when denied"},
};

constexpr const char* probe_path = "/etc/passwd";

class CrashTest final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "crashtest",
        .klass = "Testing",
        .summary = "Pass buffers, then crash, hang, exit, leak or try forbidden calls",
        .description = "Passes `after` buffers through unchanged, then misbehaves as `mode` says on every "
                       "buffer that follows: segv, abort, hang, exit, leak, try-open, try-socket or try-exec. The "
                       "default mode, none, only passes buffers. For testing isolated execution."};
    // Built to crash: the executor isolates it where it can.
    static constexpr ExecutionHints hints = ExecutionHints::untrusted();

protected:
    Result<void> start() override {
        count_ = 0;
        return {};
    }

    Result<void> stop() override {
        leaked_.clear();
        return {};
    }

    Flow transform(Buffer& /*buffer*/, TransformContext& ctx) override {
        ++count_;
        if (count_ <= after_.get()) {
            return Flow::ok;
        }
        switch (mode_.get()) {
        case Mode::none:
            return Flow::ok;
        case Mode::segv: {
            // A store into a page mapped without access: a genuine SIGSEGV,
            // with no undefined behaviour for the compiler to turn into a
            // trap instruction or for UBSan to stop at first.
            void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (page == MAP_FAILED) {
                return ctx.error(Error::from_errno(errno, "crashtest: mapping a page to fault on"));
            }
            volatile int* volatile target = static_cast<int*>(page);
            *target = 0x5e6f;
            return Flow::ok;
        }
        case Mode::abort:
            std::abort();
        case Mode::hang:
            for (;;) {
                ::pause();
            }
        case Mode::exit:
            ::_exit(static_cast<int>(exit_code_.get()));
        case Mode::leak:
            return leak(ctx);
        case Mode::try_open: {
            const int fd = ::open(probe_path, O_RDONLY | O_CLOEXEC);
            const int err = errno;
            if (fd >= 0) {
                ::close(fd);
            }
            return outcome(ctx, "open", probe_path, fd >= 0, err);
        }
        case Mode::try_socket: {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const int err = errno;
            if (fd >= 0) {
                ::close(fd);
            }
            return outcome(ctx, "socket", "AF_INET/SOCK_STREAM", fd >= 0, err);
        }
        case Mode::try_exec:
            return try_exec(ctx);
        }
        return Flow::ok;
    }

private:
    // A child that runs /bin/true: in a sandbox the exec kills the child
    // (SIGSYS), never this process. fork() rather than posix_spawn(): the
    // child keeps the sandbox's SIGSYS handler, which reports the call.
    Flow try_exec(TransformContext& ctx) {
        char program[] = "/bin/true";
        char* argv[] = {program, nullptr};
        const pid_t pid = ::fork();
        if (pid < 0) {
            return outcome(ctx, "exec", program, false, errno);
        }
        if (pid == 0) {
            ::execve(program, argv, environ); // async-signal-safe only, after fork
            ::_exit(127);
        }
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        const bool ran = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        return outcome(ctx, "exec", program, ran, WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS ? EPERM : ECHILD);
    }

    Flow leak(TransformContext& ctx) {
        const std::size_t bytes = static_cast<std::size_t>(leak_size_.get()) << 20;
        // Raw memory, touched page by page so that it is really held (and
        // counted by a cgroup's memory.max, not only by RLIMIT_AS).
        std::unique_ptr<char[]> block(new (std::nothrow) char[bytes]);
        if (!block) {
            return ctx.error(
                Error(Errc::exhausted, fmt::format("{}: leak: could not allocate {} MiB more after holding {} MiB",
                                                   name(), leak_size_.get(), leaked_.size() * leak_size_.get())));
        }
        for (std::size_t i = 0; i < bytes; i += 4096) {
            static_cast<volatile char*>(block.get())[i] = 1;
        }
        leaked_.push_back(std::move(block));
        return Flow::ok;
    }

    // Posts a `crashtest` element message (action, target, allowed, error)
    // either way; a denial is also the element's error.
    Flow outcome(TransformContext& ctx, const char* action, const char* target, bool allowed, int err) {
        Structure s("crashtest");
        s.set("action", std::string(action));
        s.set("target", std::string(target));
        s.set("allowed", allowed);
        s.set("error", allowed ? std::string() : std::string(std::strerror(err))); // NOLINT(concurrency-mt-unsafe)
        ctx.post_element_message(std::move(s));
        if (allowed) {
            return Flow::ok;
        }
        return ctx.error(Error::from_errno(err, fmt::format("{}: {} {} was denied", name(), action, target)));
    }

    std::uint64_t count_ = 0;
    std::vector<std::unique_ptr<char[]>> leaked_;

    Property<Mode> mode_{this, "mode", Mode::none, "What to do once `after` buffers have passed", modes};
    Property<std::uint64_t> after_{this, "after", 0, "Buffers passed through unchanged before misbehaving"};
    Property<std::uint32_t> exit_code_{this, "exit-code", 3, "The process exit code of mode=exit", {0, 255}};
    Property<std::uint32_t> leak_size_{this, "leak-size", 16, "MiB kept for every buffer in mode=leak", {1, 4096}};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::CrashTest);
