// Metadata copy and serialization costs: a copy without custom entries is a
// plain copy of the fixed fields; with entries it adds one atomic increment.
#include <parallax/buffer/metadata.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

namespace {

using parallax::BufferFlags;
using parallax::ClockTime;
using parallax::Metadata;

Metadata fixed_only() {
    Metadata m;
    m.set_pts(ClockTime::from_ms(1500));
    m.set_dts(ClockTime::from_ms(1460));
    m.set_duration(ClockTime::from_ms(40));
    m.set_sequence(12345);
    m.set_stream_id(1);
    m.set_byte_offset(188 * 1000);
    m.set_flags(BufferFlags::keyframe | BufferFlags::live);
    m.set_rtp(parallax::RtpInfo{.timestamp = 90000, .ssrc = 0x12345678, .sequence = 7, .payload_type = 96});
    return m;
}

Metadata with_klv() {
    Metadata m = fixed_only();
    // A typical MISB ST 0601 packet is a few hundred bytes.
    std::vector<std::uint8_t> klv(256);
    for (std::size_t i = 0; i < klv.size(); ++i) {
        klv[i] = static_cast<std::uint8_t>(i);
    }
    m.set_klv(std::move(klv));
    return m;
}

void BM_MetadataCopyWithoutCustom(benchmark::State& state) {
    const Metadata source = fixed_only();
    for (auto _ : state) {
        Metadata copy = source;
        benchmark::DoNotOptimize(copy);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_MetadataCopyWithoutCustom);

void BM_MetadataCopyWithCustom(benchmark::State& state) {
    const Metadata source = with_klv();
    for (auto _ : state) {
        Metadata copy = source;
        benchmark::DoNotOptimize(copy);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_MetadataCopyWithCustom);

// Argument 0: fixed fields only; 1: with a 256-byte KLV entry.
void BM_MetadataSerializeDeserialize(benchmark::State& state) {
    const Metadata source = state.range(0) == 0 ? fixed_only() : with_klv();
    std::vector<std::byte> buffer(1024);
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto written = source.serialize(std::span<std::byte>(buffer));
        if (!written) {
            state.SkipWithError(written.error().message().c_str());
            break;
        }
        auto back = Metadata::deserialize(std::span<const std::byte>(buffer).first(*written));
        if (!back) {
            state.SkipWithError(back.error().message().c_str());
            break;
        }
        benchmark::DoNotOptimize(back);
        bytes += *written;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_MetadataSerializeDeserialize)->Arg(0)->Arg(1);

} // namespace
