#pragma once

// Private to the audio elements: samples of every AudioFormat read as
// normalised floating-point values and written back, with GStreamer's
// scaling (an integer of depth d stands for value / 2^(d-1); U8 is offset
// by 128), clipping of integers at full scale and optional dither.
//
// Floats are not clipped: values beyond +-1.0 stay as they are, as in
// GStreamer (float headroom is the point of a float format).

#include <parallax/audio/audio_format.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace parallax::detail {

static_assert(std::endian::native == std::endian::little,
              "the audio elements read and write little-endian samples in place");

// What the samples of one format are: their C++ type, whether they are
// floating point, the value an integer format has at silence (bias) and the
// value that stands for full scale (scale). Integers of n bits: full scale is
// 2^(n-1), and unsigned ones are offset by as much (U8: silence at 128).
template <class R>
struct SampleTraitsOf {
    using Raw = R;
    static constexpr bool is_float = std::is_floating_point_v<R>;
    static constexpr std::int32_t bias = std::is_unsigned_v<R> ? std::int32_t{1} << (8 * sizeof(R) - 1) : 0;
    static constexpr double scale = is_float ? 1.0 : static_cast<double>(std::uint64_t{1} << (8 * sizeof(R) - 1));
};

template <AudioFormat F>
struct SampleTraits;
template <>
struct SampleTraits<AudioFormat::u8> : SampleTraitsOf<std::uint8_t> {};
template <>
struct SampleTraits<AudioFormat::s16le> : SampleTraitsOf<std::int16_t> {};
template <>
struct SampleTraits<AudioFormat::s32le> : SampleTraitsOf<std::int32_t> {};
template <>
struct SampleTraits<AudioFormat::f32le> : SampleTraitsOf<float> {};
template <>
struct SampleTraits<AudioFormat::f64le> : SampleTraitsOf<double> {};

// GStreamer's scaling, as described at the top of this file.
static_assert(SampleTraits<AudioFormat::u8>::bias == 128 && SampleTraits<AudioFormat::u8>::scale == 128.0);
static_assert(SampleTraits<AudioFormat::s16le>::bias == 0 && SampleTraits<AudioFormat::s16le>::scale == 32768.0);
static_assert(SampleTraits<AudioFormat::s32le>::scale == 2147483648.0);
static_assert(SampleTraits<AudioFormat::f32le>::is_float && SampleTraits<AudioFormat::f32le>::scale == 1.0);

/// A format known at compile time, as the argument visit_format() passes.
template <AudioFormat F>
using FormatConstant = std::integral_constant<AudioFormat, F>;

/// Calls `fn(FormatConstant<f>{})`: turns a format known at run time into a
/// template argument (`decltype(c)::value` in a generic lambda). A value
/// outside the enumeration gives a value-initialised result (null for
/// pointers) without calling `fn`.
template <class Fn>
constexpr auto visit_format(AudioFormat f, Fn&& fn) -> std::invoke_result_t<Fn, FormatConstant<AudioFormat::u8>> {
    switch (f) {
    case AudioFormat::u8:
        return fn(FormatConstant<AudioFormat::u8>{});
    case AudioFormat::s16le:
        return fn(FormatConstant<AudioFormat::s16le>{});
    case AudioFormat::s32le:
        return fn(FormatConstant<AudioFormat::s32le>{});
    case AudioFormat::f32le:
        return fn(FormatConstant<AudioFormat::f32le>{});
    case AudioFormat::f64le:
        return fn(FormatConstant<AudioFormat::f64le>{});
    }
    return std::invoke_result_t<Fn, FormatConstant<AudioFormat::u8>>();
}

/// True when a conversion between `a` and `b` needs double precision to be
/// exact (32-bit integers and 64-bit floats); float suffices otherwise.
constexpr bool needs_double(AudioFormat a, AudioFormat b) noexcept {
    const auto wide = [](AudioFormat f) { return f == AudioFormat::s32le || f == AudioFormat::f64le; };
    return wide(a) || wide(b);
}

/// The sample at `p` as a value of W, full scale at +-1.
template <AudioFormat F, class W>
inline W load_sample(const std::byte* p) noexcept {
    using T = SampleTraits<F>;
    typename T::Raw raw;
    std::memcpy(&raw, p, sizeof raw);
    if constexpr (T::is_float) {
        return static_cast<W>(raw);
    } else {
        return static_cast<W>(static_cast<std::int32_t>(raw) - T::bias) * static_cast<W>(1.0 / T::scale);
    }
}

/// Writes `v` (full scale at +-1) at `p`. Integers: `v * 2^(depth-1) + d`
/// (d: dither in units of the output's least significant bit, usually 0),
/// clipped to the format's range and rounded to the nearest integer, ties
/// upwards (GStreamer's rounding, so that both give the same samples); NaN
/// becomes silence.
template <AudioFormat F, class W>
inline void store_sample(std::byte* p, W v, W d = W(0)) noexcept {
    using T = SampleTraits<F>;
    typename T::Raw raw;
    if constexpr (T::is_float) {
        raw = static_cast<typename T::Raw>(v);
    } else {
        constexpr W lo = static_cast<W>(-T::scale);
        constexpr W hi = static_cast<W>(T::scale - 1.0);
        W x = v * static_cast<W>(T::scale) + d;
        x = x == x ? x : W(0); // NaN
        x = x < lo ? lo : x;
        x = x > hi ? hi : x;
        // floor(x + 0.5): to nearest, ties upwards, as GStreamer rounds.
        const W y = x + W(0.5);
        auto q = static_cast<std::int32_t>(y);
        q -= static_cast<W>(q) > y ? 1 : 0;
        raw = static_cast<typename T::Raw>(q + T::bias);
    }
    std::memcpy(p, &raw, sizeof raw);
}

/// The precision a conversion between `In` and `Out` computes in.
template <AudioFormat In, AudioFormat Out>
using WorkType = std::conditional_t<needs_double(In, Out), double, float>;

/// Converts `n` consecutive samples of `In` into `Out` (no dither).
template <AudioFormat In, AudioFormat Out>
void convert_run(const std::byte* in, std::byte* out, std::size_t n) noexcept {
    using W = WorkType<In, Out>;
    constexpr std::size_t si = sizeof(typename SampleTraits<In>::Raw);
    constexpr std::size_t so = sizeof(typename SampleTraits<Out>::Raw);
    for (std::size_t i = 0; i < n; ++i) {
        store_sample<Out, W>(out + i * so, load_sample<In, W>(in + i * si));
    }
}

using ConvertRunFn = void (*)(const std::byte*, std::byte*, std::size_t) noexcept;

/// The run converter from `in` to `out`.
constexpr ConvertRunFn convert_run_fn(AudioFormat in, AudioFormat out) noexcept {
    return visit_format(in, [out](auto i) {
        return visit_format(
            out, [](auto o) -> ConvertRunFn { return &convert_run<decltype(i)::value, decltype(o)::value>; });
    });
}

/// Reads `n` samples of `F`, `step` bytes apart, into doubles.
template <AudioFormat F>
void unpack_strided(const std::byte* in, std::size_t step, double* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = load_sample<F, double>(in + i * step);
    }
}

/// Writes `n` doubles as samples of `F`, `step` bytes apart; `dither`, when
/// not null, holds one dither value per sample (in output LSBs).
template <AudioFormat F>
void pack_strided(const double* in, std::byte* out, std::size_t step, std::size_t n, const double* dither) noexcept {
    if (dither == nullptr) {
        for (std::size_t i = 0; i < n; ++i) {
            store_sample<F, double>(out + i * step, in[i]);
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            store_sample<F, double>(out + i * step, in[i], dither[i]);
        }
    }
}

using UnpackFn = void (*)(const std::byte*, std::size_t, double*, std::size_t) noexcept;
using PackFn = void (*)(const double*, std::byte*, std::size_t, std::size_t, const double*) noexcept;

constexpr UnpackFn unpack_fn(AudioFormat f) noexcept {
    return visit_format(f, [](auto c) -> UnpackFn { return &unpack_strided<decltype(c)::value>; });
}

constexpr PackFn pack_fn(AudioFormat f) noexcept {
    return visit_format(f, [](auto c) -> PackFn { return &pack_strided<decltype(c)::value>; });
}

/// A small, fast pseudo-random generator (xorshift32) for dither and noise:
/// statistical quality is ample for both, and it never allocates.
class FastRandom {
public:
    explicit FastRandom(std::uint32_t seed = 0x2545f491U) noexcept : state_(seed == 0 ? 0x2545f491U : seed) {}
    std::uint32_t next() noexcept {
        std::uint32_t x = state_;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        state_ = x;
        return x;
    }
    /// Uniform in [0, 1), 24 bits.
    double uniform() noexcept { return static_cast<double>(next() >> 8) * (1.0 / 16777216.0); }
    /// Uniform in [-1, 1).
    double symmetric() noexcept { return uniform() * 2.0 - 1.0; }

private:
    std::uint32_t state_;
};

} // namespace parallax::detail
