#pragma once

// IsolatedElement: what stands in the pipeline's graph for an element whose
// strategy is isolated. It has the element's name, factory name and pads,
// answers negotiation through a "shadow" instance of the element that never
// sees data, and runs the element itself in a plx-worker process that it
// supervises and restarts. Design: docs/design/isolation.md.

#include <parallax/element/element.hpp>
#include <parallax/pipeline/isolation.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parallax::detail {

/// Why `element` cannot run in a worker (nothing when it can): a worker
/// runs elements with exactly one sink pad and at most one src pad, all
/// Always, that do not drive their src pads from a task of their own.
std::optional<std::string> why_not_isolatable(const Element& element);

/// True for the stand-ins made by make_isolated().
bool is_isolated(const Element& element);

/// The stand-in for `element` (which it keeps as its shadow).
Result<std::unique_ptr<Element>> make_isolated(std::unique_ptr<Element> element, const IsolationOptions& options);

/// Puts each chain of adjacent stand-ins with the same sandbox into one
/// worker (its first element's), visiting `order` (the graph's elements,
/// upstream first). A sink keeps a worker of its own. Returns the chains
/// formed, of two elements or more.
std::vector<std::vector<Element*>> group_isolated(const std::vector<Element*>& order);

/// The plx-worker program to start: IsolationOptions::worker_path,
/// $PARALLAX_WORKER, then the one built or installed with the library.
Result<std::string> find_worker(const IsolationOptions& options);

} // namespace parallax::detail
