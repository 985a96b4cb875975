// capsfilter: lets through only data whose caps fit its caps property (the
// element behind `a ! video/x-raw,width=640 ! b`).

#include <parallax/element.hpp>

#include <fmt/format.h>

namespace parallax {
namespace {

class CapsFilter final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "capsfilter",
                                      .klass = "Generic",
                                      .summary = "Pass data without modification, limiting formats",
                                      .description = "Restricts the caps that may flow to those of its caps "
                                                     "property; anything else is a not-negotiated error."};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.rt_safe = true;
        return h;
    }();

    // Negotiation: both pads carry only what the filter allows.
    [[nodiscard]] Caps allowed_caps(const Pad& pad) const override {
        return intersect(pad.pad_template().caps, caps_.get());
    }
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        return intersect(Element::transform_caps(from, to, caps), caps_.get());
    }

protected:
    bool sink_event(Pad& pad, Event&& event) override {
        if (const Caps* caps = event.caps_value()) {
            const Caps filter = caps_.get();
            if (!can_intersect(*caps, filter)) {
                context().error(Error(Errc::not_negotiated,
                                      fmt::format("{}: the stream's caps do not fit the filter", name()))
                                    .at_pad("sink"),
                                fmt::format("stream caps: {}\nfilter caps: {}", caps->to_string(), filter.to_string()));
                return false;
            }
        }
        return Element::sink_event(pad, std::move(event));
    }

    bool query(Pad& pad, Query& q) override {
        if (q.type() == QueryType::caps) {
            Query narrowed = Query::caps(intersect(q.caps_argument(), caps_.get()));
            Element::query(pad, narrowed);
            q.set_caps_result(narrowed.caps_result());
            return true;
        }
        if (q.type() == QueryType::accept_caps) {
            q.set_accepted(can_intersect(q.caps_argument(), caps_.get()));
            return true;
        }
        if (q.type() == QueryType::allocation) {
            return forward_query(pad, q); // buffers pass untouched
        }
        return Element::query(pad, q);
    }

    Flow transform(Buffer&, TransformContext&) override { return Flow::ok; }

    // New caps while data flows: the graph negotiates again (upstream then
    // announces the caps that fit) rather than failing the next buffer.
    void property_changed(const PropertyBase& property) override {
        if (&property == &caps_ && state() >= State::paused) {
            context().renegotiate();
        }
    }

private:
    Property<Caps> caps_{this, "caps", Caps::any(), "Restrict the possible allowed capabilities",
                         Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::CapsFilter);
