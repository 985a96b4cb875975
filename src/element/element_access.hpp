#pragma once

// What the runtime, the pipeline and the test harness may do to elements and
// pads that elements themselves may not: attach a host, move states, link
// pads, call the protected hooks.

#include <parallax/element/element.hpp>

namespace parallax {

struct detail_element_access {
    static void attach(Element& e, ElementHost& host);
    static void detach(Element& e);
    static void set_state(Element& e, State s) noexcept { e.state_.store(s, std::memory_order_release); }
    static Result<void> start(Element& e);
    static Result<void> stop(Element& e);
    static void set_name(Element& e, std::string name) { e.name_ = std::move(name); }
};

struct detail_pad_access {
    /// Links src pad `src` to sink pad `sink`: directions and both free.
    /// Whether their caps can meet is for negotiation to find out (with a
    /// converter between them, or an explanation).
    static Result<void> link(Pad& src, Pad& sink);
    static void unlink(Pad& pad) noexcept;
    static void set_flushing(Pad& pad, bool flushing) noexcept {
        pad.flushing_.store(flushing, std::memory_order_release);
    }
    static void reset(Pad& pad) noexcept;
    /// Stores what negotiation fixed for the pad's link.
    static void set_negotiated(Pad& pad, Caps caps) {
        std::lock_guard lock(pad.caps_mutex_);
        if (!(pad.negotiated_ == caps)) {
            pad.negotiated_ = std::move(caps);
            pad.negotiations_.fetch_add(1, std::memory_order_acq_rel);
        }
    }
};

} // namespace parallax
