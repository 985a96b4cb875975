// The Markdown element reference (docs/elements.md): one section per
// factory, in name order, then the aliases.

#include "inspect.hpp"

#include <parallax/pipeline/execution_strategy.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace plx_inspect {

using parallax::ElementFactory;
using parallax::PropertyBase;
using parallax::Registry;

namespace {

// Text for a table cell: a `|` would end the cell, a newline the row.
std::string cell(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '|') {
            out += "\\|";
        } else if (c == '\n') {
            out += "<br>";
        } else {
            out += c;
        }
    }
    return out;
}

// Text as inline code in a table cell; "" shows as an empty code span would
// not, so it gets a visible pair of quotes.
std::string code_cell(std::string_view text) {
    if (text.empty()) {
        return "`\"\"`";
    }
    // A backtick inside needs a longer fence (CommonMark).
    if (text.find('`') != std::string_view::npos) {
        return fmt::format("`` {} ``", cell(text));
    }
    return fmt::format("`{}`", cell(text));
}

// GitHub's heading anchors: lower case, spaces to '-', most punctuation dropped.
// When a property may be set: "running", "idle" or "read-only".
std::string_view mutability_cell(parallax::Mutability mutability) {
    switch (mutability) {
    case parallax::Mutability::running:
        return "running";
    case parallax::Mutability::read_only:
        return "read-only";
    case parallax::Mutability::idle:
        break;
    }
    return "idle";
}

std::string anchor(std::string_view name) {
    std::string out;
    for (char c : name) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            out += c;
        } else if (c >= 'A' && c <= 'Z') {
            out += static_cast<char>(c - 'A' + 'a');
        } else if (c == ' ') {
            out += '-';
        }
    }
    return out;
}

std::string range_cell(const PropertyBase& p) {
    if (!p.enum_values().empty()) {
        std::vector<std::string> values;
        for (const auto& v : p.enum_values()) {
            values.push_back(fmt::format("`{}` ({}): {}", v.nick, v.value, cell(v.description)));
        }
        return fmt::format("{}", fmt::join(values, "<br>"));
    }
    const std::string range = p.range_string();
    return range.empty() ? std::string() : code_cell(range);
}

void factory_section(std::string& out, const Registry& registry, const ElementFactory& factory) {
    const parallax::ElementInfo& info = factory.info();
    out += fmt::format("## {}\n\n", info.factory);
    out += fmt::format("{}\n\n", info.summary);
    if (!info.description.empty()) {
        out += fmt::format("{}\n\n", info.description);
    }
    out += fmt::format("- **Klass:** {}\n", info.klass);
    out += fmt::format("- **Rank:** {}\n", rank_string(info.rank));
    if (!factory.plugin().empty()) {
        out += fmt::format("- **Plugin:** {}\n", factory.plugin());
    }
    if (const auto aliases = aliases_of(registry, factory.name()); !aliases.empty()) {
        std::vector<std::string> quoted;
        quoted.reserve(aliases.size());
        for (const auto& a : aliases) {
            quoted.push_back(fmt::format("`{}`", a));
        }
        out += fmt::format("- **Aliases:** {}\n", fmt::join(quoted, ", "));
    }
    std::vector<std::string> hints;
    for (const auto& [key, value] : hint_fields(factory.hints())) {
        hints.push_back(fmt::format("{}={}", key, value));
    }
    out += fmt::format("- **Execution hints:** {}\n", fmt::join(hints, ", "));
    const parallax::StrategyDecision strategy =
        parallax::choose_strategy(factory.name(), factory.name(), factory.hints(), {});
    out += fmt::format("- **Strategy:** {} ({})\n\n", parallax::to_string(strategy.strategy), strategy.rule);

    out += "### Pads\n\n";
    if (factory.pad_templates().empty()) {
        out += "None.\n\n";
    } else {
        out += "| Name | Direction | Presence | Caps |\n";
        out += "|------|-----------|----------|------|\n";
        for (const parallax::PadTemplate& t : factory.pad_templates()) {
            out += fmt::format("| `{}` | {} | {} | {} |\n", t.name, parallax::to_string(t.direction),
                               parallax::to_string(t.presence), code_cell(t.caps.to_string()));
        }
        out += "\n";
    }

    out += "### Properties\n\n";
    auto element = factory.create();
    if (!element) {
        out += fmt::format("Could not create an element to read them: {}\n\n", cell(element.error().to_string()));
        return;
    }
    const auto properties = sorted_properties(**element);
    if (properties.empty()) {
        out += "None.\n\n";
        return;
    }
    out += "| Name | Type | Default | Range | Mutability | Description |\n";
    out += "|------|------|---------|-------|------------|-------------|\n";
    for (const PropertyBase* p : properties) {
        out +=
            fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", p->name(), p->type_name(),
                        code_cell(p->default_string()), range_cell(*p),
                        mutability_cell(p->mutability()), cell(p->description()));
    }
    out += "\n";
}

} // namespace

std::string markdown_reference(const Registry& registry) {
    const auto factories = registry.factories();
    const auto aliases = registry.aliases();
    std::string out = "# Element reference\n\n";
    out += "<!-- Generated by `plx-inspect --markdown > docs/elements.md`; do not edit by hand.\n"
           "     The test docs.elements_md_in_sync fails when this file is out of date. -->\n\n";
    out += fmt::format("{} elements and {} aliases. Properties are set in pipeline text as `name=value`; the "
                       "Mutability column says whether a property may change while the element is running or only "
                       "while it is suspended or idle. Run `plx-inspect <factory>` for the same information in a "
                       "terminal.\n\n",
                       factories.size(), aliases.size());
    out += "| Factory | Klass | Summary |\n";
    out += "|---------|-------|---------|\n";
    for (const ElementFactory* f : factories) {
        out += fmt::format("| [`{}`](#{}) | {} | {} |\n", f->name(), anchor(f->name()), cell(f->info().klass),
                           cell(f->info().summary));
    }
    out += "\n";
    for (const ElementFactory* f : factories) {
        factory_section(out, registry, *f);
    }
    out += "## Aliases\n\n";
    if (aliases.empty()) {
        out += "None.\n";
        return out;
    }
    out += "Other names under which pipeline text may name a factory.\n\n";
    out += "| Alias | Factory |\n";
    out += "|-------|---------|\n";
    for (const auto& [alias, target] : aliases) {
        out += fmt::format("| `{}` | [`{}`](#{}) |\n", alias, target, anchor(target));
    }
    return out;
}

} // namespace plx_inspect
