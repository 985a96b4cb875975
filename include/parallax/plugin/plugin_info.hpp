#pragma once

/// \file
/// PluginInfo and PluginLoadReport: what the Registry knows of a loaded
/// plugin, and the outcome of loading every plugin on a search path.

#include <parallax/base/error.hpp>

#include <string>
#include <vector>

namespace parallax {

/// A plugin as its descriptor declares it, and the file it came from.
struct PluginInfo {
    std::string name;                  ///< Unique among loaded plugins ("example").
    std::string version;               ///< The plugin's own version ("1.0").
    std::string license;               ///< An SPDX expression ("MIT OR Apache-2.0").
    std::string description;           ///< One line.
    std::string file;                  ///< The path it was loaded (or read) from.
    std::string abi_tag;               ///< The compiler and standard library it was built with.
    std::vector<std::string> elements; ///< Its factory names (and aliases), sorted; empty until loaded.
};

/// The outcome of Registry::load_plugins(): the plugins loaded, and one
/// Error per file that was refused or failed (each names the file and the
/// reason). A failed plugin is skipped; the others load.
struct PluginLoadReport {
    std::vector<PluginInfo> loaded;
    std::vector<Error> failures;
};

} // namespace parallax
