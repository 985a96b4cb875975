// funnel: N-to-1 pipe fitting. Whatever arrives on any sink pad leaves
// through the one src pad, one push at a time, whichever thread brought it.

#include <parallax/base/log.hpp>
#include <parallax/element.hpp>

#include <algorithm>
#include <mutex>
#include <optional>
#include <vector>

namespace parallax {
namespace {

LogCategory funnel_log("funnel", "funnel: N-to-1 pipe fitting");

class Funnel final : public Element {
public:
    static constexpr ElementInfo info{.factory = "funnel",
                                      .klass = "Generic",
                                      .summary = "N-to-1 pipe fitting",
                                      .description = "Sends the buffers and events of every sink pad out of one src "
                                                     "pad, serialized; forwards a sink pad's caps and segment before "
                                                     "its buffers when the input changes, and eos once every input "
                                                     "ended."};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink_%u", PadDirection::sink, PadPresence::request, Caps::any()},
                {"src", PadDirection::src, PadPresence::always, Caps::any()}};
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        std::lock_guard lock(mutex_);
        for (Input& in : inputs_) {
            in.sticky = {};
        }
        last_ = nullptr;
        eos_sent_ = false;
        sent_ = {};
        return {};
    }

    void pad_requested(Pad& pad) override {
        std::lock_guard lock(mutex_);
        inputs_.push_back(Input{&pad, {}});
    }

    void pad_releasing(Pad& pad) override {
        std::lock_guard lock(mutex_);
        std::erase_if(inputs_, [&](const Input& in) { return in.pad == &pad; });
        if (last_ == &pad) {
            last_ = nullptr;
        }
        // The released pad may have been the last one without eos.
        if (state() >= State::paused && !inputs_.empty()) {
            send_eos_if_all_ended();
        }
    }

    Flow chain(Pad& pad, Buffer&& buffer) override {
        std::lock_guard lock(mutex_);
        switch_to(pad);
        return src_->push(std::move(buffer));
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::flush_start:
            // Not serialized: a push may hold the lock, and this must reach
            // downstream to release it.
            return forward_event(pad, event);
        case EventType::flush_stop: {
            std::lock_guard lock(mutex_);
            eos_sent_ = false;
            // Downstream expects a segment again after a flush.
            sent_.segment.reset();
            return src_->push_event(std::move(event));
        }
        case EventType::stream_start:
        case EventType::caps:
        case EventType::segment:
        case EventType::tags: {
            std::lock_guard lock(mutex_);
            Input* in = find(pad);
            if (in == nullptr) {
                return false;
            }
            in->sticky.store(event);
            // Another input's sticky events wait for that input's first
            // buffer, so that they arrive downstream in front of its data.
            if (&pad != last_) {
                return true;
            }
            return send(event);
        }
        case EventType::eos: {
            std::lock_guard lock(mutex_);
            PARALLAX_DEBUG(funnel_log, "{}: eos on {}", name(), pad.name());
            if (last_ == nullptr) {
                // Nothing went out yet: downstream still needs a stream-start.
                switch_to(pad);
            }
            return send_eos_if_all_ended();
        }
        default:
            if (event.is_serialized()) {
                std::lock_guard lock(mutex_);
                switch_to(pad);
                return src_->push_event(std::move(event));
            }
            return forward_event(pad, event);
        }
    }

private:
    // The sticky events of one input, newest of each kind.
    struct Sticky {
        std::optional<Event> stream_start;
        std::optional<Event> caps;
        std::optional<Event> segment;
        std::optional<Event> tags;

        void store(const Event& e) {
            switch (e.type()) {
            case EventType::stream_start:
                stream_start = e;
                break;
            case EventType::caps:
                caps = e;
                break;
            case EventType::segment:
                segment = e;
                break;
            case EventType::tags:
                tags = e;
                break;
            default:
                break;
            }
        }
    };
    struct Input {
        Pad* pad;
        Sticky sticky;
    };
    // What went downstream last, so that a switch repeats only what changed.
    struct Sent {
        bool stream_start = false;
        std::optional<Caps> caps;
        std::optional<StreamSegment> segment;
    };

    Input* find(const Pad& pad) {
        auto it = std::find_if(inputs_.begin(), inputs_.end(), [&](const Input& in) { return in.pad == &pad; });
        return it == inputs_.end() ? nullptr : &*it;
    }

    // Makes `pad` the input whose data goes out next, sending its sticky
    // events first (GStreamer: on a change of input only with
    // forward-sticky-events, always for the first input). mutex_ held.
    void switch_to(Pad& pad) {
        if (last_ == &pad || (last_ != nullptr && !forward_sticky_.get())) {
            return;
        }
        last_ = &pad;
        if (Input* in = find(pad)) {
            for (const auto* e : {&in->sticky.stream_start, &in->sticky.caps, &in->sticky.segment, &in->sticky.tags}) {
                if (e->has_value()) {
                    send(**e);
                }
            }
        }
    }

    // Pushes a sticky event unless downstream already has it: one
    // stream-start per run, caps and segments only when they change.
    // mutex_ held.
    bool send(const Event& e) {
        switch (e.type()) {
        case EventType::stream_start:
            if (sent_.stream_start) {
                return true;
            }
            sent_.stream_start = true;
            break;
        case EventType::caps:
            if (sent_.caps == *e.caps_value()) {
                return true;
            }
            sent_.caps = *e.caps_value();
            break;
        case EventType::segment:
            if (sent_.segment == *e.segment_value()) {
                return true;
            }
            sent_.segment = *e.segment_value();
            break;
        default:
            break;
        }
        return src_->push_event(e);
    }

    // Sends eos once every linked input has ended. mutex_ held.
    bool send_eos_if_all_ended() {
        const bool all = std::all_of(inputs_.begin(), inputs_.end(),
                                     [](const Input& in) { return !in.pad->is_linked() || in.pad->is_eos(); });
        if (!all || eos_sent_) {
            return true;
        }
        eos_sent_ = true;
        PARALLAX_DEBUG(funnel_log, "{}: every input ended: eos", name());
        return src_->push_event(Event::eos());
    }

    Pad* src_ = nullptr;
    std::mutex mutex_; // Serializes everything that goes out of src_.
    std::vector<Input> inputs_;
    Pad* last_ = nullptr;
    bool eos_sent_ = false;
    Sent sent_;

    Property<bool> forward_sticky_{this, "forward-sticky-events", true, "Forward sticky events on stream changes"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Funnel);
