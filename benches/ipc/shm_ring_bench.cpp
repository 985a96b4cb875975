// The transport under ipcsink -> ipcsrc without the elements: a producer
// streams 64-byte records through a ShmRing to a consumer in a forked
// process, alone and with an arena slot credited per record (what a buffer
// costs: acquire, share, the record, the consumer's release). Items/s is
// what the consumer can take at most; the elements add their own cost on
// top (benches/compare/ipc_compare_bench.cpp measures the whole).
#include <parallax/ipc/shm_ring.hpp>
#include <parallax/memory/arena.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

// What the child reports back through a shared page.
struct Shared {
    std::atomic<std::uint64_t> handle{0}; // bit 63 set once written
    std::atomic<std::uint64_t> received{0};
};

// The consumer: reads records until one of type 2, releasing the slot a
// type-1 record names when `arena` is set.
[[noreturn]] void consume(parallax::ShmRing& ring, parallax::Arena* arena, Shared& shared) {
    std::uint64_t n = 0;
    for (;;) {
        auto rec = ring.try_read();
        if (!rec) {
            ::_exit(2);
        }
        if (!*rec) {
            ring.wait_for_data(10ms);
            continue;
        }
        const std::uint16_t type = (*rec)->type;
        if (type == 1 && arena != nullptr) {
            std::uint32_t slot = 0;
            std::memcpy(&slot, (*rec)->payload.data(), 4);
            arena->release(slot);
        }
        ring.consume(type == 1);
        if (type == 2) {
            shared.received.store(n, std::memory_order_release);
            ::_exit(0);
        }
        ++n;
    }
}

void stream(benchmark::State& state, bool with_slots) {
    constexpr std::size_t payload = 56; // a 64-byte record
    constexpr std::uint64_t max_buffers = 64;
    auto ring = parallax::ShmRing::create();
    parallax::ArenaConfig config;
    config.slot_size = 64;
    config.slot_count = 256;
    auto arena = parallax::Arena::create(config);
    if (!ring || !arena) {
        state.SkipWithError("ring or arena");
        return;
    }
    auto* shared = new (::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)) Shared;
    const pid_t child = ::fork();
    if (child == 0) {
        auto mine = parallax::ShmRing::attach(*ring->dup_fd());
        auto theirs = parallax::Arena::attach(*(*arena)->dup_fd());
        if (!mine || !theirs) {
            ::_exit(1);
        }
        const auto h = (*theirs)->handle();
        shared->handle.store((std::uint64_t{h.incarnation} << 32U) | h.index | (std::uint64_t{1} << 63U));
        consume(*mine, with_slots ? theirs->get() : nullptr, *shared);
    }
    std::uint64_t word = 0;
    while (((word = shared->handle.load()) >> 63U) == 0) {
    }
    const parallax::ParticipantHandle to{static_cast<std::uint32_t>(word & 0xFFFFFFFFU),
                                         static_cast<std::uint32_t>((word >> 32U) & 0x7FFFFFFFU)};
    std::uint64_t sent = 0;
    for (auto _ : state) {
        std::uint32_t slot = 0;
        if (with_slots) {
            auto s = (*arena)->try_acquire();
            while (!s) {
                s = (*arena)->try_acquire_or_wait(10ms);
            }
            slot = *s;
            if (!(*arena)->share(slot, to)) {
                state.SkipWithError("share failed");
                break;
            }
        }
        while (!ring->writable(payload, max_buffers)) {
            ring->wait_for_room(payload, max_buffers, 10ms);
        }
        auto room = ring->try_reserve(1, payload);
        std::memcpy(room.data(), &slot, 4);
        ring->commit(true);
        if (with_slots) {
            (*arena)->release(slot);
        }
        ++sent;
    }
    while (!ring->writable(8, 0)) {
        ring->wait_for_room(8, 0, 10ms);
    }
    (void)ring->try_reserve(2, 8);
    ring->commit(false);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || shared->received.load() != sent) {
        state.SkipWithError("the consumer did not receive every record");
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(sent));
    ::munmap(shared, 4096);
}

void BM_ShmRingStream(benchmark::State& state) {
    stream(state, false);
}
BENCHMARK(BM_ShmRingStream)->UseRealTime()->MinTime(0.5);

void BM_ShmRingStreamWithSlots(benchmark::State& state) {
    stream(state, true);
}
BENCHMARK(BM_ShmRingStreamWithSlots)->UseRealTime()->MinTime(0.5);

} // namespace
