#include "console.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <unistd.h>

namespace plx_launch {

Console::Console(bool quiet) : quiet_(quiet), progress_enabled_(!quiet && ::isatty(STDERR_FILENO) == 1) {}

void Console::status(std::string_view line) {
    if (!quiet_) {
        out(line);
    }
}

void Console::out(std::string_view line) {
    clear_progress();
    fmt::print(stdout, "{}\n", line);
    static_cast<void>(std::fflush(stdout));
}

void Console::err(std::string_view line) {
    clear_progress();
    // stdout first, so that status and error lines keep their order when
    // both go to the same terminal or file.
    static_cast<void>(std::fflush(stdout));
    fmt::print(stderr, "{}\n", line);
    static_cast<void>(std::fflush(stderr));
}

void Console::progress(const parallax::Pipeline::Progress& now, std::chrono::nanoseconds elapsed) {
    if (!progress_enabled_) {
        return;
    }
    const double interval = std::chrono::duration<double>(elapsed - last_elapsed_).count();
    double byte_rate = 0.0;
    double buffer_rate = 0.0;
    if (interval > 0.0) {
        byte_rate = static_cast<double>(now.bytes - last_bytes_) / interval;
        buffer_rate = static_cast<double>(now.buffers - last_buffers_) / interval;
    }
    last_buffers_ = now.buffers;
    last_bytes_ = now.bytes;
    last_elapsed_ = elapsed;
    const std::string position = now.position.is_none() ? std::string("none") : now.position.to_string();
    // \r back to the start, \033[K erases what a longer previous line left.
    fmt::print(stderr, "\relapsed={} buffers={} size={} rate={:.1f} MiB/s {:.0f} buffers/s pts={}\033[K",
               format_elapsed(elapsed), now.buffers, format_bytes(static_cast<double>(now.bytes)),
               byte_rate / (1024.0 * 1024.0), buffer_rate, position);
    static_cast<void>(std::fflush(stderr));
    progress_shown_ = true;
}

void Console::clear_progress() {
    if (!progress_shown_) {
        return;
    }
    fmt::print(stderr, "\r\033[K");
    static_cast<void>(std::fflush(stderr));
    progress_shown_ = false;
}

std::string format_bytes(double bytes) {
    static constexpr std::array<const char*, 5> units{"B", "KiB", "MiB", "GiB", "TiB"};
    std::size_t unit = 0;
    while (bytes >= 1024.0 && unit + 1 < units.size()) {
        bytes /= 1024.0;
        ++unit;
    }
    if (unit == 0) {
        return fmt::format("{:.0f} B", bytes);
    }
    return fmt::format("{:.1f} {}", bytes, units.at(unit));
}

std::string format_elapsed(std::chrono::nanoseconds elapsed) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
    return fmt::format("{}:{:02}:{:02}.{:03}", ms / 3'600'000, (ms / 60'000) % 60, (ms / 1000) % 60, ms % 1000);
}

} // namespace plx_launch
