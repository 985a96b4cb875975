// plx-launch: builds a pipeline from gst-launch text and runs it, like
// gst-launch-1.0. Plugins on PARALLAX_PLUGIN_PATH and in the installed plugin
// directory are loaded first, so that the text may name their elements.

#include <parallax/element/registry.hpp>
#include <parallax/pipeline/isolation.hpp>

#include "launcher.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#ifndef PARALLAX_TOOLS_VERSION
#define PARALLAX_TOOLS_VERSION "unknown"
#endif

namespace {

int run(int argc, char** argv) {
    CLI::App app{"Build and run a libparallax pipeline written in gst-launch syntax, e.g.\n"
                 "  plx-launch fakesrc num-buffers=10 ! identity ! fakesink",
                 "plx-launch"};
    plx_launch::Options options;
    std::vector<std::string> words;
    app.add_flag("-v,--verbose", options.verbose, "Print the caps of each link and the property notifications");
    app.add_flag("-q,--quiet", options.quiet, "Print no status or progress information");
    app.add_flag("-m,--messages", options.messages, "Print every message posted on the bus");
    app.add_flag("-e,--eos-on-shutdown", options.eos_on_shutdown,
                 "On Ctrl-C, end the stream (eos) and wait for it before stopping");
    app.add_flag("--plan", options.plan,
                 "Print the scheduling plan (the streaming threads, each element's strategy and the rule that "
                 "chose it) and exit");
    app.add_flag("--no-auto-convert", options.no_auto_convert,
                 "Never insert converters where two elements cannot agree on a format: fail and say which would do");
    app.add_option("--isolate", options.isolate,
                   "Run the elements whose name or factory name matches one of these glob patterns "
                   "(comma-separated, e.g. '*dec*,crash*') isolated in a sandboxed worker process")
        ->delimiter(',')
        // One word per --isolate (repeat it for more): the pipeline's words
        // that follow are not patterns.
        ->allow_extra_args(false)
        ->type_name("PATTERN[,PATTERN...]");
    app.add_flag("--no-isolate", options.no_isolate,
                 "Run every element in this process, even those that hints, strategy=isolated or --isolate would "
                 "isolate (for debugging)");
    app.add_flag("--isolate-each", options.isolate_each,
                 "Give every isolated element a worker process of its own (by default adjacent isolated elements "
                 "with the same sandbox share one)");
    std::string sandbox;
    CLI::Option* sandbox_option =
        app.add_option("--sandbox", sandbox,
                       "The sandbox of isolated elements: compute-only (the default), with-network, "
                       "with-filesystem:/PATH[:/PATH...] or none")
            ->type_name("KIND[:PATH...]");
    std::uint32_t max_restarts = 0;
    CLI::Option* max_restarts_option =
        app.add_option("--max-restarts", max_restarts,
                       "Restart a dead worker of an isolated element at most N times a minute, then fail "
                       "(default 10; 0: never restart)")
            ->type_name("N");
    std::uint32_t worker_timeout_ms = 0;
    CLI::Option* worker_timeout_option =
        app.add_option("--worker-timeout", worker_timeout_ms,
                       "Declare the worker of an isolated element hung, kill and restart it, after it finished "
                       "none of its input for MS milliseconds (default 5000; 0: never)")
            ->type_name("MS");
    std::string isolate_wait;
    CLI::Option* isolate_wait_option =
        app.add_option("--isolate-wait", isolate_wait,
                       "How the pipeline and its worker processes wait for each other's buffers: sleep (the "
                       "default), predict (for a steady live stream: awake when each buffer is due) or spin (the "
                       "lowest latency, a core per waiting side)")
            ->type_name("MODE");
    app.set_version_flag("--version", fmt::format("plx-launch version {} (libparallax)", PARALLAX_TOOLS_VERSION));
    app.add_option("pipeline", words, "The pipeline description; the arguments are joined with spaces")->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // CLI11 prints help and errors; a bad command line is exit 1 as in
        // gst-launch-1.0.
        return app.exit(e) == 0 ? 0 : 1;
    }
    if (sandbox_option->count() > 0) {
        auto settings = parallax::parse_sandbox_settings(sandbox);
        if (!settings) {
            fmt::print(stderr, "ERROR: --sandbox: {}\n", settings.error().message());
            return 1;
        }
        options.sandbox = std::move(*settings);
    }
    if (isolate_wait_option->count() > 0) {
        auto wait = parallax::parse_shm_wait(isolate_wait);
        if (!wait) {
            fmt::print(stderr, "ERROR: --isolate-wait: {}\n", wait.error().message());
            return 1;
        }
        options.isolate_wait = *wait;
    }
    if (max_restarts_option->count() > 0) {
        options.max_restarts = max_restarts;
    }
    if (worker_timeout_option->count() > 0) {
        options.worker_timeout = std::chrono::milliseconds(worker_timeout_ms);
    }
    for (const auto& w : words) {
        if (!options.description.empty()) {
            options.description += ' ';
        }
        options.description += w;
    }
    for (const auto& failure : parallax::Registry::global().load_plugins().failures) {
        fmt::print(stderr, "WARNING: {}\n", failure.message());
    }
    return plx_launch::launch(options);
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        // Nothing is meant to throw this far (out of memory, a bug): fail
        // like any other error instead of aborting.
        static_cast<void>(std::fputs("ERROR: ", stderr));
        static_cast<void>(std::fputs(e.what(), stderr));
        static_cast<void>(std::fputs("\n", stderr));
        return 1;
    }
}
