#pragma once

// What the tests that check libparallax's files with outside programs
// (ffprobe, ffmpeg, dav1d, opus-tools, GStreamer) share: finding a program,
// running a shell command and keeping its output, and reading ffprobe's
// view of a file's streams and packets.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace parallax::check {

// True when `name` is an executable file in a PATH directory.
inline bool have_tool(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        std::error_code ec;
        const std::filesystem::path p = std::filesystem::path(dir) / name;
        if (std::filesystem::exists(p, ec) && (std::filesystem::status(p, ec).permissions() &
                                               std::filesystem::perms::owner_exec) != std::filesystem::perms::none) {
            return true;
        }
    }
    return false;
}

struct ShellRun {
    bool ok = false;
    std::string output; // stdout and stderr together
};

// Runs `command` with /bin/sh; ok when it exited with 0.
inline ShellRun shell(const std::string& command) {
    ShellRun r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) {
        return r;
    }
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) {
        r.output.append(buf, n);
    }
    r.ok = ::pclose(p) == 0;
    return r;
}

// One ffprobe [STREAM] section as key=value pairs.
using Fields = std::map<std::string, std::string>;

// ffprobe's streams of `file` with the given `entries` (stream fields) and
// nb_read_packets (every packet counted).
inline std::vector<Fields> ffprobe_streams(const std::filesystem::path& file,
                                           const std::string& entries = "codec_name,codec_tag_string,width,height,"
                                                                        "sample_rate,channels,nb_read_packets,"
                                                                        "duration") {
    const ShellRun r =
        shell(fmt::format("ffprobe -v error -count_packets -show_entries stream={} {}", entries, file.string()));
    EXPECT_TRUE(r.ok) << r.output;
    std::vector<Fields> out;
    std::istringstream lines(r.output);
    bool in_program = false; // a transport stream lists its streams again under [PROGRAM]
    for (std::string line; std::getline(lines, line);) {
        if (line == "[PROGRAM]" || line == "[/PROGRAM]") {
            in_program = line == "[PROGRAM]";
        } else if (in_program) {
            continue;
        } else if (line == "[STREAM]") {
            out.emplace_back();
        } else if (const auto eq = line.find('='); eq != std::string::npos && !out.empty()) {
            out.back()[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
    return out;
}

// The pts of stream `index`'s packets, in seconds, in file order.
inline std::vector<double> ffprobe_pts(const std::filesystem::path& file, int index) {
    const ShellRun r = shell(fmt::format(
        "ffprobe -v error -select_streams {} -show_entries packet=pts_time -of csv=p=0 {}", index, file.string()));
    EXPECT_TRUE(r.ok) << r.output;
    std::vector<double> out;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) {
            out.push_back(std::strtod(line.c_str(), nullptr));
        }
    }
    return out;
}

} // namespace parallax::check
