#pragma once

// Runs a libparallax pipeline that ends in `appsink name=sink` (and may
// start with `appsrc name=src`, fed with given buffers) to the end of its
// stream, and keeps what reached the sink; with the small conversions
// between values, bytes and files that such tests need. Header-only; used by
// the audio element tests, the comparison with GStreamer and
// benches/compare/audio_compare_bench.cpp.

#include <parallax/audio/audio_info.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "audio_analysis.hpp"
#include "../support/files.hpp"

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace parallax::check {

/// One buffer to push through `appsrc name=src`.
struct AudioInput {
    std::vector<std::byte> bytes;
    ClockTime pts;
    ClockTime duration;
    BufferFlags flags = BufferFlags::none;
    /// New caps for this buffer and those after it.
    std::optional<Caps> caps;
};

struct AudioRun {
    std::vector<Sample> samples;
    NegotiationReport negotiation;
    /// Every sample's bytes, one after the other.
    [[nodiscard]] std::vector<std::byte> bytes() const {
        std::vector<std::byte> out;
        for (const Sample& s : samples) {
            out.insert(out.end(), s.buffer.data().begin(), s.buffer.data().end());
        }
        return out;
    }
    [[nodiscard]] Caps caps() const { return samples.empty() ? Caps() : samples.back().caps; }
};

/// Channel `channel` of everything `run` produced, as doubles (full scale
/// +-1), read with the run's last caps; empty when those are not raw audio.
inline std::vector<double> channel_of(const AudioRun& run, std::size_t channel = 0) {
    const auto info = AudioInfo::from_caps(run.caps());
    if (!info) {
        return {};
    }
    std::vector<double> out;
    for (const Sample& s : run.samples) {
        auto v = decode_channel(info->format(), info->channels(), info->layout() == AudioLayout::non_interleaved,
                                s.buffer.data(), channel);
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

/// Runs `text` to eos. With `inputs`, the pipeline must have `appsrc
/// name=src` (give it format=time block=true); they are pushed in order,
/// then end-of-stream. Fails with the pipeline's error.
inline Result<AudioRun> run_audio(const std::string& text, const std::vector<AudioInput>& inputs = {},
                                  std::chrono::seconds timeout = std::chrono::seconds(60)) {
    auto parsed = Pipeline::parse(text);
    if (!parsed) {
        return fail(parsed.error());
    }
    Pipeline& p = **parsed;
    auto sink = p.get<AppSink>("sink");
    if (!sink) {
        return fail(sink.error());
    }
    AudioRun run;
    std::mutex mutex;
    (*sink)->set_new_sample([&](AppSink& s) {
        if (auto sample = s.try_pull_sample(std::chrono::nanoseconds(0))) {
            std::lock_guard lock(mutex);
            run.samples.push_back(std::move(*sample));
        }
    });
    if (inputs.empty()) {
        if (auto ok = p.run(timeout); !ok) {
            return fail(ok.error());
        }
        run.negotiation = p.negotiation();
        return run;
    }
    auto src = p.get<AppSrc>("src");
    if (!src) {
        return fail(src.error());
    }
    if (auto ok = p.set_state(State::running); !ok) {
        return fail(ok.error());
    }
    run.negotiation = p.negotiation();
    // A push refused because the pipeline stopped on an error: that error.
    const auto refused = [&](Error e) -> Result<AudioRun> {
        auto m = p.bus().pop({MessageType::error}, std::chrono::seconds(5));
        static_cast<void>(p.set_state(State::idle));
        if (m) {
            return fail(Errc::failed, m->to_string());
        }
        return fail(std::move(e));
    };
    for (const AudioInput& in : inputs) {
        if (in.caps) {
            if (auto ok = (*src)->set_caps(*in.caps); !ok) {
                return refused(ok.error());
            }
        }
        auto b = (*src)->allocate(in.bytes.size());
        if (!b) {
            return refused(b.error());
        }
        if (!in.bytes.empty()) {
            auto w = b->map_writable();
            if (!w) {
                return refused(w.error());
            }
            std::memcpy(w->data(), in.bytes.data(), in.bytes.size());
        }
        b->meta().set_pts(in.pts);
        b->meta().set_duration(in.duration);
        b->meta().set_flags(in.flags);
        if (auto ok = (*src)->push_buffer(std::move(*b)); !ok) {
            return refused(ok.error());
        }
    }
    if (auto ok = (*src)->end_of_stream(); !ok) {
        return refused(ok.error());
    }
    auto m = p.bus().pop({MessageType::eos, MessageType::error}, timeout);
    static_cast<void>(p.set_state(State::idle));
    if (!m) {
        return fail(Errc::timeout, "the pipeline did not reach eos: " + text);
    }
    if (m->type == MessageType::error) {
        return fail(Errc::failed, m->to_string());
    }
    std::lock_guard lock(mutex);
    return run;
}

/// The bytes of `values`, as they lie in memory.
template <class T>
std::vector<std::byte> bytes_of(const std::vector<T>& values) {
    std::vector<std::byte> out(values.size() * sizeof(T));
    std::memcpy(out.data(), values.data(), out.size());
    return out;
}

/// `bytes` read as values of T (a trailing part of a value is left out).
template <class T>
std::vector<T> values_of(std::span<const std::byte> bytes) {
    std::vector<T> out(bytes.size() / sizeof(T));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
    return out;
}

/// `values` (full scale +-1) as bytes of F32LE.
inline std::vector<std::byte> f32_bytes(const std::vector<double>& values) {
    return bytes_of(std::vector<float>(values.begin(), values.end()));
}

} // namespace parallax::check
