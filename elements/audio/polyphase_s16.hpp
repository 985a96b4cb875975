#pragma once

// A polyphase FIR resampler for S16 audio at rational rate ratios, in
// integer arithmetic: taps with 23 bits of fraction held in two 16-bit
// parts, 32-bit partial sums added up in 64 bits (AVX2's multiply-add of
// 16-bit pairs where the CPU has it). audioresample uses it for S16 at
// quality 0-4: faster than libsoxr (which resamples in floating point
// whatever the sample type) and GStreamer's audioresample, with more SNR
// and alias rejection than GStreamer's at the same quality;
// docs/guide/audio.md has the figures.
//
// Output sample k is the input's band-limited value at k * in_rate /
// out_rate input samples: a Kaiser-windowed sinc centred there, so the
// output is aligned with the input (no delay to compensate) and, after
// finish(), n input frames give exactly ceil(n * out_rate / in_rate) output
// frames. With L = out_rate / gcd and M = in_rate / gcd, the filter has L
// phases; ratios that need more than max_phases phases, or more than
// max_taps taps per phase, are left to libsoxr (create() says no).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace parallax::detail {

class PolyphaseS16 {
public:
    static constexpr int max_quality = 4;
    static constexpr std::size_t max_phases = 1024;
    static constexpr std::size_t max_taps = 512;

    // A resampler for `channels` channels from in_rate to out_rate (both
    // > 0, not equal) at quality 0..max_quality; nullopt when the ratio is
    // not one this filter takes (see above).
    static std::optional<PolyphaseS16> create(std::uint32_t in_rate, std::uint32_t out_rate, std::size_t channels,
                                              int quality);

    [[nodiscard]] std::size_t taps() const noexcept { return taps_; }
    [[nodiscard]] std::size_t phases() const noexcept { return phases_; }

    // Takes `frames` frames: interleaved, or planar with each channel's
    // plane `frames` samples after the previous one.
    void write(const std::int16_t* data, std::size_t frames, bool planar);

    // The end of the input: the frames still held can all be read; write()
    // is not called again before reset().
    void finish();

    // Frames read() can give now.
    [[nodiscard]] std::size_t ready() const noexcept;

    // Writes `frames` <= ready() frames to `out`: interleaved, or planar with
    // planes `frames` samples apart.
    void read(std::int16_t* out, std::size_t frames, bool planar);

    // Forgets every frame written: the next one starts a new stream.
    void reset();

    // Makes every resampler in the process compute with the portable code
    // instead of the CPU's vector instructions (true), or with the best the
    // CPU has again (false): the two give the same samples, which tests
    // check.
    static void use_portable_code(bool portable) noexcept;

private:
    PolyphaseS16() = default;

    std::size_t phases_ = 0; // L
    std::size_t step_ = 0;   // M
    std::size_t taps_ = 0;   // N, a multiple of 16
    std::size_t channels_ = 0;
    std::vector<std::int16_t> coefficients_;         // phase p's taps at p * taps_
    std::vector<std::vector<std::int16_t>> history_; // per channel
    std::vector<const std::int16_t*> planes_;        // history_'s data, for read()
    std::size_t position_ = 0;                       // the next output's first input, in history_
    std::size_t phase_ = 0;                          // and its phase
    std::uint64_t written_ = 0;                      // frames since reset()
    std::uint64_t produced_ = 0;                     // frames read since reset()
    std::optional<std::uint64_t> total_;             // after finish(): every frame there will be
};

} // namespace parallax::detail
