#include "pipeline/graph.hpp"

#include "element/element_access.hpp"

#include <parallax/element/registry.hpp>

// g++ 12 with -fsanitize=address reports boost::optional inside Boost.Graph's
// named_graph.hpp as maybe uninitialised: a false positive of its
// flow analysis in a header this file does not control.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace parallax::detail {

namespace {
struct LinkData {
    Pad* src = nullptr;
    Pad* sink = nullptr;
};
using BoostGraph = boost::adjacency_list<boost::vecS, boost::listS, boost::bidirectionalS, Element*, LinkData>;
using Vertex = BoostGraph::vertex_descriptor;
} // namespace

struct Graph::Impl {
    BoostGraph graph;
    std::vector<std::unique_ptr<Element>> owned; // insertion order
    std::map<const Element*, Vertex> vertex_of;

    // The elements on a path from `from` to `to` (both included), or empty.
    std::vector<Element*> path(Vertex from, Vertex to) const {
        std::map<Vertex, Vertex> parent;
        std::vector<Vertex> frontier{from};
        parent[from] = from;
        while (!frontier.empty()) {
            std::vector<Vertex> next;
            for (Vertex v : frontier) {
                if (v == to) {
                    std::vector<Element*> out;
                    for (Vertex x = to;; x = parent.at(x)) {
                        out.push_back(graph[x]);
                        if (x == from) {
                            break;
                        }
                    }
                    std::reverse(out.begin(), out.end());
                    return out;
                }
                for (auto [e, end] = boost::out_edges(v, graph); e != end; ++e) {
                    const Vertex t = boost::target(*e, graph);
                    if (!parent.contains(t)) {
                        parent[t] = v;
                        next.push_back(t);
                    }
                }
            }
            frontier = std::move(next);
        }
        return {};
    }
};

Graph::Graph() : impl_(std::make_unique<Impl>()) {}
Graph::~Graph() {
    // Unlink first: pads point at each other across elements.
    for (auto& e : impl_->owned) {
        for (Pad* p : e->pads()) {
            detail_pad_access::unlink(*p);
        }
    }
}

Result<Element*> Graph::add(std::unique_ptr<Element> element) {
    if (!element) {
        return fail(Errc::invalid_argument, "cannot add a null element");
    }
    if (find(element->name()) != nullptr) {
        return fail(Error(Errc::invalid_argument,
                          fmt::format("the pipeline already has an element named \"{}\"", element->name()))
                        .at_element(element->name()));
    }
    Element* raw = element.get();
    impl_->vertex_of[raw] = boost::add_vertex(raw, impl_->graph);
    impl_->owned.push_back(std::move(element));
    return raw;
}

Result<std::unique_ptr<Element>> Graph::remove(Element& element) {
    auto it = impl_->vertex_of.find(&element);
    if (it == impl_->vertex_of.end()) {
        return fail(Errc::not_found, fmt::format("{} is not in the pipeline", element.name()));
    }
    for (Pad* p : element.pads()) {
        detail_pad_access::unlink(*p);
    }
    boost::clear_vertex(it->second, impl_->graph);
    boost::remove_vertex(it->second, impl_->graph);
    impl_->vertex_of.erase(it);
    auto owned = std::find_if(impl_->owned.begin(), impl_->owned.end(),
                              [&](const std::unique_ptr<Element>& e) { return e.get() == &element; });
    std::unique_ptr<Element> out = std::move(*owned);
    impl_->owned.erase(owned);
    return out;
}

Result<void> Graph::link(Pad& src, Pad& sink) {
    auto a = impl_->vertex_of.find(&src.element());
    auto b = impl_->vertex_of.find(&sink.element());
    if (a == impl_->vertex_of.end() || b == impl_->vertex_of.end()) {
        const Element& missing = a == impl_->vertex_of.end() ? src.element() : sink.element();
        return fail(Error(Errc::not_found, fmt::format("{} is not in the pipeline", missing.name()))
                        .at_element(missing.name()));
    }
    // A path sink -> ... -> src plus the new link src -> sink is a cycle.
    if (auto cycle = impl_->path(b->second, a->second); !cycle.empty()) {
        std::string names;
        for (const Element* e : cycle) {
            names += e->name() + " ! ";
        }
        names += cycle.front()->name();
        return fail(Error(Errc::invalid_argument,
                          fmt::format("linking {} to {} would close a cycle: {}", src.path(), sink.path(), names))
                        .at_element(src.element().name())
                        .at_pad(src.name()));
    }
    if (auto ok = detail_pad_access::link(src, sink); !ok) {
        return ok;
    }
    boost::add_edge(a->second, b->second, LinkData{&src, &sink}, impl_->graph);
    return {};
}

void Graph::unlink(Pad& src) {
    Pad* sink = src.peer();
    if (sink == nullptr) {
        return;
    }
    auto a = impl_->vertex_of.find(&src.element());
    if (a != impl_->vertex_of.end()) {
        boost::remove_out_edge_if(
            a->second, [&](const BoostGraph::edge_descriptor& e) { return impl_->graph[e].src == &src; },
            impl_->graph);
    }
    detail_pad_access::unlink(src);
}

Element* Graph::find(std::string_view name) const noexcept {
    for (const auto& e : impl_->owned) {
        if (e->name() == name) {
            return e.get();
        }
    }
    return nullptr;
}

std::vector<Element*> Graph::elements() const {
    std::vector<Element*> out;
    for (const auto& e : impl_->owned) {
        out.push_back(e.get());
    }
    return out;
}

bool Graph::empty() const noexcept {
    return impl_->owned.empty();
}

std::vector<Element*> Graph::topological_order() const {
    std::map<Vertex, boost::default_color_type> colors;
    std::map<Vertex, std::size_t> index;
    std::size_t i = 0;
    for (auto [v, end] = boost::vertices(impl_->graph); v != end; ++v) {
        index[*v] = i++;
    }
    std::vector<Vertex> order;
    boost::topological_sort(impl_->graph, std::back_inserter(order),
                            boost::vertex_index_map(boost::make_assoc_property_map(index))
                                .color_map(boost::make_assoc_property_map(colors)));
    std::vector<Element*> out;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        out.push_back(impl_->graph[*it]);
    }
    return out;
}

std::vector<std::pair<Pad*, Pad*>> Graph::links() const {
    std::vector<std::pair<Pad*, Pad*>> out;
    for (auto [e, end] = boost::edges(impl_->graph); e != end; ++e) {
        out.emplace_back(impl_->graph[*e].src, impl_->graph[*e].sink);
    }
    return out;
}

namespace {
std::string dot_id(const Element& e) {
    std::string id = "e_";
    for (char c : e.name()) {
        id += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
    }
    return id;
}
std::string dot_pad(const Pad& p) {
    std::string id = "p_";
    for (char c : p.name()) {
        id += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
    }
    return id;
}
std::string dot_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\' || c == '{' || c == '}' || c == '<' || c == '>' || c == '|') {
            out += '\\';
        }
        out += c;
    }
    return out;
}
} // namespace

std::string Graph::to_dot(std::string_view title) const {
    std::string out = fmt::format("digraph pipeline {{\n  label=\"{}\";\n  labelloc=t;\n  rankdir=LR;\n"
                                  "  node [shape=record, fontname=\"sans\", fontsize=10];\n",
                                  dot_escape(title));
    for (const auto& e : impl_->owned) {
        std::string sinks;
        std::string srcs;
        for (const Pad* p : e->pads()) {
            std::string& side = p->direction() == PadDirection::sink ? sinks : srcs;
            side += fmt::format("{}<{}> {}", side.empty() ? "" : "|", dot_pad(*p), dot_escape(p->name()));
        }
        std::string props;
        for (const PropertyBase* p : e->properties()) {
            const std::string v = p->value_string();
            if (v != p->default_string()) {
                props += fmt::format("\\n{}={}", dot_escape(p->name()), dot_escape(v));
            }
        }
        // What the pipeline inserted by itself (converters from negotiation,
        // queues at thread boundaries) is drawn dashed.
        const bool inserted = e->name().starts_with("auto-");
        out += fmt::format("  {} [label=\"{{{{{}}}|{}\\n({}){}|{{{}}}}}\"{}];\n", dot_id(*e), sinks,
                           dot_escape(e->name()), dot_escape(e->factory().name()), props, srcs,
                           inserted ? ", style=dashed" : "");
    }
    for (auto [src, sink] : links()) {
        // The caps that crossed the link, else those negotiation fixed.
        Caps caps = src->current_caps();
        if (caps.is_empty()) {
            caps = src->negotiated_caps();
        }
        out += fmt::format("  {}:{} -> {}:{} [label=\"{}\"];\n", dot_id(src->element()), dot_pad(*src),
                           dot_id(sink->element()), dot_pad(*sink),
                           caps.is_empty() ? "" : dot_escape(caps.to_string()));
    }
    out += "}\n";
    return out;
}

} // namespace parallax::detail
