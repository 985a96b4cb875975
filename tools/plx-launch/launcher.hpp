#pragma once

// Launcher: runs one pipeline the way gst-launch-1.0 does, with
// libparallax's states (suspended, idle, paused, running) in place of
// GStreamer's (NULL, READY, PAUSED, PLAYING).

#include <string>

namespace plx_launch {

/// What the command line asked for.
struct Options {
    std::string description;      ///< The pipeline, the arguments joined with spaces.
    bool verbose = false;         ///< -v: caps of links, property notifications.
    bool quiet = false;           ///< -q: no status or progress output.
    bool messages = false;        ///< -m: every bus message.
    bool eos_on_shutdown = false; ///< -e: SIGINT sends eos and waits for it.
    bool plan = false;            ///< --plan: print the scheduling plan and exit.
    bool no_auto_convert = false; ///< --no-auto-convert: negotiation inserts no converters.
};

/// Builds and runs the pipeline. Returns the exit status: 0 after eos or an
/// interrupt, 1 on a parse error or an error message.
int launch(const Options& options);

} // namespace plx_launch
