// input-selector: N-to-1 stream selector. Only the active sink pad's buffers
// and events go downstream; the others' buffers are dropped (optionally
// after waiting for the active stream to catch up, sync-streams) and their
// sticky events kept until the pad becomes active.

#include "flow/active_pad.hpp"

#include <parallax/base/log.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

namespace parallax {
namespace {

LogCategory selector_log("input-selector", "input-selector: N-to-1 stream selector");

enum class SyncMode { active_segment = 0, clock = 1 };

constexpr EnumValue sync_modes[] = {
    {0, "active-segment", "Sync using the current active segment"},
    {1, "clock", "Sync using the clock"},
};

class InputSelector final : public Element {
public:
    static constexpr ElementInfo info{.factory = "input-selector",
                                      .klass = "Generic",
                                      .summary = "N-to-1 input stream selector",
                                      .description = "Passes the buffers and events of the active sink pad "
                                                     "(active-pad, switchable while running) and drops those of the "
                                                     "others; on a switch the new pad's caps and segment go first."};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink_%u", PadDirection::sink, PadPresence::request, Caps::any()},
                {"src", PadDirection::src, PadPresence::always, Caps::any()}};
    }

    void unblock() override {
        {
            std::lock_guard lock(lock_);
            stopping_ = true;
        }
        cond_.notify_all();
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        Pad* chosen = nullptr;
        {
            std::lock_guard lock(lock_);
            stopping_ = false;
            eos_sent_ = false;
            switched_ = false;
            last_output_ = ClockTime::none();
            active_ = nullptr;
            for (Input& in : inputs_) {
                in.reset();
            }
            const std::string wanted = active_pad_.get();
            if (!wanted.empty()) {
                Input* in = find(wanted);
                if (in == nullptr) {
                    return fail(no_such_pad(wanted));
                }
                active_ = in->pad;
            } else {
                auto it =
                    std::find_if(inputs_.begin(), inputs_.end(), [](const Input& i) { return i.pad->is_linked(); });
                active_ = it != inputs_.end() ? it->pad : nullptr;
                chosen = active_;
            }
        }
        {
            std::lock_guard stream(stream_mutex_);
            sent_ = {};
        }
        auto_selected_ = chosen != nullptr;
        if (chosen != nullptr) {
            publish(chosen);
        }
        return {};
    }

    Result<void> stop() override {
        if (auto_selected_) {
            // The next run chooses again.
            auto_selected_ = false;
            static_cast<void>(active_pad_.set(""));
        }
        return {};
    }

    void pad_requested(Pad& pad) override {
        std::lock_guard lock(lock_);
        inputs_.push_back(Input{&pad});
    }

    void pad_releasing(Pad& pad) override {
        bool was_active = false;
        Pad* next = nullptr;
        {
            std::lock_guard lock(lock_);
            std::erase_if(inputs_, [&](const Input& in) { return in.pad == &pad; });
            was_active = active_ == &pad;
            if (was_active) {
                auto it =
                    std::find_if(inputs_.begin(), inputs_.end(), [](const Input& i) { return i.pad->is_linked(); });
                next = it != inputs_.end() ? it->pad : nullptr;
                activate(next);
            }
        }
        cond_.notify_all();
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
        {
            std::lock_guard lock(lock_);
            if (Input* in = wanted.empty() ? nullptr : find(wanted)) {
                activate(in->pad);
            }
        }
        cond_.notify_all();
    }

    Flow chain(Pad& pad, Buffer&& buffer) override {
        ClockTime running_time;
        {
            std::unique_lock lock(lock_);
            Input* in = find(pad);
            if (in == nullptr) {
                return Flow::not_linked;
            }
            running_time = in->segment.to_running_time(buffer.meta().pts());
            if (active_ == nullptr) {
                // No pad was linked at start: the first to bring data wins.
                activate(&pad);
                auto_selected_ = true;
                lock.unlock();
                publish(&pad);
                lock.lock();
            }
            if (sync_streams_.get() && running_time.is_valid()) {
                wait_for_active(lock, pad, running_time);
            }
            if (stopping_ || pad.is_flushing()) {
                return Flow::flushing;
            }
            if (active_ != &pad) {
                // GStreamer's always-ok: an inactive pad's data is consumed.
                return Flow::ok;
            }
        }
        // Checked again with the stream lock: the active pad may change
        // while this thread waits for it.
        std::lock_guard stream(stream_mutex_);
        std::optional<Input::Sticky> pending;
        {
            std::lock_guard lock(lock_);
            Input* in = find(pad);
            if (in == nullptr || active_ != &pad) {
                return Flow::ok;
            }
            if (drop_backwards_.get() && switched_ && running_time.is_valid() && last_output_.is_valid() &&
                running_time < last_output_) {
                return Flow::ok;
            }
            switched_ = false;
            if (in->events_pending) {
                pending = in->sticky;
                in->events_pending = false;
            }
            in->running_time = running_time;
            if (running_time.is_valid()) {
                last_output_ = running_time;
            }
        }
        // Inactive pads waiting for this stream to catch up look again.
        cond_.notify_all();
        if (pending) {
            send_sticky(*pending);
        }
        return src_->push(std::move(buffer));
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::flush_start: {
            bool active = false;
            {
                std::lock_guard lock(lock_);
                active = active_ == &pad;
            }
            // Wake this pad's waits: they see the pad flushing and return.
            cond_.notify_all();
            return active ? forward_event(pad, event) : true;
        }
        case EventType::eos:
            return eos(pad);
        default:
            break;
        }
        if (!event.is_serialized()) {
            return forward_event(pad, event);
        }
        {
            std::lock_guard lock(lock_);
            Input* in = find(pad);
            if (in == nullptr) {
                return false;
            }
            in->store(event);
            if (event.type() == EventType::flush_stop) {
                in->running_time = ClockTime::none();
                if (active_ == &pad) {
                    eos_sent_ = false;
                    last_output_ = ClockTime::none();
                }
            }
            if (active_ != &pad) {
                // Kept (sticky ones) until the pad becomes active.
                return true;
            }
        }
        std::lock_guard stream(stream_mutex_);
        std::optional<Input::Sticky> pending;
        {
            std::lock_guard lock(lock_);
            Input* in = find(pad);
            if (in == nullptr || active_ != &pad) {
                // Switched away meanwhile; the sticky ones are kept.
                return true;
            }
            if (in->events_pending) {
                pending = in->sticky;
                in->events_pending = false;
            }
        }
        if (pending) {
            // The event itself is among the sticky ones just stored, or
            // follows them.
            send_sticky(*pending);
            if (is_sticky(event.type())) {
                return true;
            }
        }
        return send(event);
    }

    bool query(Pad& pad, Query& q) override {
        // Upstream of the src pad is the active input only.
        if (pad.direction() == PadDirection::src &&
            (q.type() == QueryType::caps || q.type() == QueryType::position || q.type() == QueryType::duration)) {
            Pad* active = nullptr;
            {
                std::lock_guard lock(lock_);
                active = active_;
            }
            if (active != nullptr && active->is_linked()) {
                return active->peer_query(q);
            }
        }
        return Element::query(pad, q);
    }

private:
    Result<void> check_active_pad(const std::string& wanted) {
        std::lock_guard lock(lock_);
        return detail::check_active_pad(*this, wanted, find(wanted) != nullptr, "sink_%u", "sink", pad_names());
    }

    struct Input {
        struct Sticky {
            std::optional<Event> stream_start;
            std::optional<Event> caps;
            std::optional<Event> segment;
            std::optional<Event> tags;
        };

        Pad* pad;
        Sticky sticky{};
        StreamSegment segment{};
        ClockTime running_time{}; // Of the last buffer that went out.
        bool events_pending = false;

        void reset() {
            sticky = {};
            segment = {};
            running_time = ClockTime::none();
            events_pending = false;
        }
        void store(const Event& e) {
            switch (e.type()) {
            case EventType::stream_start:
                sticky.stream_start = e;
                break;
            case EventType::caps:
                sticky.caps = e;
                break;
            case EventType::segment:
                sticky.segment = e;
                segment = *e.segment_value();
                break;
            case EventType::tags:
                sticky.tags = e;
                break;
            case EventType::flush_stop:
                if (e.reset_time()) {
                    segment = {};
                    sticky.segment.reset();
                }
                break;
            default:
                break;
            }
        }
    };
    // What went downstream last (stream_mutex_), so that switching repeats
    // only what changed: one stream-start, caps when they differ.
    struct Sent {
        bool stream_start = false;
        std::optional<Caps> caps;
    };

    static constexpr bool is_sticky(EventType t) noexcept {
        return t == EventType::stream_start || t == EventType::caps || t == EventType::segment || t == EventType::tags;
    }

    Input* find(const Pad& pad) {
        auto it = std::find_if(inputs_.begin(), inputs_.end(), [&](const Input& in) { return in.pad == &pad; });
        return it == inputs_.end() ? nullptr : &*it;
    }
    Input* find(std::string_view name) {
        auto it = std::find_if(inputs_.begin(), inputs_.end(), [&](const Input& in) { return in.pad->name() == name; });
        return it == inputs_.end() ? nullptr : &*it;
    }

    Error no_such_pad(std::string_view wanted) const {
        return detail::no_such_active_pad(*this, wanted, "sink", pad_names());
    }
    std::string pad_names() const {
        std::string names;
        for (const Input& in : inputs_) {
            names += names.empty() ? "" : ", ";
            names += in.pad->name();
        }
        return names;
    }

    // Shows the pad chosen by the element in the active-pad property (lock_
    // not held: setting it calls property_changed, which takes it).
    void publish(Pad* pad) { static_cast<void>(active_pad_.set(pad != nullptr ? pad->name() : std::string())); }

    // lock_ held; the caller notifies cond_.
    void activate(Pad* pad) {
        if (pad == active_) {
            return;
        }
        PARALLAX_DEBUG(selector_log, "{}: active pad {} -> {}", name(), active_ ? active_->name() : "none",
                       pad ? pad->name() : "none");
        active_ = pad;
        switched_ = true;
        if (Input* in = pad ? find(*pad) : nullptr) {
            // Its caps and segment go out before its next data.
            in->events_pending = true;
        }
    }

    // An inactive pad's buffer waits until the active stream has passed its
    // running time (sync-mode=active-segment) or the clock has
    // (sync-mode=clock), so that switching lands where the active stream is.
    void wait_for_active(std::unique_lock<std::mutex>& lock, Pad& pad, ClockTime running_time) {
        while (!stopping_ && !eos_sent_ && !pad.is_flushing() && active_ != &pad && active_ != nullptr) {
            if (sync_mode_.get() == SyncMode::clock) {
                const ClockTime now = context().running_time();
                if (now.is_valid() && running_time < now) {
                    return;
                }
                const auto wait = now.is_valid() ? std::min<std::uint64_t>((running_time - now).ns(), 10'000'000)
                                                 : std::uint64_t{10'000'000};
                cond_.wait_for(lock, std::chrono::nanoseconds(wait));
                continue;
            }
            const Input* active = find(*active_);
            if (active == nullptr || active->pad->is_eos() ||
                (active->running_time.is_valid() && running_time < active->running_time)) {
                return;
            }
            cond_.wait(lock);
        }
    }

    // eos of the active pad goes downstream; an inactive pad's eos waits
    // until the pad becomes active (then it goes) or the selector ended.
    bool eos(Pad& pad) {
        {
            std::unique_lock lock(lock_);
            if (active_ == nullptr) {
                activate(&pad);
            }
            // Inactive pads waiting on this stream (sync-streams) stop waiting.
            cond_.notify_all();
            cond_.wait(lock, [&] { return stopping_ || eos_sent_ || pad.is_flushing() || active_ == &pad; });
            if (stopping_ || pad.is_flushing()) {
                return false;
            }
            if (eos_sent_) {
                return true;
            }
        }
        std::lock_guard stream(stream_mutex_);
        std::optional<Input::Sticky> pending;
        {
            std::lock_guard lock(lock_);
            Input* in = find(pad);
            if (in == nullptr || active_ != &pad || eos_sent_) {
                return true;
            }
            if (in->events_pending) {
                pending = in->sticky;
                in->events_pending = false;
            }
            eos_sent_ = true;
        }
        cond_.notify_all();
        if (pending) {
            send_sticky(*pending);
        }
        PARALLAX_DEBUG(selector_log, "{}: eos from {}", name(), pad.name());
        return src_->push_event(Event::eos());
    }

    // stream_mutex_ held.
    void send_sticky(const Input::Sticky& s) {
        for (const auto* e : {&s.stream_start, &s.caps, &s.segment, &s.tags}) {
            if (e->has_value()) {
                send(**e);
            }
        }
    }

    // stream_mutex_ held.
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
        default:
            // Segments always go: the new pad's segment follows every switch.
            break;
        }
        return src_->push_event(e);
    }

    Pad* src_ = nullptr;

    // Held while anything goes out of src_: one pusher at a time. Taken
    // before lock_ when both are needed.
    std::mutex stream_mutex_;
    Sent sent_;

    // The selection: inputs, the active pad, the waits.
    std::mutex lock_;
    std::condition_variable cond_;
    std::vector<Input> inputs_;
    Pad* active_ = nullptr;
    bool switched_ = false;
    bool eos_sent_ = false;
    bool stopping_ = false;
    ClockTime last_output_;
    std::atomic<bool> auto_selected_{false};

    Property<std::string> active_pad_{this, "active-pad", "",
                                      "The currently active sink pad (by name; empty: the first linked one)",
                                      Mutability::running};
    Property<bool> sync_streams_{this, "sync-streams", true,
                                 "Synchronize inactive streams to the running time of the active stream or to the "
                                 "current clock"};
    Property<SyncMode> sync_mode_{this, "sync-mode", SyncMode::active_segment, "Behavior in sync-streams mode",
                                  sync_modes};
    Property<bool> drop_backwards_{this, "drop-backwards", false, "Drop backwards buffers on pad switch"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::InputSelector);
