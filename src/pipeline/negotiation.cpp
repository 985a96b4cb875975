// The caps solver. Each link holds a domain: the caps it may still carry.
// Domains start from what the two pads allow and narrow as each element
// relates its pads (Element::transform_caps), in both directions, until
// nothing changes. When a domain runs empty, the solver finds the link where
// upstream's offer and downstream's demand part (by propagating in one
// direction at a time), searches the registry's converters for the cheapest
// chain that bridges them, inserts it and starts again. When everything
// agrees it fixes the links one by one from the sources down (each element
// choosing through fixate_caps), propagating after each choice.

#include "pipeline/negotiation.hpp"

#include "element/element_access.hpp"

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <exception>
#include <optional>
#include <set>
#include <unordered_map>

namespace parallax {

std::string_view to_string(ConverterPolicy policy) noexcept {
    switch (policy) {
    case ConverterPolicy::allow:
        return "allow";
    case ConverterPolicy::warn:
        return "warn";
    case ConverterPolicy::deny:
        return "deny";
    }
    return "allow";
}

namespace detail {
namespace {

LogCategory negotiation_log("negotiation", "caps negotiation: propagation, converters inserted, fixation");

constexpr std::size_t max_chain = 3;          // converters bridging one link
constexpr int max_rounds = 16;                // insertions per negotiation
constexpr std::size_t steps_per_link = 64;    // propagation bound

enum class Way { both, downstream, upstream };

struct Link {
    Pad* src;
    Pad* sink;
};

// What narrowed a domain, to explain a failure: an element's own settings,
// or an element passing on (and maybe narrowing) what another of its links
// may carry.
struct Narrowing {
    std::string note;
    std::optional<std::size_t> from_link;
};

struct Domains {
    std::vector<Caps> caps;
    std::vector<std::vector<Narrowing>> why;
    std::optional<std::size_t> emptied; // the first link that ran out of possibilities
};

// Where upstream's offer and downstream's demand part.
struct Failure {
    std::size_t link;
    Caps offer;  // what can arrive at the link from upstream
    Caps demand; // what the link may carry for downstream
    std::vector<std::string> offer_why;
    std::vector<std::string> demand_why;
};

struct Chain {
    std::vector<const ElementFactory*> factories;
    unsigned cost = 0;
};

std::string describe(const Element& e) {
    if (e.factory().name() == "capsfilter") {
        if (auto caps = e.get_property("caps")) {
            return fmt::format("{} (caps={})", e.name(), *caps);
        }
    }
    return fmt::format("{} ({})", e.name(), e.factory().name());
}

std::string chain_text(const Chain& c) {
    std::string out;
    for (const ElementFactory* f : c.factories) {
        out += out.empty() ? "" : " ! ";
        out += f->name();
    }
    return out;
}

std::string indent(const std::string& text, std::string_view prefix) {
    std::string out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        out += prefix;
        out.append(text, start, end - start);
        out += '\n';
        start = end + 1;
    }
    return out;
}

// Caps shown one structure per line.
std::string caps_lines(const Caps& caps) {
    if (caps.is_any() || caps.is_empty() || caps.size() == 1) {
        return caps.to_string();
    }
    std::string out;
    for (std::size_t i = 0; i < caps.size(); ++i) {
        Caps one;
        one.append(caps.structure(i), caps.features(i));
        out += (i == 0 ? "" : "\n") + one.to_string();
    }
    return out;
}

class Solver {
public:
    Solver(Graph& graph, const Registry& registry, ConverterPolicy policy,
           const std::function<void(Element&)>& adopt, bool running)
        : graph_(graph), registry_(registry), policy_(running ? ConverterPolicy::deny : policy), adopt_(adopt),
          running_(running) {}

    Result<NegotiationReport> run() {
        for (int round = 0;; ++round) {
            collect_links();
            Domains both = initial(Way::both);
            const bool agreed = propagate(both, Way::both);
            if (element_error_) {
                return give_up(*element_error_);
            }
            if (agreed) {
                if (auto ok = fixate_all(both); !ok) {
                    return give_up(ok.error());
                }
                store(both);
                return report_;
            }
            Failure f = locate(both);
            if (element_error_) {
                return give_up(*element_error_);
            }
            // The converters (and a probe element of each) are made only
            // now: most pipelines agree without one.
            if (!converters_loaded_) {
                load_converters();
                converters_loaded_ = true;
            }
            std::optional<Chain> chain = cheapest_chain(f.offer, f.demand);
            // A converter inserted by this negotiation that sits at the
            // failing link again did not help: more of them will not either.
            const bool again = is_inserted(links_[f.link].src->element()) || is_inserted(links_[f.link].sink->element());
            if (!chain || policy_ == ConverterPolicy::deny || round >= max_rounds || again) {
                return give_up(explain(f, again ? std::nullopt : chain, round >= max_rounds || again));
            }
            if (auto ok = insert(f.link, *chain); !ok) {
                return give_up(ok.error());
            }
        }
    }

private:
    // --- the graph ---------------------------------------------------------

    void load_converters() {
        for (const ElementFactory* f : registry_.factories()) {
            if (f->info().convert_cost == 0) {
                continue;
            }
            auto e = f->create(fmt::format("probe-{}", f->name()));
            if (!e || (*e)->pad("sink") == nullptr || (*e)->pad("src") == nullptr) {
                continue;
            }
            converters_.push_back({f, std::move(*e)});
        }
    }

    void collect_links() {
        links_.clear();
        link_of_.clear();
        for (const Element* e : graph_.topological_order()) {
            for (Pad* p : e->pads()) {
                if (p->direction() == PadDirection::src && p->peer() != nullptr) {
                    link_of_[p] = links_.size();
                    link_of_[p->peer()] = links_.size();
                    links_.push_back({p, p->peer()});
                }
            }
        }
    }

    // --- element code, guarded ---------------------------------------------

    template <class F>
    Caps guarded(const Element& e, std::string_view what, F&& f) const {
        try {
            return f();
        } catch (const std::exception& ex) {
            note_exception(e, what, ex.what());
        } catch (...) {
            note_exception(e, what, "an unknown exception");
        }
        return Caps::empty();
    }

    void note_exception(const Element& e, std::string_view what, std::string_view message) const {
        if (!element_error_) {
            element_error_ = Error(Errc::exception, fmt::format("{}: {} threw {}", e.name(), what, message))
                                 .at_element(e.name());
        }
    }

    Caps allowed(const Pad& p) const {
        return guarded(p.element(), "allowed_caps()", [&] { return p.element().allowed_caps(p); });
    }

    Caps transform(const Pad& from, const Pad& to, const Caps& caps) const {
        if (caps.is_empty()) {
            return caps;
        }
        return guarded(from.element(), "transform_caps()",
                       [&] { return from.element().transform_caps(from, to, caps); });
    }

    // --- propagation -------------------------------------------------------

    Domains initial(Way way) const {
        Domains d;
        d.caps.resize(links_.size());
        d.why.resize(links_.size());
        for (std::size_t i = 0; i < links_.size(); ++i) {
            const Link& l = links_[i];
            switch (way) {
            case Way::both:
                // The order of preference on a link is downstream's, as in
                // GStreamer (videotestsrc ! jpegenc gives I420, jpegenc's
                // first); a capsfilter only narrows and keeps upstream's.
                d.caps[i] = simplify(keeps_upstream_order(*l.sink) ? intersect(allowed(*l.src), allowed(*l.sink))
                                                                   : intersect(allowed(*l.sink), allowed(*l.src)));
                break;
            case Way::downstream:
                d.caps[i] = allowed(*l.src);
                break;
            case Way::upstream:
                d.caps[i] = allowed(*l.sink);
                break;
            }
            if (way != Way::upstream) {
                note_settings(d, i, *l.src);
            }
            if (way != Way::downstream) {
                note_settings(d, i, *l.sink);
            }
            if (d.caps[i].is_empty() && !d.emptied) {
                d.emptied = i;
            }
        }
        return d;
    }

    // A capsfilter narrows what passes without stating a preference.
    static bool keeps_upstream_order(const Pad& sink) {
        return sink.element().factory().name() == "capsfilter";
    }

    // An element whose settings (a caps property) narrow its pad says so.
    void note_settings(Domains& d, std::size_t link, const Pad& pad) const {
        const Caps a = allowed(pad);
        if (is_equal(a, pad.pad_template().caps)) {
            return;
        }
        const Element& e = pad.element();
        d.why[link].push_back({e.factory().name() == "capsfilter"
                                   ? describe(e)
                                   : fmt::format("{} takes only {}", pad.path(), a.to_string()),
                               std::nullopt});
    }

    // Narrows until nothing changes. False when a domain ran empty (both:
    // stops there; one way: goes on, so that every link gets its domain).
    bool propagate(Domains& d, Way way) const {
        if (way == Way::both && d.emptied) {
            return false;
        }
        std::deque<const Element*> work;
        std::set<const Element*> queued;
        for (const Element* e : graph_.topological_order()) {
            work.push_back(e);
            queued.insert(e);
        }
        if (way == Way::upstream) {
            std::reverse(work.begin(), work.end());
        }
        std::size_t budget = steps_per_link * (links_.size() + 1);
        while (!work.empty() && budget-- > 0) {
            const Element* e = work.front();
            work.pop_front();
            queued.erase(e);
            for (Pad* to : e->pads()) {
                auto to_link = link_of_.find(to);
                if (to_link == link_of_.end()) {
                    continue;
                }
                for (Pad* from : e->pads()) {
                    if (from == to || !fits(way, *from, *to)) {
                        continue;
                    }
                    auto from_link = link_of_.find(from);
                    if (from_link == link_of_.end()) {
                        continue;
                    }
                    const std::size_t t = to_link->second;
                    const Caps& before = d.caps[t];
                    Caps carried = transform(*from, *to, d.caps[from_link->second]);
                    // What comes from downstream sets the order (see initial()).
                    const bool downstream_first =
                        to->direction() == PadDirection::sink && !keeps_upstream_order(*to);
                    Caps narrowed = simplify(downstream_first ? intersect(carried, before) : intersect(before, carried));
                    if (is_subset(before, narrowed)) {
                        continue; // nothing new
                    }
                    d.caps[t] = std::move(narrowed);
                    d.why[t].push_back(
                        {fmt::format("{}, from what {} carries", describe(*e), from->path()), from_link->second});
                    if (d.caps[t].is_empty() && !d.emptied) {
                        d.emptied = t;
                        if (way == Way::both) {
                            return false;
                        }
                    }
                    const Element* next = &to->peer()->element();
                    if (queued.insert(next).second) {
                        work.push_back(next);
                    }
                }
            }
        }
        return !d.emptied;
    }

    static bool fits(Way way, const Pad& from, const Pad& to) {
        switch (way) {
        case Way::both:
            return true;
        case Way::downstream:
            return from.direction() == PadDirection::sink && to.direction() == PadDirection::src;
        case Way::upstream:
            return from.direction() == PadDirection::src && to.direction() == PadDirection::sink;
        }
        return true;
    }

    // --- where to repair ---------------------------------------------------

    Failure locate(const Domains& both) const {
        Domains down = initial(Way::downstream);
        propagate(down, Way::downstream);
        Domains up = initial(Way::upstream);
        propagate(up, Way::upstream);
        // A link where what can come from upstream meets nothing downstream
        // takes: the most upstream one. A side with nothing at all is a
        // symptom of a disagreement elsewhere (on its other side).
        for (std::size_t i = 0; i < links_.size(); ++i) {
            if (!down.caps[i].is_empty() && !up.caps[i].is_empty() && !can_intersect(down.caps[i], up.caps[i])) {
                return {i, down.caps[i], up.caps[i], notes(down, i), notes(up, i)};
            }
        }
        // Every link could work on its own, yet not all at once: branches of
        // a fan-out that want different formats, or inputs of a fan-in that
        // bring different ones. The odd branch is the one to convert.
        for (const Element* e : graph_.topological_order()) {
            if (auto f = odd_branch(*e, PadDirection::src, down, up)) {
                return *f;
            }
            if (auto f = odd_branch(*e, PadDirection::sink, down, up)) {
                return *f;
            }
        }
        const std::size_t i = both.emptied.value_or(0);
        return {i, down.caps[i], up.caps[i], notes(down, i), notes(up, i)};
    }

    // Why link `link` may carry what it may: its narrowings, and theirs in
    // turn, nearest first.
    static std::vector<std::string> notes(const Domains& d, std::size_t link) {
        std::vector<std::string> out;
        std::set<std::size_t> seen;
        std::deque<std::size_t> next{link};
        while (!next.empty() && out.size() < 12) {
            const std::size_t l = next.front();
            next.pop_front();
            if (!seen.insert(l).second) {
                continue;
            }
            for (const Narrowing& n : d.why[l]) {
                // "capsfilter0 (caps=...)" already says what
                // "capsfilter0 (caps=...), from what capsfilter0:sink carries" adds.
                const bool said = std::any_of(out.begin(), out.end(), [&](const std::string& o) {
                    return n.note == o || (n.note.starts_with(o) && n.note.substr(o.size()).starts_with(", from"));
                });
                if (!said) {
                    out.push_back(n.note);
                }
                if (n.from_link) {
                    next.push_back(*n.from_link);
                }
            }
        }
        return out;
    }

    // Among the linked pads of `e` in direction `dir` (at least two), one
    // whose link cannot agree with what the others leave possible.
    std::optional<Failure> odd_branch(const Element& e, PadDirection dir, const Domains& down,
                                      const Domains& up) const {
        std::vector<Pad*> branches;
        std::vector<Pad*> others;
        for (Pad* p : e.pads()) {
            if (link_of_.contains(p)) {
                (p->direction() == dir ? branches : others).push_back(p);
            }
        }
        if (branches.size() < 2 || others.empty()) {
            return std::nullopt;
        }
        Pad* hub = others.front(); // the pad of the other direction they all relate to
        const std::size_t hub_link = link_of_.at(hub);
        for (std::size_t j = 0; j < branches.size(); ++j) {
            // What the hub may carry for every branch but j.
            Caps rest = dir == PadDirection::src ? down.caps[hub_link] : up.caps[hub_link];
            for (std::size_t i = 0; i < branches.size() && !rest.is_empty(); ++i) {
                if (i == j) {
                    continue;
                }
                const std::size_t bl = link_of_.at(branches[i]);
                rest = intersect(rest, transform(*branches[i], *hub, dir == PadDirection::src ? up.caps[bl]
                                                                                              : down.caps[bl]));
            }
            if (rest.is_empty()) {
                continue;
            }
            const std::size_t jl = link_of_.at(branches[j]);
            if (dir == PadDirection::src) {
                Caps offer = transform(*hub, *branches[j], rest);
                if (!can_intersect(offer, up.caps[jl])) {
                    return Failure{jl, offer, up.caps[jl], notes(down, hub_link), notes(up, jl)};
                }
            } else {
                Caps demand = transform(*hub, *branches[j], rest);
                if (!can_intersect(down.caps[jl], demand)) {
                    return Failure{jl, down.caps[jl], demand, notes(down, jl), notes(up, hub_link)};
                }
            }
        }
        return std::nullopt;
    }

    // --- converters --------------------------------------------------------

    // What comes out of a chain of converters fed `caps`.
    Caps through(const std::vector<std::size_t>& chain, Caps caps) const {
        for (std::size_t c : chain) {
            const Element& conv = *converters_[c].second;
            const Pad& in = *conv.pad("sink");
            const Pad& out = *conv.pad("src");
            caps = intersect(transform(in, out, intersect(caps, allowed(in))), allowed(out));
            if (caps.is_empty()) {
                break;
            }
        }
        return caps;
    }

    std::optional<Chain> cheapest_chain(const Caps& offer, const Caps& demand) const {
        if (offer.is_empty() || demand.is_empty()) {
            return std::nullopt;
        }
        std::optional<Chain> best;
        std::vector<std::size_t> chain;
        const auto consider = [&](auto&& self) -> void {
            if (!chain.empty()) {
                unsigned cost = 0;
                for (std::size_t c : chain) {
                    cost += converters_[c].first->info().convert_cost;
                }
                const bool better = !best || cost < best->cost ||
                                    (cost == best->cost && chain.size() < best->factories.size());
                if (better && can_intersect(through(chain, offer), demand)) {
                    Chain found{{}, cost};
                    for (std::size_t c : chain) {
                        found.factories.push_back(converters_[c].first);
                    }
                    best = std::move(found);
                }
            }
            if (chain.size() == max_chain) {
                return;
            }
            for (std::size_t c = 0; c < converters_.size(); ++c) {
                if (std::find(chain.begin(), chain.end(), c) != chain.end()) {
                    continue;
                }
                chain.push_back(c);
                self(self);
                chain.pop_back();
            }
        };
        consider(consider);
        return best;
    }

    Result<void> insert(std::size_t link, const Chain& chain) {
        Pad* up = links_[link].src;
        Pad* down = links_[link].sink;
        const std::string up_path = up->path();
        const std::string down_path = down->path();
        graph_.unlink(*up);
        Pad* from = up;
        for (const ElementFactory* f : chain.factories) {
            std::string name;
            for (unsigned n = 0;; ++n) {
                name = fmt::format("auto-{}{}", f->name(), n);
                if (graph_.find(name) == nullptr) {
                    break;
                }
            }
            auto made = f->create(name);
            if (!made) {
                return fail(made.error());
            }
            auto added = graph_.add(std::move(*made));
            if (!added) {
                return fail(added.error());
            }
            Element* conv = *added;
            adopt_(*conv);
            inserted_.push_back(conv);
            if (auto ok = graph_.link(*from, *conv->pad("sink")); !ok) {
                return ok;
            }
            from = conv->pad("src");
            report_.inserted.push_back({name, std::string(f->name()), up_path, down_path});
            PARALLAX_INFO(negotiation_log, "inserted {} between {} and {}", name, up_path, down_path);
        }
        return graph_.link(*from, *down);
    }

    [[nodiscard]] bool is_inserted(const Element& e) const {
        return std::find(inserted_.begin(), inserted_.end(), &e) != inserted_.end();
    }

    // Takes out what this negotiation inserted, relinking around it.
    void remove_inserted() {
        for (auto it = inserted_.rbegin(); it != inserted_.rend(); ++it) {
            Element* conv = *it;
            Pad* up = conv->pad("sink")->peer();
            Pad* down = conv->pad("src")->peer();
            static_cast<void>(graph_.remove(*conv));
            if (up != nullptr && down != nullptr) {
                static_cast<void>(graph_.link(*up, *down));
            }
        }
        inserted_.clear();
        report_.inserted.clear();
    }

    Result<NegotiationReport> give_up(Error error) {
        remove_inserted();
        return fail(std::move(error));
    }

    // --- fixation ----------------------------------------------------------

    Result<void> fixate_all(Domains& d) {
        for (const Element* e : graph_.topological_order()) {
            for (Pad* p : e->pads()) {
                auto l = link_of_.find(p);
                if (p->direction() != PadDirection::src || l == link_of_.end()) {
                    continue;
                }
                Caps& caps = d.caps[l->second];
                if (caps.is_any() || caps.is_fixed()) {
                    continue;
                }
                Caps reference;
                for (Pad* s : e->pads()) {
                    auto sl = link_of_.find(s);
                    if (s->direction() == PadDirection::sink && sl != link_of_.end() && d.caps[sl->second].is_fixed()) {
                        reference = d.caps[sl->second];
                        break;
                    }
                }
                Caps chosen = guarded(*e, "fixate_caps()", [&] { return e->fixate_caps(*p, caps, reference); });
                if (element_error_) {
                    return fail(*element_error_);
                }
                if (!chosen.is_fixed() || !is_subset(chosen, caps)) {
                    auto fallback = fixate(caps);
                    if (!fallback) {
                        return fail(fallback.error());
                    }
                    chosen = std::move(*fallback);
                }
                d.why[l->second].push_back({fmt::format("{} chose {}", describe(*e), chosen.to_string()), std::nullopt});
                caps = std::move(chosen);
                if (!propagate(d, Way::both)) {
                    const std::size_t i = d.emptied.value_or(l->second);
                    return fail(Error(Errc::not_negotiated,
                                      fmt::format("cannot negotiate caps between {} and {}: once {} chose {} for {}, "
                                                  "nothing was left for this link\n",
                                                  links_[i].src->path(), links_[i].sink->path(), e->name(),
                                                  d.caps[l->second].to_string(), p->path()))
                                    .at_element(links_[i].sink->element().name())
                                    .at_pad(links_[i].sink->name()));
                }
            }
        }
        return {};
    }

    void store(const Domains& d) {
        report_.links.clear();
        for (std::size_t i = 0; i < links_.size(); ++i) {
            detail_pad_access::set_negotiated(*links_[i].src, d.caps[i]);
            detail_pad_access::set_negotiated(*links_[i].sink, d.caps[i]);
            report_.links.push_back(
                fmt::format("{} -> {}: {}", links_[i].src->path(), links_[i].sink->path(), d.caps[i].to_string()));
        }
    }

    // --- explanations ------------------------------------------------------

    Error explain(const Failure& f, const std::optional<Chain>& chain, bool too_many) const {
        const Link& l = links_[f.link];
        std::string text =
            fmt::format("cannot negotiate caps between {} and {}\n", l.src->path(), l.sink->path());
        text += fmt::format("  {} can produce:\n{}", l.src->path(), indent(caps_lines(f.offer), "      "));
        // What the endpoints themselves take is shown above already.
        const auto skip = [](std::vector<std::string> notes, const Pad& own, const Caps& shown) {
            const std::string same = fmt::format("{} takes only {}", own.path(), shown.to_string());
            notes.erase(std::remove(notes.begin(), notes.end(), same), notes.end());
            return notes;
        };
        text += because(skip(f.offer_why, *l.src, f.offer), "upstream");
        text += fmt::format("  {} can accept:\n{}", l.sink->path(), indent(caps_lines(f.demand), "      "));
        text += because(skip(f.demand_why, *l.sink, f.demand), "downstream");
        text += fmt::format("  {}\n", difference(f.offer, f.demand));
        if (too_many) {
            text += fmt::format("  negotiation gave up: the {} converter(s) it inserted did not make the two sides "
                                "agree\n",
                                report_.inserted.size());
        } else if (chain && running_) {
            text += fmt::format("  the pipeline is running, and converters are inserted only before a run: insert "
                                "`{}` between {} and {}\n",
                                chain_text(*chain), l.src->element().name(), l.sink->element().name());
        } else if (chain && policy_ == ConverterPolicy::deny) {
            text += fmt::format("  automatic converters are off (converter policy deny, plx-launch --no-auto-convert): "
                                "insert `{}` between {} and {}, or allow them\n",
                                chain_text(*chain), l.src->element().name(), l.sink->element().name());
        } else {
            text += fmt::format("  {}\n", advice(f, l));
        }
        text.pop_back();
        return Error(Errc::not_negotiated, std::move(text))
            .at_element(l.sink->element().name())
            .at_pad(l.sink->name());
    }

    static std::string because(const std::vector<std::string>& notes, std::string_view where) {
        if (notes.empty()) {
            return {};
        }
        std::string out = fmt::format("    narrowed {} by:\n", where);
        for (const auto& n : notes) {
            out += fmt::format("      {}\n", n);
        }
        return out;
    }

    static std::string difference(const Caps& offer, const Caps& demand) {
        if (offer.is_empty() || demand.is_empty()) {
            return offer.is_empty() ? "nothing can arrive from upstream: upstream itself cannot agree"
                                    : "nothing is acceptable downstream: downstream itself cannot agree";
        }
        std::set<std::string> offered;
        std::set<std::string> wanted;
        for (std::size_t i = 0; i < offer.size(); ++i) {
            offered.insert(offer.structure(i).name());
        }
        for (std::size_t i = 0; i < demand.size(); ++i) {
            wanted.insert(demand.structure(i).name());
        }
        std::vector<std::string> common;
        std::set_intersection(offered.begin(), offered.end(), wanted.begin(), wanted.end(), std::back_inserter(common));
        if (common.empty()) {
            return fmt::format("the media types differ: {} against {}", fmt::join(offered, ", "),
                               fmt::join(wanted, ", "));
        }
        for (std::size_t i = 0; i < offer.size(); ++i) {
            for (std::size_t j = 0; j < demand.size(); ++j) {
                const Structure& a = offer.structure(i);
                const Structure& b = demand.structure(j);
                if (a.name() != b.name()) {
                    continue;
                }
                if (offer.features(i) != demand.features(j)) {
                    return fmt::format("the caps features differ: ({}) against ({})",
                                       fmt::join(offer.features(i), ","), fmt::join(demand.features(j), ","));
                }
                std::vector<std::string> fields;
                for (const StructureField& f : a) {
                    const CapsValue* other = b.get(f.name);
                    if (other != nullptr && !intersect(f.value, *other)) {
                        fields.push_back(fmt::format("{} {} against {}", f.name, f.value.to_string(),
                                                     other->to_string()));
                    }
                }
                if (!fields.empty()) {
                    return fmt::format("{} differs in {}", a.name(), fmt::join(fields, "; "));
                }
            }
        }
        return "no structure of one side fits a structure of the other";
    }

    std::string advice(const Failure& f, const Link& l) const {
        std::vector<std::string> names;
        for (const auto& c : converters_) {
            names.emplace_back(c.first->name());
        }
        const std::string tried =
            names.empty() ? std::string("no converters are registered")
                          : fmt::format("no chain of up to {} converters ({}) turns one into the other", max_chain,
                                        fmt::join(names, ", "));
        if (f.offer.is_empty() || f.demand.is_empty()) {
            return fmt::format("{}; look at the elements named above", tried);
        }
        return fmt::format("{}: change what {} produces or what {} accepts (its caps, or a caps filter), or link "
                           "{} to an element that takes what {} produces",
                           tried, l.src->element().name(), l.sink->element().name(), l.src->element().name(),
                           l.src->element().name());
    }

    Graph& graph_;
    const Registry& registry_;
    ConverterPolicy policy_;
    const std::function<void(Element&)>& adopt_;
    bool running_;
    std::vector<Link> links_;
    std::unordered_map<const Pad*, std::size_t> link_of_;
    std::vector<std::pair<const ElementFactory*, std::unique_ptr<Element>>> converters_;
    bool converters_loaded_ = false;
    std::vector<Element*> inserted_;
    NegotiationReport report_;
    mutable std::optional<Error> element_error_;
};

} // namespace

Result<NegotiationReport> negotiate(Graph& graph, const Registry& registry, ConverterPolicy policy,
                                    const std::function<void(Element&)>& adopt, bool running) {
    return Solver(graph, registry, policy, adopt, running).run();
}

} // namespace detail
} // namespace parallax
