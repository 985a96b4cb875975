#pragma once

// Launcher: runs one pipeline the way gst-launch-1.0 does, with
// libparallax's states (suspended, idle, paused, running) in place of
// GStreamer's (NULL, READY, PAUSED, PLAYING).

#include <parallax/pipeline/isolation.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

    // Isolation; what is not given keeps the pipeline's defaults.
    /// --isolate: glob patterns of elements to run isolated.
    std::vector<std::string> isolate;
    /// --no-isolate: run every element in this process.
    bool no_isolate = false;
    bool isolate_each = false;
    /// --sandbox: the sandbox of the worker processes.
    std::optional<parallax::SandboxSettings> sandbox;
    /// --max-restarts: restarts of a dead worker within a minute.
    std::optional<std::uint32_t> max_restarts;
    /// --worker-timeout: when a worker counts as hung (0: never).
    std::optional<std::chrono::milliseconds> worker_timeout;
    /// --isolate-wait: how the pipeline and the workers wait for each other.
    parallax::ShmWait isolate_wait = parallax::ShmWait::sleep;
};

/// Builds and runs the pipeline. Returns the exit status: 0 after eos or an
/// interrupt, 1 on a parse error or an error message.
int launch(const Options& options);

} // namespace plx_launch
