#pragma once

/// \file
/// ElementFactory and Registry: element types by factory name, and the one
/// registration line every element's .cpp ends with.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/element/element.hpp>
#include <parallax/plugin/plugin_info.hpp>

#include <atomic>
#include <concepts>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace parallax {

/// Makes elements of one type: its static info, pad templates and hints, and
/// a function that constructs it.
class PARALLAX_API ElementFactory {
public:
    using Construct = std::unique_ptr<Element> (*)();

    ElementFactory(const ElementInfo& info, std::vector<PadTemplate> templates, ExecutionHints hints,
                   Construct construct);
    ElementFactory(const ElementFactory&) = delete;
    ElementFactory& operator=(const ElementFactory&) = delete;

    [[nodiscard]] const ElementInfo& info() const noexcept { return info_; }
    [[nodiscard]] std::string_view name() const noexcept { return info_.factory; }
    [[nodiscard]] std::span<const PadTemplate> pad_templates() const noexcept { return templates_; }
    [[nodiscard]] const ExecutionHints& hints() const noexcept { return hints_; }
    /// The name of the plugin this factory came from; empty for elements
    /// built into the program.
    [[nodiscard]] std::string_view plugin() const noexcept { return plugin_; }

    /// A new element with its Always pads. An empty `name` gives the next
    /// free default name: factory name + counter (`fakesrc0`, `fakesrc1`...).
    [[nodiscard]] Result<std::unique_ptr<Element>> create(std::string name = {}) const;

private:
    ElementInfo info_;
    std::vector<PadTemplate> templates_;
    ExecutionHints hints_;
    Construct construct_;
    mutable std::atomic<unsigned> counter_{0};
    // Set once by the Registry when it merges a plugin's factories, before
    // they become visible to lookups.
    mutable std::string plugin_;
    friend class Registry;
};

/// Every element factory of the process, by name (and by alias).
class PARALLAX_API Registry {
public:
    /// The registry that PARALLAX_REGISTER_ELEMENT fills.
    static Registry& global();

    Registry();
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    /// Adds a factory. A second factory of the same name is an error (the
    /// first stays). **Ownership:** the factory must outlive the registry.
    Result<void> add(const ElementFactory& factory);
    /// Adds the factory `make` returns under `name` (which must be its
    /// name) without making it: `make` runs the first time the factory is
    /// found or listed. The registration lines of elements built into a
    /// program use this, so that a program's start does not build every
    /// factory's pad templates. `make` must return the same factory each
    /// time (factory_of<T> does).
    Result<void> add_deferred(std::string_view name, const ElementFactory& (*make)());
    /// Makes `alias` another name of factory `target` (e.g. the original
    /// Parallax names `nullsource` for `fakesrc`).
    Result<void> add_alias(std::string alias, std::string target);

    /// The factory called `name` (or aliased so), or nullptr.
    [[nodiscard]] const ElementFactory* find(std::string_view name) const;
    /// Like find(), but a missing name is an error of Errc::not_found that
    /// suggests close names: `no element "fakesnk" (did you mean "fakesink"?)`.
    [[nodiscard]] Result<const ElementFactory*> lookup(std::string_view name) const;
    /// Creates an element by factory name.
    [[nodiscard]] Result<std::unique_ptr<Element>> create(std::string_view factory, std::string name = {}) const;

    /// Every factory, sorted by name.
    [[nodiscard]] std::vector<const ElementFactory*> factories() const;
    /// Every alias and its target, sorted by alias.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> aliases() const;

    /// Loads the plugin `file` (docs/guide/plugins.md): reads its descriptor
    /// from the file and checks it before any plugin code runs, then loads
    /// it and adds its elements. Every element is added or none: a plugin
    /// name already loaded or an element name already taken is an error,
    /// and the earlier one stays. Errors name the file and the failed check.
    /// Plugins are never unloaded. Called from: control thread.
    Result<PluginInfo> load_plugin(const std::filesystem::path& file);
    /// Loads every plugin found on `search_path`: each entry a plugin file
    /// or a directory whose `*.so` files are plugins (not recursive, in name
    /// order). Missing directories are skipped silently; a plugin that
    /// fails is logged as a warning (category "plugin"), reported and
    /// skipped, and the others load.
    PluginLoadReport load_plugins(std::span<const std::filesystem::path> search_path);
    /// Loads every plugin on default_plugin_path().
    PluginLoadReport load_plugins();

    /// Every loaded plugin, sorted by name.
    [[nodiscard]] std::vector<PluginInfo> plugins() const;
    /// The loaded plugin called `name`.
    [[nodiscard]] std::optional<PluginInfo> find_plugin(std::string_view name) const;

private:
    // Merges the factories and aliases of `staged` and records `info`: all
    // or nothing.
    Result<PluginInfo> add_plugin(PluginInfo info, const Registry& staged);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Where plugins are looked for: the entries of `PARALLAX_PLUGIN_PATH`
/// (colon-separated directories or files, empty ones skipped), then the
/// plugin directory of the installation (plugin_install_dir()).
PARALLAX_API std::vector<std::filesystem::path> default_plugin_path();
/// The directory `make install` puts plugins in
/// (`<libdir>/parallax-<major>/plugins`), fixed when libparallax was built.
PARALLAX_API std::filesystem::path plugin_install_dir();

/// Reads the descriptor of the plugin `file` without loading it and checks
/// it against this build: ELF class, byte order, machine and type, the
/// `parallax_plugin_descriptor` symbol, its magic, ABI version, size,
/// libparallax version and ABI tag, and its strings. An Error names the
/// file, the check and what was found against what was expected.
PARALLAX_API Result<PluginInfo> read_plugin_descriptor(const std::filesystem::path& file);

/// Names close to `name` among `candidates` (edit distance, prefixes), best
/// first, at most `max`.
PARALLAX_API std::vector<std::string> suggest_names(std::string_view name, std::span<const std::string> candidates,
                                                    std::size_t max = 3);

namespace detail {

template <class T>
concept HasPadTemplates = requires { { T::pad_templates() } -> std::convertible_to<std::vector<PadTemplate>>; };
template <class T>
concept HasPadCaps = requires { { T::pad_caps() } -> std::convertible_to<Caps>; };
template <class T>
concept HasHints = requires { { T::hints } -> std::convertible_to<ExecutionHints>; };

/// The pad templates of the Simple bases when a type gives only pad_caps().
PARALLAX_API std::vector<PadTemplate> simple_templates(bool has_sink, bool has_src, const Caps& caps);

} // namespace detail

class SimpleSource;
class SimpleTransform;
class SimpleSink;

/// The factory of element type T (built on first use).
template <class T>
const ElementFactory& factory_of() {
    static_assert(std::is_base_of_v<Element, T>, "elements derive from parallax::Element");
    static const ElementFactory factory = [] {
        std::vector<PadTemplate> templates;
        if constexpr (detail::HasPadTemplates<T>) {
            templates = T::pad_templates();
        } else {
            Caps caps = Caps::any();
            if constexpr (detail::HasPadCaps<T>) {
                caps = T::pad_caps();
            }
            constexpr bool source = std::is_base_of_v<SimpleSource, T>;
            constexpr bool sink = std::is_base_of_v<SimpleSink, T>;
            templates = detail::simple_templates(!source, !sink, caps);
        }
        ExecutionHints hints;
        if constexpr (detail::HasHints<T>) {
            hints = T::hints;
        }
        return ElementFactory(T::info, std::move(templates), hints,
                              []() -> std::unique_ptr<Element> { return std::make_unique<T>(); });
    }();
    return factory;
}

/// Creates an element of type T without going through the registry (the
/// type need not be registered).
template <class T>
Result<std::unique_ptr<T>> make_element(std::string name = {}) {
    auto e = factory_of<T>().create(std::move(name));
    if (!e) {
        return fail(e.error());
    }
    return std::unique_ptr<T>(static_cast<T*>(e->release()));
}

namespace detail {

#ifdef PARALLAX_BUILDING_PLUGIN
inline constexpr bool building_plugin = true;
#else
inline constexpr bool building_plugin = false;
#endif

/// In a plugin: what its registration lines recorded, added to the registry
/// the loader passes when the loader calls the descriptor's function.
/// Hidden, so that each plugin keeps its own list.
[[gnu::visibility("hidden")]] inline std::vector<std::function<Result<void>(Registry&)>>& plugin_registrations() {
    static std::vector<std::function<Result<void>(Registry&)>> registrations;
    return registrations;
}

// Built into a program, the registration lines add to the global registry
// while the program starts. In a plugin they only record what to add: a
// plugin's static constructors must not touch the program's registry.
template <class T>
struct ElementRegistrar {
    ElementRegistrar() {
        if constexpr (building_plugin) {
            plugin_registrations().emplace_back([](Registry& r) { return r.add(factory_of<T>()); });
        } else {
            static_cast<void>(Registry::global().add_deferred(T::info.factory, &factory_of<T>));
        }
    }
};
struct AliasRegistrar {
    AliasRegistrar(const char* alias, const char* target) {
        if constexpr (building_plugin) {
            plugin_registrations().emplace_back([alias, target](Registry& r) { return r.add_alias(alias, target); });
        } else {
            static_cast<void>(Registry::global().add_alias(alias, target));
        }
    }
};
} // namespace detail

} // namespace parallax

/// Registers element type `Type` under its `info.factory` name. One line at
/// the end of the element's .cpp (at namespace scope), in the program and in
/// plugins alike.
#define PARALLAX_REGISTER_ELEMENT(Type)                                                                                \
    [[maybe_unused]] static const ::parallax::detail::ElementRegistrar<Type> PARALLAX_DETAIL_CONCAT(                   \
        parallax_registrar_, __LINE__) {}
/// Registers `alias` as another name of factory `target`.
#define PARALLAX_REGISTER_ALIAS(alias, target)                                                                         \
    [[maybe_unused]] static const ::parallax::detail::AliasRegistrar PARALLAX_DETAIL_CONCAT(parallax_alias_,          \
                                                                                             __LINE__) {              \
        alias, target                                                                                                  \
    }
#define PARALLAX_DETAIL_CONCAT_(a, b) a##b
#define PARALLAX_DETAIL_CONCAT(a, b) PARALLAX_DETAIL_CONCAT_(a, b)
