#include "inspect.hpp"

#include <parallax/pipeline/execution_strategy.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace plx_inspect {

using parallax::ElementFactory;
using parallax::PropertyBase;
using parallax::Registry;

std::string rank_string(int rank) {
    switch (rank) {
    case parallax::rank_none:
        return "none (0)";
    case parallax::rank_marginal:
        return "marginal (64)";
    case parallax::rank_secondary:
        return "secondary (128)";
    case parallax::rank_primary:
        return "primary (256)";
    default:
        return std::to_string(rank);
    }
}

std::vector<std::pair<std::string, std::string>> hint_fields(const parallax::ExecutionHints& hints) {
    std::vector<std::pair<std::string, std::string>> fields;
    const std::string text = parallax::to_string(hints);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find(' ', pos);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string_view field = std::string_view(text).substr(pos, end - pos);
        if (!field.empty()) {
            const std::size_t eq = field.find('=');
            if (eq == std::string_view::npos) {
                fields.emplace_back(std::string(field), std::string());
            } else {
                fields.emplace_back(std::string(field.substr(0, eq)), std::string(field.substr(eq + 1)));
            }
        }
        pos = end + 1;
    }
    return fields;
}

std::vector<std::string> aliases_of(const Registry& registry, std::string_view factory) {
    std::vector<std::string> names;
    for (const auto& [alias, target] : registry.aliases()) {
        if (target == factory) {
            names.push_back(alias);
        }
    }
    return names;
}

std::vector<const PropertyBase*> sorted_properties(const parallax::Element& element) {
    std::vector<const PropertyBase*> properties;
    for (const PropertyBase* p : element.properties()) {
        properties.push_back(p);
    }
    std::sort(properties.begin(), properties.end(),
              [](const PropertyBase* a, const PropertyBase* b) { return a->name() < b->name(); });
    return properties;
}

// The flags line, as gst-inspect-1.0 prints it.
std::string_view mutability_flags(parallax::Mutability mutability) {
    switch (mutability) {
    case parallax::Mutability::running:
        return "readable, writable, changeable while running";
    case parallax::Mutability::read_only:
        return "readable";
    case parallax::Mutability::idle:
        break;
    }
    return "readable, writable, changeable only when idle";
}

std::string element_list(const Registry& registry) {
    std::string out;
    const auto factories = registry.factories();
    for (const ElementFactory* f : factories) {
        out += fmt::format("{}: {} - {}", f->name(), f->info().klass, f->info().summary);
        out += f->plugin().empty() ? "\n" : fmt::format(" [{}]\n", f->plugin());
    }
    const auto aliases = registry.aliases();
    for (const auto& [alias, target] : aliases) {
        out += fmt::format("{}: alias of {}\n", alias, target);
    }
    const auto plugins = registry.plugins();
    if (!plugins.empty()) {
        out += "\nPlugins:\n";
        for (const auto& p : plugins) {
            out += fmt::format("{} {}: {} ({})\n", p.name, p.version, p.description, p.file);
        }
    }
    out += fmt::format("\nTotal count: {} element{}, {} alias{}", factories.size(), factories.size() == 1 ? "" : "s",
                       aliases.size(), aliases.size() == 1 ? "" : "es");
    out += plugins.empty() ? "\n" : fmt::format(", {} plugin{}\n", plugins.size(), plugins.size() == 1 ? "" : "s");
    return out;
}

namespace {

// gst-inspect-1.0 aligns the details in a column.
void detail_line(std::string& out, std::string_view key, std::string_view value) {
    out += fmt::format("  {:<25}{}\n", key, value);
}

void plugin_details(std::string& out, const parallax::PluginInfo& plugin) {
    out += "Plugin Details:\n";
    detail_line(out, "Name", plugin.name);
    detail_line(out, "Description", plugin.description);
    detail_line(out, "Filename", plugin.file);
    detail_line(out, "Version", plugin.version);
    detail_line(out, "License", plugin.license);
    detail_line(out, "ABI tag", plugin.abi_tag);
}

std::string upper(std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return r;
}

std::string capitalized(std::string_view s) {
    std::string r(s);
    if (!r.empty()) {
        r[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(r[0])));
    }
    return r;
}

// Caps one structure a line, its fields below it, as gst-inspect-1.0 does.
void caps_lines(std::string& out, const parallax::Caps& caps, std::string_view indent) {
    if (caps.is_any() || caps.is_empty()) {
        out += fmt::format("{}{}\n", indent, caps.to_string());
        return;
    }
    for (std::size_t i = 0; i < caps.size(); ++i) {
        const parallax::Structure& s = caps.structure(i);
        std::string head = s.name();
        if (!caps.features(i).empty()) {
            head += fmt::format("({})", fmt::join(caps.features(i), ", "));
        }
        out += fmt::format("{}{}\n", indent, head);
        for (const auto& field : s.fields()) {
            out += fmt::format("{}{:>18}: {}\n", indent, field.name, field.value.to_string());
        }
    }
}

std::string quoted_if_string(const PropertyBase& p, std::string value) {
    if (p.type_name() == "String") {
        return fmt::format("\"{}\"", value);
    }
    return value;
}

// The number of the enum value whose nick is `nick`.
std::string enum_with_number(const PropertyBase& p, const std::string& nick) {
    for (const auto& v : p.enum_values()) {
        if (v.nick == nick) {
            return fmt::format("{}, \"{}\"", v.value, nick);
        }
    }
    return fmt::format("\"{}\"", nick);
}

void property_lines(std::string& out, const PropertyBase& p) {
    constexpr std::string_view pad = "                        ";
    out += fmt::format("  {:<20}: {}\n", p.name(), p.description());
    out += fmt::format("{}flags: {}\n", pad, mutability_flags(p.mutability()));
    const bool is_enum = !p.enum_values().empty();
    std::string line = fmt::format("{}{}.", pad, p.type_name());
    if (const std::string range = p.range_string(); !range.empty()) {
        line += fmt::format(" Range: {}", range);
    }
    if (is_enum) {
        line += fmt::format(" Default: {} Current: {}", enum_with_number(p, p.default_string()),
                            enum_with_number(p, p.value_string()));
    } else {
        line += fmt::format(" Default: {} Current: {}", quoted_if_string(p, p.default_string()),
                            quoted_if_string(p, p.value_string()));
    }
    out += line + "\n";
    for (const auto& v : p.enum_values()) {
        out += fmt::format("{}   ({}): {:<16} - {}\n", pad, v.value, v.nick, v.description);
    }
}

} // namespace

std::string plugin_page(const Registry& registry, const parallax::PluginInfo& plugin) {
    std::string out;
    plugin_details(out, plugin);
    out += "\n";
    std::size_t elements = 0;
    for (const auto& name : plugin.elements) {
        const ElementFactory* f = registry.find(name);
        if (f == nullptr) {
            continue;
        }
        if (f->name() == name) {
            out += fmt::format("  {}: {}\n", name, f->info().summary);
            ++elements;
        } else {
            out += fmt::format("  {}: alias of {}\n", name, f->name());
        }
    }
    out += fmt::format("\n  {} feature{}:\n  +-- {} element{}\n", plugin.elements.size(),
                       plugin.elements.size() == 1 ? "" : "s", elements, elements == 1 ? "" : "s");
    return out;
}

std::string element_page(const Registry& registry, const ElementFactory& factory) {
    const parallax::ElementInfo& info = factory.info();
    std::string out = "Factory Details:\n";
    detail_line(out, "Rank", rank_string(info.rank));
    detail_line(out, "Name", info.factory);
    detail_line(out, "Summary", info.summary);
    detail_line(out, "Klass", info.klass);
    detail_line(out, "Description", info.description.empty() ? info.summary : info.description);
    if (const auto aliases = aliases_of(registry, factory.name()); !aliases.empty()) {
        detail_line(out, "Aliases", fmt::format("{}", fmt::join(aliases, ", ")));
    }
    if (!factory.plugin().empty()) {
        if (auto plugin = registry.find_plugin(factory.plugin())) {
            out += "\n";
            plugin_details(out, *plugin);
        }
    }

    out += "\nExecution Hints:\n";
    for (const auto& [key, value] : hint_fields(factory.hints())) {
        detail_line(out, key, value);
    }
    // What the executor makes of these hints when no pipeline overrides it.
    const parallax::StrategyDecision strategy =
        parallax::choose_strategy(factory.name(), factory.name(), factory.hints(), {});
    detail_line(out, "strategy", fmt::format("{} ({})", parallax::to_string(strategy.strategy), strategy.rule));

    out += "\nPad Templates:\n";
    if (factory.pad_templates().empty()) {
        out += "  none\n";
    }
    bool first = true;
    for (const parallax::PadTemplate& t : factory.pad_templates()) {
        if (!first) {
            out += "\n";
        }
        first = false;
        out += fmt::format("  {} template: '{}'\n", upper(parallax::to_string(t.direction)), t.name);
        out += fmt::format("    Availability: {}\n", capitalized(parallax::to_string(t.presence)));
        out += "    Capabilities:\n";
        caps_lines(out, t.caps, "      ");
    }

    out += "\nElement Properties:\n";
    auto element = factory.create();
    if (!element) {
        out += fmt::format("  (could not create an element to read them: {})\n", element.error().to_string());
        return out;
    }
    const auto properties = sorted_properties(**element);
    if (properties.empty()) {
        out += "  none\n";
    }
    for (const PropertyBase* p : properties) {
        property_lines(out, *p);
    }
    return out;
}

} // namespace plx_inspect
