#include <parallax/element/event.hpp>

#include <fmt/format.h>

#include <variant>

namespace parallax {

struct Event::Payload {
    std::variant<std::monostate, std::string, Caps, StreamSegment, Structure, SeekRequest, QosReport,
                 DownstreamForceKeyUnit, UpstreamForceKeyUnit>
        value;
};

std::string_view to_string(EventType t) noexcept {
    switch (t) {
    case EventType::stream_start:
        return "stream-start";
    case EventType::caps:
        return "caps";
    case EventType::segment:
        return "segment";
    case EventType::tags:
        return "tag";
    case EventType::eos:
        return "eos";
    case EventType::gap:
        return "gap";
    case EventType::flush_start:
        return "flush-start";
    case EventType::flush_stop:
        return "flush-stop";
    case EventType::custom_downstream:
        return "custom-downstream";
    case EventType::seek:
        return "seek";
    case EventType::qos:
        return "qos";
    case EventType::latency:
        return "latency";
    case EventType::reconfigure:
        return "reconfigure";
    case EventType::custom_upstream:
        return "custom-upstream";
    case EventType::downstream_force_key_unit:
        return "downstream-force-key-unit";
    case EventType::upstream_force_key_unit:
        return "upstream-force-key-unit";
    }
    return "unknown";
}

std::string_view to_string(Format f) noexcept {
    switch (f) {
    case Format::time:
        return "time";
    case Format::bytes:
        return "bytes";
    case Format::buffers:
        return "buffers";
    case Format::default_units:
        return "default";
    }
    return "unknown";
}

ClockTime StreamSegment::to_running_time(ClockTime t) const noexcept {
    if (t.is_none()) {
        return ClockTime::none();
    }
    const auto ns = t.ns();
    if (ns < start || (stop != ClockTime::none_ns && ns > stop)) {
        return ClockTime::none();
    }
    auto offset = ns - start;
    if (rate != 1.0 && rate != 0.0) {
        offset = static_cast<std::uint64_t>(static_cast<double>(offset) / (rate < 0 ? -rate : rate));
    }
    return ClockTime::from_ns(offset + base);
}

Event Event::stream_start(std::string stream_id) {
    Event e(EventType::stream_start);
    e.payload_ = std::make_shared<const Payload>(Payload{std::move(stream_id)});
    return e;
}

Event Event::caps(Caps caps) {
    Event e(EventType::caps);
    e.payload_ = std::make_shared<const Payload>(Payload{std::move(caps)});
    return e;
}

Event Event::segment(const StreamSegment& segment) {
    Event e(EventType::segment);
    e.payload_ = std::make_shared<const Payload>(Payload{segment});
    return e;
}

Event Event::tags(Structure tags) {
    Event e(EventType::tags);
    e.payload_ = std::make_shared<const Payload>(Payload{std::move(tags)});
    return e;
}

Event Event::eos() {
    return Event(EventType::eos);
}

Event Event::gap(ClockTime timestamp, ClockTime duration) {
    Event e(EventType::gap);
    e.time_ = timestamp;
    e.duration_ = duration;
    return e;
}

Event Event::flush_start() {
    return Event(EventType::flush_start);
}

Event Event::flush_stop(bool reset_time) {
    Event e(EventType::flush_stop);
    e.flag_ = reset_time;
    return e;
}

Event Event::seek(const SeekRequest& request) {
    Event e(EventType::seek);
    e.payload_ = std::make_shared<const Payload>(Payload{request});
    return e;
}

Event Event::qos(const QosReport& report) {
    Event e(EventType::qos);
    e.payload_ = std::make_shared<const Payload>(Payload{report});
    return e;
}

Event Event::latency(ClockTime latency) {
    Event e(EventType::latency);
    e.time_ = latency;
    return e;
}

Event Event::reconfigure() {
    return Event(EventType::reconfigure);
}

Event Event::custom(EventType direction, Structure data) {
    Event e(direction == EventType::custom_upstream ? EventType::custom_upstream : EventType::custom_downstream);
    e.payload_ = std::make_shared<const Payload>(Payload{std::move(data)});
    return e;
}

Event Event::downstream_force_key_unit(const DownstreamForceKeyUnit& key_unit) {
    Event e(EventType::downstream_force_key_unit);
    e.payload_ = std::make_shared<const Payload>(Payload{key_unit});
    return e;
}

Event Event::upstream_force_key_unit(const UpstreamForceKeyUnit& request) {
    Event e(EventType::upstream_force_key_unit);
    e.payload_ = std::make_shared<const Payload>(Payload{request});
    return e;
}

const std::string* Event::stream_id() const noexcept {
    return payload_ ? std::get_if<std::string>(&payload_->value) : nullptr;
}
const Caps* Event::caps_value() const noexcept {
    return payload_ ? std::get_if<Caps>(&payload_->value) : nullptr;
}
const StreamSegment* Event::segment_value() const noexcept {
    return payload_ ? std::get_if<StreamSegment>(&payload_->value) : nullptr;
}
const Structure* Event::structure() const noexcept {
    return payload_ ? std::get_if<Structure>(&payload_->value) : nullptr;
}
const SeekRequest* Event::seek_value() const noexcept {
    return payload_ ? std::get_if<SeekRequest>(&payload_->value) : nullptr;
}
const QosReport* Event::qos_value() const noexcept {
    return payload_ ? std::get_if<QosReport>(&payload_->value) : nullptr;
}

const DownstreamForceKeyUnit* Event::downstream_force_key_unit_value() const noexcept {
    return payload_ ? std::get_if<DownstreamForceKeyUnit>(&payload_->value) : nullptr;
}
const UpstreamForceKeyUnit* Event::upstream_force_key_unit_value() const noexcept {
    return payload_ ? std::get_if<UpstreamForceKeyUnit>(&payload_->value) : nullptr;
}

Result<DownstreamForceKeyUnit> parse_downstream_force_key_unit(const Event& event) {
    if (const auto* k = event.downstream_force_key_unit_value()) {
        return *k;
    }
    return fail(Errc::invalid_argument,
                fmt::format("a {} event is not a downstream-force-key-unit event", to_string(event.type())));
}

Result<UpstreamForceKeyUnit> parse_upstream_force_key_unit(const Event& event) {
    if (const auto* k = event.upstream_force_key_unit_value()) {
        return *k;
    }
    return fail(Errc::invalid_argument,
                fmt::format("a {} event is not an upstream-force-key-unit event", to_string(event.type())));
}

std::string Event::to_string() const {
    std::string out(parallax::to_string(type_));
    if (const auto* id = stream_id()) {
        out += ": " + *id;
    } else if (const auto* c = caps_value()) {
        out += ": " + c->to_string();
    } else if (const auto* s = segment_value()) {
        out += fmt::format(": format={} rate={} start={} stop={} base={}", parallax::to_string(s->format), s->rate,
                           ClockTime::from_ns(s->start).to_string(), ClockTime::from_ns(s->stop).to_string(),
                           ClockTime::from_ns(s->base).to_string());
    } else if (const auto* st = structure()) {
        out += ": " + st->to_string();
    } else if (type_ == EventType::gap) {
        out += ": " + time_.to_string() + " +" + duration_.to_string();
    } else if (type_ == EventType::latency) {
        out += ": " + time_.to_string();
    } else if (const auto* k = downstream_force_key_unit_value()) {
        out += fmt::format(": timestamp={} stream-time={} running-time={} all-headers={} count={}",
                           k->timestamp.to_string(), k->stream_time.to_string(), k->running_time.to_string(),
                           k->all_headers, k->count);
    } else if (const auto* u = upstream_force_key_unit_value()) {
        out += fmt::format(": running-time={} all-headers={} count={}", u->running_time.to_string(), u->all_headers,
                           u->count);
    }
    return out;
}

} // namespace parallax
