// A first pipeline, twice: once from gst-launch text, once built in C++.
// Both push 64 KiB buffers from fakesrc through a queue (a thread boundary)
// into fakesink and report what arrived.
#include <parallax/parallax.hpp>

#include <fmt/format.h>

#include <cstdlib>

namespace {

int report(const parallax::Error& e) {
    fmt::print(stderr, "error: {}\n", e.to_string());
    return EXIT_FAILURE;
}

} // namespace

int main() {
    using namespace std::chrono_literals;

    // 1. From text, exactly as gst-launch-1.0 would take it.
    const char* text = "fakesrc num-buffers=1000 sizetype=fixed sizemax=65536 ! queue ! fakesink";
    auto pipeline = parallax::Pipeline::parse(text);
    if (!pipeline) {
        fmt::print(stderr, "{}\n", parallax::format_pipeline_error(text, pipeline.error()));
        return EXIT_FAILURE;
    }
    if (auto ok = (*pipeline)->run(30s); !ok) {
        return report(ok.error());
    }
    auto p = (*pipeline)->progress();
    fmt::print("text pipeline: {} buffers, {} bytes reached the sink\n", p.buffers, p.bytes);

    // 2. The same in C++: create by factory with properties, link in a chain.
    auto built = parallax::Pipeline::create("built");
    auto chain = built->chain()
                     .then("fakesrc", {{"num-buffers", 1000}, {"sizetype", "fixed"}, {"sizemax", 65536}})
                     .then("queue", {{"max-size-buffers", 16}}, "q")
                     .then("fakesink", {}, "sink")
                     .done();
    if (!chain) {
        return report(chain.error());
    }
    if (auto ok = built->set_state(parallax::State::idle); !ok) {
        return report(ok.error());
    }
    fmt::print("{}", built->plan());
    if (auto ok = built->run(30s); !ok) {
        return report(ok.error());
    }
    p = built->progress();
    fmt::print("built pipeline: {} buffers, {} bytes reached the sink\n", p.buffers, p.bytes);
    return p.buffers == 1000 ? EXIT_SUCCESS : EXIT_FAILURE;
}
