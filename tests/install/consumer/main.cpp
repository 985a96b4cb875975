// An application of the installed libparallax: built-in elements by factory
// name, typed access to appsink, and the element test harness.
#include <parallax/check/harness.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/parallax.hpp>

#include <cstdio>
#include <cstdlib>

int main() {
    using namespace std::chrono_literals;
    const char* text = "fakesrc num-buffers=5 sizetype=fixed sizemax=16 ! queue ! appsink name=out";
    auto p = parallax::Pipeline::parse(text);
    if (!p) {
        std::fprintf(stderr, "%s\n", parallax::format_pipeline_error(text, p.error()).c_str());
        return EXIT_FAILURE;
    }
    auto sink = (*p)->get<parallax::AppSink>("out");
    if (!sink || !(*p)->set_state(parallax::State::running)) {
        std::fprintf(stderr, "cannot start the pipeline\n");
        return EXIT_FAILURE;
    }
    int buffers = 0;
    while (auto sample = (*sink)->try_pull_sample(10s)) {
        buffers += sample->buffer.size() == 16 ? 1 : 0;
    }
    static_cast<void>((*p)->set_state(parallax::State::suspended));

    auto h = parallax::check::Harness::create("identity");
    if (!h || !(*h)->start() || (*h)->push((*h)->make_buffer(8).value()) != parallax::Flow::ok || !(*h)->pull()) {
        std::fprintf(stderr, "the harness did not pass a buffer through identity\n");
        return EXIT_FAILURE;
    }
    std::printf("%d buffers through queue and appsink; identity under the harness: ok\n", buffers);
    return buffers == 5 ? EXIT_SUCCESS : EXIT_FAILURE;
}
