#include <parallax/memory/arena_cache.hpp>

#include "memory/arena_layout.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace parallax {
namespace {

struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

Result<FileIdentity> identity_of(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return fail_errno(errno, "arena fd: fstat");
    }
    return FileIdentity{st.st_dev, st.st_ino};
}

} // namespace

struct ArenaCache::State {
    struct Entry {
        ArenaId id;
        FileIdentity file;
        std::shared_ptr<Arena> arena;
    };
    mutable std::mutex mutex;
    std::vector<Entry> entries; // few arenas per process: a vector beats a map

    Entry* find(const ArenaId& id) {
        for (auto& entry : entries) {
            if (entry.id == id) {
                return &entry;
            }
        }
        return nullptr;
    }
};

ArenaCache::ArenaCache() : state_(std::make_unique<State>()) {}
ArenaCache::ArenaCache(ArenaCache&&) noexcept = default;
ArenaCache& ArenaCache::operator=(ArenaCache&&) noexcept = default;
ArenaCache::~ArenaCache() = default;

Result<std::shared_ptr<Arena>> ArenaCache::attach(UniqueFd fd) {
    if (!fd) {
        return fail(Errc::invalid_argument, "arena fd: not a valid file descriptor");
    }
    // Peek at the id: a known arena is not mapped (or registered) twice.
    detail::ArenaHeader header;
    const ssize_t got = ::pread(fd.get(), static_cast<void*>(&header), offsetof(detail::ArenaHeader, release_epoch), 0);
    if (got == static_cast<ssize_t>(offsetof(detail::ArenaHeader, release_epoch)) &&
        header.magic == detail::arena_magic) {
        ArenaId id;
        std::memcpy(id.bytes.data(), header.arena_id, id.bytes.size());
        auto file = identity_of(fd.get());
        if (!file) {
            return fail(std::move(file.error()));
        }
        std::lock_guard lock(state_->mutex);
        if (State::Entry* entry = state_->find(id)) {
            if (!(entry->file == *file)) {
                return fail(Errc::corrupt, fmt::format("arena fd: claims the id {} of an arena already mapped "
                                                       "from another file",
                                                       id.to_string()));
            }
            return entry->arena; // fd closes here
        }
    }
    // Unknown (or not even an arena): Arena::attach validates every field.
    auto file = identity_of(fd.get());
    auto arena = Arena::attach(std::move(fd));
    if (!arena) {
        return fail(std::move(arena.error()));
    }
    std::lock_guard lock(state_->mutex);
    // Another thread may have attached the same arena meanwhile: keep one.
    if (State::Entry* entry = state_->find((*arena)->id())) {
        return entry->arena;
    }
    state_->entries.push_back({(*arena)->id(), file ? *file : FileIdentity{}, *arena});
    return *arena;
}

Result<void> ArenaCache::insert(std::shared_ptr<Arena> arena) {
    if (!arena) {
        return fail(Errc::invalid_argument, "arena cache: no arena to insert");
    }
    auto file = identity_of(arena->fd());
    if (!file) {
        return fail(std::move(file.error()));
    }
    std::lock_guard lock(state_->mutex);
    if (State::Entry* entry = state_->find(arena->id())) {
        if (entry->arena == arena) {
            return {};
        }
        return fail(Errc::state,
                    fmt::format("arena cache: another arena with the id {} is cached", arena->id().to_string()));
    }
    const ArenaId id = arena->id();
    state_->entries.push_back({id, *file, std::move(arena)});
    return {};
}

std::shared_ptr<Arena> ArenaCache::find(const ArenaId& id) const {
    std::lock_guard lock(state_->mutex);
    const State::Entry* entry = state_->find(id);
    return entry == nullptr ? nullptr : entry->arena;
}

bool ArenaCache::remove(const ArenaId& id) {
    std::lock_guard lock(state_->mutex);
    for (auto it = state_->entries.begin(); it != state_->entries.end(); ++it) {
        if (it->id == id) {
            state_->entries.erase(it);
            return true;
        }
    }
    return false;
}

std::size_t ArenaCache::size() const {
    std::lock_guard lock(state_->mutex);
    return state_->entries.size();
}

} // namespace parallax
