#include <parallax/element/registry.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace parallax {

// ElementFactory

ElementFactory::ElementFactory(const ElementInfo& info, std::vector<PadTemplate> templates, ExecutionHints hints,
                               Construct construct)
    : info_(info), templates_(std::move(templates)), hints_(hints), construct_(construct) {}

Result<std::unique_ptr<Element>> ElementFactory::create(std::string name) const {
    std::unique_ptr<Element> e;
    try {
        e = construct_();
    } catch (const std::exception& ex) {
        return fail(Errc::exception, fmt::format("creating a {} failed: {}", info_.factory, ex.what()));
    }
    if (!e) {
        return fail(Errc::failed, fmt::format("creating a {} failed", info_.factory));
    }
    if (name.empty()) {
        name = fmt::format("{}{}", info_.factory, counter_.fetch_add(1, std::memory_order_relaxed));
    }
    e->name_ = std::move(name);
    e->factory_ = this;
    for (const auto& t : templates_) {
        if (t.presence == PadPresence::always) {
            e->make_pad(t, t.name);
        }
    }
    try {
        e->init();
    } catch (const std::exception& ex) {
        return fail(Errc::exception, fmt::format("initialising {} failed: {}", e->name_, ex.what()));
    }
    return e;
}

// Registry

struct Registry::Impl {
    // A factory, or how to make it (add_deferred()) until it is first needed.
    struct Entry {
        const ElementFactory* factory = nullptr;
        const ElementFactory& (*make)() = nullptr;

        const ElementFactory* get() {
            if (factory == nullptr) {
                factory = &make();
            }
            return factory;
        }
    };

    mutable std::mutex mutex;
    std::map<std::string, Entry, std::less<>> factories;
    std::map<std::string, std::string, std::less<>> aliases;
    std::map<std::string, PluginInfo, std::less<>> plugins;
};

Registry& Registry::global() {
    static Registry registry;
    return registry;
}

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

Result<void> Registry::add(const ElementFactory& factory) {
    std::lock_guard lock(impl_->mutex);
    auto [it, inserted] = impl_->factories.emplace(std::string(factory.name()), Impl::Entry{&factory, nullptr});
    if (!inserted && it->second.get() != &factory) {
        return fail(Errc::invalid_argument, fmt::format("an element factory named \"{}\" exists already",
                                                        factory.name()));
    }
    return {};
}

Result<void> Registry::add_deferred(std::string_view name, const ElementFactory& (*make)()) {
    std::lock_guard lock(impl_->mutex);
    auto [it, inserted] = impl_->factories.emplace(std::string(name), Impl::Entry{nullptr, make});
    if (!inserted && it->second.make != make && it->second.get() != &make()) {
        return fail(Errc::invalid_argument, fmt::format("an element factory named \"{}\" exists already", name));
    }
    return {};
}

Result<void> Registry::add_alias(std::string alias, std::string target) {
    std::lock_guard lock(impl_->mutex);
    if (impl_->factories.contains(alias)) {
        return fail(Errc::invalid_argument, fmt::format("\"{}\" is already a factory name", alias));
    }
    impl_->aliases[std::move(alias)] = std::move(target);
    return {};
}

const ElementFactory* Registry::find(std::string_view name) const {
    std::lock_guard lock(impl_->mutex);
    if (auto it = impl_->factories.find(name); it != impl_->factories.end()) {
        return it->second.get();
    }
    if (auto a = impl_->aliases.find(name); a != impl_->aliases.end()) {
        if (auto it = impl_->factories.find(a->second); it != impl_->factories.end()) {
            return it->second.get();
        }
    }
    return nullptr;
}

Result<const ElementFactory*> Registry::lookup(std::string_view name) const {
    if (const auto* f = find(name)) {
        return f;
    }
    std::vector<std::string> names;
    {
        std::lock_guard lock(impl_->mutex);
        for (const auto& [n, f] : impl_->factories) {
            names.push_back(n);
        }
        for (const auto& [n, t] : impl_->aliases) {
            names.push_back(n);
        }
    }
    auto close = suggest_names(name, names);
    std::string text = fmt::format("no element \"{}\"", name);
    if (!close.empty()) {
        text += fmt::format(" (did you mean \"{}\"?)", fmt::join(close, "\", \""));
    }
    return fail(Errc::not_found, std::move(text));
}

Result<std::unique_ptr<Element>> Registry::create(std::string_view factory, std::string name) const {
    auto f = lookup(factory);
    if (!f) {
        return fail(f.error());
    }
    return (*f)->create(std::move(name));
}

std::vector<const ElementFactory*> Registry::factories() const {
    std::lock_guard lock(impl_->mutex);
    std::vector<const ElementFactory*> out;
    for (auto& [n, entry] : impl_->factories) {
        out.push_back(entry.get());
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> Registry::aliases() const {
    std::lock_guard lock(impl_->mutex);
    return {impl_->aliases.begin(), impl_->aliases.end()};
}

Result<PluginInfo> Registry::add_plugin(PluginInfo info, const Registry& staged) {
    const auto factories = staged.factories();
    const auto aliases = staged.aliases();
    std::lock_guard lock(impl_->mutex);
    if (auto it = impl_->plugins.find(info.name); it != impl_->plugins.end()) {
        return fail(Errc::invalid_argument, fmt::format("{}: a plugin named \"{}\" is already loaded (from {})",
                                                        info.file, info.name, it->second.file));
    }
    // Every name is checked before anything is added: a plugin comes in
    // whole or not at all.
    const auto taken = [&](std::string_view name) -> std::string {
        if (auto f = impl_->factories.find(name); f != impl_->factories.end()) {
            const std::string_view owner = f->second.get()->plugin();
            return owner.empty() ? std::string("a built-in element")
                                 : fmt::format("an element of plugin \"{}\"", owner);
        }
        if (impl_->aliases.contains(name)) {
            return "an alias";
        }
        return {};
    };
    for (const ElementFactory* f : factories) {
        if (auto owner = taken(f->name()); !owner.empty()) {
            return fail(Errc::invalid_argument, fmt::format("{}: plugin \"{}\" registers element \"{}\", already {}",
                                                            info.file, info.name, f->name(), owner));
        }
    }
    for (const auto& [alias, target] : aliases) {
        if (auto owner = taken(alias); !owner.empty()) {
            return fail(Errc::invalid_argument, fmt::format("{}: plugin \"{}\" registers alias \"{}\", already {}",
                                                            info.file, info.name, alias, owner));
        }
    }
    info.elements.clear();
    for (const ElementFactory* f : factories) {
        f->plugin_ = info.name;
        impl_->factories.emplace(std::string(f->name()), Impl::Entry{f, nullptr});
        info.elements.emplace_back(f->name());
    }
    for (const auto& [alias, target] : aliases) {
        impl_->aliases.emplace(alias, target);
        info.elements.push_back(alias);
    }
    std::sort(info.elements.begin(), info.elements.end());
    impl_->plugins.emplace(info.name, info);
    return info;
}

std::vector<PluginInfo> Registry::plugins() const {
    std::lock_guard lock(impl_->mutex);
    std::vector<PluginInfo> out;
    for (const auto& [name, info] : impl_->plugins) {
        out.push_back(info);
    }
    return out;
}

std::optional<PluginInfo> Registry::find_plugin(std::string_view name) const {
    std::lock_guard lock(impl_->mutex);
    if (auto it = impl_->plugins.find(name); it != impl_->plugins.end()) {
        return it->second;
    }
    return std::nullopt;
}

namespace {
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}
} // namespace

std::vector<std::string> suggest_names(std::string_view name, std::span<const std::string> candidates,
                                       std::size_t max) {
    // Close enough: a third of the letters wrong at most, or one is a prefix
    // of the other (the user typed part of the name).
    const std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
    std::vector<std::pair<std::size_t, std::string>> scored;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(name, c);
        if (name.size() >= 3 && (c.starts_with(name) || name.starts_with(c))) {
            d = std::min<std::size_t>(d, 1);
        }
        if (d <= limit) {
            scored.emplace_back(d, c);
        }
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<std::string> out;
    for (auto& [d, c] : scored) {
        // Only the closest few: a far candidate next to a near one is noise.
        const std::size_t best = scored.front().first;
        if (out.size() == max || d > (best <= 1 ? best : best + 1)) {
            break;
        }
        out.push_back(std::move(c));
    }
    return out;
}

namespace detail {
std::vector<PadTemplate> simple_templates(bool has_sink, bool has_src, const Caps& caps) {
    std::vector<PadTemplate> out;
    if (has_sink) {
        out.push_back({"sink", PadDirection::sink, PadPresence::always, caps});
    }
    if (has_src) {
        out.push_back({"src", PadDirection::src, PadPresence::always, caps});
    }
    return out;
}
} // namespace detail

} // namespace parallax
