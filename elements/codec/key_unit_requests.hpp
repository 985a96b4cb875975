#pragma once
// The force-key-unit requests a video encoder has taken and not yet answered,
// kept as GstVideoEncoder keeps them: a request comes as an upstream
// force-key-unit event on the src pad or a downstream one on the sink pad
// (both are consumed), the first frame at or after its running time is
// encoded as a key frame, and a downstream force-key-unit event goes out just
// ahead of that frame's buffer.

#include <parallax/buffer/clock_time.hpp>
#include <parallax/element/event.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace parallax {

/// One request, or several that fell due on the same frame merged.
struct KeyUnitRequest {
    ClockTime running_time; ///< None: the next frame.
    bool all_headers = false;
    std::uint32_t count = 0;
};

class KeyUnitRequests {
public:
    /// Takes the request an upstream or downstream force-key-unit event
    /// carries; false (and nothing taken) for any other event. Called from:
    /// any thread (upstream events come from downstream's threads).
    bool add(const Event& event);
    /// Queues `request` again: a frame it was given to gave no key frame
    /// (rate control dropped the frame), so the next frame answers it.
    void retry(KeyUnitRequest request);
    /// The requests due at a frame of running time `frame_running_time`
    /// (none: an untimed frame, at which every request is due), merged into
    /// one (all-headers when any asked, the latest count), and forgotten
    /// here; nullopt when none is due. Called from: streaming thread.
    std::optional<KeyUnitRequest> take_due(ClockTime frame_running_time);
    void clear();

    /// The downstream force-key-unit event that goes ahead of the key frame
    /// with `pts` answering `request`, its times taken in `segment`.
    static Event announcement(const KeyUnitRequest& request, ClockTime pts, const StreamSegment& segment);

private:
    // Upstream events arrive on other threads than the frames; the lock is
    // held only to copy a few entries, never across a push.
    std::mutex mutex_;
    std::vector<KeyUnitRequest> pending_;
};

} // namespace parallax
