#pragma once

// fakesink: swallows buffers; optionally syncs on the clock, stops after a
// number of buffers, and hands each buffer to a C++ callback.

#include <parallax/element.hpp>

#include <functional>
#include <limits>
#include <mutex>

namespace parallax {

class PARALLAX_API FakeSink final : public SimpleSink {
public:
    static constexpr ElementInfo info{.factory = "fakesink",
                                      .klass = "Sink",
                                      .summary = "Black hole for data",
                                      .description = "Consumes every buffer; can sync on the clock, stop after "
                                                     "num-buffers, report each buffer, and call a C++ handoff."};

    /// Called for every buffer when signal-handoffs is true (GStreamer's
    /// "handoff" signal). Called from: streaming thread.
    using Handoff = std::function<void(const Buffer&, Pad&)>;
    void set_handoff(Handoff handoff);

protected:
    Result<void> start() override;
    Flow render(Buffer& buffer, SinkContext& ctx) override;
    bool sink_event(Pad& pad, Event&& event) override;
    /// Allocation: lists video_meta_api unless signal-handoffs is on (a
    /// handoff may read the bytes as the caps lay them out).
    bool query(Pad& pad, Query& q) override;

private:
    std::uint64_t count_ = 0;
    std::mutex handoff_mutex_;
    Handoff handoff_;

    Property<bool> sync_{this, "sync", false, "Sync on the clock", Mutability::running};
    Property<bool> silent_{this, "silent", true, "Don't produce last-message events", Mutability::running};
    Property<bool> dump_{this, "dump", false, "Dump buffer contents to the bus", Mutability::running};
    Property<std::int32_t> num_buffers_{this, "num-buffers", -1,
                                        "Number of buffers to accept before going EOS (-1 = unlimited)",
                                        {-1, std::numeric_limits<std::int32_t>::max()}};
    Property<bool> signal_handoffs_{this, "signal-handoffs", false, "Call the handoff callback for each buffer",
                                    Mutability::running};
};

} // namespace parallax
