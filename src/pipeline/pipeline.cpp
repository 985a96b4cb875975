#include "element/element_access.hpp"
#include "pipeline/graph.hpp"
#include "pipeline/launch_parser.hpp"
#include "pipeline/runner.hpp"

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>

namespace parallax {

namespace {

LogCategory pipeline_log("pipeline", "pipelines: building, linking, states");

std::atomic<unsigned> pipeline_counter{0};

// A link that waits for a sometimes pad to appear.
struct PendingLink {
    Element* src = nullptr;
    std::string src_pad; // pad name or template; empty: any
    Element* sink = nullptr;
    std::string sink_pad;
    Caps filter = Caps::any();
};

bool is_free(const Pad& p) {
    return !p.is_linked();
}

} // namespace

struct Pipeline::Impl {
    detail::PipelineCore core;
    std::unique_ptr<detail::Runner> runner;
    std::mutex link_mutex; // pending links: control thread and streaming threads (pad-added)
    std::vector<PendingLink> pending;
    unsigned capsfilter_counter = 0;

    Result<Element*> add(std::unique_ptr<Element> e) {
        auto added = core.graph.add(std::move(e));
        if (!added) {
            return added;
        }
        detail_element_access::attach(**added, *runner);
        return added;
    }

    Result<Element*> make_capsfilter(const Caps& caps) {
        std::string name;
        do {
            name = fmt::format("capsfilter{}", capsfilter_counter++);
        } while (core.graph.find(name) != nullptr);
        auto e = core.registry->create("capsfilter", name);
        if (!e) {
            return fail(e.error());
        }
        if (auto ok = (*e)->set_property_value("caps", PropertyValue(caps)); !ok) {
            return fail(ok.error());
        }
        return add(std::move(*e));
    }

    // The pad of `e` called `name` (existing, or made from a request
    // template); nullptr with no error when it is a sometimes pad that does
    // not exist yet.
    Result<Pad*> find_pad(Element& e, std::string_view name, PadDirection dir) {
        if (Pad* p = e.pad(name)) {
            if (p->direction() != dir) {
                return fail(Error(Errc::invalid_argument,
                                  fmt::format("{} is a {} pad, not a {} pad", p->path(), to_string(p->direction()),
                                              to_string(dir)))
                                .at_element(e.name())
                                .at_pad(std::string(name)));
            }
            return p;
        }
        for (const auto& t : e.pad_templates()) {
            if (t.direction != dir || !(t.name == name || t.matches(name))) {
                continue;
            }
            if (t.presence == PadPresence::request) {
                return e.request_pad(name);
            }
            if (t.presence == PadPresence::sometimes) {
                return static_cast<Pad*>(nullptr);
            }
        }
        std::vector<std::string> names;
        for (const Pad* p : e.pads()) {
            if (p->direction() == dir) {
                names.push_back(p->name());
            }
        }
        for (const auto& t : e.pad_templates()) {
            if (t.direction == dir && t.presence != PadPresence::always) {
                names.push_back(t.name);
            }
        }
        std::string text = fmt::format("{} ({}) has no {} pad \"{}\"", e.name(), e.factory().name(), to_string(dir),
                                       name);
        if (!names.empty()) {
            text += fmt::format(" (it has: {})", fmt::join(names, ", "));
        }
        return fail(Error(Errc::not_found, std::move(text)).at_element(e.name()));
    }

    // A free pad of `e` in direction `dir` whose caps can meet `other`; a new
    // request pad if none. nullptr when only a sometimes template fits.
    // Failing those, any free or requestable pad of that direction.
    Result<Pad*> pick_pad(Element& e, PadDirection dir, const Caps& other) {
        for (Pad* p : e.pads()) {
            if (p->direction() == dir && is_free(*p) && can_intersect(p->pad_template().caps, other)) {
                return p;
            }
        }
        for (const auto& t : e.pad_templates()) {
            if (t.direction == dir && t.presence == PadPresence::request && can_intersect(t.caps, other)) {
                return e.request_pad(t.name);
            }
        }
        for (const auto& t : e.pad_templates()) {
            if (t.direction == dir && t.presence == PadPresence::sometimes) {
                return static_cast<Pad*>(nullptr);
            }
        }
        // No pad whose caps meet: link a free one all the same, and let
        // negotiation bridge the formats with a converter or explain why not.
        for (Pad* p : e.pads()) {
            if (p->direction() == dir && is_free(*p)) {
                return p;
            }
        }
        for (const auto& t : e.pad_templates()) {
            if (t.direction == dir && t.presence == PadPresence::request) {
                return e.request_pad(t.name);
            }
        }
        bool any = false;
        for (Pad* p : e.pads()) {
            any = any || p->direction() == dir;
        }
        return fail(Error(Errc::not_found,
                          any ? fmt::format("{} has no free {} pad that can link (all are linked or their caps do not "
                                            "fit {})",
                                            e.name(), to_string(dir), other.to_string())
                              : fmt::format("{} ({}) has no {} pads", e.name(), e.factory().name(), to_string(dir)))
                        .at_element(e.name()));
    }

    Result<void> link_pads(Pad& src, Pad& sink, const Caps& filter) {
        if (filter.is_any()) {
            return core.graph.link(src, sink);
        }
        auto cf = make_capsfilter(filter);
        if (!cf) {
            return fail(cf.error());
        }
        if (auto ok = core.graph.link(src, *(*cf)->pad("sink")); !ok) {
            static_cast<void>(core.graph.remove(**cf));
            return ok;
        }
        return core.graph.link(*(*cf)->pad("src"), sink);
    }

    Result<void> link(Element& src, std::string_view src_pad, Element& sink, std::string_view sink_pad,
                      const Caps& filter) {
        Pad* sink_p = nullptr;
        if (!sink_pad.empty()) {
            auto p = find_pad(sink, sink_pad, PadDirection::sink);
            if (!p) {
                return fail(p.error());
            }
            sink_p = *p;
            if (sink_p == nullptr) {
                return fail(Error(Errc::invalid_argument,
                                  fmt::format("{}:{} is a sometimes sink pad; it cannot be linked to", sink.name(),
                                              sink_pad))
                                .at_element(sink.name()));
            }
        }
        Pad* src_p = nullptr;
        if (!src_pad.empty()) {
            auto p = find_pad(src, src_pad, PadDirection::src);
            if (!p) {
                return fail(p.error());
            }
            src_p = *p;
        } else {
            auto p = pick_pad(src, PadDirection::src,
                              sink_p != nullptr ? intersect(sink_p->pad_template().caps, filter) : filter);
            if (!p) {
                return fail(p.error());
            }
            src_p = *p;
        }
        if (src_p == nullptr) {
            std::lock_guard lock(link_mutex);
            pending.push_back({&src, std::string(src_pad), &sink, std::string(sink_pad), filter});
            PARALLAX_DEBUG(pipeline_log, "{}: link {} -> {} waits for a sometimes pad", core.name, src.name(),
                           sink.name());
            return {};
        }
        if (sink_p == nullptr) {
            auto p = pick_pad(sink, PadDirection::sink, intersect(src_p->pad_template().caps, filter));
            if (!p) {
                return fail(p.error());
            }
            sink_p = *p;
        }
        return link_pads(*src_p, *sink_p, filter);
    }

    // Whether a waiting link names this sink pad, or one of its element
    // whose free sink pads it would pick.
    bool awaits_link(const Pad& p) {
        if (p.direction() != PadDirection::sink) {
            return false;
        }
        std::lock_guard lock(link_mutex);
        return std::any_of(pending.begin(), pending.end(), [&](const PendingLink& l) {
            return l.sink == &p.element() && (l.sink_pad.empty() || l.sink_pad == p.name());
        });
    }

    // A sometimes pad appeared: make the links that waited for it.
    void pad_added(Element& e, Pad& pad) {
        std::lock_guard lock(link_mutex);
        for (auto it = pending.begin(); it != pending.end(); ++it) {
            if (it->src != &e || pad.direction() != PadDirection::src) {
                continue;
            }
            if (!it->src_pad.empty() && it->src_pad != pad.name() && !pad.pad_template().matches(it->src_pad) &&
                pad.pad_template().name != it->src_pad) {
                continue;
            }
            auto ok = link(e, pad.name(), *it->sink, it->sink_pad, it->filter);
            if (!ok) {
                PARALLAX_WARNING(pipeline_log, "{}: could not link new pad {}: {}", core.name, pad.path(),
                                 ok.error().to_string());
                continue;
            }
            pending.erase(it);
            return;
        }
    }

    void dump_dot(State from, State to) {
        const char* dir = std::getenv("PARALLAX_DEBUG_DUMP_DOT_DIR"); // NOLINT(concurrency-mt-unsafe)
        if (dir == nullptr || *dir == '\0') {
            return;
        }
        const auto now = std::chrono::steady_clock::now().time_since_epoch();
        const auto path = fmt::format("{}/{}-{}.{}_{}.dot", dir,
                                      std::chrono::duration_cast<std::chrono::microseconds>(now).count(), core.name,
                                      to_string(from), to_string(to));
        std::ofstream out(path);
        out << core.graph.to_dot(fmt::format("{} ({} -> {})", core.name, to_string(from), to_string(to)));
        if (!out) {
            PARALLAX_WARNING(pipeline_log, "cannot write {}", path);
        }
    }
};

Pipeline::Pipeline(std::string name) : impl_(std::make_unique<Impl>()) {
    impl_->core.name = std::move(name);
    impl_->core.on_pad_added = [this](Element& e, Pad& p) { impl_->pad_added(e, p); };
    impl_->core.awaits_link = [this](const Pad& p) { return impl_->awaits_link(p); };
    impl_->core.on_state_changed = [this](State from, State to) { impl_->dump_dot(from, to); };
    impl_->runner = detail::make_runner(impl_->core);
}

Pipeline::~Pipeline() {
    // The runner stops streaming before the graph (and its elements) goes.
    impl_->runner.reset();
}

std::unique_ptr<Pipeline> Pipeline::create(std::string name) {
    if (name.empty()) {
        name = fmt::format("pipeline{}", pipeline_counter.fetch_add(1));
    }
    return std::unique_ptr<Pipeline>(new Pipeline(std::move(name)));
}

const std::string& Pipeline::name() const noexcept {
    return impl_->core.name;
}

Result<Element*> Pipeline::add(std::string_view factory, std::string name,
                               std::initializer_list<PropertySetting> properties) {
    auto e = impl_->core.registry->create(factory, std::move(name));
    if (!e) {
        return fail(e.error());
    }
    for (const auto& p : properties) {
        if (auto ok = (*e)->set_property_value(p.name, p.value); !ok) {
            return fail(ok.error());
        }
    }
    return impl_->add(std::move(*e));
}

Result<Element*> Pipeline::add(std::unique_ptr<Element> element) {
    if (element && element->name().empty()) {
        return fail(Errc::invalid_argument, "elements are made by a factory (Registry::create, make_element<T>)");
    }
    return impl_->add(std::move(element));
}

Result<void> Pipeline::remove(Element& element) {
    if (state() >= State::paused) {
        return fail(Error(Errc::state, fmt::format("cannot remove {} while the pipeline is {}", element.name(),
                                                   to_string(state())))
                        .at_element(element.name()));
    }
    auto removed = impl_->core.graph.remove(element);
    if (!removed) {
        return fail(removed.error());
    }
    return {};
}

Result<void> Pipeline::link(Element& src, Element& sink, const Caps& filter) {
    return impl_->link(src, {}, sink, {}, filter);
}

Result<void> Pipeline::link(Element& src, std::string_view src_pad, Element& sink, std::string_view sink_pad) {
    return impl_->link(src, src_pad, sink, sink_pad, Caps::any());
}

Result<void> Pipeline::link(std::string_view src_ref, std::string_view sink_ref) {
    auto split = [this](std::string_view ref) -> Result<std::pair<Element*, std::string_view>> {
        const auto dot = ref.find('.');
        const std::string_view name = ref.substr(0, dot);
        Element* e = find(name);
        if (e == nullptr) {
            return fail(not_found(name));
        }
        return std::pair{e, dot == std::string_view::npos ? std::string_view{} : ref.substr(dot + 1)};
    };
    auto a = split(src_ref);
    if (!a) {
        return fail(a.error());
    }
    auto b = split(sink_ref);
    if (!b) {
        return fail(b.error());
    }
    return impl_->link(*a->first, a->second, *b->first, b->second, Caps::any());
}

Pipeline::Chain& Pipeline::Chain::then(std::string_view factory, std::initializer_list<PropertySetting> properties,
                                       std::string name) {
    if (error_) {
        return *this;
    }
    auto e = pipeline_->add(factory, std::move(name), properties);
    if (!e) {
        error_ = e.error();
        return *this;
    }
    if (last_ != nullptr) {
        if (auto ok = pipeline_->link(*last_, **e, filter_); !ok) {
            error_ = ok.error();
            return *this;
        }
    }
    filter_ = Caps::any();
    last_ = *e;
    return *this;
}

Pipeline::Chain& Pipeline::Chain::from(std::string_view name) {
    if (error_) {
        return *this;
    }
    last_ = pipeline_->find(name);
    if (last_ == nullptr) {
        error_ = not_found(name);
    }
    return *this;
}

Pipeline::Chain& Pipeline::Chain::filter(std::string_view caps) {
    if (error_) {
        return *this;
    }
    auto c = Caps::parse(caps);
    if (!c) {
        error_ = c.error();
    } else {
        filter_ = std::move(*c);
    }
    return *this;
}

Result<void> Pipeline::Chain::done() {
    if (error_) {
        return fail(*error_);
    }
    return {};
}

Element* Pipeline::find(std::string_view name) const noexcept {
    return impl_->core.graph.find(name);
}

std::vector<Element*> Pipeline::elements() const {
    return impl_->core.graph.elements();
}

Error Pipeline::not_found(std::string_view name) {
    return Error(Errc::not_found, fmt::format("the pipeline has no element named \"{}\"", name));
}

Error Pipeline::wrong_type(const Element& e) {
    return Error(Errc::invalid_argument, fmt::format("{} is a {}, not of the type asked for", e.name(),
                                                     e.factory().name()))
        .at_element(e.name());
}

Result<void> Pipeline::set_state(State target) {
    Result<void> result;
    impl_->runner->run_on_control([&] {
        while (impl_->runner->current_state() != target) {
            const State from = impl_->runner->current_state();
            const State to = static_cast<State>(static_cast<int>(from) + (target > from ? 1 : -1));
            result = impl_->runner->step_state(from, to);
            if (!result) {
                PARALLAX_INFO(pipeline_log, "{}: {} -> {} failed: {}", name(), to_string(from), to_string(to),
                              result.error().to_string());
                return;
            }
        }
    });
    return result;
}

State Pipeline::state() const noexcept {
    return impl_->runner->current_state();
}

Result<void> Pipeline::run(std::chrono::nanoseconds timeout) {
    if (auto ok = set_state(State::running); !ok) {
        static_cast<void>(set_state(State::idle));
        return ok;
    }
    auto m = impl_->core.bus.pop({MessageType::eos, MessageType::error}, timeout);
    static_cast<void>(set_state(State::idle));
    if (!m) {
        return fail(Errc::timeout, fmt::format("{} did not finish in time", name()));
    }
    if (m->type == MessageType::error) {
        return fail(*m->error);
    }
    return {};
}

void Pipeline::send_eos() {
    impl_->runner->send_eos();
}

bool Pipeline::send_event(const Event& event) {
    bool any = false;
    bool all = true;
    for (Element* e : elements()) {
        if (event.is_downstream() ? e->is_source() : e->is_sink()) {
            any = true;
            all = e->send_event(event) && all;
        }
    }
    return any && all;
}

Bus& Pipeline::bus() noexcept {
    return impl_->core.bus;
}

SchedulingOptions& Pipeline::scheduling() noexcept {
    return impl_->core.scheduling;
}

void Pipeline::set_converter_policy(ConverterPolicy policy) noexcept {
    impl_->core.converter_policy = policy;
}

ConverterPolicy Pipeline::converter_policy() const noexcept {
    return impl_->core.converter_policy;
}

const NegotiationReport& Pipeline::negotiation() const noexcept {
    return impl_->core.negotiation;
}

ClockTime Pipeline::running_time() const {
    return impl_->runner->running_time();
}

Pipeline::Progress Pipeline::progress() const {
    Progress p;
    for (Element* e : elements()) {
        if (!e->is_sink()) {
            continue;
        }
        for (Pad* pad : e->sink_pads()) {
            p.buffers += pad->buffer_count();
            p.bytes += pad->byte_count();
            const ClockTime t = pad->last_pts();
            if (!t.is_none() && (p.position.is_none() || t > p.position)) {
                p.position = t;
            }
        }
    }
    return p;
}

std::string Pipeline::to_dot() const {
    return impl_->core.graph.to_dot(fmt::format("{} ({})", name(), to_string(state())));
}

std::string Pipeline::plan() const {
    return impl_->runner->plan();
}

// Building from gst-launch text.

Result<std::unique_ptr<Pipeline>> Pipeline::parse(std::string_view description, const Registry& registry) {
    auto parsed = detail::parse_launch(description);
    if (!parsed) {
        return fail(parsed.error());
    }
    auto pipeline = create();
    Impl& impl = *pipeline->impl_;
    impl.core.registry = &registry;
    std::vector<Element*> made;
    made.reserve(parsed->elements.size());
    for (const auto& d : parsed->elements) {
        std::string name;
        for (const auto& p : d.properties) {
            if (p.name == "name") {
                name = p.value;
            }
        }
        auto e = registry.create(d.factory, name);
        if (!e) {
            return fail(Error(e.error()).at_position(d.pos));
        }
        for (const auto& p : d.properties) {
            if (p.name == "name") {
                continue;
            }
            if (p.name == "strategy" && (*e)->property("strategy") == nullptr) {
                // Not an element property: how the pipeline runs this
                // element (docs/guide/execution.md).
                auto strategy = parse_execution_strategy(p.value);
                if (!strategy) {
                    return fail(Error(Errc::invalid_argument,
                                      fmt::format("strategy of {}: {}", (*e)->name(), strategy.error().message()))
                                    .at_element((*e)->name())
                                    .at_position(p.value_pos));
                }
                if (*strategy) {
                    impl.core.scheduling.strategies.elements[(*e)->name()] = **strategy;
                }
                continue;
            }
            if (auto ok = (*e)->set_property(p.name, p.value); !ok) {
                Error err = ok.error();
                const bool unknown = err.is(Errc::not_found);
                std::size_t pos = unknown ? p.name_pos : p.value_pos;
                if (!unknown && err.position() != Error::no_position) {
                    pos = detail::launch_value_position(description, p, err.position());
                }
                return fail(std::move(err.at_position(pos)));
            }
        }
        auto added = impl.add(std::move(*e));
        if (!added) {
            return fail(Error(added.error()).at_position(d.pos));
        }
        made.push_back(*added);
    }
    for (const auto& l : parsed->links) {
        auto resolve = [&](const detail::LaunchEndpoint& ep) -> Result<Element*> {
            if (ep.element != detail::LaunchEndpoint::npos) {
                return made.at(ep.element);
            }
            Element* e = pipeline->find(ep.ref);
            if (e == nullptr) {
                std::vector<std::string> names;
                for (Element* x : made) {
                    names.push_back(x->name());
                }
                auto close = suggest_names(ep.ref, names);
                std::string text = fmt::format("no element named \"{}\" in this pipeline", ep.ref);
                if (!close.empty()) {
                    text += fmt::format(" (did you mean \"{}\"?)", fmt::join(close, "\", \""));
                }
                return fail(Error(Errc::not_found, std::move(text)).at_position(ep.pos));
            }
            return e;
        };
        auto src = resolve(l.from);
        if (!src) {
            return fail(src.error());
        }
        auto sink = resolve(l.to);
        if (!sink) {
            return fail(sink.error());
        }
        Caps filter = Caps::any();
        if (!l.caps.empty()) {
            // parse_launch() has checked the caps text already.
            auto c = Caps::parse(l.caps);
            if (!c) {
                return fail(Error(c.error()).at_position(l.caps_pos));
            }
            filter = std::move(*c);
        }
        if (auto ok = impl.link(**src, l.from.pad, **sink, l.to.pad, filter); !ok) {
            return fail(Error(ok.error()).at_position(l.to.pos));
        }
    }
    return pipeline;
}

std::string format_pipeline_error(std::string_view description, const Error& error) {
    return detail::format_launch_error(description, error);
}

} // namespace parallax
