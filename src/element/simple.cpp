#include <parallax/element/simple.hpp>

#include <fmt/format.h>

namespace parallax {

// SimpleSource

void SimpleSource::init() {
    src_ = pad("src");
}

Caps SimpleSource::output_caps() const {
    if (Caps negotiated = src_->negotiated_caps(); negotiated.is_fixed()) {
        return negotiated;
    }
    const Caps& c = src_->pad_template().caps;
    return c.is_fixed() ? c : Caps();
}

Result<void> SimpleSource::start() {
    started_ = false;
    eos_requested_.store(false, std::memory_order_relaxed);
    return context().start_task(name() + ":src", [this] { return step(); });
}

Flow SimpleSource::step() {
    if (!started_) {
        started_ = true;
        src_->push_event(Event::stream_start(fmt::format("{}/{:016x}", name(), reinterpret_cast<std::uintptr_t>(this))));
        if (Caps caps = output_caps(); !caps.is_empty() && !caps.is_any()) {
            src_->push_event(Event::caps(std::move(caps)));
        }
        src_->push_event(Event::segment(output_segment()));
    }
    Buffer out;
    Flow f = eos_requested_.load(std::memory_order_relaxed) ? Flow::eos : create(out, context());
    if (f == Flow::ok) {
        f = src_->push(std::move(out));
    }
    if (f == Flow::dropped) {
        return Flow::ok;
    }
    if (f == Flow::eos) {
        src_->push_event(Event::eos());
    }
    return f;
}

// SimpleTransform

void SimpleTransform::init() {
    sink_ = pad("sink");
    src_ = pad("src");
}

Flow SimpleTransform::chain(Pad&, Buffer&& buffer) {
    const Flow f = transform(buffer, context());
    if (f != Flow::ok) {
        return f == Flow::dropped ? Flow::ok : f;
    }
    return src_->push(std::move(buffer));
}

// SimpleSink

void SimpleSink::init() {
    sink_ = pad("sink");
}

Flow SimpleSink::chain(Pad&, Buffer&& buffer) {
    const Flow f = render(buffer, context());
    return f == Flow::dropped ? Flow::ok : f;
}

bool SimpleSink::sink_event(Pad& pad, Event&& event) {
    if (const StreamSegment* s = event.segment_value()) {
        segment_ = *s;
    } else if (event.type() == EventType::flush_stop && event.reset_time()) {
        segment_ = StreamSegment{};
    }
    return Element::sink_event(pad, std::move(event));
}

Flow SimpleSink::wait_for_buffer_time(const Buffer& buffer) {
    if (segment_.format != Format::time) {
        return Flow::ok;
    }
    const ClockTime t = segment_.to_running_time(buffer.meta().pts());
    if (t.is_none()) {
        return Flow::ok;
    }
    return context().wait_until(t);
}

} // namespace parallax
