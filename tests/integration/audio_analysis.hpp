#pragma once

// Measuring audio in tests and comparisons: decoding raw samples to
// doubles, fitting a sine of known frequency (its amplitude, phase and the
// signal-to-noise ratio of what is left), the frequency from zero
// crossings, and the power in a frequency band. Header-only; used by
// tests/unit/elements/audio*_test.cpp, tests/integration/audio_gst_test.cpp
// and benches/compare/audio_compare_bench.cpp.

#include <parallax/audio/audio_format.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <span>
#include <vector>

namespace parallax::check {

/// One sample of `format` at `p`, full scale at +-1.
inline double decode_sample(AudioFormat format, const std::byte* p) {
    switch (format) {
    case AudioFormat::u8:
        return (static_cast<int>(std::to_integer<std::uint8_t>(*p)) - 128) / 128.0;
    case AudioFormat::s16le: {
        std::int16_t v;
        std::memcpy(&v, p, sizeof v);
        return v / 32768.0;
    }
    case AudioFormat::s32le: {
        std::int32_t v;
        std::memcpy(&v, p, sizeof v);
        return v / 2147483648.0;
    }
    case AudioFormat::f32le: {
        float v;
        std::memcpy(&v, p, sizeof v);
        return v;
    }
    case AudioFormat::f64le: {
        double v;
        std::memcpy(&v, p, sizeof v);
        return v;
    }
    }
    return 0;
}

/// Channel `channel` of `bytes` holding `channels` channels of `format`,
/// interleaved or (planar = true) one plane per channel.
inline std::vector<double> decode_channel(AudioFormat format, std::size_t channels, bool planar,
                                          std::span<const std::byte> bytes, std::size_t channel) {
    const std::size_t ss = audio_format_info(format).sample_size();
    const std::size_t frames = bytes.size() / (ss * channels);
    std::vector<double> out(frames);
    for (std::size_t i = 0; i < frames; ++i) {
        const std::size_t index = planar ? channel * frames + i : i * channels + channel;
        out[i] = decode_sample(format, bytes.data() + index * ss);
    }
    return out;
}

/// A sine of known frequency fitted to a signal by least squares:
/// x[n] ~ amplitude * sin(2 pi f n / rate + phase) + dc.
struct SineFit {
    double amplitude = 0;
    double phase = 0;
    double dc = 0;
    /// Power of the fitted sine over the power of what it leaves, in dB.
    double snr_db = 0;
};

inline SineFit fit_sine(std::span<const double> x, double freq, double rate) {
    // Normal equations of the basis (sin, cos, 1).
    double a[3][4] = {};
    const double w = 2 * std::numbers::pi * freq / rate;
    for (std::size_t n = 0; n < x.size(); ++n) {
        const double b[3] = {std::sin(w * static_cast<double>(n)), std::cos(w * static_cast<double>(n)), 1.0};
        for (int i = 0; i < 3; ++i) {
            for (int j = 0; j < 3; ++j) {
                a[i][j] += b[i] * b[j];
            }
            a[i][3] += b[i] * x[n];
        }
    }
    for (int i = 0; i < 3; ++i) {
        int pivot = i;
        for (int r = i + 1; r < 3; ++r) {
            if (std::abs(a[r][i]) > std::abs(a[pivot][i])) {
                pivot = r;
            }
        }
        std::swap(a[i], a[pivot]);
        for (int r = 0; r < 3; ++r) {
            if (r != i && a[i][i] != 0) {
                const double k = a[r][i] / a[i][i];
                for (int c = i; c < 4; ++c) {
                    a[r][c] -= k * a[i][c];
                }
            }
        }
    }
    const double s = a[0][3] / a[0][0];
    const double c = a[1][3] / a[1][1];
    const double dc = a[2][3] / a[2][2];
    double residual = 0;
    for (std::size_t n = 0; n < x.size(); ++n) {
        const double e =
            x[n] - (s * std::sin(w * static_cast<double>(n)) + c * std::cos(w * static_cast<double>(n)) + dc);
        residual += e * e;
    }
    residual /= static_cast<double>(std::max<std::size_t>(x.size(), 1));
    SineFit fit;
    fit.amplitude = std::hypot(s, c);
    fit.phase = std::atan2(c, s);
    fit.dc = dc;
    const double signal = fit.amplitude * fit.amplitude / 2;
    fit.snr_db = residual > 0 ? 10 * std::log10(signal / residual) : 400.0;
    return fit;
}

/// The frequency of a periodic signal from its rising zero crossings
/// (linearly interpolated between samples); 0 with fewer than two.
inline double zero_crossing_frequency(std::span<const double> x, double rate) {
    double first = -1;
    double last = -1;
    std::size_t count = 0;
    for (std::size_t n = 1; n < x.size(); ++n) {
        if (x[n - 1] < 0 && x[n] >= 0) {
            const double t = static_cast<double>(n - 1) + (-x[n - 1]) / (x[n] - x[n - 1]);
            if (count == 0) {
                first = t;
            }
            last = t;
            ++count;
        }
    }
    if (count < 2) {
        return 0;
    }
    return static_cast<double>(count - 1) * rate / (last - first);
}

/// In-place radix-2 FFT; the size must be a power of two.
inline void fft(std::vector<std::complex<double>>& a) {
    const std::size_t n = a.size();
    for (std::size_t i = 1, j = 0; i < n; ++i) {
        std::size_t bit = n >> 1;
        for (; (j & bit) != 0; bit >>= 1) {
            j ^= bit;
        }
        j ^= bit;
        if (i < j) {
            std::swap(a[i], a[j]);
        }
    }
    for (std::size_t len = 2; len <= n; len <<= 1) {
        const double angle = -2 * std::numbers::pi / static_cast<double>(len);
        const std::complex<double> wl(std::cos(angle), std::sin(angle));
        for (std::size_t i = 0; i < n; i += len) {
            std::complex<double> w(1);
            for (std::size_t k = 0; k < len / 2; ++k) {
                const auto u = a[i + k];
                const auto v = a[i + k + len / 2] * w;
                a[i + k] = u + v;
                a[i + k + len / 2] = u - v;
                w *= wl;
            }
        }
    }
}

/// The mean power per Hz between `lo` and `hi` Hz: Hann-windowed
/// periodograms of 4096 samples, averaged.
inline double band_density(std::span<const double> x, double rate, double lo, double hi) {
    constexpr std::size_t block = 4096;
    std::vector<double> spectrum(block / 2 + 1, 0.0);
    std::size_t blocks = 0;
    std::vector<std::complex<double>> buf(block);
    for (std::size_t start = 0; start + block <= x.size(); start += block) {
        for (std::size_t i = 0; i < block; ++i) {
            const double hann = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(i) / block);
            buf[i] = x[start + i] * hann;
        }
        fft(buf);
        for (std::size_t k = 0; k <= block / 2; ++k) {
            spectrum[k] += std::norm(buf[k]);
        }
        ++blocks;
    }
    double sum = 0;
    std::size_t bins = 0;
    for (std::size_t k = 0; k <= block / 2; ++k) {
        const double f = static_cast<double>(k) * rate / block;
        if (f >= lo && f < hi) {
            sum += spectrum[k];
            ++bins;
        }
    }
    return blocks == 0 || bins == 0 ? 0 : sum / static_cast<double>(blocks * bins);
}

} // namespace parallax::check
