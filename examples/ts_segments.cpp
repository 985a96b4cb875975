// Transport stream segments, as an HLS segmenter cuts them: three seconds of
// live test video encoded to H.264, muxed into MPEG-TS and written to a new
// file at each key unit the application asks for. In gst-launch text the
// pipeline reads
//
//   videotestsrc is-live=true num-buffers=90
//       ! video/x-raw,width=320,height=240,framerate=30/1
//       ! openh264enc gop-size=1000 ! mpegtsmux
//       ! multifilesink next-file=key-unit-event location=<dir>/seg%02d.ts
//
// The application asks for key units at 1 s and 2 s of running time with
// Pipeline::send_event(): the request goes from the sink upstream through
// mpegtsmux to the encoder, which makes that frame a key frame; mpegtsmux
// writes the PAT and PMT again in front of it and multifilesink starts a new
// file there, so each segment plays on its own. The program prints the
// segments it wrote, then removes them.
#include <parallax/parallax.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <unistd.h>

namespace {

int report(const parallax::Error& e) {
    fmt::print(stderr, "error: {}\n", e.to_string());
    return EXIT_FAILURE;
}

// True when `file` starts with a transport stream packet of the PAT (PID 0).
bool starts_with_pat(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::array<unsigned char, 3> head{};
    in.read(reinterpret_cast<char*>(head.data()), head.size());
    return in && head[0] == 0x47 && (((head[1] & 0x1FU) << 8) | head[2]) == 0;
}

} // namespace

int main() {
    using namespace std::chrono_literals;
    namespace fs = std::filesystem;

    const fs::path dir = fs::temp_directory_path() / fmt::format("plx-ts-segments-{}", ::getpid());
    fs::create_directories(dir);

    const std::string text = fmt::format("videotestsrc is-live=true num-buffers=90 "
                                         "! video/x-raw,width=320,height=240,framerate=30/1 "
                                         "! openh264enc gop-size=1000 ! mpegtsmux "
                                         "! multifilesink next-file=key-unit-event location={}/seg%02d.ts",
                                         dir.string());
    auto pipeline = parallax::Pipeline::parse(text);
    if (!pipeline) {
        fmt::print(stderr, "{}\n", parallax::format_pipeline_error(text, pipeline.error()));
        return EXIT_FAILURE;
    }
    auto& p = **pipeline;
    if (auto ok = p.set_state(parallax::State::running); !ok) {
        return report(ok.error());
    }
    // Requests by running time: the frames at 1 s and 2 s become key frames.
    // A request without a running time would mean "the next frame".
    for (std::uint32_t second = 1; second <= 2; ++second) {
        parallax::UpstreamForceKeyUnit request;
        request.running_time = parallax::ClockTime::from_s(second);
        request.count = second;
        if (!p.send_event(parallax::Event::upstream_force_key_unit(request))) {
            fmt::print(stderr, "error: nobody took the key unit request for {} s\n", second);
        }
    }
    auto end = p.bus().pop({parallax::MessageType::eos, parallax::MessageType::error}, 30s);
    static_cast<void>(p.set_state(parallax::State::idle));
    if (!end) {
        fmt::print(stderr, "error: the stream did not end\n");
        return EXIT_FAILURE;
    }
    if (end->type == parallax::MessageType::error) {
        fmt::print(stderr, "error: {}\n", end->to_string());
        return EXIT_FAILURE;
    }

    int good = 0;
    for (int i = 0; i < 3; ++i) {
        const fs::path file = dir / fmt::format("seg{:02}.ts", i);
        std::error_code ec;
        const auto size = fs::file_size(file, ec);
        if (ec) {
            fmt::print(stderr, "error: {} is missing: {}\n", file.string(), ec.message());
            continue;
        }
        const bool pat = starts_with_pat(file);
        fmt::print("{} ({} bytes{})\n", file.string(), size, pat ? ", starts with the PAT" : "");
        good += pat ? 1 : 0;
    }
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return good == 3 ? EXIT_SUCCESS : EXIT_FAILURE;
}
