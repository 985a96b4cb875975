#pragma once

// Caps negotiation for a whole graph: constraint propagation in both
// directions, converter insertion where two sides cannot agree, fixation,
// and errors that explain. See docs/design/negotiation.md.

#include "pipeline/graph.hpp"

#include <parallax/base/result.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/pipeline/negotiation.hpp>

#include <functional>
#include <string_view>

namespace parallax::detail {

/// Negotiates every link of `graph`: on success each linked pad's
/// negotiated_caps() holds its link's fixed caps (ANY where nothing
/// constrains the link), and converters the policy allowed are in the graph,
/// linked. On failure the graph is as it was (inserted converters removed)
/// and the Error (Errc::not_negotiated) names both ends of the link, what
/// each side can do, what narrowed it, and what to change. `adopt` is
/// called for each converter added to the graph (to attach it to the
/// pipeline's host) before it is linked.
///
/// With `running` (a renegotiation while data flows) nothing is inserted
/// whatever the policy, and an error says so.
[[nodiscard]] Result<NegotiationReport> negotiate(Graph& graph, const Registry& registry, ConverterPolicy policy,
                                                  const std::function<void(Element&)>& adopt, bool running = false);

} // namespace parallax::detail
