#pragma once

/// \file
/// SimpleSource, SimpleTransform, SimpleSink: one function each, for the
/// common single-pad cases.

#include <parallax/base/export.hpp>
#include <parallax/element/element.hpp>

#include <atomic>
#include <mutex>
#include <vector>

namespace parallax {

/// A source with one src pad ("src"). Implement create(); the base runs it
/// on a streaming task, sends stream-start, caps (when the src template's
/// caps are fixed, or output_caps() says so) and segment before the first
/// buffer, and eos after the last.
class PARALLAX_API SimpleSource : public Element {
public:
    [[nodiscard]] Pad& src_pad() const noexcept { return *src_; }
    void request_eos() override { eos_requested_.store(true, std::memory_order_release); }
    /// Downstream events wait for the streaming thread, which sends them
    /// ahead of the next buffer (after stream-start, caps and segment when
    /// nothing was sent yet); upstream ones go out as Element::send_event().
    bool send_event(Event event) override;

protected:
    /// Produces the next buffer into `out`. Return ok to push it, eos when
    /// there is nothing more, or ctx.error(...). Called from: streaming
    /// thread.
    virtual Flow create(Buffer& out, SourceContext& ctx) = 0;
    /// The caps announced before the first buffer; the default is what
    /// negotiation fixed for the src pad, else the src template's caps when
    /// fixed, else nothing (EMPTY).
    [[nodiscard]] virtual Caps output_caps() const;
    /// The segment announced before the first buffer; the default is an
    /// open-ended time segment from zero. Byte-stream sources return one in
    /// Format::bytes (GStreamer's basesrc format). Called from: streaming
    /// thread.
    [[nodiscard]] virtual StreamSegment output_segment() const { return StreamSegment{}; }

    void init() override;
    Result<void> start() override;
    /// Subclasses that override start() call SimpleSource::start() last.

private:
    Flow step();

    Pad* src_ = nullptr;
    bool started_ = false;
    std::uint64_t negotiations_seen_ = 0; // the src pad's negotiation_count() last seen
    std::atomic<bool> eos_requested_{false};
    std::atomic<bool> events_waiting_{false}; // sent_events_ holds some
    std::mutex sent_events_mutex_;
    std::vector<Event> sent_events_; // guarded by sent_events_mutex_
};

/// A filter with one sink pad ("sink") and one src pad ("src"). Implement
/// transform(): it may change the buffer in place (map_writable() copies
/// only if the bytes are shared) or replace it; return ok to push it on,
/// dropped to consume it without output. Events and queries pass through,
/// except caps events, which go through set_caps(): a converter states
/// what it can change in transform_caps(), learns its input and output
/// caps in set_caps(), and with passthrough_when_equal() lets buffers
/// through untouched when there is nothing to convert.
class PARALLAX_API SimpleTransform : public Element {
public:
    [[nodiscard]] Pad& sink_pad() const noexcept { return *sink_; }
    [[nodiscard]] Pad& src_pad() const noexcept { return *src_; }

    /// The caps of the stream in and out, as last set by a caps event (EMPTY
    /// before the first). Called from: streaming thread.
    [[nodiscard]] const Caps& input_caps() const noexcept { return in_caps_; }
    [[nodiscard]] const Caps& output_caps() const noexcept { return out_caps_; }

protected:
    /// Called from: streaming thread.
    virtual Flow transform(Buffer& buffer, TransformContext& ctx) = 0;
    /// The stream's caps changed (a caps event on the sink pad): `in` are
    /// the new input caps, `out` the output caps chosen for them (what
    /// negotiation fixed for the src pad when it fits `in`, otherwise
    /// fixate_caps() of what transform_caps() allows). Configure the
    /// conversion here; an error refuses the caps (the stream fails with
    /// not-negotiated, naming the element). The caps event sent downstream
    /// carries `out`. The default accepts. Called from: streaming thread.
    virtual Result<void> set_caps(const Caps& in, const Caps& out);
    /// True for converters whose output equals their input when the caps
    /// in and out are equal: buffers then go on untouched (the same slot,
    /// no copy) and transform() is not called. Default false.
    [[nodiscard]] virtual bool passthrough_when_equal() const noexcept { return false; }
    /// True when buffers of caps `in` would pass untouched: the output
    /// chosen for them equals them and passthrough_when_equal() holds.
    /// Called from: any thread.
    [[nodiscard]] bool passes_untouched(const Caps& in) const;
    /// True while buffers pass untouched (see passthrough_when_equal()).
    [[nodiscard]] bool is_passthrough() const noexcept { return passthrough_.load(std::memory_order_relaxed); }

    void init() override;
    Flow chain(Pad& pad, Buffer&& buffer) override;
    /// Caps events go through set_caps(); everything else is forwarded.
    bool sink_event(Pad& pad, Event&& event) override;
    /// An allocation query for caps that this element would pass untouched
    /// (passes_untouched()) goes downstream; otherwise as Element::query.
    bool query(Pad& pad, Query& q) override;

private:
    [[nodiscard]] Caps choose_output(const Caps& in) const;

    Pad* sink_ = nullptr;
    Pad* src_ = nullptr;
    Caps in_caps_;
    Caps out_caps_;
    std::atomic<bool> passthrough_{false}; // read by queries from other threads
};

/// A sink with one sink pad ("sink"). Implement render(); eos is reported to
/// the pipeline by the base.
class PARALLAX_API SimpleSink : public Element {
public:
    [[nodiscard]] Pad& sink_pad() const noexcept { return *sink_; }

protected:
    /// Consumes one buffer. **Ownership:** the sink may move the buffer away
    /// to keep it. Called from: streaming thread.
    virtual Flow render(Buffer& buffer, SinkContext& ctx) = 0;

    /// Waits until the buffer's running time (its pts in the current
    /// segment) is reached on the pipeline clock; ok at once for buffers
    /// without pts and in segments of a format other than time (as
    /// GStreamer's basesink). flushing when interrupted.
    Flow wait_for_buffer_time(const Buffer& buffer);
    /// The segment of the last segment event.
    [[nodiscard]] const StreamSegment& segment() const noexcept { return segment_; }

    void init() override;
    Flow chain(Pad& pad, Buffer&& buffer) override;
    bool sink_event(Pad& pad, Event&& event) override;

private:
    Pad* sink_ = nullptr;
    StreamSegment segment_;
};

} // namespace parallax
