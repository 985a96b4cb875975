#pragma once

/// \file
/// ArenaCache: the arenas a process has mapped, by id, so that an arena
/// received several times (from several peers, or again after a reconnect)
/// is mapped and registered once.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/base/unique_fd.hpp>
#include <parallax/memory/arena.hpp>

#include <cstddef>
#include <memory>

namespace parallax {

/// Maps arenas received as fds, once each, and finds them by id.
///
/// **Ownership:** the cache shares ownership of every arena in it; an arena
/// stays mapped while the cache or any other owner holds it. Thread-safe.
class PARALLAX_API ArenaCache {
public:
    ArenaCache();
    ArenaCache(ArenaCache&&) noexcept;
    ArenaCache& operator=(ArenaCache&&) noexcept;
    ArenaCache(const ArenaCache&) = delete;
    ArenaCache& operator=(const ArenaCache&) = delete;
    ~ArenaCache();

    /// The arena behind `fd`: the one already in the cache when its id is
    /// known (the fd is closed), else a new mapping validated by
    /// Arena::attach(). Every failed check is an Error naming it; an fd that
    /// claims the id of a cached arena but is another file is refused.
    Result<std::shared_ptr<Arena>> attach(UniqueFd fd);

    /// Adds an arena this process created, so that find() knows it.
    /// Errc::state when another arena with the same id is cached.
    Result<void> insert(std::shared_ptr<Arena> arena);

    /// The cached arena with this id, or null.
    [[nodiscard]] std::shared_ptr<Arena> find(const ArenaId& id) const;

    /// Forgets the arena; true when it was cached.
    bool remove(const ArenaId& id);

    [[nodiscard]] std::size_t size() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace parallax
