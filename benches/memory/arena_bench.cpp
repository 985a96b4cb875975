// Arena hot paths: acquire/release of a slot, and a reference handed back and
// forth between two processes.
#include <parallax/memory/arena.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <csignal>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

std::shared_ptr<parallax::Arena> make_arena(std::uint32_t slots, std::size_t slot_size = 64) {
    parallax::ArenaConfig config;
    config.slot_count = slots;
    config.slot_size = slot_size;
    auto arena = parallax::Arena::create(config);
    if (!arena) {
        std::abort();
    }
    return *arena;
}

void BM_ArenaAcquireRelease(benchmark::State& state) {
    auto arena = make_arena(static_cast<std::uint32_t>(state.range(0)));
    for (auto _ : state) {
        const parallax::SlotIndex slot = *arena->try_acquire();
        benchmark::DoNotOptimize(slot);
        arena->release(slot);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ArenaAcquireRelease)->Arg(64)->Arg(4096);

void BM_ArenaRetainRelease(benchmark::State& state) {
    auto arena = make_arena(4);
    const auto slot = *arena->try_acquire();
    for (auto _ : state) {
        arena->retain(slot);
        arena->release(slot);
    }
    state.SetItemsProcessed(state.iterations());
    arena->release(slot);
}
BENCHMARK(BM_ArenaRetainRelease);

// The floor under every figure above: one locked read-modify-write on a
// cache line this core owns. Copying a Buffer is one of these; dropping one
// is another.
void BM_AtomicFetchAddReference(benchmark::State& state) {
    std::atomic<std::uint32_t> word{1};
    for (auto _ : state) {
        word.fetch_add(1, std::memory_order_relaxed);
    }
    benchmark::DoNotOptimize(word.load());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AtomicFetchAddReference);

void BM_AtomicCompareExchangeReference(benchmark::State& state) {
    std::atomic<std::uint64_t> word{0};
    for (auto _ : state) {
        std::uint64_t expected = word.load(std::memory_order_relaxed);
        word.compare_exchange_strong(expected, expected + 1);
    }
    benchmark::DoNotOptimize(word.load());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AtomicCompareExchangeReference);

// One reference on one slot crosses to a second process and back: the parent
// credits it to the child (Arena::share), the child drops it, over and over.
// Each iteration is one hand-over plus the cross-core wake-up by spinning.
void BM_ArenaCrossProcessPingPong(benchmark::State& state) {
    auto arena = make_arena(2);
    auto* flag = static_cast<std::atomic<std::uint32_t>*>(
        ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    auto* handle_word = reinterpret_cast<std::atomic<std::uint64_t>*>(flag + 16);
    flag->store(0);
    handle_word->store(0);
    const auto slot = *arena->try_acquire();
    const pid_t child = ::fork();
    if (child == 0) {
        auto mine = parallax::Arena::attach(*arena->dup_fd());
        if (!mine) {
            ::_exit(1);
        }
        const auto h = (*mine)->handle();
        handle_word->store((std::uint64_t{h.incarnation} << 32U) | h.index | (std::uint64_t{1} << 63U));
        for (;;) {
            std::uint32_t v;
            while ((v = flag->load(std::memory_order_acquire)) == 0) {
            }
            if (v == 2) {
                ::_exit(0);
            }
            (*mine)->release(slot);
            flag->store(0, std::memory_order_release);
        }
    }
    std::uint64_t word;
    while (((word = handle_word->load()) >> 63U) == 0) {
    }
    const parallax::ParticipantHandle to{static_cast<std::uint32_t>(word & 0xFFFFFFFFU),
                                         static_cast<std::uint32_t>((word >> 32U) & 0x7FFFFFFFU)};
    for (auto _ : state) {
        if (!arena->share(slot, to)) {
            state.SkipWithError("share failed");
            break;
        }
        flag->store(1, std::memory_order_release);
        while (flag->load(std::memory_order_acquire) != 0) {
        }
    }
    flag->store(2);
    ::waitpid(child, nullptr, 0);
    state.SetItemsProcessed(state.iterations());
    arena->release(slot);
    ::munmap(flag, 4096);
}
BENCHMARK(BM_ArenaCrossProcessPingPong)->UseRealTime();

} // namespace
