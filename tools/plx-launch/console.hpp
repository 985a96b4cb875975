#pragma once

// Console: where plx-launch writes. Status lines go to stdout and problems
// to stderr, as gst-launch-1.0 does; the live progress line lives on stderr
// (only on a terminal) and is wiped before any other line is written, so
// that the two never share a line.

#include <parallax/pipeline/pipeline.hpp>

#include <chrono>
#include <cstdint>
#include <string_view>

namespace plx_launch {

class Console {
public:
    /// `quiet`: no status lines and no progress line (-q).
    explicit Console(bool quiet);

    /// A status line on stdout ("Setting pipeline to PAUSED ..."), unless quiet.
    void status(std::string_view line);
    /// A line on stdout even when quiet (-m, -v, --plan: what was asked for).
    void out(std::string_view line);
    /// A line on stderr, always (errors, warnings).
    void err(std::string_view line);

    /// True when a progress line is shown at all (stderr is a terminal, not quiet).
    [[nodiscard]] bool shows_progress() const noexcept { return progress_enabled_; }
    /// Redraws the progress line from the sink counters: `elapsed` is the
    /// time spent running so far.
    void progress(const parallax::Pipeline::Progress& now, std::chrono::nanoseconds elapsed);
    /// Wipes the progress line (at the end, or before another line).
    void clear_progress();

private:
    bool quiet_;
    bool progress_enabled_;
    bool progress_shown_ = false;
    // The counters at the previous redraw, for the rates.
    std::uint64_t last_buffers_ = 0;
    std::uint64_t last_bytes_ = 0;
    std::chrono::nanoseconds last_elapsed_{0};
};

/// "1.5 KiB", "12.3 MiB": bytes for a person.
[[nodiscard]] std::string format_bytes(double bytes);
/// "0:00:01.234": a duration with millisecond precision.
[[nodiscard]] std::string format_elapsed(std::chrono::nanoseconds elapsed);

} // namespace plx_launch
