// The scaling of video_scale_core.hpp. libyuv does nearest-neighbour for
// every layout (whole sites copied) and splits, merges and packs samples.
// Its filters are not used: in the libyuv Debian ships, bilinear over
// interleaved samples (ARGBScale, RGBScale, UVScale) loses about 1% (a
// constant 255 comes out as 253), its plane filter aligns corners rather
// than centres when upscaling, and its box filter truncates (200 averages
// to 199). Bilinear here aligns centres both ways with 7-bit fractions and
// one rounding (AVX2 gathers for 8-bit planes); box is the exact area mean.

#include "video/video_scale_core.hpp"

#include "video/video_convert_core.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <libyuv.h>
#include <libyuv/scale_rgb.h>
#include <libyuv/scale_uv.h>
#include <limits>
#include <numeric>
#include <optional>
#include <type_traits>

#ifdef PARALLAX_VIDEO_X86 // video/video_convert_core.hpp
#include <immintrin.h>
#endif

namespace parallax::detail {

namespace {

using u8 = std::uint8_t;

std::uint32_t ceil_shift(std::uint32_t v, unsigned s) {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(v) + (1U << s) - 1) >> s);
}

std::optional<Fraction> fraction(std::int64_t num, std::int64_t den) {
    auto f = Fraction::make(num, den);
    if (!f) {
        return std::nullopt;
    }
    return *f;
}

std::optional<Fraction> multiply(Fraction a, Fraction b) {
    return fraction(static_cast<std::int64_t>(a.num()) * b.num(), static_cast<std::int64_t>(a.den()) * b.den());
}

// --- the box filter ---------------------------------------------------------

// For each output sample: the first input sample it covers, how many, and
// the length each covers (integers in units of 1/dst of an input sample,
// divided by their common factor); they sum to `total`.
struct BoxTaps {
    std::vector<std::uint32_t> first;
    std::vector<std::uint32_t> start; // into weight
    std::vector<std::uint32_t> count;
    std::vector<std::uint64_t> weight;
    std::uint64_t total = 1;
};

BoxTaps box_taps(std::uint32_t src, std::uint32_t dst) {
    BoxTaps t;
    const auto s = static_cast<std::uint64_t>(src);
    const auto d = static_cast<std::uint64_t>(dst);
    const std::uint64_t g = std::gcd(s, d);
    t.total = s / g;
    for (std::uint64_t i = 0; i < d; ++i) {
        // Output sample i covers [i * s, (i + 1) * s); input sample k covers [k * d, (k + 1) * d).
        const std::uint64_t lo = i * s;
        const std::uint64_t hi = (i + 1) * s;
        const std::uint64_t k0 = lo / d;
        const std::uint64_t k1 = (hi - 1) / d;
        t.first.push_back(static_cast<std::uint32_t>(k0));
        t.start.push_back(static_cast<std::uint32_t>(t.weight.size()));
        t.count.push_back(static_cast<std::uint32_t>(k1 - k0 + 1));
        for (std::uint64_t k = k0; k <= k1; ++k) {
            t.weight.push_back((std::min(hi, (k + 1) * d) - std::max(lo, k * d)) / g);
        }
    }
    return t;
}

// Weights rescaled to sum to 2^16 (the largest takes the rounding), for
// sizes whose exact weights could overflow 64 bits.
void approximate(BoxTaps& t) {
    constexpr std::uint64_t one = 1U << 16;
    for (std::size_t i = 0; i < t.first.size(); ++i) {
        std::uint64_t sum = 0;
        std::size_t largest = t.start[i];
        for (std::uint32_t k = 0; k < t.count[i]; ++k) {
            std::uint64_t& w = t.weight[t.start[i] + k];
            w = (w * one + t.total / 2) / t.total;
            sum += w;
            largest = w > t.weight[largest] ? t.start[i] + k : largest;
        }
        t.weight[largest] = t.weight[largest] + one - sum;
    }
    t.total = one;
}

// The mean of the input area each output sample covers, for a plane of
// `channels` interleaved samples of type T: input rows weighted into one
// row, then columns, then one rounding division. Acc holds the sums: 32
// bits when they fit (every common size ratio), else 64.
template <class T, class Acc>
class BoxPass {
public:
    BoxPass(BoxTaps hx, BoxTaps vy, std::uint32_t sw, std::uint32_t dw, std::uint32_t dh, unsigned channels,
            unsigned shift)
        : hx_(std::move(hx)), vy_(std::move(vy)), sw_(sw), dw_(dw), dh_(dh), channels_(channels), shift_(shift),
          total_(hx_.total * vy_.total), row_(static_cast<std::size_t>(sw) * channels) {
        // ceil(2^64 / total): the high half of (v + total / 2) * magic is
        // then the rounded quotient for every v below 2^32 (32-bit sums).
        magic_ = total_ == 1 ? 0 : ~std::uint64_t{0} / total_ + 1;
        hw_.assign(hx_.weight.begin(), hx_.weight.end());
    }

    void run(const u8* src, std::size_t src_stride, u8* dst, std::size_t dst_stride) {
        const std::size_t n = static_cast<std::size_t>(sw_) * channels_;
        for (std::uint32_t j = 0; j < dh_; ++j) {
            for (std::uint32_t t = 0; t < vy_.count[j]; ++t) {
                const T* in = reinterpret_cast<const T*>(src + (vy_.first[j] + t) * src_stride);
                accumulate(row_.data(), in, static_cast<Acc>(vy_.weight[vy_.start[j] + t]), n, t == 0);
            }
            T* out = reinterpret_cast<T*>(dst + j * dst_stride);
            const Acc* acc = row_.data();
            for (std::uint32_t i = 0; i < dw_; ++i) {
                const Acc* w = hw_.data() + hx_.start[i];
                const Acc* p = acc + static_cast<std::size_t>(hx_.first[i]) * channels_;
                const std::uint32_t taps = hx_.count[i];
                for (unsigned c = 0; c < channels_; ++c) {
                    Acc sum = 0;
                    for (std::uint32_t t = 0; t < taps; ++t) {
                        sum += w[t] * p[t * channels_ + c];
                    }
                    out[static_cast<std::size_t>(i) * channels_ + c] = static_cast<T>(divide(sum) << shift_);
                }
            }
        }
    }

private:
    // acc = (first ? 0 : acc) + w * in, over n samples (shifted down to
    // their significant bits).
    void accumulate(Acc* __restrict acc, const T* __restrict in, Acc w, std::size_t n, bool first) const {
        const unsigned s = shift_;
        if (first) {
            for (std::size_t e = 0; e < n; ++e) {
                acc[e] = w * static_cast<Acc>(in[e] >> s);
            }
        } else {
            for (std::size_t e = 0; e < n; ++e) {
                acc[e] += w * static_cast<Acc>(in[e] >> s);
            }
        }
    }

    // round(v / total_), halves up.
    [[nodiscard]] std::uint64_t divide(Acc v) const {
        if constexpr (sizeof(Acc) == 4) {
            const std::uint64_t n = static_cast<std::uint64_t>(v) + total_ / 2;
            if (magic_ == 0) {
                return n;
            }
            __extension__ using u128 = unsigned __int128;
            return static_cast<std::uint64_t>((static_cast<u128>(n) * magic_) >> 64);
        } else {
            // Sums of up to 64 bits: an estimate, then corrected exactly.
            const std::uint64_t twice = 2 * v + total_;
            auto q = static_cast<std::uint64_t>(static_cast<double>(v) / static_cast<double>(total_) + 0.5);
            while (q > 0 && 2 * q * total_ > twice) {
                --q;
            }
            while (2 * (q + 1) * total_ <= twice) {
                ++q;
            }
            return q;
        }
    }

    BoxTaps hx_;
    BoxTaps vy_;
    std::uint32_t sw_;
    std::uint32_t dw_;
    std::uint32_t dh_;
    unsigned channels_;
    unsigned shift_;
    std::uint64_t total_;
    std::uint64_t magic_ = 0;
    std::vector<Acc> hw_;
    std::vector<Acc> row_;
};

// A box pass with the narrowest sums that cannot overflow.
template <class T>
class BoxFilter {
public:
    // `shift`: samples are stored that many bits up (P010), and stay so.
    BoxFilter(std::uint32_t sw, std::uint32_t sh, std::uint32_t dw, std::uint32_t dh, unsigned channels,
              unsigned shift) {
        BoxTaps hx = box_taps(sw, dw);
        BoxTaps vy = box_taps(sh, dh);
        const double max = static_cast<double>(std::numeric_limits<T>::max() >> shift);
        const double bound = static_cast<double>(hx.total) * static_cast<double>(vy.total) * max;
        if (bound < 0x1p32) {
            pass32_.emplace(std::move(hx), std::move(vy), sw, dw, dh, channels, shift);
            return;
        }
        if (bound >= 0x1p62) {
            approximate(hx);
            approximate(vy);
        }
        pass64_.emplace(std::move(hx), std::move(vy), sw, dw, dh, channels, shift);
    }

    void run(const u8* src, std::size_t src_stride, u8* dst, std::size_t dst_stride) {
        if (pass32_) {
            pass32_->run(src, src_stride, dst, dst_stride);
        } else {
            pass64_->run(src, src_stride, dst, dst_stride);
        }
    }

private:
    std::optional<BoxPass<T, std::uint32_t>> pass32_;
    std::optional<BoxPass<T, std::uint64_t>> pass64_;
};

// --- the bilinear filter -----------------------------------------------------

// 7-bit fractions: the intermediate row of 8-bit samples fits 16-bit lanes
// (255 * 128), so the horizontal step is one pmaddwd per output sample.
constexpr int scale_frac_bits = 7;
constexpr std::uint32_t frac_one = 1U << scale_frac_bits;

// For each output sample: the first of its two input samples and the
// second's weight, centres aligned: output i sits at input
// (i + 1/2) * src / dst - 1/2, clamped to the edges.
struct LinearTaps {
    std::vector<std::int32_t> first;
    std::vector<std::uint32_t> frac;
};

LinearTaps linear_taps(std::uint32_t src, std::uint32_t dst) {
    LinearTaps t;
    const auto s = static_cast<std::int64_t>(src);
    const auto d = static_cast<std::int64_t>(dst);
    for (std::int64_t i = 0; i < d; ++i) {
        const std::int64_t num = (2 * i + 1) * s - d;
        const std::int64_t den = 2 * d;
        std::int64_t x0 = 0;
        std::int64_t f = 0;
        if (num > 0) {
            x0 = num / den;
            f = ((num % den) * frac_one + den / 2) / den;
            if (f == frac_one) {
                ++x0;
                f = 0;
            }
        }
        if (x0 >= s - 1) {
            x0 = s - 1;
            f = 0;
        }
        t.first.push_back(static_cast<std::int32_t>(x0));
        t.frac.push_back(static_cast<std::uint32_t>(f));
    }
    return t;
}

#ifdef PARALLAX_VIDEO_X86
// Where the two neighbours of 8 consecutive output samples lie in the
// 16-bit row: all within 17 samples of the first one's (`base`), so that two
// loads and two in-register permutes fetch every pair (each output's pair
// starts at an even or odd sample of the window: `index` = offset / 2, `odd`
// picks the window loaded one sample later). Otherwise a gather does it.
struct PairBlocks {
    std::vector<std::int32_t> base;  // per block of 8
    std::vector<std::uint8_t> near;  // per block: fits the window
    std::vector<std::int32_t> index; // per output
    std::vector<std::int32_t> odd;   // per output: all ones when odd
};

PairBlocks pair_blocks(const std::vector<std::int32_t>& first) {
    PairBlocks b;
    const std::size_t n = first.size();
    b.index.resize(n);
    b.odd.resize(n);
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
        const std::int32_t base = first[i];
        bool near = true;
        for (std::size_t k = i; k < i + 8; ++k) {
            const std::int32_t d = first[k] - base;
            near = near && d >= 0 && d <= 15;
            b.index[k] = d >= 0 ? d >> 1 : 0;
            b.odd[k] = (d & 1) != 0 ? -1 : 0;
        }
        b.base.push_back(base);
        b.near.push_back(near ? 1 : 0);
    }
    return b;
}

// Sample pairs (row[x0], row[x0 + 1]) of the 8 outputs from `i`, as 32-bit lanes.
__attribute__((target("avx2"))) inline __m256i fetch_pairs(const std::uint16_t* row, const std::int32_t* first,
                                                           const PairBlocks& blocks, std::size_t i) {
    const std::size_t block = i / 8;
    if (blocks.near[block] != 0) {
        const std::uint16_t* w = row + blocks.base[block];
        const __m256i even = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
        const __m256i odd = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 1));
        const __m256i index = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks.index.data() + i));
        const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks.odd.data() + i));
        return _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(even, index), _mm256_permutevar8x32_epi32(odd, index),
                                  mask);
    }
    const __m256i at = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(first + i));
    return _mm256_i32gather_epi32(reinterpret_cast<const int*>(row), at, 2);
}

// 16 output samples per step: the pairs of neighbours weighed by one
// pmaddwd each, rounded, packed to bytes.
__attribute__((target("avx2"))) std::uint32_t bilinear_row_avx2(const std::uint16_t* row, const std::int32_t* first,
                                                                const PairBlocks& blocks, const std::int32_t* weights,
                                                                std::uint8_t* out, std::uint32_t n) {
    const __m256i round = _mm256_set1_epi32(1 << (2 * scale_frac_bits - 1));
    std::uint32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i p0 = fetch_pairs(row, first, blocks, i);
        const __m256i p1 = fetch_pairs(row, first, blocks, i + 8);
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(weights + i));
        const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(weights + i + 8));
        const __m256i r0 = _mm256_srli_epi32(_mm256_add_epi32(_mm256_madd_epi16(p0, w0), round), 2 * scale_frac_bits);
        const __m256i r1 = _mm256_srli_epi32(_mm256_add_epi32(_mm256_madd_epi16(p1, w1), round), 2 * scale_frac_bits);
        const __m256i w16 = _mm256_permute4x64_epi64(_mm256_packus_epi32(r0, r1), 0xD8); // 0-7 | 8-15
        const __m256i b8 = _mm256_packus_epi16(w16, w16);
        const __m128i bytes = _mm_unpacklo_epi64(_mm256_castsi256_si128(b8), _mm256_extracti128_si256(b8, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), bytes);
    }
    return i;
}

#endif

// Bilinear scaling of one plane of single samples (T: 8 or 16 bits): rows
// blended vertically into an intermediate row, then pairs horizontally;
// one rounding at the end.
template <class T>
class BilinearPlane {
public:
    using Mid = std::conditional_t<sizeof(T) == 1, std::uint16_t, std::uint32_t>;

    // `shift`: samples are stored that many bits up (P010), and stay so.
    BilinearPlane(std::uint32_t sw, std::uint32_t sh, std::uint32_t dw, std::uint32_t dh, unsigned shift)
        : sw_(sw), sh_(sh), dw_(dw), dh_(dh), shift_(shift), hx_(linear_taps(sw, dw)), vy_(linear_taps(sh, dh)),
          // One more sample for the pair read at the last one, and 16 for the
          // windows the AVX2 step loads.
          row_(static_cast<std::size_t>(sw) + 17) {
#ifdef PARALLAX_VIDEO_X86
        blocks_ = pair_blocks(hx_.first);
#endif
        weights_.resize(dw);
        for (std::uint32_t i = 0; i < dw; ++i) {
            weights_[i] = static_cast<std::int32_t>((hx_.frac[i] << 16) | (frac_one - hx_.frac[i]));
        }
    }

    void run(const u8* src, std::size_t src_stride, u8* dst, std::size_t dst_stride) {
        Mid* mid = row_.data();
        for (std::uint32_t j = 0; j < dh_; ++j) {
            const std::uint32_t y0 = static_cast<std::uint32_t>(vy_.first[j]);
            const Mid fb = static_cast<Mid>(vy_.frac[j]);
            const Mid fa = static_cast<Mid>(frac_one - fb);
            const T* a = reinterpret_cast<const T*>(src + y0 * src_stride);
            const T* b = reinterpret_cast<const T*>(src + std::min(y0 + 1, sh_ - 1) * src_stride);
            for (std::uint32_t x = 0; x < sw_; ++x) {
                mid[x] = static_cast<Mid>(a[x] * fa + b[x] * fb);
            }
            std::fill(mid + sw_, mid + sw_ + 17, mid[sw_ - 1]);
            T* out = reinterpret_cast<T*>(dst + j * dst_stride);
            std::uint32_t i = 0;
#ifdef PARALLAX_VIDEO_X86
            if constexpr (sizeof(T) == 1) {
                if (have_avx2()) {
                    i = bilinear_row_avx2(mid, hx_.first.data(), blocks_, weights_.data(), out, dw_);
                }
            }
#endif
            const unsigned down = 2 * scale_frac_bits + shift_;
            for (; i < dw_; ++i) {
                const auto x0 = static_cast<std::uint32_t>(hx_.first[i]);
                const std::uint32_t f = hx_.frac[i];
                const std::uint32_t v = mid[x0] * (frac_one - f) + mid[x0 + 1] * f;
                out[i] = static_cast<T>(((v + (1U << (down - 1))) >> down) << shift_);
            }
        }
    }

private:
    std::uint32_t sw_;
    std::uint32_t sh_;
    std::uint32_t dw_;
    std::uint32_t dh_;
    unsigned shift_;
    LinearTaps hx_;
    LinearTaps vy_;
    std::vector<std::int32_t> weights_; // (1 - f, f) as 16-bit pairs, for pmaddwd
    std::vector<Mid> row_;
#ifdef PARALLAX_VIDEO_X86
    PairBlocks blocks_;
#endif
};

// --- planes ----------------------------------------------------------------------

// One plane's part of the work: `channels` samples of `bytes` bytes per site.
struct PlaneJob {
    unsigned channels = 1;
    unsigned bytes = 1;
    unsigned depth = 8;                           // significant bits (P010: 10, in the high bits)
    unsigned shift = 0;                           // how far up they are stored (P010: 6)
    std::uint32_t sw = 0, sh = 0;                 // input sites
    std::uint32_t dx = 0, dy = 0, dw = 0, dh = 0; // target rectangle, in sites
    std::optional<BoxFilter<std::uint8_t>> box8;
    std::optional<BoxFilter<std::uint16_t>> box16;
    std::optional<BilinearPlane<std::uint8_t>> linear8;
    std::optional<BilinearPlane<std::uint16_t>> linear16;
    // Bilinear over interleaved samples: one plane per channel, in and out.
    std::vector<std::vector<u8>> split_in;
    std::vector<std::vector<u8>> split_out;
};

void bilinear_plane(PlaneJob& job, const u8* src, std::size_t src_stride, u8* dst, std::size_t dst_stride) {
    if (job.linear8) {
        job.linear8->run(src, src_stride, dst, dst_stride);
    } else {
        job.linear16->run(src, src_stride, dst, dst_stride);
    }
}

// A job's sizes and the strides, as libyuv takes them.
struct LibyuvSizes {
    int sw, sh; // input sites
    int dw, dh; // target sites
    int ss, ds; // source and destination strides, in bytes
};

LibyuvSizes libyuv_sizes(const PlaneJob& job, std::size_t src_stride, std::size_t dst_stride) {
    return {static_cast<int>(job.sw), static_cast<int>(job.sh),     static_cast<int>(job.dw),
            static_cast<int>(job.dh), static_cast<int>(src_stride), static_cast<int>(dst_stride)};
}

// Bilinear over 2, 3 or 4 interleaved samples: split into planes (libyuv),
// scale each, merge.
void bilinear_interleaved(PlaneJob& job, const u8* src, std::size_t src_stride, u8* out, std::size_t dst_stride) {
    const auto [sw, sh, dw, dh, ss, ds] = libyuv_sizes(job, src_stride, dst_stride);
    const int pin = sw * static_cast<int>(job.bytes);  // stride of a split input plane
    const int pout = dw * static_cast<int>(job.bytes); // of a split output plane
    auto& in = job.split_in;
    auto& res = job.split_out;
    if (job.bytes == 2) { // P010's U and V: 16-bit pairs, samples in the high bits
        const auto* s16 = reinterpret_cast<const std::uint16_t*>(src);
        libyuv::SplitUVPlane_16(s16, ss / 2, reinterpret_cast<std::uint16_t*>(in[0].data()), sw,
                                reinterpret_cast<std::uint16_t*>(in[1].data()), sw, sw, sh,
                                static_cast<int>(job.depth));
    } else if (job.channels == 2) {
        libyuv::SplitUVPlane(src, ss, in[0].data(), pin, in[1].data(), pin, sw, sh);
    } else if (job.channels == 3) {
        libyuv::SplitRGBPlane(src, ss, in[0].data(), pin, in[1].data(), pin, in[2].data(), pin, sw, sh);
    } else {
        libyuv::SplitARGBPlane(src, ss, in[0].data(), pin, in[1].data(), pin, in[2].data(), pin, in[3].data(), pin, sw,
                               sh);
    }
    for (unsigned c = 0; c < job.channels; ++c) {
        bilinear_plane(job, in[c].data(), static_cast<std::size_t>(pin), res[c].data(), static_cast<std::size_t>(pout));
    }
    if (job.bytes == 2) {
        libyuv::MergeUVPlane_16(reinterpret_cast<const std::uint16_t*>(res[0].data()), dw,
                                reinterpret_cast<const std::uint16_t*>(res[1].data()), dw,
                                reinterpret_cast<std::uint16_t*>(out), ds / 2, dw, dh, static_cast<int>(job.depth));
    } else if (job.channels == 2) {
        libyuv::MergeUVPlane(res[0].data(), pout, res[1].data(), pout, out, ds, dw, dh);
    } else if (job.channels == 3) {
        libyuv::MergeRGBPlane(res[0].data(), pout, res[1].data(), pout, res[2].data(), pout, out, ds, dw, dh);
    } else {
        libyuv::MergeARGBPlane(res[0].data(), pout, res[1].data(), pout, res[2].data(), pout, res[3].data(), pout, out,
                               ds, dw, dh);
    }
}

void run_job(PlaneJob& job, const u8* src, std::size_t src_stride, u8* dst, std::size_t dst_stride) {
    u8* out = dst + job.dy * dst_stride + static_cast<std::size_t>(job.dx) * job.channels * job.bytes;
    if (job.box8) {
        job.box8->run(src, src_stride, out, dst_stride);
        return;
    }
    if (job.box16) {
        job.box16->run(src, src_stride, out, dst_stride);
        return;
    }
    if (!job.split_in.empty()) {
        bilinear_interleaved(job, src, src_stride, out, dst_stride);
        return;
    }
    if (job.linear8 || job.linear16) {
        bilinear_plane(job, src, src_stride, out, dst_stride);
        return;
    }
    // Nearest-neighbour: libyuv copies whole sites (the input site under
    // each output centre).
    const auto [sw, sh, dw, dh, ss, ds] = libyuv_sizes(job, src_stride, dst_stride);
    switch (job.channels * job.bytes) {
    case 1:
        libyuv::ScalePlane(src, ss, sw, sh, out, ds, dw, dh, libyuv::kFilterNone);
        return;
    case 2:
        if (job.bytes == 2) {
            libyuv::ScalePlane_16(reinterpret_cast<const std::uint16_t*>(src), ss / 2, sw, sh,
                                  reinterpret_cast<std::uint16_t*>(out), ds / 2, dw, dh, libyuv::kFilterNone);
        } else {
            libyuv::UVScale(src, ss, sw, sh, out, ds, dw, dh, libyuv::kFilterNone);
        }
        return;
    case 3:
        libyuv::RGBScale(src, ss, sw, sh, out, ds, dw, dh, libyuv::kFilterNone);
        return;
    default: // 4-byte sites: RGBA and kin, P010's U and V pairs
        libyuv::ARGBScale(src, ss, sw, sh, out, ds, dw, dh, libyuv::kFilterNone);
        return;
    }
}

void prepare(PlaneJob& job, VideoScaleMethod method) {
    if (method == VideoScaleMethod::box) {
        if (job.bytes == 1) {
            job.box8.emplace(job.sw, job.sh, job.dw, job.dh, job.channels, 0);
        } else {
            job.box16.emplace(job.sw, job.sh, job.dw, job.dh, job.channels, job.shift);
        }
        return;
    }
    if (method != VideoScaleMethod::bilinear) {
        return;
    }
    if (job.bytes == 1) {
        job.linear8.emplace(job.sw, job.sh, job.dw, job.dh, 0);
    } else {
        // Split interleaved 16-bit samples come out in the low bits.
        job.linear16.emplace(job.sw, job.sh, job.dw, job.dh, job.channels > 1 ? 0 : job.shift);
    }
    if (job.channels > 1) {
        for (unsigned c = 0; c < job.channels; ++c) {
            job.split_in.emplace_back(static_cast<std::size_t>(job.sw) * job.sh * job.bytes);
            job.split_out.emplace_back(static_cast<std::size_t>(job.dw) * job.dh * job.bytes);
        }
    }
}

// The bytes of one repeating unit of black in plane `plane` (a site, or a
// YUY2 macropixel), with unused bytes set to 0xff.
std::vector<u8> black_pattern(const VideoInfo& info, std::size_t plane) {
    const VideoFormatInfo& f = info.format_info();
    const std::size_t unit = static_cast<std::size_t>(f.planes[plane].pixel_stride) * f.planes[plane].group;
    std::vector<u8> p(unit, 0xff);
    const auto black = black_values(info);
    const unsigned bytes = f.bits / 8;
    for (unsigned c = 0; c < f.n_components; ++c) {
        const VideoComponentInfo& ci = f.components[c];
        if (ci.plane != plane) {
            continue;
        }
        const std::uint32_t v = black[c] << ci.shift;
        for (std::size_t at = ci.offset; at + bytes <= unit; at += ci.pixel_stride) {
            p[at] = static_cast<u8>(v & 0xff);
            if (bytes == 2) {
                p[at + 1] = static_cast<u8>(v >> 8);
            }
        }
    }
    return p;
}

} // namespace

VideoRect keep_aspect_rect(const VideoInfo& in, const VideoInfo& out) noexcept {
    const VideoRect whole{0, 0, out.width(), out.height()};
    // The input's display aspect ratio in output pixels: w/h must equal
    // dar / out_par.
    const auto size = fraction(in.width(), in.height());
    const auto dar = size ? multiply(*size, in.pixel_aspect_ratio()) : std::nullopt;
    const auto inverse_par = fraction(out.pixel_aspect_ratio().den(), out.pixel_aspect_ratio().num());
    const auto ratio = dar && inverse_par ? multiply(*dar, *inverse_par) : std::nullopt;
    if (!ratio) {
        return whole;
    }
    const auto n = static_cast<std::uint64_t>(ratio->num());
    const auto d = static_cast<std::uint64_t>(ratio->den());
    std::uint64_t w = out.width();
    std::uint64_t h = out.height();
    const std::uint64_t fit_h = w * d / n;
    if (fit_h <= h) {
        h = fit_h;
    } else {
        w = h * n / d;
    }
    const VideoFormatInfo& f = out.format_info();
    const unsigned xs = f.x_chroma_shift;
    const unsigned ys = f.y_chroma_shift;
    // Whole chroma samples: round the size to the subsampling, then centre
    // on a multiple of it.
    const auto align = [](std::uint64_t v, unsigned s, std::uint64_t limit) {
        const std::uint64_t m = std::uint64_t{1} << s;
        v = (v + m / 2) / m * m;
        return std::clamp<std::uint64_t>(v, std::min<std::uint64_t>(m, limit), limit);
    };
    w = align(w, xs, out.width());
    h = align(h, ys, out.height());
    VideoRect r;
    r.width = static_cast<std::uint32_t>(w);
    r.height = static_cast<std::uint32_t>(h);
    r.x = static_cast<std::uint32_t>(((out.width() - w) / 2) >> xs << xs);
    r.y = static_cast<std::uint32_t>(((out.height() - h) / 2) >> ys << ys);
    return r;
}

struct VideoScaler::Impl {
    VideoInfo in;
    VideoInfo out;
    VideoScaleMethod method = VideoScaleMethod::bilinear;
    bool borders = false;
    std::vector<PlaneJob> jobs; // one per plane (YUY2: Y, U, V of the I422 scratch)
    std::array<std::vector<u8>, 4> black;
    // YUY2 and UYVY: I422 planes in and out.
    std::array<std::vector<u8>, 3> src422;
    std::array<std::vector<u8>, 3> dst422;

    Impl(const VideoInfo& i, const VideoInfo& o) : in(i), out(o) {}
};

VideoScaler::VideoScaler(std::unique_ptr<Impl> impl, VideoRect target) : impl_(std::move(impl)), target_(target) {}
VideoScaler::~VideoScaler() = default;

Result<std::unique_ptr<VideoScaler>> VideoScaler::make(const VideoInfo& in, const VideoInfo& out,
                                                       VideoScaleMethod method, VideoRect target) {
    if (in.format() != out.format()) {
        return fail(Errc::invalid_argument, fmt::format("videoscale does not convert formats: input {}, output {} "
                                                        "(use videoconvert)",
                                                        to_string(in.format()), to_string(out.format())));
    }
    const VideoFormatInfo& f = out.format_info();
    const unsigned xs = f.x_chroma_shift;
    const unsigned ys = f.y_chroma_shift;
    const std::uint32_t mx = (1U << xs) - 1;
    const std::uint32_t my = (1U << ys) - 1;
    if (target.width == 0 || target.height == 0 || target.x > out.width() || target.y > out.height() ||
        target.width > out.width() - target.x || target.height > out.height() - target.y || (target.x & mx) != 0 ||
        (target.y & my) != 0 || ((target.width & mx) != 0 && target.x + target.width != out.width()) ||
        ((target.height & my) != 0 && target.y + target.height != out.height())) {
        return fail(Errc::invalid_argument,
                    fmt::format("videoscale: the picture rectangle {}x{} at {},{} does not fit a {} {}x{} frame",
                                target.width, target.height, target.x, target.y, f.name, out.width(), out.height()));
    }
    auto impl = std::make_unique<Impl>(in, out);
    impl->method = method;
    impl->borders = target != VideoRect{0, 0, out.width(), out.height()};
    const bool packed422 = in.format() == VideoFormat::yuy2 || in.format() == VideoFormat::uyvy;
    if (packed422) {
        const std::uint32_t scw = ceil_shift(in.width(), 1);
        const std::uint32_t dcw = ceil_shift(target.x + target.width, 1) - (target.x >> 1);
        const std::array<std::uint32_t, 3> sws{in.width(), scw, scw};
        const std::array<std::uint32_t, 3> dws{target.width, dcw, dcw};
        for (std::size_t p = 0; p < 3; ++p) {
            PlaneJob job;
            job.sw = sws[p];
            job.sh = in.height();
            job.dw = dws[p];
            job.dh = target.height;
            impl->src422[p].resize(static_cast<std::size_t>(job.sw) * job.sh);
            impl->dst422[p].resize(static_cast<std::size_t>(job.dw) * job.dh);
            prepare(job, method);
            impl->jobs.push_back(std::move(job));
        }
    } else {
        for (std::size_t p = 0; p < f.n_planes; ++p) {
            const VideoPlaneInfo& pi = f.planes[p];
            PlaneJob job;
            job.bytes = f.bits / 8;
            job.depth = f.depth;
            job.shift = f.components[0].shift;
            job.channels = pi.pixel_stride / job.bytes;
            job.sw = ceil_shift(in.width(), pi.x_sub);
            job.sh = ceil_shift(in.height(), pi.y_sub);
            job.dx = target.x >> pi.x_sub;
            job.dy = target.y >> pi.y_sub;
            job.dw = ceil_shift(target.x + target.width, pi.x_sub) - job.dx;
            job.dh = ceil_shift(target.y + target.height, pi.y_sub) - job.dy;
            prepare(job, method);
            impl->jobs.push_back(std::move(job));
        }
    }
    if (impl->borders) {
        for (std::size_t p = 0; p < f.n_planes; ++p) {
            impl->black[p] = black_pattern(out, p);
        }
    }
    return std::unique_ptr<VideoScaler>(new VideoScaler(std::move(impl), target));
}

void VideoScaler::scale(const VideoFrame& in, const WritableVideoFrame& out) {
    Impl& s = *impl_;
    const VideoFormatInfo& f = s.out.format_info();
    if (s.borders) {
        for (std::size_t p = 0; p < f.n_planes; ++p) {
            const std::vector<u8>& unit = s.black[p];
            const std::size_t row_size = s.out.row_size(p);
            for (std::size_t y = 0; y < s.out.plane_rows(p); ++y) {
                auto row = out.row(p, y);
                auto* b = reinterpret_cast<u8*>(row.data());
                for (std::size_t at = 0; at < row_size; at += unit.size()) {
                    std::memcpy(b + at, unit.data(), std::min(unit.size(), row_size - at));
                }
            }
        }
    }
    const auto src = [&](std::size_t p) { return reinterpret_cast<const u8*>(in.plane(p).data()); };
    const auto dst = [&](std::size_t p) { return reinterpret_cast<u8*>(out.plane(p).data()); };
    if (s.in.format() == VideoFormat::yuy2 || s.in.format() == VideoFormat::uyvy) {
        const bool yuy2 = s.in.format() == VideoFormat::yuy2;
        const int sw = static_cast<int>(s.jobs[0].sw);
        const int scw = static_cast<int>(s.jobs[1].sw);
        (yuy2 ? libyuv::YUY2ToI422 : libyuv::UYVYToI422)(src(0), static_cast<int>(in.stride(0)), s.src422[0].data(), sw,
                                                         s.src422[1].data(), scw, s.src422[2].data(), scw, sw,
                                                         static_cast<int>(s.jobs[0].sh));
        for (std::size_t p = 0; p < 3; ++p) {
            PlaneJob& job = s.jobs[p];
            run_job(job, s.src422[p].data(), job.sw, s.dst422[p].data(), job.dw);
        }
        const int dw = static_cast<int>(s.jobs[0].dw);
        const int dcw = static_cast<int>(s.jobs[1].dw);
        u8* o = dst(0) + target_.y * out.stride(0) + static_cast<std::size_t>(target_.x) * 2;
        (yuy2 ? libyuv::I422ToYUY2 : libyuv::I422ToUYVY)(s.dst422[0].data(), dw, s.dst422[1].data(), dcw,
                                                         s.dst422[2].data(), dcw, o, static_cast<int>(out.stride(0)),
                                                         dw, static_cast<int>(s.jobs[0].dh));
        return;
    }
    for (std::size_t p = 0; p < s.jobs.size(); ++p) {
        run_job(s.jobs[p], src(p), in.stride(p), dst(p), out.stride(p));
    }
}

} // namespace parallax::detail
