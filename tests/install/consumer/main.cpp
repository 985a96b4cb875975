// An application of the installed libparallax: built-in elements by factory
// name, typed access to appsink, and the element test harness.
#include <parallax/check/harness.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/parallax.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

// With PARALLAX_PLUGIN_PATH set: loads the plugins there and runs the
// example plugin's checksum element over "1234567890" (CRC-32 261daee5),
// printing what its bus message says.
int run_plugin() {
    using namespace std::chrono_literals;
    auto report = parallax::Registry::global().load_plugins();
    for (const auto& failure : report.failures) {
        std::fprintf(stderr, "%s\n", failure.to_string().c_str());
    }
    const char* text = "appsrc name=in ! checksum name=sum ! fakesink";
    auto p = parallax::Pipeline::parse(text);
    if (!p) {
        std::fprintf(stderr, "%s\n", parallax::format_pipeline_error(text, p.error()).c_str());
        return EXIT_FAILURE;
    }
    auto src = (*p)->get<parallax::AppSrc>("in");
    if (!src || !(*p)->set_state(parallax::State::running)) {
        std::fprintf(stderr, "cannot start the plugin pipeline\n");
        return EXIT_FAILURE;
    }
    const std::string_view digits = "1234567890";
    auto buffer = (*src)->allocate(digits.size());
    if (!buffer) {
        std::fprintf(stderr, "appsrc gave no buffer: %s\n", buffer.error().to_string().c_str());
        return EXIT_FAILURE;
    }
    auto bytes = buffer->map_writable();
    if (!bytes) {
        std::fprintf(stderr, "cannot write the buffer: %s\n", bytes.error().to_string().c_str());
        return EXIT_FAILURE;
    }
    std::memcpy(bytes->data(), digits.data(), digits.size());
    if (!(*src)->push_buffer(std::move(*buffer))) {
        std::fprintf(stderr, "appsrc refused the buffer\n");
        return EXIT_FAILURE;
    }
    static_cast<void>((*src)->end_of_stream());
    int status = EXIT_FAILURE;
    while (auto m = (*p)->bus().pop(10s)) {
        if (m->type == parallax::MessageType::element && m->source == "sum") {
            std::printf("plugin element posted: %s\n", m->to_string().c_str());
            status = EXIT_SUCCESS;
        }
        if (m->type == parallax::MessageType::eos || m->type == parallax::MessageType::error) {
            if (m->type == parallax::MessageType::error) {
                std::fprintf(stderr, "%s\n", m->to_string().c_str());
                status = EXIT_FAILURE;
            }
            break;
        }
    }
    static_cast<void>((*p)->set_state(parallax::State::suspended));
    return status;
}

} // namespace

int main() {
    using namespace std::chrono_literals;
    if (std::getenv("PARALLAX_PLUGIN_PATH") != nullptr) {
        return run_plugin();
    }
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
