#include <parallax/elements/flow/queue.hpp>

#include <fmt/format.h>

#include <thread>

namespace parallax {

std::vector<PadTemplate> Queue::pad_templates() {
    return {{"sink", PadDirection::sink, PadPresence::always, Caps::any()},
            {"src", PadDirection::src, PadPresence::always, Caps::any()}};
}

Queue::Queue() = default;
Queue::~Queue() = default;

void Queue::init() {
    sink_ = pad("sink");
    src_ = pad("src");
}

bool Queue::query(Pad& pad, Query& q) {
    if (q.type() == QueryType::allocation) {
        return forward_query(pad, q);
    }
    return Element::query(pad, q);
}

LinkLimits Queue::limits() const noexcept {
    return LinkLimits{max_buffers_.get(), max_bytes_.get(), max_time_.get()};
}

void Queue::property_changed(const PropertyBase& property) {
    if (property.name().starts_with("max-size")) {
        limits_cache_ = limits();
    }
}

LinkLevel Queue::level() const noexcept {
    return link_ ? link_->level() : LinkLevel{};
}

std::uint64_t Queue::dropped() const noexcept {
    return link_ ? link_->dropped() : 0;
}

Result<void> Queue::start() {
    limits_cache_ = limits();
    // Room for the buffer limit plus the events between them; without a
    // buffer limit, bytes and time bound the level and the ring is large.
    const std::size_t capacity = max_buffers_.get() == 0 ? 4096 : std::size_t{max_buffers_.get()} * 2 + 64;
    if (!link_ || link_->capacity() < capacity) {
        link_ = std::make_unique<ThreadLink>(capacity);
    }
    link_->clear();
    link_->set_flushing(false);
    src_result_.store(Flow::ok);
    drained_.store(false);
    eos_queued_.store(false);
    stopping_.store(false);
    return context().start_task(name() + ":src", [this] { return step(); });
}

Result<void> Queue::stop() {
    if (link_) {
        link_->clear();
    }
    return {};
}

void Queue::unblock() {
    stopping_.store(true, std::memory_order_release);
    if (link_) {
        link_->set_flushing(true);
    }
}

bool Queue::below_min_threshold() const noexcept {
    const auto min_b = min_buffers_.get();
    const auto min_y = min_bytes_.get();
    const auto min_t = min_time_.get();
    if ((min_b == 0 && min_y == 0 && min_t == 0) || eos_queued_.load(std::memory_order_acquire)) {
        return false;
    }
    const LinkLevel l = link_->level();
    return (min_b != 0 && l.buffers < min_b) || (min_y != 0 && l.bytes < min_y) || (min_t != 0 && l.time_ns < min_t);
}

Flow Queue::chain(Pad&, Buffer&& buffer) {
    const Flow downstream = src_result_.load(std::memory_order_relaxed);
    if (downstream != Flow::ok) [[unlikely]] {
        return downstream;
    }
    const Flow f = link_->push(std::move(buffer), limits_cache_, leaky_.get());
    return f == Flow::dropped ? Flow::ok : f;
}

bool Queue::sink_event(Pad& pad, Event&& event) {
    switch (event.type()) {
    case EventType::flush_start:
        // Not serialized: everything queued goes, and downstream hears at once.
        drained_.store(false);
        link_->set_flushing(true);
        return forward_event(pad, event);
    case EventType::flush_stop: {
        // Let the streaming thread throw away what was queued before data
        // flows again; flush-stop itself travels in order.
        for (int i = 0; i < 2000 && !drained_.load(); ++i) {
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        link_->set_flushing(false);
        src_result_.store(Flow::ok);
        eos_queued_.store(false);
        return link_->push_event(std::move(event));
    }
    case EventType::eos:
        eos_queued_.store(true, std::memory_order_release);
        return link_->push_event(std::move(event));
    default:
        if (event.is_serialized()) {
            return link_->push_event(std::move(event));
        }
        return forward_event(pad, event);
    }
}

Flow Queue::step() {
    if (below_min_threshold()) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        return Flow::ok;
    }
    auto item = link_->pop();
    if (!item) {
        if (link_->is_flushing()) {
            link_->drain();
            drained_.store(true);
            // A flush ends with flush-stop; a stop never does, and the
            // streaming thread must end now, not after a wait slice.
            if (!stopping_.load(std::memory_order_acquire)) {
                link_->wait_while_flushing(std::chrono::milliseconds(10));
            }
        }
        return Flow::ok;
    }
    if (item->event) {
        src_->push_event(std::move(*item->event));
        return Flow::ok;
    }
    const Flow f = src_->push(std::move(item->buffer));
    if (f == Flow::ok || f == Flow::dropped) {
        return Flow::ok;
    }
    src_result_.store(f, std::memory_order_relaxed);
    if (f == Flow::eos || f == Flow::flushing) {
        // Downstream ended or flushes: upstream learns it on its next push;
        // keep serving events (eos, flush-stop).
        return Flow::ok;
    }
    return f;
}

} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Queue);
