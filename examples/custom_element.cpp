// A custom element in about 20 lines, used in pipeline text and tested with
// the harness.
#include <parallax/check/harness.hpp>
#include <parallax/element.hpp>
#include <parallax/parallax.hpp>

#include <fmt/format.h>

#include <cstdlib>

// Inverts every byte (an 8-bit negative), or only every other one.
class Invert final : public parallax::SimpleTransform {
public:
    static constexpr parallax::ElementInfo info{
        .factory = "invert", .klass = "Filter/Effect", .summary = "Invert every byte"};

    parallax::Flow transform(parallax::Buffer& buf, parallax::TransformContext& ctx) override {
        auto bytes = buf.map_writable(); // copies only if the bytes are shared
        if (!bytes) {
            return ctx.error(bytes.error());
        }
        const std::size_t step = every_other_.get() ? 2 : 1;
        for (std::size_t i = 0; i < bytes->size(); i += step) {
            (*bytes)[i] = ~(*bytes)[i];
        }
        return parallax::Flow::ok;
    }

private:
    parallax::Property<bool> every_other_{this, "every-other", false, "Invert only every other byte"};
};
PARALLAX_REGISTER_ELEMENT(Invert);

int main() {
    using namespace std::chrono_literals;

    // In a pipeline, by its factory name.
    auto p = parallax::Pipeline::parse("fakesrc num-buffers=10 sizetype=fixed sizemax=16 filltype=zero ! invert ! "
                                       "fakesink");
    if (!p || !(*p)->run(10s)) {
        fmt::print(stderr, "the pipeline failed\n");
        return EXIT_FAILURE;
    }

    // Alone, in the harness: push a buffer, pull the result, check it.
    auto h = parallax::check::Harness::create("invert every-other=true");
    if (!h || !(*h)->start()) {
        fmt::print(stderr, "the harness failed\n");
        return EXIT_FAILURE;
    }
    (*h)->push((*h)->make_buffer(4, 0x0f).value());
    auto out = (*h)->pull();
    if (!out) {
        return EXIT_FAILURE;
    }
    const auto* b = reinterpret_cast<const unsigned char*>(out->data().data());
    fmt::print("inverted every other byte: {:02x} {:02x} {:02x} {:02x}\n", b[0], b[1], b[2], b[3]);
    return b[0] == 0xf0 && b[1] == 0x0f && b[2] == 0xf0 && b[3] == 0x0f ? EXIT_SUCCESS : EXIT_FAILURE;
}
