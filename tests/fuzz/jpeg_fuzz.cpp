// Fuzz target of jpegdec's input: arbitrary bytes go in as one buffer, then
// again cut in two at a place the input chooses (as filesrc pieces would
// fall), then EOS. Whatever the bytes, jpegdec must give frames, warnings
// or an error, never a crash; every frame it gives must be as large as its
// caps say.
//
// Needs jpegdec registered: the target links parallax::check and
// parallax::elements.
#include <parallax/check/harness.hpp>
#include <parallax/video/video_info.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>

namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

void run(std::span<const std::uint8_t> bytes, std::size_t cut) {
    auto h = parallax::check::Harness::create("jpegdec");
    if (!h) {
        std::fprintf(stderr, "jpeg_fuzz: jpegdec is not registered: %s\n", h.error().message().c_str());
        std::abort();
    }
    auto& harness = **h;
    check(static_cast<bool>(harness.set_input_caps(parallax::Caps::parse_static("image/jpeg"))));
    check(static_cast<bool>(harness.start()));
    bool failed = false;
    for (const auto piece : {bytes.first(cut), bytes.subspan(cut)}) {
        // Pieces after a failed one still go in: the element must pick up
        // again (or keep refusing) without looking at stale state.
        if (piece.empty()) {
            continue;
        }
        auto b = harness.make_buffer(std::as_bytes(piece));
        check(static_cast<bool>(b));
        failed = harness.push(std::move(*b)) != parallax::Flow::ok || failed;
    }
    harness.push_event(parallax::Event::eos());
    std::optional<parallax::VideoInfo> info;
    for (const parallax::Event& e : harness.take_events()) {
        if (const parallax::Caps* c = e.caps_value()) {
            auto vi = parallax::VideoInfo::from_caps(*c);
            check(static_cast<bool>(vi));
            info = *vi;
        }
    }
    while (harness.buffers_out() > 0) {
        auto out = harness.pull(std::chrono::seconds(1));
        if (!out) {
            break;
        }
        check(info.has_value() && out->size() >= info->size());
    }
    if (failed) {
        check(harness.error().has_value());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Images beyond a few megapixels only make the fuzzer slow.
    if (size > (std::size_t{1} << 20)) {
        return 0;
    }
    const std::span<const std::uint8_t> bytes(data, size);
    run(bytes, size);
    if (size > 1) {
        run(bytes, data[size - 1] % size);
    }
    return 0;
}
