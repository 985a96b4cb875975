// videoscale: resizes raw video (GStreamer's videoscale): nearest-neighbour,
// bilinear or box, keeping the display aspect ratio with black borders when
// the output's pixel aspect ratio would distort it. Negotiation keeps the
// input size when it can and, when only one dimension is given, picks the
// other (or the pixel aspect ratio) to keep the display aspect ratio, as
// GStreamer's videoscale does.

#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "video/video_filter.hpp"
#include "video/video_scale_core.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>

namespace parallax {
namespace {

// GStreamer 1.22's GstVideoScaleMethod values, all listed so that a
// GStreamer pipeline naming one gets a clear refusal rather than "unknown
// value"; box is libparallax's own.
constexpr EnumValue scale_methods[] = {
    {0, "nearest-neighbour", "Nearest Neighbour"},
    {1, "bilinear", "Bilinear (2-tap)"},
    {2, "4-tap", "4-tap Sinc (GStreamer only: refused)"},
    {3, "lanczos", "Lanczos (GStreamer only: refused)"},
    {4, "bilinear2", "Bilinear (multi-tap) (GStreamer only: refused)"},
    {5, "sinc", "Sinc (multi-tap) (GStreamer only: refused)"},
    {6, "hermite", "Hermite (multi-tap) (GStreamer only: refused)"},
    {7, "spline", "Spline (multi-tap) (GStreamer only: refused)"},
    {8, "catrom", "Catmull-Rom (multi-tap) (GStreamer only: refused)"},
    {9, "mitchell", "Mitchell (multi-tap) (GStreamer only: refused)"},
    {10, "box", "Box: the mean of the input area each output pixel covers (libparallax only)"},
};

enum class Method { nearest = 0, bilinear = 1, box = 10 };

bool supported(Method m) {
    return m == Method::nearest || m == Method::bilinear || m == Method::box;
}

// --- fixation helpers (GStreamer's videoscale fixate, sink to src) -------------

std::optional<Fraction> frac(std::int64_t num, std::int64_t den) {
    if (den == 0) {
        return std::nullopt;
    }
    auto f = Fraction::make(num, den);
    return f ? std::optional<Fraction>(*f) : std::nullopt;
}

std::optional<Fraction> mul(Fraction a, Fraction b) {
    return frac(static_cast<std::int64_t>(a.num()) * b.num(), static_cast<std::int64_t>(a.den()) * b.den());
}

std::optional<Fraction> div(Fraction a, Fraction b) {
    if (b.num() == 0) {
        return std::nullopt;
    }
    return frac(static_cast<std::int64_t>(a.num()) * b.den(), static_cast<std::int64_t>(a.den()) * b.num());
}

// round(v * f)
std::int32_t scale_round(std::int32_t v, Fraction f) {
    const std::int64_t n = static_cast<std::int64_t>(v) * f.num();
    const std::int64_t r = (n + f.den() / 2) / f.den();
    return static_cast<std::int32_t>(std::clamp<std::int64_t>(r, 1, std::numeric_limits<std::int32_t>::max()));
}

std::int32_t fixed_int(const Structure& s, std::string_view field) {
    const CapsValue* v = s.get(field);
    const auto* i = v != nullptr ? v->get_if<std::int32_t>() : nullptr;
    return i != nullptr ? *i : 0;
}

// The int `field` would take if fixated nearest `target` (target itself
// when the field is absent).
std::int32_t nearest_int(const Structure& s, std::string_view field, std::int32_t target) {
    Structure tmp = s;
    fixate_field_nearest_int(tmp, field, target);
    const auto v = tmp.get_int(field);
    return v ? *v : target;
}

const FractionRange any_par = *FractionRange::make(*Fraction::make(1, std::numeric_limits<std::int32_t>::max()),
                                                   *Fraction::make(std::numeric_limits<std::int32_t>::max(), 1));

// The pixel aspect ratio the output would take if fixated nearest `target`,
// from what the caps allow (absent: anything).
Fraction nearest_par(const Structure& s, Fraction target) {
    Structure tmp = s;
    if (!tmp.has("pixel-aspect-ratio")) {
        tmp.set("pixel-aspect-ratio", any_par);
    }
    fixate_field_nearest_fraction(tmp, "pixel-aspect-ratio", target);
    const auto v = tmp.get_fraction("pixel-aspect-ratio");
    return v ? *v : target;
}

// Width, height and pixel aspect ratio of `outs` chosen for an input of
// `from_w` x `from_h` at `from_par`.
void fixate_size(Structure& outs, std::int32_t from_w, std::int32_t from_h, Fraction from_par) {
    const CapsValue* par_value = outs.get("pixel-aspect-ratio");
    const Fraction* to_par = par_value != nullptr ? par_value->get_if<Fraction>() : nullptr;
    const bool had_par = par_value != nullptr;
    const std::int32_t w = fixed_int(outs, "width");
    const std::int32_t h = fixed_int(outs, "height");
    const auto set_par = [&](Fraction par) {
        if (had_par || par.num() != par.den()) {
            outs.set("pixel-aspect-ratio", par);
        }
    };
    const auto from_size = frac(from_w, from_h);
    const auto from_dar = from_size ? mul(*from_size, from_par) : std::nullopt;
    if (w != 0 && h != 0) {
        // The size is given: the pixel aspect ratio that keeps the picture's shape.
        if (to_par == nullptr && from_dar) {
            if (auto keep = mul(*from_dar, *frac(h, w))) {
                if (had_par) {
                    fixate_field_nearest_fraction(outs, "pixel-aspect-ratio", *keep);
                } else if (keep->num() != keep->den()) {
                    outs.set("pixel-aspect-ratio", *keep);
                }
            }
        }
        return;
    }
    if (!from_dar) {
        return;
    }
    if (h != 0) {
        if (to_par != nullptr) {
            if (auto ratio = div(*from_dar, *to_par)) {
                fixate_field_nearest_int(outs, "width", scale_round(h, *ratio));
            }
            return;
        }
        // Keep the input width if allowed and adjust the pixel aspect ratio.
        const std::int32_t set_w = nearest_int(outs, "width", from_w);
        const auto want = mul(*from_dar, *frac(h, set_w));
        if (!want) {
            return;
        }
        const Fraction got = nearest_par(outs, *want);
        if (got == *want) {
            outs.set("width", set_w);
            set_par(got);
            return;
        }
        if (auto ratio = div(*from_dar, got)) {
            fixate_field_nearest_int(outs, "width", scale_round(h, *ratio));
        }
        set_par(got);
        return;
    }
    if (w != 0) {
        if (to_par != nullptr) {
            if (auto ratio = div(*to_par, *from_dar)) {
                fixate_field_nearest_int(outs, "height", scale_round(w, *ratio));
            }
            return;
        }
        const std::int32_t set_h = nearest_int(outs, "height", from_h);
        const auto want = mul(*from_dar, *frac(set_h, w));
        if (!want) {
            return;
        }
        const Fraction got = nearest_par(outs, *want);
        if (got == *want) {
            outs.set("height", set_h);
            set_par(got);
            return;
        }
        if (auto ratio = div(got, *from_dar)) {
            fixate_field_nearest_int(outs, "height", scale_round(w, *ratio));
        }
        set_par(got);
        return;
    }
    if (to_par != nullptr) {
        // Neither size given, the pixel aspect ratio is: keep the input
        // height (interlacing), else the width, else the closest shape.
        const auto ratio = div(*from_dar, *to_par); // width / height
        if (!ratio) {
            return;
        }
        const std::int32_t set_h = nearest_int(outs, "height", from_h);
        const std::int32_t want_w = scale_round(set_h, *ratio);
        Structure tmp = outs;
        tmp.set("height", set_h);
        const std::int32_t f_w = nearest_int(tmp, "width", want_w);
        if (f_w == want_w) {
            outs.set("width", f_w);
            outs.set("height", set_h);
            return;
        }
        const std::int32_t set_w = nearest_int(outs, "width", from_w);
        const std::int32_t want_h = scale_round(set_w, *frac(ratio->den(), ratio->num()));
        tmp = outs;
        tmp.set("width", set_w);
        const std::int32_t f_h = nearest_int(tmp, "height", want_h);
        if (f_h == want_h) {
            outs.set("width", set_w);
            outs.set("height", f_h);
            return;
        }
        // Whichever of the two distorts the shape less.
        const auto err = [&](std::int64_t ww, std::int64_t hh) {
            return std::abs(ww * ratio->den() - hh * ratio->num()) * 1.0 / static_cast<double>(hh);
        };
        if (err(set_w, f_h) < err(f_w, set_h)) {
            outs.set("width", set_w);
            outs.set("height", f_h);
        } else {
            outs.set("width", f_w);
            outs.set("height", set_h);
        }
        return;
    }
    // Nothing fixed: keep the input size if allowed, with the pixel aspect
    // ratio that keeps the shape; else adjust width or height.
    const std::int32_t set_h = nearest_int(outs, "height", from_h);
    Structure tmp = outs;
    tmp.set("height", set_h);
    const std::int32_t set_w = nearest_int(tmp, "width", from_w);
    const auto want = mul(*from_dar, *frac(set_h, set_w));
    if (!want) {
        return;
    }
    const Fraction got = nearest_par(outs, *want);
    if (got == *want) {
        outs.set("width", set_w);
        outs.set("height", set_h);
        set_par(got);
        return;
    }
    if (auto ratio = div(*from_dar, got)) {
        const std::int32_t want_w = scale_round(set_h, *ratio);
        tmp = outs;
        tmp.set("height", set_h);
        if (nearest_int(tmp, "width", want_w) == want_w) {
            outs.set("width", want_w);
            outs.set("height", set_h);
            set_par(got);
            return;
        }
        const std::int32_t want_h = scale_round(set_w, *frac(ratio->den(), ratio->num()));
        tmp = outs;
        tmp.set("width", set_w);
        if (nearest_int(tmp, "height", want_h) == want_h) {
            outs.set("width", set_w);
            outs.set("height", want_h);
            set_par(got);
            return;
        }
    }
    outs.set("width", set_w);
    outs.set("height", set_h);
    set_par(got);
}

class VideoScale final : public detail::VideoFilter {
public:
    static constexpr ElementInfo info{
        .factory = "videoscale",
        .klass = "Filter/Converter/Video/Scaler",
        .summary = "Resizes video",
        .description =
            "Resizes raw video of every VideoFormat (I420, YV12, NV12, NV21, YUY2, UYVY, Y42B, Y444, I420_10LE, "
            "P010_10LE, I422_10LE, Y444_10LE, I420_12LE, I422_12LE, Y444_12LE, RGB, BGR, RGBA, BGRA, ARGB, ABGR, "
            "RGBx, BGRx, GRAY8, GRAY16_LE) with nearest-neighbour, bilinear or box filtering, each plane at its "
            "own depth (10- and 12-bit samples stay within 1023 and 4095). With add-borders the display aspect ratio "
            "is kept by black borders when "
            "the output's pixel aspect ratio would distort the picture. Passes buffers through untouched when "
            "input and output caps are equal.",
        .convert_cost = 20};
    static constexpr ExecutionHints hints = ExecutionHints::cpu_intensive();
    static Caps pad_caps() { return Caps::parse_static(detail::every_video_format_caps); }

    [[nodiscard]] Caps transform_caps(const Pad&, const Pad& to, const Caps& caps) const override {
        return intersect(without_fields(caps, {"width", "height", "pixel-aspect-ratio"}), to.pad_template().caps);
    }

    [[nodiscard]] Caps fixate_caps(const Pad& pad, const Caps& caps, const Caps& reference) const override {
        if (caps.is_any() || caps.is_empty() || reference.size() != 1 || !reference.is_fixed()) {
            return SimpleTransform::fixate_caps(pad, caps, reference);
        }
        const Structure& ref = reference.structure(0);
        const auto from_w = ref.get_int("width");
        const auto from_h = ref.get_int("height");
        if (!from_w || !from_h) {
            return SimpleTransform::fixate_caps(pad, caps, reference);
        }
        const Fraction from_par = ref.get_fraction("pixel-aspect-ratio").value_or(Fraction());
        // As GStreamer: the first structure of the media type.
        for (std::size_t i = 0; i < caps.size(); ++i) {
            if (caps.structure(i).name() != ref.name() || caps.features(i) != reference.features(0)) {
                continue;
            }
            Structure outs = caps.structure(i);
            fixate_size(outs, *from_w, *from_h, from_par.num() > 0 ? from_par : *Fraction::make(1, 1));
            Caps sized;
            sized.append(std::move(outs), caps.features(i));
            return SimpleTransform::fixate_caps(pad, sized,
                                                without_fields(reference, {"width", "height", "pixel-aspect-ratio"}));
        }
        return SimpleTransform::fixate_caps(pad, caps, reference);
    }

protected:
    [[nodiscard]] bool passthrough_when_equal() const noexcept override { return true; }

    Result<void> check_property(const PropertyBase& property) override {
        if (&property != &method_ || supported(method_.get())) {
            return {};
        }
        const auto n = static_cast<int>(method_.get());
        return fail(Errc::unsupported,
                    fmt::format("{}: method {} ({}) is GStreamer's and not implemented in libparallax; use "
                                "nearest-neighbour (0), bilinear (1) or box (10)",
                                name(), detail::enum_nick(n, scale_methods), n));
    }

    Result<void> set_info(const VideoInfo& in, const VideoInfo& out) override {
        const detail::VideoRect whole{0, 0, out.width(), out.height()};
        const detail::VideoRect target = add_borders_.get() ? detail::keep_aspect_rect(in, out) : whole;
        auto scaler = detail::VideoScaler::make(in, out, static_cast<detail::VideoScaleMethod>(method_.get()), target);
        if (!scaler) {
            return fail(std::move(scaler.error()));
        }
        scaler_ = std::move(*scaler);
        return {};
    }

    void transform_frame(const VideoFrame& in, const WritableVideoFrame& out) override { scaler_->scale(in, out); }

private:
    std::unique_ptr<detail::VideoScaler> scaler_;

    Property<Method> method_{this, "method", Method::bilinear, "The scaling method", scale_methods};
    Property<bool> add_borders_{this, "add-borders", true,
                                "Add black borders if necessary to keep the display aspect ratio"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::VideoScale);
