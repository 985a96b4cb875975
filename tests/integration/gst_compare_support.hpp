#pragma once

// Support for the tests that compare libparallax with GStreamer's own
// programs: running gst-launch-1.0 and gst-inspect-1.0 without a shell,
// reading the files they write, and a scratch directory for those files.

#include "../support/files.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace parallax::check {

// Runs argv without a shell; true when it exited with 0. `out`, when given,
// receives its standard output; otherwise that is discarded, as standard
// error always is.
inline bool run_program(const std::vector<std::string>& argv, std::string* out = nullptr) {
    int fds[2] = {-1, -1};
    if (out != nullptr && ::pipe(fds) != 0) {
        return false;
    }
    // The child's freopen() below would write out whatever the parent's
    // streams still buffer a second time.
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        return false;
    }
    if (pid == 0) {
        std::vector<char*> args;
        for (const std::string& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        if (out != nullptr) {
            ::close(fds[0]);
            if (::dup2(fds[1], 1) < 0) {
                ::_exit(126);
            }
        } else if (std::freopen("/dev/null", "w", stdout) == nullptr) {
            ::_exit(126);
        }
        if (std::freopen("/dev/null", "w", stderr) == nullptr) {
            ::_exit(126);
        }
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    if (out != nullptr) {
        ::close(fds[1]);
        char chunk[4096];
        for (;;) {
            const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
            if (n <= 0) {
                break;
            }
            out->append(chunk, static_cast<std::size_t>(n));
        }
        ::close(fds[0]);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) {
        return false;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Runs `gst-launch-1.0 -q` on `pipeline`, whose words are separated by
// spaces (no quoting); true when it succeeded.
inline bool gst_launch(const std::string& pipeline) {
    std::vector<std::string> argv = {"gst-launch-1.0", "-q"};
    std::istringstream words(pipeline);
    for (std::string word; words >> word;) {
        argv.push_back(word);
    }
    return run_program(argv);
}

// True when GStreamer has `element` (gst-inspect-1.0 is asked once for each).
inline bool gstreamer_has(const std::string& element) {
    static std::map<std::string, bool, std::less<>> known;
    auto it = known.find(element);
    if (it == known.end()) {
        it = known.emplace(element, run_program({"gst-inspect-1.0", "--exists", element})).first;
    }
    return it->second;
}

// A directory of its own for one test (`suite` and `name` tell whose), removed
// with everything in it.
class ScratchDir {
public:
    ScratchDir(std::string_view suite, std::string_view name)
        : path_(std::filesystem::temp_directory_path() / fmt::format("parallax-{}-{}-{}", suite, ::getpid(), name)) {
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

} // namespace parallax::check
