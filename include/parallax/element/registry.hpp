#pragma once

/// \file
/// ElementFactory and Registry: element types by factory name, and the one
/// registration line every element's .cpp ends with.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/element/element.hpp>

#include <atomic>
#include <concepts>
#include <memory>
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

    /// A new element with its Always pads. An empty `name` gives the next
    /// free default name: factory name + counter (`fakesrc0`, `fakesrc1`...).
    [[nodiscard]] Result<std::unique_ptr<Element>> create(std::string name = {}) const;

private:
    ElementInfo info_;
    std::vector<PadTemplate> templates_;
    ExecutionHints hints_;
    Construct construct_;
    mutable std::atomic<unsigned> counter_{0};
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

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

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
template <class T>
struct ElementRegistrar {
    ElementRegistrar() { static_cast<void>(Registry::global().add(factory_of<T>())); }
};
struct AliasRegistrar {
    AliasRegistrar(const char* alias, const char* target) {
        static_cast<void>(Registry::global().add_alias(alias, target));
    }
};
} // namespace detail

} // namespace parallax

/// Registers element type `Type` under its `info.factory` name. One line at
/// the end of the element's .cpp (at namespace scope).
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
