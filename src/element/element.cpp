#include "element/element_access.hpp"

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element/element.hpp>
#include <parallax/element/registry.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace parallax {

namespace {

LogCategory element_log("element", "elements: pads, events, queries, errors");

// The host of an element that is in no pipeline or harness: it logs what it
// is told and refuses what needs a runtime.
class DetachedHost final : public ElementHost {
public:
    void post(Message message) override { PARALLAX_INFO(element_log, "detached: {}", message.to_string()); }
    Result<Buffer> allocate(std::size_t) override {
        return fail(Errc::state, "the element is not in a pipeline: no buffers to allocate");
    }
    Result<void> start_task(Element& e, std::string, std::function<Flow()>) override {
        return fail(Error(Errc::state, "the element is not in a pipeline: no streaming thread").at_element(e.name()));
    }
    ClockTime running_time() const override { return ClockTime::none(); }
    Flow wait_until(Element&, ClockTime) override { return Flow::flushing; }
    void sink_eos(Element&) override {}
    void pad_added(Element&, Pad&) override {}
    void post_control(std::function<void()> fn) override { fn(); }
    TimerHandle after(std::chrono::nanoseconds, std::function<void()>) override { return {}; }
};

DetachedHost& detached_host() {
    static DetachedHost host;
    return host;
}

} // namespace

// ElementContext

Error ElementContext::post_error(Error error, std::string detail) {
    if (error.element().empty()) {
        error.at_element(element_->name());
    }
    if (!error_posted_.exchange(true, std::memory_order_acq_rel)) {
        host_->post(Message::make_error(element_->name(), error, std::move(detail)));
    } else {
        PARALLAX_WARNING(element_log, "{}: further error not posted: {}", element_->name(), error.to_string());
    }
    return error;
}

Flow ElementContext::error(Error error, std::string detail) {
    post_error(std::move(error), std::move(detail));
    return Flow::error;
}

void ElementContext::warning(std::string text, std::string detail) {
    host_->post(Message::make_warning(element_->name(), std::move(text), std::move(detail)));
}

void ElementContext::info(std::string text, std::string detail) {
    host_->post(Message::make_info(element_->name(), std::move(text), std::move(detail)));
}

void ElementContext::post_element_message(Structure structure) {
    host_->post(Message::make_element(element_->name(), std::move(structure)));
}

// Pad

Pad::Pad(Element& element, const PadTemplate& templ, std::string name)
    : element_(&element), template_(&templ), name_(std::move(name)), direction_(templ.direction) {}

std::string Pad::path() const {
    return element_->name() + ":" + name_;
}

Caps Pad::current_caps() const {
    std::lock_guard lock(caps_mutex_);
    return caps_;
}

Caps Pad::negotiated_caps() const {
    std::lock_guard lock(caps_mutex_);
    return negotiated_;
}

bool Pad::push_event(Event event) {
    Pad* peer = peer_;
    if (event.type() == EventType::caps) {
        std::lock_guard lock(caps_mutex_);
        caps_ = *event.caps_value();
    }
    if (peer == nullptr) {
        return false;
    }
    if (direction_ == PadDirection::src) {
        if (!event.is_downstream()) {
            return false;
        }
        return peer->element_->dispatch_sink_event(*peer, std::move(event));
    }
    if (event.is_downstream()) {
        return false;
    }
    return peer->element_->dispatch_src_event(*peer, std::move(event));
}

bool Pad::peer_query(Query& query) {
    Pad* peer = peer_;
    return peer != nullptr && peer->element_->dispatch_query(*peer, query);
}

// Element

Element::Element()
    : detached_context_(std::make_unique<ElementContext>(*this, detached_host())), context_(detached_context_.get()) {}

Element::~Element() = default;

ExecutionHints Element::hints() const {
    return factory_ != nullptr ? factory_->hints() : ExecutionHints{};
}

Pad* Element::pad(std::string_view name) const noexcept {
    for (Pad* p : pad_ptrs_) {
        if (p->name() == name) {
            return p;
        }
    }
    return nullptr;
}

std::vector<Pad*> Element::src_pads() const {
    std::vector<Pad*> out;
    for (Pad* p : pad_ptrs_) {
        if (p->direction() == PadDirection::src) {
            out.push_back(p);
        }
    }
    return out;
}

std::vector<Pad*> Element::sink_pads() const {
    std::vector<Pad*> out;
    for (Pad* p : pad_ptrs_) {
        if (p->direction() == PadDirection::sink) {
            out.push_back(p);
        }
    }
    return out;
}

std::span<const PadTemplate> Element::pad_templates() const noexcept {
    return factory_ != nullptr ? factory_->pad_templates() : std::span<const PadTemplate>{};
}

const PadTemplate* Element::find_template(std::string_view name) const noexcept {
    for (const auto& t : pad_templates()) {
        if (t.name == name) {
            return &t;
        }
    }
    return nullptr;
}

bool Element::is_source() const noexcept {
    return std::none_of(pad_templates().begin(), pad_templates().end(),
                        [](const PadTemplate& t) { return t.direction == PadDirection::sink; });
}

bool Element::is_sink() const noexcept {
    return std::none_of(pad_templates().begin(), pad_templates().end(),
                        [](const PadTemplate& t) { return t.direction == PadDirection::src; });
}

Pad& Element::make_pad(const PadTemplate& templ, std::string name) {
    pad_storage_.push_back(std::unique_ptr<Pad>(new Pad(*this, templ, std::move(name))));
    pad_ptrs_.push_back(pad_storage_.back().get());
    return *pad_storage_.back();
}

Result<Pad*> Element::request_pad(std::string_view name) {
    const PadTemplate* templ = nullptr;
    for (const auto& t : pad_templates()) {
        if (t.presence == PadPresence::request && (t.name == name || t.matches(name))) {
            templ = &t;
            break;
        }
    }
    if (templ == nullptr) {
        std::string names;
        for (const auto& t : pad_templates()) {
            if (t.presence == PadPresence::request) {
                names += names.empty() ? "" : ", ";
                names += t.name;
            }
        }
        return fail(Error(Errc::not_found, names.empty()
                                               ? fmt::format("{} has no request pads (asked for \"{}\")", name_, name)
                                               : fmt::format("{} has no request pad template for \"{}\" (it has: {})",
                                                             name_, name, names))
                        .at_element(name_));
    }
    std::string pad_name;
    if (name == templ->name && templ->is_pattern()) {
        for (unsigned i = 0;; ++i) {
            pad_name = templ->pad_name(i);
            if (pad(pad_name) == nullptr) {
                break;
            }
        }
    } else {
        pad_name = std::string(name);
        if (pad(pad_name) != nullptr) {
            return fail(Error(Errc::invalid_argument, fmt::format("{} already has a pad \"{}\"", name_, pad_name))
                            .at_element(name_)
                            .at_pad(pad_name));
        }
    }
    Pad& p = make_pad(*templ, std::move(pad_name));
    pad_requested(p);
    return &p;
}

Result<void> Element::release_pad(Pad& p) {
    if (&p.element() != this || p.pad_template().presence != PadPresence::request) {
        return fail(Error(Errc::invalid_argument, fmt::format("{} is not a request pad of {}", p.name(), name_))
                        .at_element(name_)
                        .at_pad(p.name()));
    }
    pad_releasing(p);
    detail_pad_access::unlink(p);
    std::erase(pad_ptrs_, &p);
    std::erase_if(pad_storage_, [&](const std::unique_ptr<Pad>& q) { return q.get() == &p; });
    return {};
}

Result<Pad*> Element::add_sometimes_pad(std::string_view template_name, std::string name) {
    const PadTemplate* templ = find_template(template_name);
    if (templ == nullptr || templ->presence != PadPresence::sometimes || !templ->matches(name)) {
        return fail(Error(Errc::invalid_argument,
                          fmt::format("{}: \"{}\" is not a sometimes pad template that fits \"{}\"", name_,
                                      template_name, name))
                        .at_element(name_));
    }
    if (pad(name) != nullptr) {
        return fail(
            Error(Errc::invalid_argument, fmt::format("{} already has a pad \"{}\"", name_, name)).at_element(name_));
    }
    Pad& p = make_pad(*templ, std::move(name));
    context_->host().pad_added(*this, p);
    return &p;
}

// Properties

PropertyBase* Element::property(std::string_view name) const noexcept {
    for (PropertyBase* p : properties_) {
        if (p->name() == name) {
            return p;
        }
    }
    return nullptr;
}

namespace {
Error unknown_property(const Element& e, std::string_view name) {
    std::vector<std::string> names;
    for (const PropertyBase* p : e.properties()) {
        names.emplace_back(p->name());
    }
    auto close = suggest_names(name, names);
    std::string text = fmt::format("{} ({}) has no property \"{}\"", e.name(), e.factory().name(), name);
    if (!close.empty()) {
        text += fmt::format(" (did you mean \"{}\"?)", fmt::join(close, "\", \""));
    } else if (names.empty()) {
        text += "; it has no properties";
    }
    return Error(Errc::not_found, std::move(text)).at_element(e.name());
}
} // namespace

Result<void> Element::set_property(std::string_view name, std::string_view value) {
    PropertyBase* p = property(name);
    if (p == nullptr) {
        return fail(unknown_property(*this, name));
    }
    return p->set_from_string(value);
}

Result<void> Element::set_property_value(std::string_view name, const PropertyValue& value) {
    PropertyBase* p = property(name);
    if (p == nullptr) {
        return fail(unknown_property(*this, name));
    }
    return p->set_value(value);
}

Result<std::string> Element::get_property(std::string_view name) const {
    const PropertyBase* p = property(name);
    if (p == nullptr) {
        return fail(unknown_property(*this, name));
    }
    return p->value_string();
}

// Default handlers

namespace {

struct EventPushes {
    bool any = false; // a pad took part
    bool all = true;  // none refused
};

// Pushes `event` out of every linked pad of `pads` in its direction (src
// pads for a downstream event, sink pads for an upstream one) but `except`.
EventPushes push_out(const std::vector<Pad*>& pads, const Pad* except, const Event& event) {
    const PadDirection out = event.is_downstream() ? PadDirection::src : PadDirection::sink;
    EventPushes r;
    for (Pad* p : pads) {
        if (p != except && p->direction() == out && p->is_linked()) {
            r.any = true;
            r.all = p->push_event(event) && r.all;
        }
    }
    return r;
}

} // namespace

bool Element::send_event(Event event) {
    if (event.type() == EventType::eos) {
        request_eos();
        return true;
    }
    const EventPushes pushes = push_out(pad_ptrs_, nullptr, event);
    return pushes.any && pushes.all;
}

void Element::request_eos() {
    for (Pad* p : pad_ptrs_) {
        if (p->direction() == PadDirection::src) {
            p->push_event(Event::eos());
        }
    }
}

Flow Element::chain(Pad& pad, Buffer&&) {
    return context_->error(Error(Errc::failed, fmt::format("{} does not take buffers on {}", name_, pad.name())));
}

bool Element::forward_event(Pad& from, const Event& event) {
    return push_out(pad_ptrs_, &from, event).all;
}

bool Element::sink_event(Pad& pad, Event&& event) {
    if (event.type() == EventType::stream_start && is_sink()) {
        context_->host().sink_stream_start(*this);
        return true;
    }
    if (event.type() == EventType::eos && is_sink()) {
        for (Pad* p : pad_ptrs_) {
            if (p->direction() == PadDirection::sink && !p->is_eos()) {
                return true;
            }
        }
        context_->host().sink_eos(*this);
        return true;
    }
    return forward_event(pad, event);
}

bool Element::src_event(Pad& pad, Event&& event) {
    return forward_event(pad, event);
}

bool Element::query(Pad& pad, Query& q) {
    switch (q.type()) {
    case QueryType::caps: {
        const PadDirection other = pad.direction() == PadDirection::src ? PadDirection::sink : PadDirection::src;
        Caps result = pad.pad_template().caps;
        for (Pad* p : pad_ptrs_) {
            if (p->direction() == other && p->is_linked()) {
                Query peer = Query::caps(intersect(q.caps_argument(), result));
                if (p->peer_query(peer)) {
                    result = intersect(result, peer.caps_result());
                }
            }
        }
        q.set_caps_result(intersect(q.caps_argument(), result));
        return true;
    }
    case QueryType::accept_caps:
        q.set_accepted(is_subset(q.caps_argument(), pad.pad_template().caps));
        return true;
    case QueryType::latency:
    case QueryType::position:
    case QueryType::duration:
    case QueryType::seeking:
        return forward_query(pad, q);
    case QueryType::allocation:
        return false;
    }
    return false;
}

bool Element::forward_query(Pad& from, Query& q) {
    const PadDirection other = from.direction() == PadDirection::src ? PadDirection::sink : PadDirection::src;
    for (Pad* p : pad_ptrs_) {
        if (p->direction() == other && p->is_linked() && p->peer_query(q)) {
            return true;
        }
    }
    return false;
}

Flow Element::exception_caught(const char* what) noexcept {
    try {
        return context_->error(Error(Errc::exception, what != nullptr
                                                          ? fmt::format("exception in streaming code: {}", what)
                                                          : std::string("unknown exception in streaming code")));
    } catch (...) {
        return Flow::error;
    }
}

// Dispatch: keeps pad flags and catches exceptions at the element boundary.

bool Element::dispatch_sink_event(Pad& pad, Event&& event) noexcept {
    switch (event.type()) {
    case EventType::flush_start:
        pad.flushing_.store(true, std::memory_order_release);
        break;
    case EventType::flush_stop:
        pad.flushing_.store(false, std::memory_order_release);
        pad.eos_.store(false, std::memory_order_release);
        break;
    case EventType::stream_start:
        pad.eos_.store(false, std::memory_order_release);
        break;
    case EventType::eos:
        pad.eos_.store(true, std::memory_order_release);
        break;
    case EventType::caps: {
        std::lock_guard lock(pad.caps_mutex_);
        pad.caps_ = *event.caps_value();
        break;
    }
    default:
        break;
    }
    try {
        return sink_event(pad, std::move(event));
    } catch (const std::exception& e) {
        context_->error(Error(Errc::exception, std::string("exception in event handler: ") + e.what()));
    } catch (...) {
        context_->error(Error(Errc::exception, "unknown exception in event handler"));
    }
    return false;
}

bool Element::dispatch_src_event(Pad& pad, Event&& event) noexcept {
    try {
        return src_event(pad, std::move(event));
    } catch (const std::exception& e) {
        context_->error(Error(Errc::exception, std::string("exception in event handler: ") + e.what()));
    } catch (...) {
        context_->error(Error(Errc::exception, "unknown exception in event handler"));
    }
    return false;
}

bool Element::dispatch_query(Pad& pad, Query& q) noexcept {
    try {
        return query(pad, q);
    } catch (const std::exception& e) {
        context_->error(Error(Errc::exception, std::string("exception in query handler: ") + e.what()));
    } catch (...) {
        context_->error(Error(Errc::exception, "unknown exception in query handler"));
    }
    return false;
}

// Access for the runtime

void detail_element_access::attach(Element& e, ElementHost& host) {
    e.attached_context_ = std::make_unique<ElementContext>(e, host);
    e.context_ = e.attached_context_.get();
}

void detail_element_access::detach(Element& e) {
    e.context_ = e.detached_context_.get();
    e.attached_context_.reset();
}

Result<void> detail_element_access::start(Element& e) {
    try {
        return e.start();
    } catch (const std::exception& ex) {
        return fail(Error(Errc::exception, std::string("exception in start(): ") + ex.what()).at_element(e.name()));
    } catch (...) {
        return fail(Error(Errc::exception, "unknown exception in start()").at_element(e.name()));
    }
}

Result<void> detail_element_access::stop(Element& e) {
    try {
        return e.stop();
    } catch (const std::exception& ex) {
        return fail(Error(Errc::exception, std::string("exception in stop(): ") + ex.what()).at_element(e.name()));
    } catch (...) {
        return fail(Error(Errc::exception, "unknown exception in stop()").at_element(e.name()));
    }
}

Result<void> detail_pad_access::link(Pad& src, Pad& sink) {
    if (src.direction() != PadDirection::src || sink.direction() != PadDirection::sink) {
        return fail(Error(Errc::invalid_argument,
                          fmt::format("cannot link {} to {}: links go from a src pad to a sink pad", src.path(),
                                      sink.path()))
                        .at_element(src.element().name())
                        .at_pad(src.name()));
    }
    if (src.peer_ != nullptr || sink.peer_ != nullptr) {
        const Pad& busy = src.peer_ != nullptr ? src : sink;
        return fail(Error(Errc::invalid_argument, fmt::format("cannot link {} to {}: {} is already linked to {}",
                                                              src.path(), sink.path(), busy.path(),
                                                              busy.peer_->path()))
                        .at_element(busy.element().name())
                        .at_pad(busy.name()));
    }
    if (&src.element() == &sink.element()) {
        return fail(Error(Errc::invalid_argument,
                          fmt::format("cannot link {} to {}: an element cannot feed itself", src.path(), sink.path()))
                        .at_element(src.element().name()));
    }
    src.peer_ = &sink;
    sink.peer_ = &src;
    return {};
}

void detail_pad_access::unlink(Pad& pad) noexcept {
    if (pad.peer_ != nullptr) {
        pad.peer_->peer_ = nullptr;
        pad.peer_ = nullptr;
    }
}

void detail_pad_access::reset(Pad& pad) noexcept {
    pad.flushing_.store(false, std::memory_order_release);
    pad.eos_.store(false, std::memory_order_release);
    pad.buffers_.store(0, std::memory_order_relaxed);
    pad.bytes_.store(0, std::memory_order_relaxed);
    pad.last_pts_.store(ClockTime::none_ns, std::memory_order_relaxed);
    std::lock_guard lock(pad.caps_mutex_);
    pad.caps_ = Caps();
}

Caps Element::allowed_caps(const Pad& pad) const {
    return pad.pad_template().caps;
}

Caps Element::transform_caps(const Pad& from, const Pad& to, const Caps& caps) const {
    return from.direction() != to.direction() ? caps : Caps::any();
}

Caps Element::fixate_caps(const Pad&, const Caps& caps, const Caps& reference) const {
    if (caps.is_any() || caps.is_empty()) {
        return caps;
    }
    if (reference.size() == 1) {
        // Keep what the other side has wherever these caps allow it: of the
        // structures with its media type, the first that takes most of its
        // fields, with those fields set to the reference's values.
        const Structure& ref = reference.structure(0);
        std::optional<Structure> best;
        std::size_t best_kept = 0;
        std::size_t best_index = 0;
        for (std::size_t i = 0; i < caps.size(); ++i) {
            if (caps.structure(i).name() != ref.name() || caps.features(i) != reference.features(0)) {
                continue;
            }
            Structure s = caps.structure(i);
            std::size_t kept = 0;
            for (const StructureField& f : ref) {
                const CapsValue* v = s.get(f.name);
                // A field these caps do not mention may take any value.
                if (v == nullptr || is_subset(f.value, *v)) {
                    s.set(f.name, f.value);
                    ++kept;
                }
            }
            if (!best || kept > best_kept) {
                best = std::move(s);
                best_kept = kept;
                best_index = i;
            }
        }
        if (best) {
            Caps out;
            out.append(fixate(*best), caps.features(best_index));
            return out;
        }
    }
    auto fixed = fixate(caps);
    return fixed ? *fixed : caps;
}

} // namespace parallax
