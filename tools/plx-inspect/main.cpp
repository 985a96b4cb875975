// plx-inspect: lists the elements and plugins, or shows one element's
// factory details, hints, pads and properties, or one plugin's details and
// elements, like gst-inspect-1.0; --markdown writes the element reference
// (docs/elements.md). Plugins come from PARALLAX_PLUGIN_PATH and the
// installed plugin directory; those that fail are printed as warnings.

#include <parallax/element/registry.hpp>

#include "inspect.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#ifndef PARALLAX_TOOLS_VERSION
#define PARALLAX_TOOLS_VERSION "unknown"
#endif

namespace {

int run(int argc, char** argv) {
    CLI::App app{"Show the elements libparallax knows: without arguments a list, with a factory name (or alias) "
                 "its details, pad templates and properties, with a plugin name the plugin and its elements",
                 "plx-inspect"};
    std::string name;
    bool markdown = false;
    app.add_flag("--markdown", markdown, "Write the element reference of every factory as Markdown to stdout");
    app.add_option("element", name, "A factory name, alias or plugin name");
    app.set_version_flag("--version", fmt::format("plx-inspect version {} (libparallax)", PARALLAX_TOOLS_VERSION));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 1;
    }

    parallax::Registry& registry = parallax::Registry::global();
    for (const auto& failure : registry.load_plugins().failures) {
        fmt::print(stderr, "WARNING: {}\n", failure.message());
    }
    if (markdown) {
        if (!name.empty()) {
            fmt::print(stderr, "ERROR: --markdown documents every element; it takes no element name\n");
            return 1;
        }
        fmt::print("{}", plx_inspect::markdown_reference(registry));
        return 0;
    }
    if (name.empty()) {
        fmt::print("{}", plx_inspect::element_list(registry));
        return 0;
    }
    auto factory = registry.lookup(name);
    if (!factory) {
        if (auto plugin = registry.find_plugin(name)) {
            fmt::print("{}", plx_inspect::plugin_page(registry, *plugin));
            return 0;
        }
        fmt::print(stderr, "ERROR: {}\n", factory.error().message());
        return 1;
    }
    fmt::print("{}", plx_inspect::element_page(registry, **factory));
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        // Nothing is meant to throw this far (out of memory, a bug): fail
        // like any other error instead of aborting.
        static_cast<void>(std::fputs("ERROR: ", stderr));
        static_cast<void>(std::fputs(e.what(), stderr));
        static_cast<void>(std::fputs("\n", stderr));
        return 1;
    }
}
