#pragma once

/// \file
/// BufferPool: hands out buffers from the slots of one arena, with
/// back-pressure when every slot is in use.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/buffer.hpp>
#include <parallax/memory/arena.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace parallax {

/// The shape of a pool's arena.
struct BufferPoolConfig {
    /// Bytes per buffer (the arena's slot size).
    std::size_t buffer_size = 4096;
    /// Number of buffers.
    std::uint32_t buffer_count = 16;
    /// Alignment of every buffer's first byte (power of two, ≥ 64).
    std::uint32_t alignment = 64;
    /// Processes that may map the pool's arena at once.
    std::uint32_t max_participants = 16;
    /// Page size preference.
    PageSize page_size = PageSize::normal;
    /// memfd name.
    std::string name = "parallax-pool";
};

/// A point-in-time view of a pool.
struct BufferPoolStats {
    std::uint32_t capacity = 0;  ///< Buffers in the pool.
    std::uint32_t available = 0; ///< Buffers free right now.
    std::uint32_t in_use = 0;    ///< Buffers held by someone, in any process.
    std::uint64_t waits = 0;     ///< acquire calls of this pool object that had to wait.
};

/// Buffers from an arena's slots. Every acquire is O(1) and lock-free; when
/// all slots are held, acquire() sleeps until any reference to any slot of the
/// arena is released — by this process or another — or the pool is set
/// flushing. Buffers come back to the pool by themselves when their last
/// reference is dropped; their bytes are never cleared.
///
/// **Ownership:** the pool shares ownership of its arena; buffers must not
/// outlive every owner of the arena (see Buffer).
class PARALLAX_API BufferPool {
public:
    /// A pool over a new arena.
    static Result<BufferPool> create(const BufferPoolConfig& config);
    /// A pool over an existing arena (created here, or attached from an fd).
    static Result<BufferPool> over(std::shared_ptr<Arena> arena);

    BufferPool(BufferPool&&) noexcept;
    BufferPool& operator=(BufferPool&&) noexcept;
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;
    ~BufferPool();

    /// A buffer of buffer_size() bytes; waits while every slot is held.
    /// Errc::closed when the pool is flushing.
    Result<Buffer> acquire();
    /// A buffer, or Errc::would_block at once when none is free.
    Result<Buffer> try_acquire();
    /// A buffer, waiting at most `timeout`: Errc::timeout after that.
    Result<Buffer> acquire_for(std::chrono::nanoseconds timeout);

    /// While flushing, waiting acquires return Errc::closed at once (used to
    /// unblock a streaming thread on shutdown or seek).
    void set_flushing(bool flushing) noexcept;

    [[nodiscard]] std::size_t buffer_size() const noexcept;
    [[nodiscard]] BufferPoolStats stats() const noexcept;
    [[nodiscard]] Arena& arena() const noexcept;
    [[nodiscard]] const std::shared_ptr<Arena>& shared_arena() const noexcept;

private:
    struct State;
    explicit BufferPool(std::unique_ptr<State> state) noexcept;
    Result<Buffer> acquire_until(std::chrono::steady_clock::time_point deadline, bool forever);

    std::unique_ptr<State> state_;
};

} // namespace parallax
