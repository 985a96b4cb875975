// Live-mode tests of the muxers (oggmux, mp4mux): a muxer fed by appsrcs
// that the test pushes into (or leaves silent), its output collected from
// appsink "sink", and Opus packets to push. Timeouts only guard against
// hangs.
#pragma once

#include <parallax/codec/opus.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "integration/gst_compare_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace parallax::test {

inline constexpr std::chrono::seconds live_hang_guard{60};

// A mono Opus header with a pre-skip of 312 samples.
inline opus::Header live_opus_header() {
    opus::Header h;
    h.channels = 1;
    h.pre_skip = 312;
    h.input_sample_rate = 48000;
    h.stream_count = 1;
    h.coupled_count = 0;
    return h;
}

struct LiveRun {
    std::unique_ptr<Pipeline> pipeline;
    std::vector<AppSrc*> srcs;
    std::mutex mutex;
    std::vector<std::uint8_t> bytes;
    std::atomic<std::size_t> buffers{0};

    [[nodiscard]] std::vector<std::uint8_t> output() {
        std::lock_guard lock(mutex);
        return bytes;
    }
};

// Parses `text` (with "appsink name=sink" and the appsrcs named in
// `sources`, with their caps) and collects what the sink receives.
inline std::unique_ptr<LiveRun> live_run(const std::string& text,
                                         const std::vector<std::pair<std::string, Caps>>& sources) {
    auto r = std::make_unique<LiveRun>();
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << (p ? "" : p.error().to_string());
    if (!p) {
        return nullptr;
    }
    r->pipeline = std::move(*p);
    auto sink = r->pipeline->get<AppSink>("sink");
    EXPECT_TRUE(sink);
    if (!sink) {
        return nullptr;
    }
    LiveRun* raw = r.get();
    (*sink)->set_new_sample([raw](AppSink& s) {
        auto sample = s.pull_sample();
        if (!sample) {
            return;
        }
        const auto d = sample->buffer.data();
        const auto* b = reinterpret_cast<const std::uint8_t*>(d.data());
        std::lock_guard lock(raw->mutex);
        raw->bytes.insert(raw->bytes.end(), b, b + d.size());
        ++raw->buffers;
    });
    for (const auto& [name, caps] : sources) {
        auto src = r->pipeline->get<AppSrc>(name);
        EXPECT_TRUE(src) << name;
        if (!src) {
            return nullptr;
        }
        EXPECT_TRUE((*src)->set_caps(caps));
        r->srcs.push_back(*src);
    }
    return r;
}

// `mux` (named m, its output into "appsink name=sink") fed by two Opus
// appsrcs, "a" and "b", linked to m through `pad` ("m." or a template such
// as "m.audio_%u"); running.
inline std::unique_ptr<LiveRun> running_opus_pair(const std::string& mux, const std::string& pad) {
    auto r = live_run(mux + " ! appsink name=sink sync=false appsrc name=a format=time ! " + pad +
                          " appsrc name=b format=time ! " + pad,
                      {{"a", opus::caps_for(live_opus_header())}, {"b", opus::caps_for(live_opus_header())}});
    if (r) {
        EXPECT_TRUE(r->pipeline->set_state(State::running));
    }
    return r;
}

// Polls `done` until it holds or the hang guard runs out.
inline bool wait_for_output(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + live_hang_guard;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

// Ends every appsrc, waits for eos on the bus and stops the pipeline.
inline void end_live_run(LiveRun& r) {
    for (AppSrc* src : r.srcs) {
        ASSERT_TRUE(src->end_of_stream());
    }
    auto end = r.pipeline->bus().pop({MessageType::eos, MessageType::error}, live_hang_guard);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->type, MessageType::eos);
    EXPECT_TRUE(r.pipeline->set_state(State::idle));
}

// A 20 ms Opus packet (TOC 0xFC: CELT fullband, one frame) at `pts`; its
// second byte tells `i`.
inline Buffer live_opus_packet(AppSrc& src, std::uint64_t pts_ns, std::size_t i) {
    const std::uint8_t bytes[] = {0xFC, static_cast<std::uint8_t>(i), 0x5A, 0xA5};
    auto b = src.allocate(sizeof bytes).value();
    auto w = b.map_writable().value();
    std::memcpy(w.data(), bytes, sizeof bytes);
    b.meta().set_pts(ClockTime::from_ns(pts_ns));
    b.meta().set_duration(ClockTime::from_ns(20'000'000));
    return b;
}

// Pushes packets `first` to `first + count - 1` (20 ms apart from
// `start_ns`) into `src`.
inline void push_opus(AppSrc& src, std::uint64_t start_ns, std::size_t first, std::size_t count) {
    for (std::size_t i = first; i < first + count; ++i) {
        ASSERT_TRUE(src.push_buffer(live_opus_packet(src, start_ns + (i - first) * 20'000'000, i)));
    }
}

// What ffprobe reads in `file` (written as `name`): "codec,packets" per
// stream, one a line; nullopt without ffprobe; "" when ffprobe fails.
inline std::optional<std::string> probe_packets(const std::vector<std::uint8_t>& file, const std::string& name) {
    if (!check::run_program({"ffprobe", "-hide_banner", "-version"})) {
        return std::nullopt;
    }
    check::ScratchDir dir("MuxLive", name);
    const auto path = dir.path() / name;
    check::write_file(path, std::as_bytes(std::span(file)));
    std::string out;
    if (!check::run_program({"ffprobe", "-v", "error", "-count_packets", "-show_entries",
                             "stream=codec_name,nb_read_packets", "-of", "csv=p=0", path.string()},
                            &out)) {
        return std::string();
    }
    return out;
}

} // namespace parallax::test
