// Two neighbours isolated together: audioconvert and volume run in one
// sandboxed worker process (adjacent isolated elements share one). The
// application sets volume's property while the stream runs, as it would in
// process: every buffer pushed after the call comes out at the new volume.
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/parallax.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

constexpr std::size_t samples = 480; // 10 ms at 48 kHz, mono

// Pushes one buffer of a square wave at half of full scale (S16).
bool push_square(parallax::AppSrc& src) {
    auto buffer = src.allocate(samples * sizeof(std::int16_t));
    if (!buffer) {
        return false;
    }
    auto bytes = buffer->map_writable();
    if (!bytes) {
        return false;
    }
    for (std::size_t i = 0; i < samples; ++i) {
        const std::int16_t v = (i / 24) % 2 == 0 ? 16384 : -16384;
        std::memcpy(bytes->data() + i * sizeof v, &v, sizeof v);
    }
    return static_cast<bool>(src.push_buffer(std::move(*buffer)));
}

// The largest magnitude of one F32 buffer that came out.
float peak_of(parallax::AppSink& sink) {
    auto sample = sink.try_pull_sample(std::chrono::seconds(10));
    if (!sample) {
        return -1.0F;
    }
    float peak = 0.0F;
    const auto data = sample->buffer.data();
    for (std::size_t at = 0; at + sizeof(float) <= data.size(); at += sizeof(float)) {
        float v = 0.0F;
        std::memcpy(&v, data.data() + at, sizeof v);
        peak = std::max(peak, std::abs(v));
    }
    return peak;
}

} // namespace

int main() {
    const char* text = "appsrc name=src caps=audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved ! "
                       "audioconvert name=convert ! volume name=vol ! audio/x-raw,format=F32LE ! "
                       "appsink name=out sync=false";
    auto parsed = parallax::Pipeline::parse(text);
    if (!parsed) {
        fmt::print(stderr, "{}\n", parallax::format_pipeline_error(text, parsed.error()));
        return EXIT_FAILURE;
    }
    auto& pipeline = *parsed;
    pipeline->scheduling().strategies.isolate = {"convert", "vol"};
    if (auto ok = pipeline->set_state(parallax::State::running); !ok) {
        fmt::print(stderr, "error: {}\n", ok.error().to_string());
        return EXIT_FAILURE;
    }
    // The plan shows both elements in one worker process.
    fmt::print("{}", pipeline->plan());

    auto* src = *pipeline->get<parallax::AppSrc>("src");
    auto* sink = *pipeline->get<parallax::AppSink>("out");
    parallax::Element* vol = pipeline->find("vol");
    bool as_expected = true;
    for (const double volume : {1.0, 0.25}) {
        // A property of an element in a worker, set while the stream runs.
        if (auto ok = vol->set_property("volume", fmt::format("{}", volume)); !ok) {
            fmt::print(stderr, "error: {}\n", ok.error().to_string());
            return EXIT_FAILURE;
        }
        for (int i = 0; i < 5; ++i) {
            if (!push_square(*src)) {
                fmt::print(stderr, "error: the pipeline refused a buffer\n");
                return EXIT_FAILURE;
            }
            const float peak = peak_of(*sink);
            fmt::print("volume {:.2f}: buffer peak {:.4f}\n", volume, peak);
            as_expected = as_expected && std::abs(peak - static_cast<float>(0.5 * volume)) < 1e-3F;
        }
    }
    static_cast<void>(pipeline->set_state(parallax::State::suspended));
    fmt::print("{}\n", as_expected ? "every buffer came out at the volume set before it was pushed"
                                   : "a buffer came out at the wrong volume");
    return as_expected ? EXIT_SUCCESS : EXIT_FAILURE;
}
