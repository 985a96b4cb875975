#include "audio/polyphase_s16.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <numeric>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace parallax::detail {
namespace {

// Per quality level: taps per phase at the lower of the two rates (more when
// downsampling: the filter's length follows the input rate), the cut-off
// as a fraction of the lower Nyquist frequency, and the stop-band
// attenuation the Kaiser window is shaped for.
struct Level {
    double taps;
    double cutoff;
    double attenuation_db;
};
constexpr Level levels[PolyphaseS16::max_quality + 1] = {
    {16, 0.90, 70},  // 0: 32 taps at 48000 -> 44100 Hz
    {24, 0.90, 75},  // 1: 32 taps
    {32, 0.91, 85},  // 2: 48 taps
    {40, 0.915, 88}, // 3: 48 taps
    {48, 0.93, 95},  // 4: 64 taps
};

// The zeroth-order modified Bessel function of the first kind, by its
// power series (converges quickly for the window's arguments, < 20).
double bessel_i0(double x) {
    double sum = 1.0;
    double term = 1.0;
    for (int k = 1; k < 100; ++k) {
        const double h = x / (2.0 * k);
        term *= h * h;
        sum += term;
        if (term < 1e-17 * sum) {
            break;
        }
    }
    return sum;
}

// Kaiser's formula for the window parameter that gives `db` of stop-band
// attenuation.
double kaiser_beta(double db) {
    if (db > 50) {
        return 0.1102 * (db - 8.7);
    }
    if (db >= 21) {
        return 0.5842 * std::pow(db - 21, 0.4) + 0.07886 * (db - 21);
    }
    return 0.0;
}

// Each tap is a 23-bit fixed-point number (Q23) held in two 16-bit parts,
// tap = high * 2^8 + low with |low| <= 128, so that AVX2 can multiply both
// parts with samples 16 at a time (vpmaddwd) and the taps still have about
// 130 dB of precision: S16 output itself allows about 92 dB for a
// half-scale sine, one 16-bit part alone about 82 dB (the rounding error of
// each phase's taps differs from phase to phase and shows as noise around
// a tone).
constexpr double unity = 8388608.0; // 2^23
constexpr int low_bits = 8;
constexpr long low_half = 1L << (low_bits - 1);

// A phase's taps may add up to more than 2.0 in magnitude (a
// Kaiser-windowed sinc's half-way phases reach about 2.1), so a whole sum
// of high parts times samples may pass 2^31 for the worst input. 32-bit
// sums are kept only for two halves of the taps, those with j % 8 < 4 and
// the others (the vector code's lanes, and how it adds them up, keep to
// that split), each of whose high parts must add up to at most 65535 in
// magnitude (checked when the filter is made; at most 1.4 * 2^15 for every
// pair of the usual rates from 8 to 96 kHz at every quality); the two
// halves are added up in 64 bits. The low parts cannot overflow: 256 taps
// of at most 128 times 32768 stay below 2^31.
constexpr long max_half_magnitude = 65535;

// Rounds one phase's taps to Q23 and splits them into high and low parts
// (high at out[j], low at out[taps + j]). The sum is made exactly 1.0, so
// constant input comes out unchanged, by moving the taps whose rounding was
// nearest a tie; false when a half of the taps would be too large (see
// above).
bool quantise(const std::vector<double>& taps, std::int16_t* out) {
    const std::size_t n = taps.size();
    std::vector<long> q(n);
    std::vector<double> error(n);
    long sum = 0;
    for (std::size_t j = 0; j < n; ++j) {
        q[j] = std::lround(taps[j] * unity);
        error[j] = static_cast<double>(q[j]) - taps[j] * unity;
        sum += q[j];
    }
    const long missing = static_cast<long>(unity) - sum;
    if (missing != 0) {
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        // To add, take the taps furthest below their ideal value first.
        std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
            return missing > 0 ? error[x] < error[y] : error[x] > error[y];
        });
        const long step = missing > 0 ? 1 : -1;
        for (long i = 0; i < std::labs(missing); ++i) {
            q[order[static_cast<std::size_t>(i) % n]] += step;
        }
    }
    long magnitude[2] = {};
    for (std::size_t j = 0; j < n; ++j) {
        // Nearest high part; the low part is what is left, in [-128, 127].
        const long high = (q[j] + low_half) >> low_bits;
        const long low = q[j] - high * (1L << low_bits);
        if (high < -32767 || high > 32767) {
            return false;
        }
        out[j] = static_cast<std::int16_t>(high);
        out[n + j] = static_cast<std::int16_t>(low);
        magnitude[j % 8 / 4] += std::labs(high);
    }
    return magnitude[0] <= max_half_magnitude && magnitude[1] <= max_half_magnitude;
}

// A sample from its Q23 sum: rounded and clipped (a full-scale signal may
// overshoot after filtering).
std::int16_t saturate(std::int64_t sum) {
    return static_cast<std::int16_t>(std::clamp<std::int64_t>((sum + (1 << 22)) >> 23, -32768, 32767));
}

struct Run {
    const std::int16_t* coefficients;
    std::size_t taps;
    std::size_t phases;
    std::size_t step_whole;             // M / L
    std::size_t step_part;              // M % L
    const std::int16_t* const* history; // one per channel
    std::size_t channels;
    std::int16_t* out;
    std::size_t frames;
    bool planar;
    std::size_t position;
    std::size_t phase;
};

// From one output's first input and phase to the next one's.
inline void advance(const Run& r, std::size_t& position, std::size_t& phase) {
    position += r.step_whole;
    phase += r.step_part;
    if (phase >= r.phases) {
        phase -= r.phases;
        ++position;
    }
}

// The same loop in portable C++ (which the compiler vectorises for the
// baseline instruction set) and in AVX2: for any channel count, and for
// interleaved stereo two frames at a time. All keep the position in
// locals: the compiler cannot keep r's fields in registers across the
// stores.
void run_portable(Run& r) {
    const std::size_t out_step = r.planar ? r.frames : 1;
    const std::size_t frame_step = r.planar ? 1 : r.channels;
    std::size_t position = r.position;
    std::size_t phase = r.phase;
    for (std::size_t i = 0; i < r.frames; ++i) {
        const std::int16_t* high = r.coefficients + phase * 2 * r.taps;
        const std::int16_t* low = high + r.taps;
        std::int16_t* o = r.out + i * frame_step;
        for (std::size_t ch = 0; ch < r.channels; ++ch) {
            const std::int16_t* x = r.history[ch] + position;
            std::int64_t h = 0;
            std::int64_t l = 0;
            for (std::size_t j = 0; j < r.taps; ++j) {
                const std::int32_t sample = x[j];
                h += static_cast<std::int64_t>(sample * high[j]);
                l += static_cast<std::int64_t>(sample * low[j]);
            }
            o[ch * out_step] = saturate(h * (1 << low_bits) + l);
        }
        advance(r, position, phase);
    }
    r.position = position;
    r.phase = phase;
}

#if defined(__x86_64__)
// The eight 32-bit lanes of a sum of high products (h) and of low products
// (l), as four 64-bit sums of h * 2^8 + l. Lane k holds taps j with j % 16
// / 2 == k, within one half of max_half_magnitude's.
[[gnu::target("avx2")]] inline __m256i widen(__m256i h, __m256i l) {
    const __m256i wh = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(h)),
                                        _mm256_cvtepi32_epi64(_mm256_extracti128_si256(h, 1)));
    const __m256i wl = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(l)),
                                        _mm256_cvtepi32_epi64(_mm256_extracti128_si256(l, 1)));
    return _mm256_add_epi64(_mm256_slli_epi64(wh, low_bits), wl);
}

// Two channels' four 64-bit sums (widen()) added up: { first, second }.
[[gnu::target("avx2")]] inline __m128i pair_sum(__m256i first, __m256i second) {
    const __m256i t = _mm256_add_epi64(_mm256_unpacklo_epi64(first, second), _mm256_unpackhi_epi64(first, second));
    return _mm_add_epi64(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}

[[gnu::target("avx2")]] inline __m256i load(const std::int16_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

[[gnu::target("avx2")]] inline __m256i multiply_add(__m256i sum, __m256i x, __m256i c) {
    return _mm256_add_epi32(sum, _mm256_madd_epi16(x, c));
}

// Channels go in pairs, which share the coefficient loads and give the
// CPU independent sums.
[[gnu::target("avx2")]] void run_avx2(Run& r) {
    const std::size_t out_step = r.planar ? r.frames : 1;
    const std::size_t frame_step = r.planar ? 1 : r.channels;
    const std::size_t taps = r.taps;
    std::size_t position = r.position;
    std::size_t phase = r.phase;
    for (std::size_t i = 0; i < r.frames; ++i) {
        const std::int16_t* high = r.coefficients + phase * 2 * taps;
        const std::int16_t* low = high + taps;
        std::int16_t* o = r.out + i * frame_step;
        std::size_t ch = 0;
        for (; ch + 1 < r.channels; ch += 2) {
            const std::int16_t* x0 = r.history[ch] + position;
            const std::int16_t* x1 = r.history[ch + 1] + position;
            __m256i h0 = _mm256_setzero_si256();
            __m256i h1 = _mm256_setzero_si256();
            __m256i l0 = _mm256_setzero_si256();
            __m256i l1 = _mm256_setzero_si256();
            for (std::size_t j = 0; j < taps; j += 16) {
                const __m256i hv = load(high + j);
                const __m256i lv = load(low + j);
                const __m256i y0 = load(x0 + j);
                const __m256i y1 = load(x1 + j);
                h0 = multiply_add(h0, y0, hv);
                h1 = multiply_add(h1, y1, hv);
                l0 = multiply_add(l0, y0, lv);
                l1 = multiply_add(l1, y1, lv);
            }
            const __m128i sums = pair_sum(widen(h0, l0), widen(h1, l1));
            o[ch * out_step] = saturate(_mm_cvtsi128_si64(sums));
            o[(ch + 1) * out_step] = saturate(_mm_extract_epi64(sums, 1));
        }
        if (ch < r.channels) {
            const std::int16_t* x0 = r.history[ch] + position;
            __m256i h0 = _mm256_setzero_si256();
            __m256i l0 = _mm256_setzero_si256();
            for (std::size_t j = 0; j < taps; j += 16) {
                const __m256i y0 = load(x0 + j);
                h0 = multiply_add(h0, y0, load(high + j));
                l0 = multiply_add(l0, y0, load(low + j));
            }
            const __m128i sums = pair_sum(widen(h0, l0), _mm256_setzero_si256());
            o[ch * out_step] = saturate(_mm_cvtsi128_si64(sums));
        }
        advance(r, position, phase);
    }
    r.position = position;
    r.phase = phase;
}

// Stereo, interleaved: two output frames at a time, their four sums
// reduced together.

// Lanes k and k + 4 added: taps with j % 8 / 2 == k, within one half of
// max_half_magnitude's.
[[gnu::target("avx2")]] inline __m128i fold(__m256i v) {
    return _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

[[gnu::target("avx2")]] void run_avx2_stereo(Run& r) {
    const std::size_t taps = r.taps;
    std::size_t position = r.position;
    std::size_t phase = r.phase;
    const std::int16_t* left = r.history[0];
    const std::int16_t* right = r.history[1];
    const __m256i rounding = _mm256_set1_epi64x(std::int64_t{1} << 22);
    const __m256i order = _mm256_setr_epi32(0, 4, 2, 6, 0, 4, 2, 6);
    std::size_t i = 0;
    for (; i + 2 <= r.frames; i += 2) {
        const std::int16_t* high_a = r.coefficients + phase * 2 * taps;
        const std::int16_t* low_a = high_a + taps;
        const std::size_t position_a = position;
        advance(r, position, phase);
        const std::int16_t* high_b = r.coefficients + phase * 2 * taps;
        const std::int16_t* low_b = high_b + taps;
        const std::size_t position_b = position;
        advance(r, position, phase);
        __m256i ha0 = _mm256_setzero_si256();
        __m256i ha1 = _mm256_setzero_si256();
        __m256i la0 = _mm256_setzero_si256();
        __m256i la1 = _mm256_setzero_si256();
        __m256i hb0 = _mm256_setzero_si256();
        __m256i hb1 = _mm256_setzero_si256();
        __m256i lb0 = _mm256_setzero_si256();
        __m256i lb1 = _mm256_setzero_si256();
        for (std::size_t j = 0; j < taps; j += 16) {
            __m256i hv = load(high_a + j);
            __m256i lv = load(low_a + j);
            __m256i y0 = load(left + position_a + j);
            __m256i y1 = load(right + position_a + j);
            ha0 = multiply_add(ha0, y0, hv);
            ha1 = multiply_add(ha1, y1, hv);
            la0 = multiply_add(la0, y0, lv);
            la1 = multiply_add(la1, y1, lv);
            hv = load(high_b + j);
            lv = load(low_b + j);
            y0 = load(left + position_b + j);
            y1 = load(right + position_b + j);
            hb0 = multiply_add(hb0, y0, hv);
            hb1 = multiply_add(hb1, y1, hv);
            lb0 = multiply_add(lb0, y0, lv);
            lb1 = multiply_add(lb1, y1, lv);
        }
        // { a left (taps j % 8 < 4), a left (the others), a right (...) }
        const __m128i high_first = _mm_hadd_epi32(fold(ha0), fold(ha1));
        const __m128i high_second = _mm_hadd_epi32(fold(hb0), fold(hb1));
        const __m128i low_first = _mm_hadd_epi32(fold(la0), fold(la1));
        const __m128i low_second = _mm_hadd_epi32(fold(lb0), fold(lb1));
        const __m256i first = _mm256_add_epi64(_mm256_slli_epi64(_mm256_cvtepi32_epi64(high_first), low_bits),
                                               _mm256_cvtepi32_epi64(low_first));
        const __m256i second = _mm256_add_epi64(_mm256_slli_epi64(_mm256_cvtepi32_epi64(high_second), low_bits),
                                                _mm256_cvtepi32_epi64(low_second));
        // { a left, b left, a right, b right }
        __m256i sums = _mm256_add_epi64(_mm256_unpacklo_epi64(first, second), _mm256_unpackhi_epi64(first, second));
        sums = _mm256_srli_epi64(_mm256_add_epi64(sums, rounding), 23);
        const __m128i ordered = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(sums, order));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(r.out + 2 * i), _mm_packs_epi32(ordered, ordered));
    }
    r.position = position;
    r.phase = phase;
    if (i < r.frames) {
        Run rest = r;
        rest.out = r.out + 2 * i;
        rest.frames = r.frames - i;
        run_avx2(rest);
        r.position = rest.position;
        r.phase = rest.phase;
    }
}

enum class Kernel { portable, avx2 };

Kernel best_kernel() {
    static const Kernel kernel = __builtin_cpu_supports("avx2") ? Kernel::avx2 : Kernel::portable;
    return kernel;
}
#endif

std::atomic<bool> portable_only{false};

} // namespace

void PolyphaseS16::use_portable_code(bool portable) noexcept {
    portable_only.store(portable, std::memory_order_relaxed);
}

std::optional<PolyphaseS16> PolyphaseS16::create(std::uint32_t in_rate, std::uint32_t out_rate, std::size_t channels,
                                                 int quality) {
    if (in_rate == 0 || out_rate == 0 || in_rate == out_rate || channels == 0) {
        return std::nullopt;
    }
    const std::uint32_t g = std::gcd(in_rate, out_rate);
    const std::size_t phases = out_rate / g; // L
    const std::size_t step = in_rate / g;    // M
    if (phases > max_phases) {
        return std::nullopt;
    }
    const Level& level = levels[std::clamp(quality, 0, max_quality)];
    // Downsampling: the cut-off falls to the output's Nyquist frequency and
    // the filter lengthens by the same factor, in input samples.
    const double ratio = std::min(1.0, static_cast<double>(out_rate) / in_rate);
    const std::size_t taps = static_cast<std::size_t>(std::ceil(level.taps / ratio / 16.0)) * 16;
    if (taps > max_taps) {
        return std::nullopt;
    }
    PolyphaseS16 r;
    r.phases_ = phases;
    r.step_ = step;
    r.taps_ = taps;
    r.channels_ = channels;
    r.coefficients_.resize(phases * 2 * taps);
    const double fc = ratio * level.cutoff; // fraction of the input's Nyquist frequency
    const double beta = kaiser_beta(level.attenuation_db);
    const double i0_beta = bessel_i0(beta);
    const double half = static_cast<double>(taps) / 2.0;
    std::vector<double> w(taps);
    for (std::size_t p = 0; p < phases; ++p) {
        // Tap j of phase p weighs input (first + j), which lies
        // j - (taps/2 - 1) - p/L input samples from the output's instant.
        const double frac = static_cast<double>(p) / static_cast<double>(phases);
        double sum = 0;
        for (std::size_t j = 0; j < taps; ++j) {
            const double d = static_cast<double>(j) - (half - 1.0) - frac;
            const double u = d / half;
            const double window = std::abs(u) >= 1.0 ? 0.0 : bessel_i0(beta * std::sqrt(1.0 - u * u)) / i0_beta;
            const double x = std::numbers::pi * fc * d;
            const double sinc = d == 0.0 ? 1.0 : std::sin(x) / x;
            w[j] = fc * sinc * window;
            sum += w[j];
        }
        for (double& v : w) {
            v /= sum;
        }
        if (!quantise(w, r.coefficients_.data() + p * 2 * taps)) {
            return std::nullopt;
        }
    }
    r.history_.resize(channels);
    r.reset();
    return r;
}

void PolyphaseS16::reset() {
    // taps/2 - 1 frames of silence before the first input frame: the first
    // output's window is centred on that frame.
    for (auto& h : history_) {
        h.assign(taps_ / 2 - 1, 0);
    }
    position_ = 0;
    phase_ = 0;
    written_ = 0;
    produced_ = 0;
    total_.reset();
}

void PolyphaseS16::write(const std::int16_t* data, std::size_t frames, bool planar) {
    for (std::size_t ch = 0; ch < channels_; ++ch) {
        auto& h = history_[ch];
        const std::size_t old = h.size();
        h.resize(old + frames);
        std::int16_t* dst = h.data() + old;
        if (planar) {
            std::copy_n(data + ch * frames, frames, dst);
        } else {
            for (std::size_t i = 0; i < frames; ++i) {
                dst[i] = data[i * channels_ + ch];
            }
        }
    }
    written_ += frames;
}

void PolyphaseS16::finish() {
    if (total_) {
        return;
    }
    // Enough silence for the window of the last output (which lies before
    // the end of the input) to be complete.
    for (auto& h : history_) {
        h.resize(h.size() + taps_ / 2, 0);
    }
    total_ = (written_ * phases_ + step_ - 1) / step_;
}

std::size_t PolyphaseS16::ready() const noexcept {
    const std::size_t length = history_.front().size();
    if (length < position_ + taps_) {
        return 0;
    }
    // Output j (from 0) starts at position_ + (phase_ + j * M) / L and needs
    // taps_ frames from there.
    const std::size_t spare = length - taps_ - position_;
    std::uint64_t n = ((spare + 1) * phases_ - phase_ + step_ - 1) / step_;
    if (total_) {
        n = std::min<std::uint64_t>(n, *total_ - produced_);
    }
    return static_cast<std::size_t>(n);
}

void PolyphaseS16::read(std::int16_t* out, std::size_t frames, bool planar) {
    frames = std::min(frames, ready());
    planes_.resize(channels_);
    for (std::size_t ch = 0; ch < channels_; ++ch) {
        planes_[ch] = history_[ch].data();
    }
    Run r{coefficients_.data(),
          taps_,
          phases_,
          step_ / phases_,
          step_ % phases_,
          planes_.data(),
          channels_,
          out,
          frames,
          planar,
          position_,
          phase_};
#if defined(__x86_64__)
    switch (portable_only.load(std::memory_order_relaxed) ? Kernel::portable : best_kernel()) {
    case Kernel::avx2:
        if (channels_ == 2 && !planar) {
            run_avx2_stereo(r);
        } else {
            run_avx2(r);
        }
        break;
    case Kernel::portable:
        run_portable(r);
        break;
    }
#else
    run_portable(r);
#endif
    phase_ = r.phase;
    produced_ += frames;
    // Drop the frames no later output needs.
    const std::size_t drop = std::min(r.position, history_.front().size());
    for (auto& h : history_) {
        h.erase(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    position_ = r.position - drop;
}

} // namespace parallax::detail
