// Fuzz target of pngdec: arbitrary bytes, cut into two buffers at a place
// the first byte chooses, then EOS. They must give frames or an error naming
// the element, never a crash; no frame may come out before its caps.
#include <parallax/check/harness.hpp>
#include <parallax/video/video_info.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>

namespace {

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace parallax;
    auto harness = check::Harness::create("pngdec");
    require(harness.has_value());
    check::Harness& h = **harness;
    require(h.start().has_value());
    require(h.set_input_caps(Caps::parse("image/png, framerate=25/1").value()).has_value());

    const auto bytes = std::as_bytes(std::span(data, size));
    const std::size_t cut = size == 0 ? 0 : std::min<std::size_t>(data[0] * 7U, size);
    bool ok = true;
    for (const auto part : {bytes.first(cut), bytes.subspan(cut)}) {
        if (!part.empty() && ok) {
            ok = h.push(h.make_buffer(part).value()) == Flow::ok;
        }
    }
    if (ok) {
        h.push_event(Event::eos());
    }

    std::optional<VideoInfo> info;
    for (const Event& e : h.take_events()) {
        if (const Caps* caps = e.caps_value()) {
            auto vi = VideoInfo::from_caps(*caps);
            require(vi.has_value());
            info = *vi;
        }
    }
    while (auto frame = h.pull(std::chrono::nanoseconds(0))) {
        // No frame goes out before caps that describe it.
        require(info.has_value());
        require(frame->size() > 0);
    }
    if (auto error = h.error()) {
        require(error->to_string().find("pngdec") != std::string::npos);
    }
    require(h.stop().has_value());
    return 0;
}
