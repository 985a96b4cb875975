// audioresample: changes the sample rate of raw audio (GStreamer's
// audioresample, with its quality property): with libsoxr, and for S16 at
// quality 0-4 with an integer polyphase filter (audio/polyphase_s16.hpp)
// where the rate ratio allows it.
//
// Timestamps come from the output sample count since the last
// discontinuity: the first output buffer carries the pts of the input
// buffer that started the stretch, later ones that pts plus their sample
// position at the output rate, so nothing drifts however long the stream.
// Both resamplers' output is aligned with the input (soxr compensates its
// own filter delay; the polyphase filter is centred on each output
// instant), so sample n out is the same instant as n * in_rate / out_rate in.

#include <parallax/audio/audio_info.hpp>
#include <parallax/audio/audio_samples.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>

#include "audio/audio_caps.hpp"
#include "audio/polyphase_s16.hpp"
#include "audio/soxr_library.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace parallax {
namespace {

// quality 0..10 (GStreamer's range and default 4) to a soxr recipe and its
// precision in bits (about 6 dB of stop-band rejection per bit); see
// docs/guide/audio.md for what each level measures, next to GStreamer's.
// Every level has a real anti-aliasing filter: soxr's cubic "quick" recipe
// (SOXR_QQ) is not used, as it rejects aliases worse than GStreamer's
// quality 0.
struct QualityLevel {
    unsigned long recipe;
    double precision; // bits; 0: the recipe's own
};
constexpr QualityLevel quality_levels[] = {
    {SOXR_LQ, 0},       // 0: 16-bit, pass band to 67.6 % of Nyquist, large roll-off
    {SOXR_MQ, 0},       // 1: 16-bit, pass band to 91.6 %, medium roll-off
    {SOXR_16_BITQ, 0},  // 2: 16-bit, pass band to 91.6 %
    {SOXR_20_BITQ, 18}, // 3
    {SOXR_20_BITQ, 0},  // 4 (default): soxr's HQ, 20-bit, pass band to 91.4 %
    {SOXR_20_BITQ, 22}, // 5
    {SOXR_24_BITQ, 0},  // 6
    {SOXR_24_BITQ, 26}, // 7
    {SOXR_28_BITQ, 0},  // 8: soxr's VHQ
    {SOXR_28_BITQ, 30}, // 9
    {SOXR_32_BITQ, 0},  // 10
};

soxr_quality_spec_t quality_spec(const detail::SoxrLibrary& soxr, int quality) {
    const QualityLevel& q = quality_levels[std::clamp(quality, 0, 10)];
    soxr_quality_spec_t spec = soxr.soxr_quality_spec(q.recipe, 0);
    if (q.precision > 0) {
        spec.precision = q.precision;
    }
    return spec;
}

std::optional<soxr_datatype_t> soxr_type(AudioFormat format, AudioLayout layout) {
    const bool split = layout == AudioLayout::non_interleaved;
    switch (format) {
    case AudioFormat::f32le:
        return split ? SOXR_FLOAT32_S : SOXR_FLOAT32_I;
    case AudioFormat::f64le:
        return split ? SOXR_FLOAT64_S : SOXR_FLOAT64_I;
    case AudioFormat::s32le:
        return split ? SOXR_INT32_S : SOXR_INT32_I;
    case AudioFormat::s16le:
        return split ? SOXR_INT16_S : SOXR_INT16_I;
    case AudioFormat::u8:
        return std::nullopt;
    }
    return std::nullopt;
}

// n * num / den, exact (no overflow for realistic sample counts and rates).
std::uint64_t scale(std::uint64_t n, std::uint64_t num, std::uint64_t den) {
    return (n / den) * num + (n % den) * num / den;
}

struct SoxrDeleter {
    const detail::SoxrLibrary* lib = nullptr;
    void operator()(soxr_t s) const noexcept { lib->soxr_delete(s); }
};
using SoxrPtr = std::unique_ptr<soxr, SoxrDeleter>;

class AudioResample final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "audioresample",
        .klass = "Filter/Converter/Audio",
        .summary = "Resamples audio",
        .description = "Changes the sample rate with libsoxr. Formats F32LE, F64LE, S32LE and S16LE, interleaved or "
                       "not (others, such as U8, through audioconvert upstream). quality 0-10 picks a soxr recipe "
                       "(default 4: soxr's 20-bit 'HQ'); S16LE at quality 0-4 goes through an integer polyphase "
                       "filter instead when the rates' ratio reduces to at most 1024 output phases (48000 <-> "
                       "44100: 147 or 160). Timestamps follow the output sample count; the resampler is drained at "
                       "eos, at discontinuities and when the caps change.",
        .convert_cost = 10};

    static Caps pad_caps() {
        return Caps::parse_static("audio/x-raw, format=(string){ F32LE, S16LE, S32LE, F64LE }, "
                                  "layout=(string){ interleaved, non-interleaved }, rate=(int)[ 1, 2147483647 ], "
                                  "channels=(int)[ 1, 64 ]");
    }

    ~AudioResample() override = default;

    [[nodiscard]] Caps transform_caps(const Pad&, const Pad&, const Caps& caps) const override {
        return without_fields(caps, {"rate"});
    }

    // The input's fields, and the rate nearest the input's.
    [[nodiscard]] Caps fixate_caps(const Pad& pad, const Caps& caps, const Caps& reference) const override {
        if (caps.is_any() || caps.is_empty() || reference.size() != 1) {
            return Element::fixate_caps(pad, caps, reference);
        }
        Caps narrowed;
        for (std::size_t i = 0; i < caps.size(); ++i) {
            Structure s = caps.structure(i);
            if (auto rate = reference.structure(0).get_int("rate")) {
                fixate_field_nearest_int(s, "rate", *rate);
            }
            narrowed.append(std::move(s), caps.features(i));
        }
        return Element::fixate_caps(pad, narrowed, reference);
    }

protected:
    [[nodiscard]] bool passthrough_when_equal() const noexcept override { return true; }

    Result<void> start() override {
        auto loaded = detail::soxr_library();
        if (!loaded) {
            return fail(loaded.error());
        }
        lib_ = *loaded;
        return {};
    }

    Result<void> stop() override {
        soxr_.reset();
        polyphase_.reset();
        in_.reset();
        out_.reset();
        return {};
    }

    Result<void> set_caps(const Caps& in_caps, const Caps& out_caps) override {
        auto infos = detail::audio_infos_from_caps(in_caps, out_caps);
        if (!infos) {
            return fail(std::move(infos.error()));
        }
        const AudioInfo& in = infos->in;
        const AudioInfo& out = infos->out;
        if (in.format() != out.format() || in.layout() != out.layout() || in.channels() != out.channels() ||
            in.channel_mask() != out.channel_mask()) {
            return fail(Errc::not_negotiated,
                        fmt::format("audioresample changes only the rate: {} cannot become {} (add audioconvert)",
                                    in.to_string(), out.to_string()));
        }
        const auto type = soxr_type(in.format(), in.layout());
        if (!type) {
            return fail(
                Errc::not_negotiated,
                fmt::format("audioresample cannot resample {}: add audioconvert before it", to_string(in.format())));
        }
        // What the old configuration still holds goes out first, under the
        // old caps (the new caps event follows set_caps()).
        if (resampling() && out_) {
            static_cast<void>(drain(context()));
        }
        soxr_.reset();
        polyphase_.reset();
        in_ = in;
        out_ = out;
        reset_timing();
        if (in.rate() == out.rate()) {
            return {};
        }
        if (in.format() == AudioFormat::s16le && quality_.get() <= detail::PolyphaseS16::max_quality) {
            polyphase_ =
                detail::PolyphaseS16::create(static_cast<std::uint32_t>(in.rate()),
                                             static_cast<std::uint32_t>(out.rate()), in.channels(), quality_.get());
            if (polyphase_) {
                return {};
            }
            // Too many phases for this ratio: soxr takes it.
        }
        soxr_error_t err = nullptr;
        soxr_io_spec_t io = lib_->soxr_io_spec(*type, *type);
        // The depth does not change, so nothing is requantised to fewer
        // bits: no dither (audioconvert's rule too).
        io.flags |= SOXR_NO_DITHER;
        const soxr_quality_spec_t q = quality_spec(*lib_, quality_.get());
        const soxr_runtime_spec_t rt = lib_->soxr_runtime_spec(1);
        soxr_ = SoxrPtr(lib_->soxr_create(in.rate(), out.rate(), in.channels(), &err, &io, &q, &rt), SoxrDeleter{lib_});
        if (!soxr_ || err != nullptr) {
            soxr_.reset();
            return fail(Errc::not_negotiated, fmt::format("soxr cannot resample {} to {} Hz: {}", in.to_string(),
                                                          out.rate(), err != nullptr ? err : "soxr_create failed"));
        }
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::eos:
        case EventType::segment:
            // Whatever the resampler holds belongs before these.
            if (resampling()) {
                static_cast<void>(drain(context()));
                reset_timing();
            }
            break;
        case EventType::flush_stop:
            clear();
            reset_timing();
            break;
        default:
            break;
        }
        return SimpleTransform::sink_event(pad, std::move(event));
    }

    Flow transform(Buffer& buffer, TransformContext& ctx) override {
        if (!in_) {
            return ctx.error(Error(Errc::not_negotiated, "no caps before the first buffer"));
        }
        if (!resampling()) {
            return Flow::ok; // equal rates: nothing to do
        }
        auto in = AudioSamples::map(*in_, buffer);
        if (!in) {
            return ctx.error(std::move(in.error()));
        }
        const Metadata& meta = buffer.meta();
        const ClockTime pts = meta.pts();
        if (started_) {
            // A discontinuity: flagged, or timestamps that jump by more than
            // half an input sample from where the samples so far lead.
            bool discont = meta.has_flag(BufferFlags::discont);
            if (!discont && pts.is_valid() && base_pts_.is_valid()) {
                const std::uint64_t expected = base_pts_.ns() + scale(in_samples_, ClockTime::ns_per_s, in_->rate());
                const std::uint64_t delta = pts.ns() > expected ? pts.ns() - expected : expected - pts.ns();
                discont = delta > ClockTime::ns_per_s / (2ULL * in_->rate());
            }
            if (discont) {
                if (const Flow f = drain(ctx); f != Flow::ok) {
                    return f;
                }
                reset_timing();
            }
        }
        if (!started_) {
            started_ = true;
            base_pts_ = pts;
            if (meta.has_byte_offset()) {
                base_offset_ = scale(meta.byte_offset() / in_->bytes_per_frame(), out_->rate(), in_->rate());
            }
        }
        // Output buffers carry the current input's metadata (flags, stream,
        // sequence), with their own timestamps and offsets.
        template_meta_ = meta;
        template_meta_.clear_entries();
        in_samples_ += in->frames();
        Flow f = polyphase_ ? process_polyphase(in->data().data(), in->frames(), ctx)
                            : process(in->data().data(), in->frames(), ctx);
        if (f != Flow::ok) {
            return f;
        }
        if (!pending_) {
            return Flow::dropped;
        }
        buffer = std::move(*pending_);
        pending_.reset();
        return Flow::ok;
    }

private:
    [[nodiscard]] bool resampling() const noexcept { return soxr_ != nullptr || polyphase_.has_value(); }

    // Forgets what the resampler holds.
    void clear() {
        if (soxr_) {
            lib_->soxr_clear(soxr_.get());
        }
        if (polyphase_) {
            polyphase_->reset();
        }
    }

    void reset_timing() {
        started_ = false;
        discont_next_ = true;
        base_pts_ = ClockTime::none();
        base_offset_.reset();
        in_samples_ = 0;
        out_samples_ = 0;
        pending_.reset();
    }

    // Feeds `frames` frames at `data` (null: the end of the input) and makes
    // buffers of what comes out: every finished buffer but the last is
    // pushed; the last waits in pending_ (transform() returns it).
    Flow process(const std::byte* data, std::size_t frames, ElementContext& ctx) {
        const AudioInfo& a = *in_;
        const AudioInfo& b = *out_;
        const std::size_t ss = a.sample_size();
        const std::size_t channels = a.channels();
        const bool split = a.layout() == AudioLayout::non_interleaved;
        std::size_t consumed = 0;
        for (;;) {
            const std::size_t left = frames - consumed;
            // Room for what this input yields, plus what soxr holds back.
            const double expected =
                static_cast<double>(left) * b.rate() / a.rate() + std::max(0.0, lib_->soxr_delay(soxr_.get()));
            const std::size_t capacity = static_cast<std::size_t>(std::ceil(expected)) + 64;
            auto made = ctx.allocate(capacity * b.bytes_per_frame());
            if (!made) {
                return ctx.error(made.error());
            }
            auto bytes = made->map_writable();
            if (!bytes) {
                return ctx.error(bytes.error());
            }
            std::size_t idone = 0;
            std::size_t odone = 0;
            soxr_error_t err = nullptr;
            if (split) {
                // Planes are frames (in) or capacity (out) samples apart.
                in_planes_.resize(channels);
                out_planes_.resize(channels);
                for (std::size_t c = 0; c < channels; ++c) {
                    in_planes_[c] = data == nullptr ? nullptr : data + (c * frames + consumed) * ss;
                    out_planes_[c] = bytes->data() + c * capacity * ss;
                }
                err = lib_->soxr_process(soxr_.get(), data == nullptr ? nullptr : in_planes_.data(), left, &idone,
                                         out_planes_.data(), capacity, &odone);
            } else {
                err = lib_->soxr_process(soxr_.get(), data == nullptr ? nullptr : data + consumed * channels * ss, left,
                                         &idone, bytes->data(), capacity, &odone);
            }
            if (err != nullptr) {
                return ctx.error(Error(Errc::failed, fmt::format("soxr_process failed: {}", err)));
            }
            if (data != nullptr && idone == 0 && odone == 0) {
                return ctx.error(Error(Errc::failed, "soxr_process took no input and gave no output"));
            }
            consumed += idone;
            if (odone > 0) {
                if (split) {
                    // Close the gaps between the planes.
                    for (std::size_t c = 1; c < channels; ++c) {
                        std::memmove(bytes->data() + c * odone * ss, bytes->data() + c * capacity * ss, odone * ss);
                    }
                }
                if (auto ok = made->resize(odone * b.bytes_per_frame()); !ok) {
                    return ctx.error(ok.error());
                }
                if (const Flow f = hold(std::move(*made), odone); f != Flow::ok) {
                    return f;
                }
            }
            const bool input_left = data != nullptr && consumed < frames;
            const bool output_full = odone == capacity;
            if (!input_left && !output_full) {
                return Flow::ok;
            }
            if (data == nullptr && odone == 0) {
                return Flow::ok;
            }
        }
    }

    // The polyphase filter's process(): every frame it can give now, in one
    // buffer.
    Flow process_polyphase(const std::byte* data, std::size_t frames, ElementContext& ctx) {
        const bool split = in_->layout() == AudioLayout::non_interleaved;
        if (data != nullptr) {
            polyphase_->write(reinterpret_cast<const std::int16_t*>(data), frames, split);
        } else {
            polyphase_->finish();
        }
        const std::size_t ready = polyphase_->ready();
        if (ready == 0) {
            return Flow::ok;
        }
        auto made = ctx.allocate(ready * out_->bytes_per_frame());
        if (!made) {
            return ctx.error(made.error());
        }
        auto bytes = made->map_writable();
        if (!bytes) {
            return ctx.error(bytes.error());
        }
        polyphase_->read(reinterpret_cast<std::int16_t*>(bytes->data()), ready, split);
        return hold(std::move(*made), ready);
    }

    // Stamps a finished buffer of `frames` frames and keeps it in pending_,
    // pushing the one kept before.
    Flow hold(Buffer&& made, std::size_t frames) {
        stamp(made, frames);
        if (pending_) {
            if (const Flow f = src_pad().push(std::move(*pending_)); f != Flow::ok) {
                pending_.reset();
                return f;
            }
        }
        pending_ = std::move(made);
        return Flow::ok;
    }

    void stamp(Buffer& b, std::size_t frames) {
        const AudioInfo& o = *out_;
        Metadata m = template_meta_;
        m.unset_flag(BufferFlags::discont);
        if (discont_next_) {
            m.set_flag(BufferFlags::discont);
            discont_next_ = false;
        }
        if (base_pts_.is_valid()) {
            const std::uint64_t start = scale(out_samples_, ClockTime::ns_per_s, o.rate());
            const std::uint64_t end = scale(out_samples_ + frames, ClockTime::ns_per_s, o.rate());
            m.set_pts(ClockTime::from_ns(base_pts_.ns() + start));
            m.set_duration(ClockTime::from_ns(end - start));
        } else {
            m.set_pts(ClockTime::none());
            m.set_duration(ClockTime::from_ns(scale(frames, ClockTime::ns_per_s, o.rate())));
        }
        m.set_dts(ClockTime::none());
        m.set_byte_offset(base_offset_ ? (*base_offset_ + out_samples_) * o.bytes_per_frame()
                                       : Metadata::no_byte_offset);
        out_samples_ += frames;
        b.meta() = std::move(m);
    }

    // Flushes the resampler and pushes what it held. Called from: streaming
    // thread.
    Flow drain(ElementContext& ctx) {
        if (!resampling() || !started_) {
            return Flow::ok;
        }
        Flow f = polyphase_ ? process_polyphase(nullptr, 0, ctx) : process(nullptr, 0, ctx);
        if (pending_) {
            const Flow pushed = src_pad().push(std::move(*pending_));
            pending_.reset();
            if (f == Flow::ok) {
                f = pushed;
            }
        }
        clear();
        return f;
    }

    const detail::SoxrLibrary* lib_ = nullptr; // from start()
    SoxrPtr soxr_;
    std::optional<detail::PolyphaseS16> polyphase_; // instead of soxr_ for S16 at low qualities
    std::optional<AudioInfo> in_;
    std::optional<AudioInfo> out_;
    bool started_ = false;
    bool discont_next_ = true;
    ClockTime base_pts_;
    std::optional<std::uint64_t> base_offset_;
    std::uint64_t in_samples_ = 0;
    std::uint64_t out_samples_ = 0;
    Metadata template_meta_;
    std::optional<Buffer> pending_;
    std::vector<const void*> in_planes_;
    std::vector<void*> out_planes_;

    Property<std::int32_t> quality_{this,
                                    "quality",
                                    4,
                                    "Resample quality with 0 being the lowest and 10 being the best (soxr: 0 low, "
                                    "1 medium, 2 16-bit, 3 18-bit, 4 20-bit, 5 22-bit ... 10 32-bit precision; "
                                    "S16LE at 0-4: an integer polyphase filter, 32 to 64 taps at 48000 -> 44100 Hz)",
                                    {0, 10}};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::AudioResample);
