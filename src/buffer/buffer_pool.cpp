#include <parallax/buffer/buffer_pool.hpp>

#include <fmt/format.h>

#include <atomic>

namespace parallax {

struct BufferPool::State {
    std::shared_ptr<Arena> arena;
    std::atomic<std::uint64_t> waits{0};
    std::atomic<bool> flushing{false};
};

BufferPool::BufferPool(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
BufferPool::BufferPool(BufferPool&&) noexcept = default;
BufferPool& BufferPool::operator=(BufferPool&&) noexcept = default;
BufferPool::~BufferPool() = default;

Result<BufferPool> BufferPool::create(const BufferPoolConfig& config) {
    ArenaConfig arena_config;
    arena_config.slot_size = config.buffer_size;
    arena_config.slot_count = config.buffer_count;
    arena_config.alignment = config.alignment;
    arena_config.max_participants = config.max_participants;
    arena_config.page_size = config.page_size;
    arena_config.name = config.name;
    auto arena = Arena::create(arena_config);
    if (!arena) {
        return fail(Error(arena.error().code(), "buffer pool: " + arena.error().message()));
    }
    return over(std::move(*arena));
}

Result<BufferPool> BufferPool::over(std::shared_ptr<Arena> arena) {
    if (!arena) {
        return fail(Errc::invalid_argument, "buffer pool: no arena");
    }
    auto state = std::make_unique<State>();
    state->arena = std::move(arena);
    return BufferPool(std::move(state));
}

Result<Buffer> BufferPool::try_acquire() {
    Arena& arena = *state_->arena;
    auto slot = arena.try_acquire();
    if (!slot) {
        return fail(Errc::would_block, "buffer pool: every buffer is in use");
    }
    return Buffer(&arena, *slot, 0, arena.slot_size(), Metadata{});
}

Result<Buffer> BufferPool::acquire_until(std::chrono::steady_clock::time_point deadline, bool forever) {
    Arena& arena = *state_->arena;
    if (auto slot = arena.try_acquire()) {
        return Buffer(&arena, *slot, 0, arena.slot_size(), Metadata{});
    }
    state_->waits.fetch_add(1, std::memory_order_relaxed);
    bool reclaim = true;
    for (;;) {
        if (state_->flushing.load(std::memory_order_acquire)) {
            return fail(Errc::closed, "buffer pool: flushing");
        }
        // The hints may have lost a slot whose releaser died, and dead
        // participants may hold slots: acquire() reclaims both. It costs a
        // pass over the arena, so only on the first miss and after a quiet
        // wait, never on every wake-up.
        if (reclaim) {
            if (auto slot = arena.acquire()) {
                return Buffer(&arena, *slot, 0, arena.slot_size(), Metadata{});
            }
        }
        // Bounded sleeps: a process that dies holding slots wakes nobody, so
        // the loop reclaims at least every 100 ms while it waits.
        auto wait = std::chrono::nanoseconds(std::chrono::milliseconds(100));
        if (!forever) {
            const auto left = deadline - std::chrono::steady_clock::now();
            if (left <= std::chrono::nanoseconds::zero()) {
                return fail(Errc::timeout, fmt::format("buffer pool: no buffer freed in time ({} slots, all held)",
                                                       arena.slot_count()));
            }
            wait = std::min(wait, std::chrono::duration_cast<std::chrono::nanoseconds>(left));
        }
        const auto before = std::chrono::steady_clock::now();
        if (auto slot = arena.try_acquire_or_wait(wait, &state_->flushing)) {
            return Buffer(&arena, *slot, 0, arena.slot_size(), Metadata{});
        }
        reclaim = std::chrono::steady_clock::now() - before >= wait;
    }
}

Result<Buffer> BufferPool::acquire() {
    Arena& arena = *state_->arena;
    if (auto slot = arena.try_acquire()) {
        return Buffer(&arena, *slot, 0, arena.slot_size(), Metadata{});
    }
    return acquire_until({}, true);
}

Result<Buffer> BufferPool::acquire_for(std::chrono::nanoseconds timeout) {
    return acquire_until(std::chrono::steady_clock::now() + timeout, false);
}

void BufferPool::set_flushing(bool flushing) noexcept {
    state_->flushing.store(flushing, std::memory_order_release);
    if (flushing) {
        state_->arena->wake_waiters();
    }
}

std::size_t BufferPool::buffer_size() const noexcept {
    return state_->arena->slot_size();
}

BufferPoolStats BufferPool::stats() const noexcept {
    const ArenaStats arena = state_->arena->stats();
    BufferPoolStats out;
    out.capacity = arena.slot_count;
    out.available = arena.free_slots;
    out.in_use = arena.held_slots;
    out.waits = state_->waits.load(std::memory_order_relaxed);
    return out;
}

Arena& BufferPool::arena() const noexcept {
    return *state_->arena;
}

const std::shared_ptr<Arena>& BufferPool::shared_arena() const noexcept {
    return state_->arena;
}

} // namespace parallax
