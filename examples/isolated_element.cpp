// An element that crashes, run isolated: the pipeline replaces its worker
// process each time and reaches the end of the stream. crashtest passes 300
// buffers, then dies of SIGSEGV on the next one; each new worker starts
// counting again. The application watches element-restarted messages.
#include <parallax/parallax.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>

int main() {
    using namespace std::chrono_literals;

    // Declared before the pipeline, which outlives nothing its bus handler uses.
    std::atomic<int> restarts{0};
    std::atomic<int> lost{0};

    const char* text = "fakesrc num-buffers=2000 ! crashtest name=fragile mode=segv after=300 ! fakesink";
    auto parsed = parallax::Pipeline::parse(text);
    if (!parsed) {
        fmt::print(stderr, "{}\n", parallax::format_pipeline_error(text, parsed.error()));
        return EXIT_FAILURE;
    }
    auto& pipeline = *parsed;

    // crashtest's hints say untrusted, so it is isolated anyway; this makes
    // it explicit, and shapes the sandbox and the restart policy.
    auto& scheduling = pipeline->scheduling();
    scheduling.strategies.isolate = {"fragile"};
    scheduling.isolation.sandbox.kind = parallax::SandboxKind::compute_only;
    scheduling.isolation.restart.max_restarts = 10;
    scheduling.isolation.restart.backoff = parallax::Backoff::exponential;
    scheduling.isolation.restart.delay = 5ms;

    pipeline->bus().set_sync_handler([&](const parallax::Message& m) {
        if (m.type == parallax::MessageType::element && m.structure && m.structure->name() == "element-restarted") {
            restarts.fetch_add(1);
            lost.fetch_add(m.structure->get_int("lost-buffers").value_or(0));
            fmt::print("{} restarted: {} (restart {}, {} buffer lost)\n",
                       m.structure->get_string("element").value_or("?"),
                       m.structure->get_string("reason").value_or("?"), m.structure->get_int("count").value_or(0),
                       m.structure->get_int("lost-buffers").value_or(0));
        }
        return true;
    });

    if (auto ok = pipeline->set_state(parallax::State::idle); !ok) {
        fmt::print(stderr, "error: {}\n", ok.error().to_string());
        return EXIT_FAILURE;
    }
    fmt::print("{}", pipeline->plan());
    if (auto ok = pipeline->run(60s); !ok) {
        fmt::print(stderr, "error: {}\n", ok.error().to_string());
        return EXIT_FAILURE;
    }
    const auto delivered = pipeline->progress().buffers;
    fmt::print("{} buffers reached the sink, {} lost in {} crashes; the pipeline itself never crashed\n", delivered,
               lost.load(), restarts.load());
    return delivered + static_cast<std::uint64_t>(lost.load()) == 2000 && restarts.load() == 6 ? EXIT_SUCCESS
                                                                                               : EXIT_FAILURE;
}
