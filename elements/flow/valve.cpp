// valve: lets data through or drops it, switchable while running. What is
// dropped besides buffers depends on drop-mode, as in GStreamer; sticky
// events dropped while closed are sent again when the valve opens.

#include <parallax/element.hpp>

#include <optional>

namespace parallax {
namespace {

enum class DropMode { drop_all = 0, forward_sticky_events = 1, transform_to_gap = 2 };

constexpr EnumValue drop_modes[] = {
    {0, "drop-all", "Drop all buffers and events"},
    {1, "forward-sticky-events", "Drop all buffers but forward sticky events"},
    {2, "transform-to-gap", "Convert all dropped buffers into gap events and forward sticky events"},
};

// GStreamer's sticky events: downstream must know them before any data.
constexpr bool is_sticky(EventType t) noexcept {
    return t == EventType::stream_start || t == EventType::caps || t == EventType::segment || t == EventType::tags ||
           t == EventType::eos;
}

class Valve final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "valve",
                                      .klass = "Filter",
                                      .summary = "Drops buffers and events or lets them through",
                                      .description = "With drop=true buffers are dropped; drop-mode says whether "
                                                     "events go too (drop-all), sticky events pass "
                                                     "(forward-sticky-events), or dropped buffers become gap events "
                                                     "(transform-to-gap). eos always passes."};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.rt_safe = true;
        return h;
    }();

protected:
    Result<void> start() override {
        sticky_ = {};
        repush_ = false;
        discont_ = false;
        return {};
    }

    Flow chain(Pad& pad, Buffer&& buffer) override {
        const Flow f = SimpleTransform::chain(pad, std::move(buffer));
        // When the valve closed while the buffer was on its way downstream,
        // whatever downstream said no longer concerns upstream.
        return drop_.get() && !is_success(f) ? Flow::ok : f;
    }

    bool query(Pad& pad, Query& q) override {
        if (q.type() == QueryType::allocation) {
            return forward_query(pad, q); // buffers pass untouched or not at all
        }
        return SimpleTransform::query(pad, q);
    }

    Flow transform(Buffer& buffer, TransformContext&) override {
        if (drop_.get()) {
            if (mode_.get() == DropMode::transform_to_gap && buffer.meta().pts().is_valid()) {
                src_pad().push_event(Event::gap(buffer.meta().pts(), buffer.meta().duration()));
            }
            discont_ = true;
            return Flow::dropped;
        }
        if (discont_) {
            buffer.meta().set_flag(BufferFlags::discont);
            discont_ = false;
        }
        if (repush_) {
            repush_sticky();
        }
        return Flow::ok;
    }

    bool sink_event(Pad& pad, Event&& event) override {
        const bool sticky = is_sticky(event.type());
        remember(event);
        if (needs_dropping(event)) {
            repush_ = repush_ || sticky;
            return true;
        }
        if (repush_ && event.is_serialized()) {
            repush_sticky();
        }
        bool ok = Element::sink_event(pad, std::move(event));
        if (drop_.get()) {
            // Closed while the event was on its way: keep upstream going.
            repush_ = repush_ || (sticky && mode_.get() == DropMode::drop_all);
            ok = true;
        }
        return ok;
    }

private:
    struct Sticky {
        std::optional<Event> stream_start;
        std::optional<Event> caps;
        std::optional<Event> segment;
        std::optional<Event> tags;
    };

    void remember(const Event& e) {
        switch (e.type()) {
        case EventType::stream_start:
            sticky_ = {};
            sticky_.stream_start = e;
            break;
        case EventType::caps:
            sticky_.caps = e;
            break;
        case EventType::segment:
            sticky_.segment = e;
            break;
        case EventType::tags:
            sticky_.tags = e;
            break;
        case EventType::flush_stop:
            if (e.reset_time()) {
                sticky_.segment.reset();
            }
            break;
        default:
            break;
        }
    }

    [[nodiscard]] bool needs_dropping(const Event& e) const noexcept {
        // eos always passes: a closed valve must not keep the pipeline from
        // ending (GStreamer's drop-all holds eos back until the valve opens
        // and more data comes, which never happens after eos).
        if (!drop_.get() || e.type() == EventType::eos) {
            return false;
        }
        switch (mode_.get()) {
        case DropMode::drop_all:
            return true;
        case DropMode::forward_sticky_events:
            return !is_sticky(e.type());
        case DropMode::transform_to_gap:
            return !is_sticky(e.type()) && e.type() != EventType::gap;
        }
        return true;
    }

    void repush_sticky() {
        repush_ = false;
        for (const auto* e : {&sticky_.stream_start, &sticky_.caps, &sticky_.segment, &sticky_.tags}) {
            if (e->has_value() && !src_pad().push_event(**e)) {
                repush_ = true;
            }
        }
    }

    // Streaming thread only (chain and serialized events).
    Sticky sticky_;
    bool repush_ = false;
    bool discont_ = false;

    Property<bool> drop_{this, "drop", false, "Whether to drop buffers and events or let them through",
                         Mutability::running};
    Property<DropMode> mode_{this, "drop-mode", DropMode::drop_all, "The drop mode to use", drop_modes};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Valve);
