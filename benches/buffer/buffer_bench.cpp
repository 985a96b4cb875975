// Buffer and pool hot paths: creation from a pool, copy, slice, loan+return.
#include <parallax/buffer/buffer_pool.hpp>

#include <benchmark/benchmark.h>

#include <vector>

namespace {

parallax::BufferPool make_pool(std::size_t size, std::uint32_t count = 64) {
    parallax::BufferPoolConfig config;
    config.buffer_size = size;
    config.buffer_count = count;
    auto pool = parallax::BufferPool::create(config);
    if (!pool) {
        std::abort();
    }
    return std::move(*pool);
}

// A buffer of `size` bytes from a pool, given back when it goes out of scope.
void BM_BufferCreateFromPool(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    auto pool = make_pool(size);
    for (auto _ : state) {
        auto buffer = pool.acquire();
        benchmark::DoNotOptimize(buffer->data().data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BufferCreateFromPool)->RangeMultiplier(16)->Range(64, 1 << 20);

// The non-blocking loan: try_acquire, then drop.
void BM_PoolLoanReturn(benchmark::State& state) {
    static parallax::BufferPool* shared = nullptr;
    if (state.thread_index() == 0) {
        shared = new parallax::BufferPool(make_pool(4096, 64));
    }
    // Google Benchmark starts timing only after every thread reached here.
    for (auto _ : state) {
        auto buffer = shared->try_acquire();
        benchmark::DoNotOptimize(buffer);
    }
    state.SetItemsProcessed(state.iterations());
    if (state.thread_index() == 0) {
        delete shared;
        shared = nullptr;
    }
}
BENCHMARK(BM_PoolLoanReturn)->Threads(1)->Threads(2)->UseRealTime();

// Copy and drop: one atomic increment and one decrement on the slot's count.
void BM_BufferCopyAndDrop(benchmark::State& state) {
    auto pool = make_pool(4096, 4);
    auto buffer = *pool.acquire();
    for (auto _ : state) {
        parallax::Buffer copy(buffer);
        benchmark::DoNotOptimize(copy);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BufferCopyAndDrop);

// The copy alone: 1024 copies per timed batch, dropped with timing paused.
void BM_BufferCopy(benchmark::State& state) {
    constexpr int batch = 1024;
    auto pool = make_pool(4096, 4);
    auto buffer = *pool.acquire();
    std::vector<parallax::Buffer> copies;
    copies.reserve(batch);
    for (auto _ : state) {
        for (int i = 0; i < batch; ++i) {
            copies.emplace_back(buffer);
        }
        benchmark::DoNotOptimize(copies.data());
        state.PauseTiming();
        copies.clear();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_BufferCopy);

void BM_BufferSlice(benchmark::State& state) {
    auto pool = make_pool(4096, 4);
    auto buffer = *pool.acquire();
    for (auto _ : state) {
        auto part = buffer.slice(100, 1000);
        benchmark::DoNotOptimize(part);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BufferSlice);

} // namespace
