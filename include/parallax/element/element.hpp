#pragma once

/// \file
/// Element and Pad: the full-control base of every element, and the
/// connection points through which buffers, events and queries travel.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/buffer.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/element/element_context.hpp>
#include <parallax/element/event.hpp>
#include <parallax/element/execution_hints.hpp>
#include <parallax/element/flow.hpp>
#include <parallax/element/pad_template.hpp>
#include <parallax/element/property.hpp>
#include <parallax/element/query.hpp>
#include <parallax/element/state.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parallax {

class Element;
class ElementFactory;

/// How strongly a factory should be preferred when several could do a job
/// (GStreamer's ranks).
enum Rank : int { rank_none = 0, rank_marginal = 64, rank_secondary = 128, rank_primary = 256 };

/// Static description of an element type, as data. Every element class
/// declares one: `static constexpr ElementInfo info{.factory = "identity", ...};`
struct ElementInfo {
    std::string_view factory = {};     ///< The name users type (`fakesrc`).
    std::string_view klass = {};       ///< GStreamer's classification, e.g. "Source", "Filter/Effect/Video".
    std::string_view summary = {};     ///< One line.
    std::string_view description = {}; ///< Longer text for plx-inspect and the docs (optional).
    int rank = rank_none;
    /// Non-zero for a converter (one sink pad "sink", one src pad "src")
    /// that caps negotiation may insert by itself where two elements cannot
    /// agree: its relative cost per buffer. The cheapest chain wins
    /// (videoconvert 10, videoscale 20, audioconvert 5, audioresample 10).
    unsigned convert_cost = 0;
};

/// A connection point of an element. Src pads push buffers and downstream
/// events to their peer; sink pads receive them and send upstream events.
///
/// Pads are owned by their element. A Pad is used from the streaming thread
/// that drives it; linking and unlinking happen on the control thread while
/// no data flows.
class PARALLAX_API Pad {
public:
    Pad(const Pad&) = delete;
    Pad& operator=(const Pad&) = delete;

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] PadDirection direction() const noexcept { return direction_; }
    [[nodiscard]] const PadTemplate& pad_template() const noexcept { return *template_; }
    [[nodiscard]] Element& element() const noexcept { return *element_; }
    [[nodiscard]] Pad* peer() const noexcept { return peer_; }
    [[nodiscard]] bool is_linked() const noexcept { return peer_ != nullptr; }
    /// "element:pad".
    [[nodiscard]] std::string path() const;

    /// Pushes a buffer to the peer (src pads only) and returns what the peer
    /// returned. **Ownership:** the buffer moves to the peer. Called from:
    /// streaming thread.
    Flow push(Buffer&& buffer);
    /// Sends an event to the peer: downstream from a src pad, upstream from a
    /// sink pad. Returns whether it was handled. Called from: streaming
    /// thread (serialized events), any thread (flush-start, upstream events).
    bool push_event(Event event);
    /// Asks the peer. False when unlinked or unanswered.
    bool peer_query(Query& query);

    /// The caps of the last caps event that crossed this pad (EMPTY before).
    [[nodiscard]] Caps current_caps() const;
    /// The caps that negotiation fixed for this pad's link before the run
    /// (or since the last renegotiation); EMPTY before negotiation, ANY when
    /// neither side constrains the link.
    [[nodiscard]] Caps negotiated_caps() const;
    /// Counts the changes of negotiated_caps(): a cheap way for a streaming
    /// thread to notice a renegotiation.
    [[nodiscard]] std::uint64_t negotiation_count() const noexcept {
        return negotiations_.load(std::memory_order_acquire);
    }
    /// True between flush-start and flush-stop.
    [[nodiscard]] bool is_flushing() const noexcept { return flushing_.load(std::memory_order_acquire); }
    /// True after eos crossed this pad (until flush-stop or stream-start).
    [[nodiscard]] bool is_eos() const noexcept { return eos_.load(std::memory_order_acquire); }

    /// Buffers and bytes that crossed this pad since the run started.
    [[nodiscard]] std::uint64_t buffer_count() const noexcept { return buffers_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t byte_count() const noexcept { return bytes_.load(std::memory_order_relaxed); }
    /// The pts of the last buffer that crossed (none before).
    [[nodiscard]] ClockTime last_pts() const noexcept {
        return ClockTime::from_ns(last_pts_.load(std::memory_order_relaxed));
    }

private:
    friend class Element;
    friend struct detail_pad_access;
    Pad(Element& element, const PadTemplate& templ, std::string name);

    void count(const Buffer& b) noexcept {
        // One writer per pad at a time (its streaming thread): plain
        // load/store keeps the counters free of locked instructions.
        buffers_.store(buffers_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        bytes_.store(bytes_.load(std::memory_order_relaxed) + b.size(), std::memory_order_relaxed);
        last_pts_.store(b.meta().pts().ns(), std::memory_order_relaxed);
    }

    Element* element_;
    const PadTemplate* template_;
    std::string name_;
    PadDirection direction_;
    Pad* peer_ = nullptr;
    std::atomic<bool> flushing_{false};
    std::atomic<bool> eos_{false};
    std::atomic<std::uint64_t> buffers_{0};
    std::atomic<std::uint64_t> bytes_{0};
    std::atomic<std::uint64_t> last_pts_{ClockTime::none_ns};
    mutable std::mutex caps_mutex_;
    Caps caps_;
    Caps negotiated_;
    std::atomic<std::uint64_t> negotiations_{0};
};

/// The base of every element: pads made from templates, properties, events,
/// queries, start/stop hooks. Derive from SimpleSource, SimpleTransform or
/// SimpleSink for the common cases; derive from Element for full control.
///
/// A derived class declares `static constexpr ElementInfo info`, optionally
/// `static std::vector<PadTemplate> pad_templates()` (or, for the Simple
/// bases, `static Caps pad_caps()`) and `static constexpr ExecutionHints
/// hints`, and ends its .cpp with `PARALLAX_REGISTER_ELEMENT(Type);`.
class PARALLAX_API Element {
public:
    Element(const Element&) = delete;
    Element& operator=(const Element&) = delete;
    virtual ~Element();

    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const ElementFactory& factory() const noexcept { return *factory_; }
    /// The hints of this element (its factory's, unless overridden).
    [[nodiscard]] virtual ExecutionHints hints() const;
    [[nodiscard]] State state() const noexcept { return state_.load(std::memory_order_acquire); }

    // Pads.

    /// Every pad, in creation order.
    [[nodiscard]] std::span<Pad* const> pads() const noexcept { return pad_ptrs_; }
    /// The pad named `name`, or nullptr.
    [[nodiscard]] Pad* pad(std::string_view name) const noexcept;
    [[nodiscard]] std::vector<Pad*> src_pads() const;
    [[nodiscard]] std::vector<Pad*> sink_pads() const;
    /// The templates of this element's factory.
    [[nodiscard]] std::span<const PadTemplate> pad_templates() const noexcept;
    /// The template named `name` (the pattern itself, e.g. `src_%u`), or nullptr.
    [[nodiscard]] const PadTemplate* find_template(std::string_view name) const noexcept;
    /// Makes a pad from a request template: `name` is either a template name
    /// (`src_%u`: the next free index is used) or a concrete name that fits
    /// one (`src_3`). Called from: control thread.
    Result<Pad*> request_pad(std::string_view name);
    /// Removes a pad made by request_pad(). Called from: control thread.
    Result<void> release_pad(Pad& pad);
    /// True when the element has no sink pads and no sink templates.
    [[nodiscard]] bool is_source() const noexcept;
    /// True when the element has no src pads and no src templates.
    [[nodiscard]] bool is_sink() const noexcept;

    // Properties.

    [[nodiscard]] std::span<PropertyBase* const> properties() const noexcept { return properties_; }
    /// The property named `name`, or nullptr.
    [[nodiscard]] PropertyBase* property(std::string_view name) const noexcept;
    /// Sets a property from text. An unknown name is an error listing close
    /// names; an ill-typed or out-of-range value, or a change the state does
    /// not allow, is an error naming the property.
    Result<void> set_property(std::string_view name, std::string_view value);
    /// Sets a property from a C++ value (integers convert when in range).
    Result<void> set_property_value(std::string_view name, const PropertyValue& value);
    /// The value of a property, as text.
    [[nodiscard]] Result<std::string> get_property(std::string_view name) const;

    /// Asks a source to end its stream: it sends eos after what it already
    /// produced (plx-launch -e, Pipeline::send_eos). The default pushes eos
    /// out of every src pad. Called from: control thread.
    virtual void request_eos();
    /// Sends `event` into this element from outside its streams (an
    /// application thread), as gst_element_send_event() does: an upstream
    /// event (seek, qos, custom-upstream, upstream-force-key-unit...) leaves
    /// through its linked sink pads, to the elements upstream; eos asks it to
    /// end (request_eos()); another downstream event leaves through its
    /// linked src pads. Sources built on SimpleSource hold downstream events
    /// for their streaming thread, which sends them ahead of its next
    /// buffer, in order with the stream. True when at least one pad took the
    /// event and none refused it. Called from: any thread but the element's
    /// streaming threads.
    virtual bool send_event(Event event);
    /// True when this element pushes on its src pads from a streaming task of
    /// its own (sources, queues): a new streaming thread starts there.
    [[nodiscard]] virtual bool drives_src_pads() const noexcept { return is_source(); }
    /// Makes every blocking call of this element's streaming functions return
    /// (they then return Flow::flushing): called when the pipeline stops.
    /// Called from: control thread.
    virtual void unblock() {}

    // Caps negotiation. The pipeline's solver calls these on the control
    // thread, for every pair of linked pads, until the caps of every link
    // agree with every element; then it fixes the caps of each link in turn.

    /// What pad `pad` can carry at all: by default its template's caps;
    /// elements whose settings narrow them say so here (appsink and appsrc
    /// with their caps property). Negotiation starts from these.
    [[nodiscard]] virtual Caps allowed_caps(const Pad& pad) const;
    /// What pad `to` may carry when pad `from` carries `caps` (a set of
    /// possibilities, not fixed). The solver intersects the result with
    /// `to`'s template and with what the rest of the graph allows. The
    /// default suits elements that pass data on unchanged (identity, queue,
    /// tee, funnel, valve...): the same caps on every pad of the other
    /// direction; two pads of the same direction do not constrain each
    /// other. A converter returns `caps` with the fields it can change left
    /// open (see without_fields()); a decoder returns its output template,
    /// maybe refined from `caps`.
    [[nodiscard]] virtual Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const;
    /// Picks fixed caps for src pad `pad` out of `caps` (what negotiation
    /// left possible there). `reference` is what the element's first sink
    /// pad was fixed to (EMPTY for sources). The default keeps every field
    /// of `reference` that `caps` allows (a converter that need not convert
    /// does not), then fixes the rest as GStreamer does (first structure,
    /// the smallest value of a range, the first of a list). A source
    /// overrides it to state its preferred defaults (videotestsrc: 320x240
    /// at 30/1).
    [[nodiscard]] virtual Caps fixate_caps(const Pad& pad, const Caps& caps, const Caps& reference) const;

    /// This element's context. Valid once the element belongs to a pipeline
    /// or harness; before that, a detached context that logs what it is told.
    [[nodiscard]] ElementContext& context() noexcept { return *context_; }

protected:
    Element();

    // Hooks. The defaults do nothing or forward, as stated.

    /// After the Always pads exist, once. Called from: control thread.
    virtual void init() {}
    /// Before data flows (idle -> paused): open resources, start tasks.
    /// Called from: control thread.
    virtual Result<void> start() { return {}; }
    /// After data stopped (paused -> idle): release what start() took.
    /// Called from: control thread.
    virtual Result<void> stop() { return {}; }

    /// A buffer arrived on sink pad `pad`. **Ownership:** the buffer is the
    /// element's. The default posts a "not handled" error. Called from:
    /// streaming thread.
    virtual Flow chain(Pad& pad, Buffer&& buffer);
    /// An event arrived on sink pad `pad` (downstream events). The default
    /// records caps, reports eos of sinks, and forwards to every src pad.
    /// Called from: streaming thread (flush-start: any thread).
    virtual bool sink_event(Pad& pad, Event&& event);
    /// An event arrived on src pad `pad` (upstream events). The default
    /// forwards to every sink pad. Called from: any thread.
    virtual bool src_event(Pad& pad, Event&& event);
    /// A query arrived on `pad`. The default answers caps and accept-caps
    /// from the pad's template (and the peers on the other side), and
    /// forwards latency, position, duration and seeking to the other side.
    /// An allocation query is not answered: an element that honours a
    /// per-buffer meta, or passes buffers on untouched, says so itself
    /// (forward_query()). Called from: any thread.
    virtual bool query(Pad& pad, Query& query);
    /// Vets a value set by name (set_property, set_property_value, pipeline
    /// text) that depends on more than its type and range, e.g. a pad name.
    /// Runs after the value is stored and before property_changed(); an
    /// error goes back to the caller and the previous value is restored. An
    /// element's own typed Property::set() calls are not vetted. The default
    /// accepts everything. Called from: the thread that sets it.
    virtual Result<void> check_property(const PropertyBase& property) {
        static_cast<void>(property);
        return {};
    }
    /// A property changed (after the new value is stored). Called from: the
    /// thread that set it.
    virtual void property_changed(const PropertyBase& property) { static_cast<void>(property); }
    /// A request pad was made / is about to be removed. Called from: control
    /// thread.
    virtual void pad_requested(Pad& pad) { static_cast<void>(pad); }
    virtual void pad_releasing(Pad& pad) { static_cast<void>(pad); }

    /// Forwards `event` to every pad of the other direction: downstream
    /// events out of every src pad, upstream events out of every sink pad.
    /// True when every push succeeded (or there was nothing to push to).
    bool forward_event(Pad& from, const Event& event);
    /// Asks the peers on the other side of `from` (downstream for a query
    /// that arrived on a sink pad) in pad order: true with the first answer.
    bool forward_query(Pad& from, Query& query);
    /// Adds a pad from a sometimes template while running; the pipeline
    /// links it if the description asked for it. Called from: streaming thread.
    Result<Pad*> add_sometimes_pad(std::string_view template_name, std::string name);

private:
    friend class Pad;
    friend class PropertyBase;
    friend class ElementFactory;
    friend struct detail_element_access;

    Flow dispatch_chain(Pad& pad, Buffer&& buffer) noexcept;
    bool dispatch_sink_event(Pad& pad, Event&& event) noexcept;
    bool dispatch_src_event(Pad& pad, Event&& event) noexcept;
    bool dispatch_query(Pad& pad, Query& query) noexcept;
    Pad& make_pad(const PadTemplate& templ, std::string name);
    /// Posts the error for an exception out of element code; `what` may be null.
    Flow exception_caught(const char* what) noexcept;

    std::string name_;
    const ElementFactory* factory_ = nullptr;
    std::atomic<State> state_{State::suspended};
    std::vector<std::unique_ptr<Pad>> pad_storage_;
    std::vector<Pad*> pad_ptrs_;
    std::vector<PropertyBase*> properties_;
    std::unique_ptr<ElementContext> detached_context_;
    ElementContext* context_ = nullptr;
    std::unique_ptr<ElementContext> attached_context_;
};

inline Flow Pad::push(Buffer&& buffer) {
    Pad* peer = peer_;
    if (peer == nullptr) [[unlikely]] {
        return Flow::not_linked;
    }
    if (peer->flushing_.load(std::memory_order_relaxed)) [[unlikely]] {
        return Flow::flushing;
    }
    if (peer->eos_.load(std::memory_order_relaxed)) [[unlikely]] {
        return Flow::eos;
    }
    peer->count(buffer);
    return peer->element_->dispatch_chain(*peer, std::move(buffer));
}

inline Flow Element::dispatch_chain(Pad& pad, Buffer&& buffer) noexcept {
    try {
        return chain(pad, std::move(buffer));
    } catch (const std::exception& e) {
        return exception_caught(e.what());
    } catch (...) {
        return exception_caught(nullptr);
    }
}

} // namespace parallax
