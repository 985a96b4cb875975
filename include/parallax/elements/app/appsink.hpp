#pragma once

// appsink: the way an application takes buffers out of a pipeline
// (GStreamer's appsink). The streaming thread queues samples; the
// application pulls them from any thread, or is called for each.

#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace parallax {

/// One unit out of an AppSink: a buffer and the caps in force when it
/// arrived (GstSample without the segment).
struct Sample {
    Buffer buffer;
    Caps caps;
};

/// Hands the buffers that reach it to the application.
///
/// Get it with `pipeline->get<AppSink>("sink")`, then pull samples from any
/// thread, or set a new-sample callback. Pulling waits for the pipeline to
/// start; stopping the pipeline drops what is still queued, makes waiting
/// pulls return, and makes pulls fail with Errc::state until the next start
/// (GStreamer's appsink returns NULL then).
///
/// With max-buffers set, a full queue blocks the streaming thread until the
/// application pulls, or, with drop=true, drops the oldest sample instead.
class PARALLAX_API AppSink final : public SimpleSink {
public:
    static constexpr ElementInfo info{.factory = "appsink",
                                      .klass = "Generic/Sink",
                                      .summary = "Allow the application to get access to raw buffer",
                                      .description = "Queues every buffer that reaches it, with its caps, for the "
                                                     "application to pull through its C++ API or to take in a "
                                                     "callback."};

    /// Called after each sample is queued; it usually pulls it. Called from:
    /// streaming thread.
    using NewSample = std::function<void(AppSink&)>;
    /// Called once the stream ended (after the queue drained, with
    /// wait-on-eos). Called from: streaming thread.
    using EosCallback = std::function<void(AppSink&)>;

    AppSink();
    ~AppSink() override;

    /// The next sample, waiting for one. Errors: Errc::closed at end of
    /// stream when nothing is left, Errc::state when the pipeline is stopping
    /// or was stopped. **Ownership:** the sample is the caller's. Called
    /// from: any thread but the streaming thread (except in the new-sample
    /// callback, where a sample is waiting).
    Result<Sample> pull_sample();
    /// Like pull_sample(), but waits at most `timeout` (zero: does not wait);
    /// then Errc::timeout.
    Result<Sample> try_pull_sample(std::chrono::nanoseconds timeout);
    /// True when nothing is queued and nothing more will come: the stream
    /// ended, or the pipeline stopped. Called from: any thread.
    [[nodiscard]] bool is_eos() const;

    /// Sets the caps property: what the sink pad accepts.
    Result<void> set_caps(Caps caps) { return caps_.set(std::move(caps)); }
    [[nodiscard]] Caps caps() const { return caps_.get(); }

    /// Sets or clears (empty function) the callbacks. Called from: any
    /// thread; a callback may run once more after it was replaced.
    void set_new_sample(NewSample callback);
    void set_eos(EosCallback callback);

    /// Samples waiting to be pulled.
    [[nodiscard]] std::size_t queued() const;
    /// Samples dropped by drop=true since the element was made.
    [[nodiscard]] std::uint64_t dropped() const;

    /// Negotiation: the caps property (ANY when unset) narrows the pad.
    [[nodiscard]] Caps allowed_caps(const Pad& pad) const override {
        const Caps c = caps_.get();
        return c.is_empty() ? pad.pad_template().caps : intersect(pad.pad_template().caps, c);
    }
    void unblock() override;

protected:
    Result<void> start() override;
    Result<void> stop() override;
    Flow render(Buffer& buffer, SinkContext& ctx) override;
    bool sink_event(Pad& pad, Event&& event) override;
    bool query(Pad& pad, Query& query) override;
    void property_changed(const PropertyBase& property) override;

private:
    Result<Sample> pull(std::optional<std::chrono::steady_clock::time_point> deadline);
    [[nodiscard]] bool full_locked() const;

    mutable std::mutex mutex_;
    std::condition_variable sample_cv_; // Pullers wait for samples.
    std::condition_variable room_cv_;   // The streaming thread waits for room, or for the drain at eos.
    std::deque<Sample> queue_;
    std::uint64_t dropped_ = 0;
    bool flushing_ = false;
    bool eos_ = false;

    // Streaming thread only.
    Caps current_caps_;
    bool caps_refused_ = false;

    std::mutex callbacks_mutex_;
    std::shared_ptr<const NewSample> new_sample_;
    std::shared_ptr<const EosCallback> eos_callback_;

    Property<Caps> caps_{this, "caps", Caps::any(), "The allowed caps for the sink pad", Mutability::running};
    Property<std::uint32_t> max_buffers_{this,
                                         "max-buffers",
                                         0,
                                         "The maximum number of buffers to queue internally (0 = unlimited)",
                                         PropertyRange<std::uint32_t>(),
                                         Mutability::running};
    Property<bool> drop_{this, "drop", false, "Drop old buffers when the buffer queue is filled", Mutability::running};
    Property<bool> sync_{this, "sync", true, "Sync on the clock", Mutability::running};
    Property<bool> wait_on_eos_{this, "wait-on-eos", true,
                                "Wait for all buffers to be processed after receiving an EOS", Mutability::running};
};

} // namespace parallax
