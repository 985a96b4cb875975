#include "codec/key_unit_requests.hpp"

#include <algorithm>

namespace parallax {

bool KeyUnitRequests::add(const Event& event) {
    KeyUnitRequest r;
    if (const auto* up = event.upstream_force_key_unit_value()) {
        r = {up->running_time, up->all_headers, up->count};
    } else if (const auto* down = event.downstream_force_key_unit_value()) {
        // As GstVideoEncoder: the running time it names is the one asked for.
        r = {down->running_time, down->all_headers, down->count};
    } else {
        return false;
    }
    const std::lock_guard lock(mutex_);
    pending_.push_back(r);
    return true;
}

void KeyUnitRequests::retry(KeyUnitRequest request) {
    request.running_time = ClockTime::none();
    const std::lock_guard lock(mutex_);
    pending_.push_back(request);
}

std::optional<KeyUnitRequest> KeyUnitRequests::take_due(ClockTime frame_running_time) {
    const std::lock_guard lock(mutex_);
    std::optional<KeyUnitRequest> due;
    auto is_due = [&](const KeyUnitRequest& r) {
        return r.running_time.is_none() || frame_running_time.is_none() ||
               r.running_time.ns() <= frame_running_time.ns();
    };
    for (const KeyUnitRequest& r : pending_) {
        if (!is_due(r)) {
            continue;
        }
        if (!due) {
            due = r;
        } else {
            due->all_headers = due->all_headers || r.all_headers;
            due->count = r.count;
        }
    }
    if (due) {
        std::erase_if(pending_, is_due);
    }
    return due;
}

void KeyUnitRequests::clear() {
    const std::lock_guard lock(mutex_);
    pending_.clear();
}

Event KeyUnitRequests::announcement(const KeyUnitRequest& request, ClockTime pts, const StreamSegment& segment) {
    DownstreamForceKeyUnit k;
    k.timestamp = pts;
    k.running_time = segment.to_running_time(pts);
    // Stream time as gst_segment_to_stream_time() gives it for a positive
    // applied rate: none outside the segment.
    if (k.running_time.is_valid()) {
        k.stream_time = ClockTime::from_ns(pts.ns() - segment.start + segment.time);
    }
    k.all_headers = request.all_headers;
    k.count = request.count;
    return Event::downstream_force_key_unit(k);
}

} // namespace parallax
