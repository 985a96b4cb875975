// KLV into MPEG-TS: two seconds of H.264 test video with one MISB ST 0601
// local set per frame (a platform flying a slow turn), muxed into a
// transport stream as synchronous metadata (ST 1402), then read back with
// tsdemux and decoded to the same values.
//
// Writing, in gst-launch text (the KLV comes from the program through
// appsrc):
//
//   appsrc name=klv caps=meta/x-klv,parsed=true format=time ! mpegtsmux name=m
//       ! filesink location=<file>
//   m.sink_257
//   videotestsrc num-buffers=50 ! video/x-raw,framerate=25/1 ! openh264enc
//       ! h264parse ! m.sink_256
//
// (the pad names put the video on PID 256 = 0x100 and the KLV on 0x101).
// Reading, tsdemux's pads are named by program and PID:
//
//   filesrc location=<file> ! tsdemux name=d
//       d.video_0_0100 ! queue ! fakesink
//       d.private_0_0101 ! queue ! appsink name=klv
//
// Any player that reads KLV from TS (ffmpeg: `ffmpeg -i <file> -map 0:d -c
// copy -f data out.klv`) gets the same bytes. The program prints what it
// wrote and read, and removes the file.
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/klv/uas_local_set.hpp>
#include <parallax/parallax.hpp>

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;

constexpr int frames = 50;
constexpr std::uint64_t frame_ns = 40'000'000; // 25 fps

int report(const parallax::Error& e) {
    fmt::print(stderr, "error: {}\n", e.to_string());
    return EXIT_FAILURE;
}

// The local set of frame i: time, heading turning 2 degrees a frame, a gentle
// pitch and roll, a position moving north-east.
parallax::Result<std::vector<std::uint8_t>> local_set(int i) {
    parallax::klv::UasLocalSet set;
    const double t = i * 0.04;
    const std::uint64_t unix_us = 1'767'225'600'000'000ULL + static_cast<std::uint64_t>(i) * frame_ns / 1000;
    for (auto r : {set.set_integer(parallax::klv::Tag::precision_time_stamp, unix_us), set.set_mission_id("PLX-DEMO"),
                   set.set_platform_heading(std::fmod(90.0 + 2.0 * i, 360.0)),
                   set.set_platform_pitch(5.0 * std::sin(t)), set.set_platform_roll(-15.0 + 0.5 * i),
                   set.set_sensor_latitude(48.8566 + 0.0001 * i), set.set_sensor_longitude(2.3522 + 0.0001 * i)}) {
        if (!r) {
            return parallax::fail(r.error());
        }
    }
    return set.encode();
}

} // namespace

int main() {
    namespace fs = std::filesystem;
    const fs::path file = fs::temp_directory_path() / fmt::format("plx-klv-{}.ts", ::getpid());

    // Write.
    auto writer = parallax::Pipeline::parse(fmt::format(
        "appsrc name=klv caps=meta/x-klv,parsed=true format=time ! m.sink_257 mpegtsmux name=m ! filesink location={} "
        "videotestsrc num-buffers={} ! video/x-raw,width=320,height=240,framerate=25/1 ! openh264enc ! h264parse ! "
        "m.sink_256",
        file.string(), frames));
    if (!writer) {
        return report(writer.error());
    }
    auto src = (*writer)->get<parallax::AppSrc>("klv");
    if (!src) {
        return report(src.error());
    }
    for (int i = 0; i < frames; ++i) {
        auto bytes = local_set(i);
        if (!bytes) {
            return report(bytes.error());
        }
        auto buffer = (*src)->allocate(bytes->size());
        if (!buffer) {
            return report(buffer.error());
        }
        auto map = buffer->map_writable();
        if (!map) {
            return report(map.error());
        }
        std::memcpy(map->data(), bytes->data(), bytes->size());
        // The pts ties the metadata to the frame shown at the same time.
        buffer->meta().set_pts(parallax::ClockTime::from_ns(static_cast<std::uint64_t>(i) * frame_ns));
        if (auto ok = (*src)->push_buffer(std::move(*buffer)); !ok) {
            return report(ok.error());
        }
    }
    if (auto ok = (*src)->end_of_stream(); !ok) {
        return report(ok.error());
    }
    if (auto ok = (*writer)->run(60s); !ok) {
        return report(ok.error());
    }
    fmt::print("wrote {} ({} bytes): H.264 320x240, {} KLV local sets\n", file.string(), fs::file_size(file), frames);

    // Read back.
    auto reader = parallax::Pipeline::parse(fmt::format("filesrc location={} ! tsdemux name=d d.video_0_0100 ! queue ! "
                                                        "fakesink d.private_0_0101 ! queue ! appsink name=klv "
                                                        "sync=false",
                                                        file.string()));
    if (!reader) {
        return report(reader.error());
    }
    auto sink = (*reader)->get<parallax::AppSink>("klv");
    if (!sink) {
        return report(sink.error());
    }
    int read = 0;
    int matching = 0;
    (*sink)->set_new_sample([&](parallax::AppSink& s) {
        auto sample = s.pull_sample();
        if (!sample) {
            return;
        }
        const auto data = sample->buffer.data();
        auto set = parallax::klv::UasLocalSet::parse(
            std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
        if (!set) {
            fmt::print(stderr, "KLV packet {}: {}\n", read, set.error().message());
            ++read;
            return;
        }
        const auto expected = local_set(read);
        const auto again = set->encode();
        if (expected && again && *expected == *again) {
            ++matching;
        }
        if (read % 10 == 0) {
            fmt::print("  t={:5.2f} s  heading {:6.2f}  pitch {:5.2f}  roll {:6.2f}  lat {:.4f}  lon {:.4f}\n",
                       static_cast<double>(sample->buffer.meta().pts().ns()) / 1e9,
                       set->platform_heading().value_or(NAN), set->platform_pitch().value_or(NAN),
                       set->platform_roll().value_or(NAN), set->sensor_latitude().value_or(NAN),
                       set->sensor_longitude().value_or(NAN));
        }
        ++read;
    });
    if (auto ok = (*reader)->run(60s); !ok) {
        return report(ok.error());
    }
    std::error_code ignored;
    fs::remove(file, ignored);
    fmt::print("read {} KLV local sets back, {} identical to what was written\n", read, matching);
    return read == frames && matching == frames ? EXIT_SUCCESS : EXIT_FAILURE;
}
