// Loading plugins: the descriptor is read from the file and checked first
// (plugin_file.cpp); only then is the library loaded, its descriptor reached
// with dlsym() and its registration function run against a staging
// registry, which is merged whole into the real one.

#include <parallax/base/log.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/plugin/plugin_descriptor.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <exception>
#include <set>
#include <string>
#include <system_error>

#ifndef PARALLAX_PLUGIN_INSTALL_DIR
#error "PARALLAX_PLUGIN_INSTALL_DIR is set by src/CMakeLists.txt"
#endif

namespace parallax {
namespace {

LogCategory plugin_log("plugin", "loading plugins: the search path, the checks, what was loaded or refused");

std::string dl_error() {
    const char* e = dlerror();
    return e != nullptr ? e : "unknown error";
}

// The `*.so` files of `dir`, in name order (so that which of two
// conflicting plugins wins does not depend on the file system).
std::vector<std::filesystem::path> plugins_in(const std::filesystem::path& dir, std::vector<Error>& failures) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        const auto& path = it->path();
        std::error_code type_ec;
        if (path.extension() == ".so" && it->is_regular_file(type_ec)) {
            files.push_back(path);
        }
    }
    if (ec) {
        failures.push_back(
            Error(ec, fmt::format("{}: cannot read the plugin directory: {}", dir.string(), ec.message())));
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace

std::filesystem::path plugin_install_dir() {
    return PARALLAX_PLUGIN_INSTALL_DIR;
}

std::vector<std::filesystem::path> default_plugin_path() {
    std::vector<std::filesystem::path> path;
    // The loader, not element code, reads the environment.
    if (const char* env = std::getenv("PARALLAX_PLUGIN_PATH"); env != nullptr) {
        std::string_view rest(env);
        while (!rest.empty()) {
            const std::size_t colon = rest.find(':');
            const std::string_view entry = rest.substr(0, colon);
            if (!entry.empty()) {
                path.emplace_back(entry);
            }
            rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        }
    }
    path.push_back(plugin_install_dir());
    return path;
}

Result<PluginInfo> Registry::load_plugin(const std::filesystem::path& file) {
    // dlopen() searches LD_LIBRARY_PATH for a name without a slash: load
    // exactly the file that was checked.
    std::error_code ec;
    const std::filesystem::path path = std::filesystem::absolute(file, ec);
    if (ec) {
        return fail(Error(ec, fmt::format("{}: cannot resolve the path: {}", file.string(), ec.message())));
    }
    auto info = read_plugin_descriptor(path);
    if (!info) {
        return fail(info.error());
    }
    if (auto loaded = find_plugin(info->name)) {
        return fail(Errc::invalid_argument, fmt::format("{}: a plugin named \"{}\" is already loaded (from {})",
                                                        info->file, info->name, loaded->file));
    }
    PARALLAX_DEBUG(plugin_log, "{}: descriptor of plugin \"{}\" {} accepted, loading", info->file, info->name,
                   info->version);
    // Plugins are never unloaded: their factories, vtables and strings
    // must outlive every element made from them.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        return fail(Errc::failed, fmt::format("{}: cannot load the plugin: {}", info->file, dl_error()));
    }
    const auto* descriptor = static_cast<const PluginDescriptor*>(dlsym(handle, PARALLAX_PLUGIN_SYMBOL));
    if (descriptor == nullptr) {
        return fail(Errc::failed, fmt::format("{}: symbol " PARALLAX_PLUGIN_SYMBOL " not found once loaded: {}",
                                              info->file, dl_error()));
    }
    // The file may have changed between the check and the load.
    auto checked = read_plugin_descriptor(path);
    if (!checked || checked->name != info->name ||
        std::strncmp(descriptor->name, info->name.c_str(), sizeof(descriptor->name)) != 0 ||
        descriptor->abi_version != plugin_abi_version || descriptor->descriptor_size != sizeof(PluginDescriptor)) {
        return fail(Errc::corrupt,
                    fmt::format("{}: the loaded descriptor differs from the one checked in the file", info->file));
    }
    if (descriptor->register_elements == nullptr) {
        return fail(Errc::corrupt,
                    fmt::format("{}: plugin \"{}\" has no registration function", info->file, info->name));
    }
    Registry staged;
    Result<void> registered;
    try {
        registered = descriptor->register_elements(staged);
    } catch (const std::exception& e) {
        registered = fail(Errc::exception, e.what());
    } catch (...) {
        registered = fail(Errc::exception, "an exception of unknown type");
    }
    if (!registered) {
        return fail(
            Error(registered.error().code(), fmt::format("{}: plugin \"{}\" failed to register its elements: {}",
                                                         info->file, info->name, registered.error().message())));
    }
    auto added = add_plugin(std::move(*info), staged);
    if (added) {
        PARALLAX_INFO(plugin_log, "{}: loaded plugin \"{}\" {} ({} elements)", added->file, added->name, added->version,
                      added->elements.size());
    }
    return added;
}

PluginLoadReport Registry::load_plugins(std::span<const std::filesystem::path> search_path) {
    PluginLoadReport report;
    std::set<std::filesystem::path> seen; // a file reached twice is loaded once
    const auto load_one = [&](const std::filesystem::path& file) {
        std::error_code ec;
        auto canonical = std::filesystem::weakly_canonical(file, ec);
        if (!seen.insert(ec ? file : canonical).second) {
            return;
        }
        if (auto info = load_plugin(file)) {
            report.loaded.push_back(std::move(*info));
        } else {
            PARALLAX_WARNING(plugin_log, "{} (skipped)", info.error().message());
            report.failures.push_back(info.error());
        }
    };
    for (const auto& entry : search_path) {
        std::error_code ec;
        const auto status = std::filesystem::status(entry, ec);
        if (ec || !std::filesystem::exists(status)) {
            PARALLAX_DEBUG(plugin_log, "{}: not there, skipped", entry.string());
            continue;
        }
        if (std::filesystem::is_directory(status)) {
            for (const auto& file : plugins_in(entry, report.failures)) {
                load_one(file);
            }
        } else {
            load_one(entry);
        }
    }
    return report;
}

PluginLoadReport Registry::load_plugins() {
    const auto path = default_plugin_path();
    return load_plugins(path);
}

} // namespace parallax
