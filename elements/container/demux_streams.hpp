#pragma once

// Private to the demuxers: what every demuxer does with the src pads of
// its streams.

#include <parallax/element.hpp>

#include <string>
#include <utility>

namespace parallax::detail {

/// Sends what a stream's pad carries before its first buffer: its stream
/// id, its caps and a time segment from 0.
inline void start_stream(Pad& pad, std::string stream_id, Caps caps) {
    pad.push_event(Event::stream_start(std::move(stream_id)));
    pad.push_event(Event::caps(std::move(caps)));
    pad.push_event(Event::segment(StreamSegment{}));
}

/// GStreamer's flow combination of a demuxer's streams: give it the last
/// flow of each stream that has a pad. ok while any stream takes data (or
/// there is none); not-linked or eos only when every stream says so.
class FlowCombiner {
public:
    void add(Flow last) noexcept {
        any_ = true;
        all_not_linked_ = all_not_linked_ && last == Flow::not_linked;
        all_eos_ = all_eos_ && last == Flow::eos;
    }

    [[nodiscard]] Flow result() const noexcept {
        if (!any_) {
            return Flow::ok;
        }
        if (all_not_linked_) {
            return Flow::not_linked;
        }
        if (all_eos_) {
            return Flow::eos;
        }
        return Flow::ok;
    }

private:
    bool any_ = false;
    bool all_not_linked_ = true;
    bool all_eos_ = true;
};

} // namespace parallax::detail
