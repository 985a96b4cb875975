// volume: scales raw audio samples (GStreamer's volume, with its volume and
// mute properties, both changeable while data flows).

#include <parallax/audio/audio_info.hpp>
#include <parallax/audio/audio_samples.hpp>
#include <parallax/element.hpp>

#include "audio/audio_caps.hpp"
#include "audio/sample_codec.hpp"

#include <optional>
#include <span>
#include <utility>

namespace parallax {
namespace {

// Scales `n` samples of F in place by `gain`: integers clipped to their
// range and rounded, floats left unclipped (as GStreamer's volume does).
template <AudioFormat F>
void scale_samples(std::byte* p, std::size_t n, double gain) noexcept {
    using W = detail::WorkType<F, F>;
    constexpr std::size_t size = sizeof(typename detail::SampleTraits<F>::Raw);
    const auto g = static_cast<W>(gain);
    for (std::size_t i = 0; i < n; ++i) {
        detail::store_sample<F, W>(p + i * size, detail::load_sample<F, W>(p + i * size) * g);
    }
}

void scale_all(AudioFormat format, std::span<std::byte> bytes, std::size_t samples, double gain) noexcept {
    detail::visit_format(format, [&](auto f) { scale_samples<decltype(f)::value>(bytes.data(), samples, gain); });
}

class Volume final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "volume",
        .klass = "Filter/Effect/Audio",
        .summary = "Set volume on audio/raw streams",
        .description = "Multiplies every sample by volume (0 to 10), or writes silence when muted; integer "
                       "formats are clipped at full scale. Both properties may change while data flows. At "
                       "volume 1 without mute buffers pass untouched."};

    static Caps pad_caps() {
        return Caps::parse_static("audio/x-raw, format=(string){ F32LE, F64LE, S16LE, S32LE, U8 }, "
                                  "layout=(string){ interleaved, non-interleaved }, rate=(int)[ 1, 2147483647 ], "
                                  "channels=(int)[ 1, 64 ]");
    }

protected:
    Result<void> set_caps(const Caps& in, const Caps&) override {
        auto a = detail::audio_info_from_caps(in, "input");
        if (!a) {
            return fail(std::move(a.error()));
        }
        info_ = *a;
        return {};
    }

    Flow transform(Buffer& buffer, TransformContext& ctx) override {
        const bool mute = mute_.get();
        const double gain = volume_.get();
        if ((!mute && gain == 1.0) || buffer.empty()) {
            return Flow::ok; // untouched: the same slot goes on
        }
        if (!info_) {
            return ctx.error(Error(Errc::not_negotiated, "no caps before the first buffer"));
        }
        auto samples = WritableAudioSamples::map(*info_, buffer);
        if (!samples) {
            return ctx.error(std::move(samples.error()));
        }
        const std::span<std::byte> bytes = samples->data();
        if (mute || gain == 0.0) {
            fill_silence(info_->format(), bytes);
        } else {
            scale_all(info_->format(), bytes, samples->frames() * samples->channels(), gain);
        }
        return Flow::ok;
    }

private:
    std::optional<AudioInfo> info_;

    Property<double> volume_{this, "volume", 1.0, "volume factor, 1.0=100%", {0.0, 10.0}, Mutability::running};
    Property<bool> mute_{this, "mute", false, "mute channel", Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Volume);
