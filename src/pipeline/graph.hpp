#pragma once

// The pipeline's element graph: elements as vertices, pad links as edges,
// kept acyclic (Boost.Graph).

#include <parallax/base/result.hpp>
#include <parallax/element/element.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::detail {

class Graph {
public:
    Graph();
    ~Graph();
    Graph(const Graph&) = delete;
    Graph& operator=(const Graph&) = delete;

    /// Adds an element; its name must be unique in the graph.
    Result<Element*> add(std::unique_ptr<Element> element);
    /// Removes an element and its links; returns it.
    Result<std::unique_ptr<Element>> remove(Element& element);
    /// Links two pads of elements in the graph. A link that would close a
    /// cycle is refused, and the error names the cycle.
    Result<void> link(Pad& src, Pad& sink);
    void unlink(Pad& src);

    [[nodiscard]] Element* find(std::string_view name) const noexcept;
    /// Every element, in the order they were added.
    [[nodiscard]] std::vector<Element*> elements() const;
    /// Every element, upstream before downstream.
    [[nodiscard]] std::vector<Element*> topological_order() const;
    /// Every link as (src pad, sink pad).
    [[nodiscard]] std::vector<std::pair<Pad*, Pad*>> links() const;
    [[nodiscard]] bool empty() const noexcept;

    /// Graphviz text of the graph: elements as boxes with their pads, links
    /// labelled with their caps. `title` heads the graph.
    [[nodiscard]] std::string to_dot(std::string_view title) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace parallax::detail
