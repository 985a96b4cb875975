// libparallax and GStreamer side by side, in one program and one run: the
// same buffer operations on both, so that the figures share a machine state.
//
//   copy        Buffer copy + drop          gst_buffer_ref + gst_buffer_unref
//   slice       Buffer::slice + drop        gst_buffer_copy_region (shares memory) + unref
//   pool loan   BufferPool::try_acquire     gst_buffer_pool_acquire_buffer + unref (back to the pool)
//   1 MiB       BufferPool::acquire, 1 MiB  the same from a GstBufferPool of 1 MiB buffers
//   1 MiB new   (pools only)                gst_buffer_new_allocate + unref (allocator, no pool)
//
// Run through benches/compare/run.sh, which prints medians and ratios.
#include <parallax/buffer/buffer_pool.hpp>

#include <benchmark/benchmark.h>
#include <gst/gst.h>

#include <cstdlib>

namespace {

parallax::BufferPool parallax_pool(std::size_t size) {
    auto pool = parallax::BufferPool::create({.buffer_size = size, .buffer_count = 16});
    if (!pool) {
        std::abort();
    }
    return std::move(*pool);
}

// A started GstBufferPool of `count` buffers of `size` bytes.
GstBufferPool* gst_pool(std::size_t size) {
    GstBufferPool* pool = gst_buffer_pool_new();
    GstStructure* config = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_set_params(config, nullptr, static_cast<guint>(size), 16, 16);
    if (!gst_buffer_pool_set_config(pool, config) || !gst_buffer_pool_set_active(pool, TRUE)) {
        std::abort();
    }
    return pool;
}

void release_gst_pool(GstBufferPool* pool) {
    gst_buffer_pool_set_active(pool, FALSE);
    gst_object_unref(pool);
}

GstBuffer* gst_acquire(GstBufferPool* pool) {
    GstBuffer* buffer = nullptr;
    if (gst_buffer_pool_acquire_buffer(pool, &buffer, nullptr) != GST_FLOW_OK) {
        std::abort();
    }
    return buffer;
}

void BM_Copy_parallax(benchmark::State& state) {
    auto pool = parallax_pool(4096);
    auto buffer = *pool.acquire();
    for (auto _ : state) {
        parallax::Buffer copy(buffer);
        benchmark::DoNotOptimize(copy);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Copy_parallax);

void BM_Copy_gstreamer(benchmark::State& state) {
    GstBufferPool* pool = gst_pool(4096);
    GstBuffer* buffer = gst_acquire(pool);
    for (auto _ : state) {
        GstBuffer* copy = gst_buffer_ref(buffer);
        benchmark::DoNotOptimize(copy);
        gst_buffer_unref(copy);
    }
    state.SetItemsProcessed(state.iterations());
    gst_buffer_unref(buffer);
    release_gst_pool(pool);
}
BENCHMARK(BM_Copy_gstreamer);

void BM_Slice_parallax(benchmark::State& state) {
    auto pool = parallax_pool(4096);
    auto buffer = *pool.acquire();
    for (auto _ : state) {
        auto part = buffer.slice(100, 1000);
        benchmark::DoNotOptimize(part);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Slice_parallax);

void BM_Slice_gstreamer(benchmark::State& state) {
    GstBufferPool* pool = gst_pool(4096);
    GstBuffer* buffer = gst_acquire(pool);
    for (auto _ : state) {
        GstBuffer* part = gst_buffer_copy_region(buffer, GST_BUFFER_COPY_ALL, 100, 1000);
        benchmark::DoNotOptimize(part);
        gst_buffer_unref(part);
    }
    state.SetItemsProcessed(state.iterations());
    gst_buffer_unref(buffer);
    release_gst_pool(pool);
}
BENCHMARK(BM_Slice_gstreamer);

void BM_PoolLoan_parallax(benchmark::State& state) {
    auto pool = parallax_pool(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        auto buffer = pool.try_acquire();
        benchmark::DoNotOptimize(buffer);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PoolLoan_parallax)->Arg(4096)->Arg(1 << 20);

void BM_PoolLoan_gstreamer(benchmark::State& state) {
    GstBufferPool* pool = gst_pool(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        GstBuffer* buffer = gst_acquire(pool);
        benchmark::DoNotOptimize(buffer);
        gst_buffer_unref(buffer);
    }
    state.SetItemsProcessed(state.iterations());
    release_gst_pool(pool);
}
BENCHMARK(BM_PoolLoan_gstreamer)->Arg(4096)->Arg(1 << 20);

void BM_NewAllocate1MiB_gstreamer(benchmark::State& state) {
    for (auto _ : state) {
        GstBuffer* buffer = gst_buffer_new_allocate(nullptr, 1 << 20, nullptr);
        benchmark::DoNotOptimize(buffer);
        gst_buffer_unref(buffer);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NewAllocate1MiB_gstreamer);

} // namespace

int main(int argc, char** argv) {
    gst_init(&argc, &argv);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
