#pragma once

// What plx-inspect prints: the list of elements, one element's page (both
// in the manner of gst-inspect-1.0) and the Markdown element reference
// (docs/elements.md). Everything is read from the factories and from the
// Property declarations of a freshly made element, never written twice.

#include <parallax/element/registry.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plx_inspect {

/// Every factory as `factory: klass - summary` (followed by `[plugin]` for
/// a plugin's), then every alias, then the plugins, then a total line.
[[nodiscard]] std::string element_list(const parallax::Registry& registry);

/// The page of one factory: details, hints, pad templates, properties.
[[nodiscard]] std::string element_page(const parallax::Registry& registry, const parallax::ElementFactory& factory);

/// The page of one plugin: its details and its elements.
[[nodiscard]] std::string plugin_page(const parallax::Registry& registry, const parallax::PluginInfo& plugin);

/// The whole element reference in Markdown (docs/elements.md).
[[nodiscard]] std::string markdown_reference(const parallax::Registry& registry);

// Shared by the text and Markdown forms.

/// "none (0)", "primary (256)", or just the number for other ranks.
[[nodiscard]] std::string rank_string(int rank);
/// The fields of to_string(hints) ("trust=trusted ...") as (key, value).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> hint_fields(const parallax::ExecutionHints& hints);
/// The aliases that name `factory`, sorted.
[[nodiscard]] std::vector<std::string> aliases_of(const parallax::Registry& registry, std::string_view factory);
/// The properties of `element`, sorted by name as gst-inspect-1.0 sorts them.
[[nodiscard]] std::vector<const parallax::PropertyBase*> sorted_properties(const parallax::Element& element);
/// "changeable while running" or "changeable only when idle".
[[nodiscard]] std::string_view mutability_text(parallax::Mutability mutability);

} // namespace plx_inspect
