// audiotestsrc: test signals (GStreamer's audiotestsrc, with its property
// names, wave numbers and default caps: S16LE, 44100 Hz, mono, interleaved).

#include <parallax/audio/audio_info.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>

#include "audio/audio_caps.hpp"
#include "audio/sample_codec.hpp"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <vector>

namespace parallax {
namespace {

enum class Wave {
    sine = 0,
    square = 1,
    saw = 2,
    triangle = 3,
    silence = 4,
    white_noise = 5,
    pink_noise = 6,
    sine_table = 7,
    ticks = 8,
    gaussian_noise = 9,
    red_noise = 10,
    blue_noise = 11,
    violet_noise = 12,
};

constexpr EnumValue waves[] = {
    {0, "sine", "Sine"},
    {1, "square", "Square"},
    {2, "saw", "Saw"},
    {3, "triangle", "Triangle"},
    {4, "silence", "Silence"},
    {5, "white-noise", "White uniform noise"},
    {6, "pink-noise", "Pink noise"},
    {7, "sine-table", "Sine table"},
    {8, "ticks", "Periodic Ticks"},
    {9, "gaussian-noise", "White Gaussian noise"},
    {10, "red-noise", "Red (brownian) noise"},
    {11, "blue-noise", "Blue noise"},
    {12, "violet-noise", "Violet noise"},
};

constexpr double two_pi = 2.0 * std::numbers::pi;
constexpr std::size_t sine_table_size = 1024;
constexpr int pink_rows = 16;

// The time of sample `n` at `rate` frames per second, exact to the
// nanosecond below (no drift, no overflow for any 64-bit sample count that
// fits a ClockTime).
std::uint64_t sample_time_ns(std::uint64_t n, std::uint32_t rate) {
    return (n / rate) * ClockTime::ns_per_s + (n % rate) * ClockTime::ns_per_s / rate;
}

// The state of one channel's coloured noise.
struct NoiseState {
    std::array<double, pink_rows> rows{};
    double running_sum = 0;
    std::uint32_t counter = 0;
    double red = 0;
    double last = 0; // the previous pink or white value (blue, violet noise)
};

class AudioTestSrc final : public SimpleSource {
public:
    static constexpr ElementInfo info{
        .factory = "audiotestsrc",
        .klass = "Source/Audio",
        .summary = "Creates audio test signals of given frequency and volume",
        .description = "Sine, square, saw and triangle waves, a sine from a table, silence, white, pink, Gaussian, "
                       "red, blue and violet noise, and periodic ticks, in any raw format (U8, S16LE, S32LE, "
                       "F32LE, F64LE), interleaved or not, at any rate and channel count. Timestamps follow the "
                       "sample count; with is-live each buffer leaves at its running time."};

    static Caps pad_caps() {
        return Caps::parse_static("audio/x-raw, format=(string){ S16LE, S32LE, F32LE, F64LE, U8 }, "
                                  "layout=(string){ interleaved, non-interleaved }, rate=(int)[ 1, 2147483647 ], "
                                  "channels=(int)[ 1, 64 ]");
    }

    // GStreamer's choice where downstream leaves it open: 44100 Hz, S16LE,
    // interleaved, mono (or the channel count nearest 1); more than two
    // channels get their default channel mask.
    [[nodiscard]] Caps fixate_caps(const Pad&, const Caps& caps, const Caps&) const override {
        if (caps.is_any() || caps.is_empty()) {
            return caps;
        }
        Structure s = caps.structure(0);
        fixate_field_nearest_int(s, "rate", 44100);
        fixate_field_string(s, "format", "S16LE");
        fixate_field_string(s, "layout", "interleaved");
        fixate_field_nearest_int(s, "channels", 1);
        return detail::fixated_audio_caps(s, caps.features(0));
    }

protected:
    [[nodiscard]] Caps output_caps() const override {
        if (Caps negotiated = src_pad().negotiated_caps(); negotiated.is_fixed()) {
            return negotiated;
        }
        // Not negotiated (a harness): the caps negotiation would choose alone.
        return fixate_caps(src_pad(), src_pad().pad_template().caps, Caps());
    }

    Result<void> start() override {
        info_.reset();
        samples_ = 0;
        sent_ = 0;
        accumulator_ = 0;
        rng_ = detail::FastRandom(0x9e3779b9U);
        noise_.clear();
        tick_index_ = 0;
        tick_pos_ = 0;
        next_tick_ = 0;
        for (std::size_t i = 0; i < sine_table_size; ++i) {
            sine_table_[i] = std::sin(two_pi * static_cast<double>(i) / static_cast<double>(sine_table_size));
        }
        return SimpleSource::start();
    }

    Flow create(Buffer& out, SourceContext& ctx) override {
        const std::int32_t limit = num_buffers_.get();
        if (limit >= 0 && sent_ >= static_cast<std::uint64_t>(limit)) {
            return Flow::eos;
        }
        if (!info_) {
            const Caps caps = output_caps();
            auto parsed = AudioInfo::from_caps(caps);
            if (!parsed) {
                return ctx.error(Error(Errc::not_negotiated, fmt::format("cannot produce {}: {}", caps.to_string(),
                                                                         parsed.error().message())));
            }
            info_ = *parsed;
            noise_.assign(info_->channels(), NoiseState{});
            for (NoiseState& n : noise_) {
                reset_noise(n);
            }
        }
        const AudioInfo& a = *info_;
        const auto frames = static_cast<std::size_t>(samples_per_buffer_.get());
        const std::size_t channels = a.channels();
        auto buffer = ctx.allocate(frames * a.bytes_per_frame());
        if (!buffer) {
            return ctx.error(buffer.error());
        }
        auto bytes = buffer->map_writable();
        if (!bytes) {
            return ctx.error(bytes.error());
        }
        values_.resize(frames * channels);
        generate(frames, channels, a.rate());
        // values_ holds channel after channel; write them in the buffer's layout.
        const detail::PackFn pack = detail::pack_fn(a.format());
        const std::size_t ss = a.sample_size();
        for (std::size_t c = 0; c < channels; ++c) {
            if (a.layout() == AudioLayout::interleaved) {
                pack(values_.data() + c * frames, bytes->data() + c * ss, channels * ss, frames, nullptr);
            } else {
                pack(values_.data() + c * frames, bytes->data() + c * frames * ss, ss, frames, nullptr);
            }
        }

        const std::uint64_t start_ns = sample_time_ns(samples_, a.rate());
        const std::uint64_t end_ns = sample_time_ns(samples_ + frames, a.rate());
        Metadata& m = buffer->meta();
        const std::int64_t offset = timestamp_offset_.get();
        // A negative offset moves timestamps earlier, but not below zero.
        const std::uint64_t back = offset < 0 ? static_cast<std::uint64_t>(-(offset + 1)) + 1 : 0;
        const auto shifted = [offset, back](std::uint64_t t) {
            if (offset >= 0) {
                return ClockTime::from_ns(t + static_cast<std::uint64_t>(offset));
            }
            return t < back ? ClockTime::zero() : ClockTime::from_ns(t - back);
        };
        m.set_pts(shifted(start_ns));
        m.set_duration(ClockTime::from_ns(end_ns - start_ns));
        m.set_sequence(sent_);
        m.set_byte_offset(samples_ * a.bytes_per_frame());
        if (sent_ == 0) {
            m.set_flag(BufferFlags::discont);
        }
        if (is_live_.get()) {
            m.set_flag(BufferFlags::live);
            // As GStreamer's live audiotestsrc: a buffer leaves when the
            // running time reaches its first sample.
            if (const Flow f = ctx.wait_until(ClockTime::from_ns(start_ns)); f != Flow::ok) {
                return f;
            }
        }
        samples_ += frames;
        ++sent_;
        out = std::move(*buffer);
        return Flow::ok;
    }

private:
    void reset_noise(NoiseState& n) {
        n = NoiseState{};
        for (auto& r : n.rows) {
            r = rng_.symmetric();
            n.running_sum += r;
        }
    }

    // Fills values_ (channel after channel, `frames` values each).
    void generate(std::size_t frames, std::size_t channels, std::uint32_t rate) {
        const double amp = volume_.get();
        const double step = two_pi * freq_.get() / static_cast<double>(rate);
        double* v = values_.data();
        const auto periodic = [&](auto&& value_at) {
            for (std::size_t i = 0; i < frames; ++i) {
                v[i] = value_at(accumulator_);
                accumulator_ += step;
                if (accumulator_ >= two_pi) {
                    accumulator_ = std::fmod(accumulator_, two_pi);
                }
            }
            for (std::size_t c = 1; c < channels; ++c) {
                std::copy(v, v + frames, v + c * frames);
            }
        };
        switch (wave_.get()) {
        case Wave::sine:
            periodic([amp](double a) { return amp * std::sin(a); });
            break;
        case Wave::square:
            periodic([amp](double a) { return a < std::numbers::pi ? amp : -amp; });
            break;
        case Wave::saw:
            // Rises from 0 to amp over the first half period, jumps to -amp
            // and rises to 0 over the second.
            periodic([amp](double a) {
                return a < std::numbers::pi ? amp * a / std::numbers::pi : amp * (a - two_pi) / std::numbers::pi;
            });
            break;
        case Wave::triangle:
            // 0 up to amp at a quarter period, down to -amp at three
            // quarters, back to 0.
            periodic([amp](double a) {
                constexpr double half_pi = std::numbers::pi / 2;
                if (a < half_pi) {
                    return amp * a / half_pi;
                }
                if (a < 3 * half_pi) {
                    return amp * (std::numbers::pi - a) / half_pi;
                }
                return amp * (a - two_pi) / half_pi;
            });
            break;
        case Wave::silence:
            std::fill(v, v + frames * channels, 0.0);
            break;
        case Wave::sine_table:
            periodic([this, amp](double a) {
                const auto i = static_cast<std::size_t>(a * (static_cast<double>(sine_table_size) / two_pi));
                return amp * sine_table_[i & (sine_table_size - 1)];
            });
            break;
        case Wave::ticks:
            ticks(frames, channels, rate, amp);
            break;
        case Wave::white_noise:
        case Wave::gaussian_noise:
        case Wave::pink_noise:
        case Wave::red_noise:
        case Wave::blue_noise:
        case Wave::violet_noise:
            for (std::size_t c = 0; c < channels; ++c) {
                noise(wave_.get(), noise_[c], v + c * frames, frames, amp);
            }
            break;
        }
    }

    void noise(Wave wave, NoiseState& n, double* out, std::size_t frames, double amp) {
        switch (wave) {
        case Wave::white_noise:
            for (std::size_t i = 0; i < frames; ++i) {
                out[i] = amp * rng_.symmetric();
            }
            break;
        case Wave::gaussian_noise:
            // Box-Muller: standard deviation `volume` (of full scale).
            for (std::size_t i = 0; i < frames; ++i) {
                const double u1 = 1.0 - rng_.uniform(); // (0, 1]
                const double u2 = rng_.uniform();
                out[i] = amp * std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2);
            }
            break;
        case Wave::pink_noise:
        case Wave::blue_noise:
            // Voss-McCartney: 16 rows of white noise, row k renewed every
            // 2^(k+1) samples, plus fresh white noise; the sum of 17 values
            // in [-1, 1) scaled into [-amp, amp). Blue noise is the first
            // difference of pink noise (+3 dB per octave), halved to stay
            // within [-amp, amp].
            for (std::size_t i = 0; i < frames; ++i) {
                n.counter = (n.counter + 1) & 0xffffU;
                if (n.counter != 0) {
                    const auto k = static_cast<std::size_t>(std::countr_zero(n.counter));
                    n.running_sum -= n.rows[k];
                    n.rows[k] = rng_.symmetric();
                    n.running_sum += n.rows[k];
                }
                const double pink = (n.running_sum + rng_.symmetric()) / (pink_rows + 1);
                if (wave == Wave::blue_noise) {
                    out[i] = amp * 0.5 * (pink - n.last);
                    n.last = pink;
                } else {
                    out[i] = amp * pink;
                }
            }
            break;
        case Wave::red_noise:
            // Brownian motion: a random walk with steps up to 1/16 of full
            // scale, reflected at +-1 (-6 dB per octave).
            for (std::size_t i = 0; i < frames; ++i) {
                double r = n.red + rng_.symmetric() / 16.0;
                if (r > 1.0) {
                    r = 2.0 - r;
                } else if (r < -1.0) {
                    r = -2.0 - r;
                }
                n.red = r;
                out[i] = amp * r;
            }
            break;
        case Wave::violet_noise:
            // The first difference of white noise (+6 dB per octave), halved
            // to stay within [-amp, amp].
            for (std::size_t i = 0; i < frames; ++i) {
                const double white = rng_.symmetric();
                out[i] = amp * 0.5 * (white - n.last);
                n.last = white;
            }
            break;
        default:
            break;
        }
    }

    // A tick every tick-interval: sine-periods-per-tick periods of a sine at
    // freq, at volume (marker-tick-volume for every marker-tick-period-th
    // tick, the first included), silence in between.
    void ticks(std::size_t frames, std::size_t channels, std::uint32_t rate, double amp) {
        const double freq = freq_.get();
        const double interval_samples = static_cast<double>(tick_interval_.get()) * static_cast<double>(rate) / 1e9;
        const std::uint64_t tick_length =
            freq > 0 ? static_cast<std::uint64_t>(
                           std::llround(static_cast<double>(sine_periods_per_tick_.get()) * rate / freq))
                     : 0;
        const double step = two_pi * freq / static_cast<double>(rate);
        const std::uint32_t marker_period = marker_tick_period_.get();
        double* v = values_.data();
        for (std::size_t i = 0; i < frames; ++i) {
            const std::uint64_t n = samples_ + i;
            if (n >= next_tick_) {
                tick_pos_ = n - next_tick_;
                tick_volume_ = marker_period > 0 && tick_index_ % marker_period == 0 ? marker_tick_volume_.get() : amp;
                ++tick_index_;
                next_tick_ =
                    static_cast<std::uint64_t>(std::llround(static_cast<double>(tick_index_) * interval_samples));
            }
            v[i] = tick_pos_ < tick_length ? tick_volume_ * std::sin(step * static_cast<double>(tick_pos_)) : 0.0;
            ++tick_pos_;
        }
        for (std::size_t c = 1; c < channels; ++c) {
            std::copy(v, v + frames, v + c * frames);
        }
    }

    std::optional<AudioInfo> info_;
    std::uint64_t samples_ = 0;
    std::uint64_t sent_ = 0;
    double accumulator_ = 0;
    detail::FastRandom rng_;
    std::vector<NoiseState> noise_;
    std::vector<double> values_;
    std::array<double, sine_table_size> sine_table_{};
    std::uint64_t tick_index_ = 0;
    std::uint64_t tick_pos_ = 0;
    std::uint64_t next_tick_ = 0;
    double tick_volume_ = 0;

    Property<Wave> wave_{this, "wave", Wave::sine, "Oscillator waveform", waves, Mutability::running};
    Property<double> freq_{this,
                           "freq",
                           440.0,
                           "Frequency of test signal. The sample rate needs to be at least 2 times higher.",
                           {0.0, 1073741823.5},
                           Mutability::running};
    Property<double> volume_{this, "volume", 0.8, "Volume of test signal", {0.0, 1.0}, Mutability::running};
    Property<std::int32_t> samples_per_buffer_{this,
                                               "samplesperbuffer",
                                               1024,
                                               "Number of samples in each outgoing buffer",
                                               {1, std::numeric_limits<std::int32_t>::max()}};
    Property<std::int32_t> num_buffers_{this,
                                        "num-buffers",
                                        -1,
                                        "Number of buffers to output before sending EOS (-1 = unlimited)",
                                        {-1, std::numeric_limits<std::int32_t>::max()}};
    Property<bool> is_live_{this, "is-live", false, "Whether to act as a live source"};
    Property<std::int64_t> timestamp_offset_{this, "timestamp-offset", 0,
                                             "An offset added to timestamps set on buffers (in ns)"};
    Property<std::uint64_t> tick_interval_{this,
                                           "tick-interval",
                                           ClockTime::ns_per_s,
                                           "Distance between start of current and start of next tick, in nanoseconds.",
                                           {1, std::numeric_limits<std::uint64_t>::max()},
                                           Mutability::running};
    Property<std::uint32_t> marker_tick_period_{this,
                                                "marker-tick-period",
                                                0,
                                                "Make every Nth tick a marker tick (= a tick with different volume). "
                                                "Only used if wave = ticks. 0 = no marker ticks.",
                                                {},
                                                Mutability::running};
    Property<double> marker_tick_volume_{this,
                                         "marker-tick-volume",
                                         1.0,
                                         "Volume of marker ticks. Only used if wave = ticks and marker-tick-period "
                                         "is set to a nonzero value.",
                                         {0.0, 1.0},
                                         Mutability::running};
    Property<std::uint32_t> sine_periods_per_tick_{
        this,
        "sine-periods-per-tick",
        10,
        "Number of sine wave periods in one tick. Only used if wave = ticks.",
        {1, std::numeric_limits<std::uint32_t>::max()},
        Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::AudioTestSrc);
