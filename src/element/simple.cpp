#include <parallax/element/simple.hpp>

#include <parallax/caps/caps_ops.hpp>
#include <parallax/element/query.hpp>

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
        negotiations_seen_ = src_->negotiation_count();
        src_->push_event(Event::stream_start(fmt::format("{}/{:016x}", name(), reinterpret_cast<std::uintptr_t>(this))));
        if (Caps caps = output_caps(); !caps.is_empty() && !caps.is_any()) {
            src_->push_event(Event::caps(std::move(caps)));
        }
        src_->push_event(Event::segment(output_segment()));
    } else if (const auto n = src_->negotiation_count(); n != negotiations_seen_) [[unlikely]] {
        // Renegotiated while running: announce the new caps before the next buffer.
        negotiations_seen_ = n;
        if (Caps caps = output_caps(); !caps.is_empty() && !caps.is_any() && !is_equal(caps, src_->current_caps())) {
            src_->push_event(Event::caps(std::move(caps)));
        }
    }
    if (events_waiting_.load(std::memory_order_acquire)) [[unlikely]] {
        std::vector<Event> events;
        {
            std::lock_guard lock(sent_events_mutex_);
            events.swap(sent_events_);
            events_waiting_.store(false, std::memory_order_relaxed);
        }
        for (Event& e : events) {
            src_->push_event(std::move(e));
        }
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

bool SimpleSource::send_event(Event event) {
    if (!event.is_downstream() || event.type() == EventType::eos) {
        return Element::send_event(std::move(event));
    }
    std::lock_guard lock(sent_events_mutex_);
    sent_events_.push_back(std::move(event));
    events_waiting_.store(true, std::memory_order_release);
    return true;
}

// SimpleTransform

void SimpleTransform::init() {
    sink_ = pad("sink");
    src_ = pad("src");
}

Flow SimpleTransform::chain(Pad&, Buffer&& buffer) {
    if (passthrough_.load(std::memory_order_relaxed)) {
        return src_->push(std::move(buffer));
    }
    const Flow f = transform(buffer, context());
    if (f != Flow::ok) {
        return f == Flow::dropped ? Flow::ok : f;
    }
    return src_->push(std::move(buffer));
}

bool SimpleTransform::query(Pad& pad, Query& q) {
    // Decided from the caps asked about, not from is_passthrough(): the
    // caps event may still be on its way here (behind a queue, or sticky
    // until the next buffer) when the producer asks.
    if (q.type() == QueryType::allocation && pad.direction() == PadDirection::sink &&
        passes_untouched(q.caps_argument())) {
        return forward_query(pad, q);
    }
    return Element::query(pad, q);
}

bool SimpleTransform::passes_untouched(const Caps& in) const {
    return passthrough_when_equal() && is_equal(choose_output(in), in);
}

Result<void> SimpleTransform::set_caps(const Caps&, const Caps&) {
    return {};
}

Caps SimpleTransform::choose_output(const Caps& in) const {
    const Caps possible = intersect(transform_caps(*sink_, *src_, in), allowed_caps(*src_));
    // What negotiation chose, when it still fits this input.
    if (Caps negotiated = src_->negotiated_caps(); negotiated.is_fixed() && is_subset(negotiated, possible)) {
        return negotiated;
    }
    if (possible.is_any()) {
        return in;
    }
    if (possible.is_empty()) {
        return possible;
    }
    // A new input after the run started: the same preferences as
    // negotiation, the peer's allowed caps included.
    // A caps query sees through elements that take anything (a queue the
    // executor put in front of an encoder): the peer's own allowed caps
    // would say ANY there, and a converter would pick an output that the
    // element behind the queue refuses.
    Caps narrowed = possible;
    if (const Pad* peer = src_->peer()) {
        Query q = Query::caps(possible);
        if (src_->peer_query(q) && !q.caps_result().is_empty() && !q.caps_result().is_any()) {
            narrowed = intersect(possible, q.caps_result());
        }
        if (Caps there = intersect(narrowed, peer->element().allowed_caps(*peer)); !there.is_empty()) {
            narrowed = std::move(there);
        }
        if (narrowed.is_empty()) {
            narrowed = possible;
        }
    }
    Caps out = fixate_caps(*src_, narrowed, in);
    return out.is_fixed() ? out : narrowed;
}

bool SimpleTransform::sink_event(Pad& pad, Event&& event) {
    const Caps* in = event.caps_value();
    if (in == nullptr) {
        return Element::sink_event(pad, std::move(event));
    }
    Caps out = choose_output(*in);
    if (out.is_empty()) {
        context().error(Error(Errc::not_negotiated,
                              fmt::format("{}: cannot produce anything from {}", name(), in->to_string()))
                            .at_pad(sink_->name()));
        return false;
    }
    if (auto ok = set_caps(*in, out); !ok) {
        Error e = ok.error();
        if (e.element().empty()) {
            e.at_element(name());
        }
        context().error(std::move(e));
        return false;
    }
    in_caps_ = *in;
    passthrough_.store(passthrough_when_equal() && is_equal(*in, out), std::memory_order_relaxed);
    out_caps_ = out;
    return Element::sink_event(pad, Event::caps(std::move(out)));
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
