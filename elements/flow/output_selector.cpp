// output-selector: 1-to-N stream selector. Buffers go out of the active src
// pad only; events go out of every src pad (caps as pad-negotiation-mode
// says), so that each branch sees its stream start and end.

#include "flow/active_pad.hpp"

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <vector>

namespace parallax {
namespace {

LogCategory oselector_log("output-selector", "output-selector: 1-to-N stream selector");

enum class NegotiationMode { none = 0, all = 1, active = 2 };

constexpr EnumValue negotiation_modes[] = {
    {0, "none", "None"},
    {1, "all", "All"},
    {2, "active", "Active"},
};

class OutputSelector final : public Element {
public:
    static constexpr ElementInfo info{.factory = "output-selector",
                                      .klass = "Generic",
                                      .summary = "1-to-N output stream selector",
                                      .description = "Sends buffers out of the active src pad (active-pad, "
                                                     "switchable while running; the switch happens at the next "
                                                     "buffer) and events out of every src pad."};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::any()},
                {"src_%u", PadDirection::src, PadPresence::request, Caps::any()}};
    }

protected:
    void init() override { sink_ = pad("sink"); }

    Result<void> start() override {
        Pad* chosen = nullptr;
        {
            std::lock_guard lock(lock_);
            latest_.reset();
            active_ = nullptr;
            const std::string wanted = active_pad_.get();
            if (!wanted.empty()) {
                pending_ = find(wanted);
                if (pending_ == nullptr) {
                    return fail(no_such_pad(wanted));
                }
            } else {
                pending_ = first_linked();
                chosen = pending_;
            }
        }
        auto_selected_ = chosen != nullptr;
        if (chosen != nullptr) {
            publish(chosen);
        }
        return {};
    }

    Result<void> stop() override {
        latest_.reset();
        if (auto_selected_) {
            auto_selected_ = false;
            static_cast<void>(active_pad_.set(""));
        }
        return {};
    }

    void pad_requested(Pad& pad) override {
        std::lock_guard lock(lock_);
        outputs_.push_back(&pad);
    }

    void pad_releasing(Pad& pad) override {
        bool was_active = false;
        Pad* next = nullptr;
        {
            std::lock_guard lock(lock_);
            std::erase(outputs_, &pad);
            was_active = pending_ == &pad || active_ == &pad;
            if (active_ == &pad) {
                active_ = nullptr;
            }
            if (was_active) {
                next = first_linked();
                pending_ = next;
            }
        }
        if (was_active) {
            publish(next);
        }
    }

    Result<void> check_property(const PropertyBase& property) override {
        if (&property != &active_pad_) {
            return {};
        }
        auto ok = check_active_pad(active_pad_.get());
        if (ok) {
            // Chosen by the user (the element's own choices do not come
            // here): it stays after the run.
            auto_selected_ = false;
        }
        return ok;
    }

    void property_changed(const PropertyBase& property) override {
        if (&property != &active_pad_ || state() < State::paused) {
            return;
        }
        const std::string wanted = active_pad_.get();
        std::lock_guard lock(lock_);
        if (Pad* p = wanted.empty() ? nullptr : find(wanted)) {
            pending_ = p;
        }
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        Pad* out = nullptr;
        bool switched = false;
        {
            std::lock_guard lock(lock_);
            switched = pending_ != active_;
            active_ = pending_;
            out = active_;
        }
        if (out == nullptr) {
            return Flow::not_linked;
        }
        if (switched) {
            PARALLAX_DEBUG(oselector_log, "{}: buffers now go out of {}", name(), out->name());
            if (mode_.get() == NegotiationMode::active) {
                // Only the active pad was told the caps.
                if (Caps caps = sink_->current_caps(); !caps.is_empty()) {
                    out->push_event(Event::caps(std::move(caps)));
                }
            }
            if (resend_latest_.get() && latest_) {
                static_cast<void>(out->push(Buffer(*latest_)));
            }
        }
        if (resend_latest_.get()) {
            latest_ = buffer; // Another reference: the bytes are shared.
        }
        return out->push(std::move(buffer));
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::caps) {
            switch (mode_.get()) {
            case NegotiationMode::none:
                return true;
            case NegotiationMode::active: {
                Pad* out = nullptr;
                {
                    std::lock_guard lock(lock_);
                    out = pending_;
                }
                return out == nullptr || out->push_event(std::move(event));
            }
            case NegotiationMode::all:
                break;
            }
        }
        if (event.type() == EventType::flush_stop) {
            latest_.reset();
        }
        return forward_event(pad, event);
    }

    bool query(Pad& pad, Query& q) override {
        if (pad.direction() == PadDirection::sink && q.type() == QueryType::caps) {
            switch (mode_.get()) {
            case NegotiationMode::none:
                q.set_caps_result(intersect(q.caps_argument(), pad.pad_template().caps));
                return true;
            case NegotiationMode::active: {
                Pad* out = nullptr;
                {
                    std::lock_guard lock(lock_);
                    out = pending_;
                }
                if (out != nullptr && out->is_linked()) {
                    return out->peer_query(q);
                }
                break;
            }
            case NegotiationMode::all:
                break;
            }
        }
        return Element::query(pad, q);
    }

private:
    Result<void> check_active_pad(const std::string& wanted) {
        std::lock_guard lock(lock_);
        return detail::check_active_pad(*this, wanted, find(wanted) != nullptr, "src_%u", "src", pad_names());
    }

    Pad* find(std::string_view pad_name) const {
        auto it = std::find_if(outputs_.begin(), outputs_.end(), [&](const Pad* p) { return p->name() == pad_name; });
        return it == outputs_.end() ? nullptr : *it;
    }
    Pad* first_linked() const {
        auto it = std::find_if(outputs_.begin(), outputs_.end(), [](const Pad* p) { return p->is_linked(); });
        return it == outputs_.end() ? nullptr : *it;
    }

    Error no_such_pad(std::string_view wanted) const {
        return detail::no_such_active_pad(*this, wanted, "src", pad_names());
    }
    std::string pad_names() const {
        std::string names;
        for (const Pad* p : outputs_) {
            names += names.empty() ? "" : ", ";
            names += p->name();
        }
        return names;
    }

    // Shows the pad chosen by the element in the active-pad property (lock_
    // not held: setting it calls property_changed, which takes it).
    void publish(Pad* pad) { static_cast<void>(active_pad_.set(pad != nullptr ? pad->name() : std::string())); }

    Pad* sink_ = nullptr;

    std::mutex lock_;
    std::vector<Pad*> outputs_;
    Pad* active_ = nullptr;  // Where the last buffer went.
    Pad* pending_ = nullptr; // Where the next buffer goes.
    std::atomic<bool> auto_selected_{false};

    // Streaming thread only (and stop()).
    std::optional<Buffer> latest_;

    Property<std::string> active_pad_{
        this, "active-pad", "", "Currently active src pad (by name; empty: the first linked one)", Mutability::running};
    Property<bool> resend_latest_{this, "resend-latest", false, "Resend latest buffer after a switch to a new pad",
                                  Mutability::running};
    Property<NegotiationMode> mode_{this,
                                    "pad-negotiation-mode",
                                    NegotiationMode::all,
                                    "The mode to be used for pad negotiation",
                                    negotiation_modes,
                                    Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::OutputSelector);
