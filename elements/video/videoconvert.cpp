// videoconvert: converts raw video between the pixel formats of VideoFormat,
// with the range and matrix of each side's colorimetry (GStreamer's
// videoconvert). The conversion itself lives in video_convert_core.

#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "video/video_convert_core.hpp"
#include "video/video_filter.hpp"

#include <memory>
#include <optional>

namespace parallax {
namespace {

// What converting `from` into `to` loses or costs, for choosing an output
// format when several would do (lower is better; 0 only for the same
// format).
int conversion_loss(const VideoFormatInfo& from, const VideoFormatInfo& to) {
    if (from.format == to.format) {
        return 0;
    }
    int loss = 1; // a pass over every pixel, even when nothing is lost (ABGR to RGBA)
    if (to.is_gray() && !from.is_gray()) {
        loss += 64; // colour lost
    }
    if (from.has_alpha && !to.has_alpha) {
        loss += 32;
    }
    if (to.depth < from.depth) {
        loss += 16 + (from.depth - to.depth); // 12 to 10 bits loses less than 12 to 8
    } else if (to.depth > from.depth) {
        loss += 2;
    }
    if (!from.is_gray() && !to.is_gray() && from.is_yuv() != to.is_yuv()) {
        loss += 8; // a matrix both ways rounds
    }
    const auto subsampling = [](const VideoFormatInfo& f) {
        return f.is_yuv() ? f.x_chroma_shift + f.y_chroma_shift : 0;
    };
    if (!to.is_gray()) {
        const int lost = subsampling(to) - subsampling(from);
        loss += lost > 0 ? 4 * lost : (lost < 0 ? 1 : 0);
    }
    if (from.n_planes != to.n_planes || from.packed != to.packed) {
        loss += 1;
    }
    return loss;
}

class VideoConvert final : public detail::VideoFilter {
public:
    static constexpr ElementInfo info{
        .factory = "videoconvert",
        .klass = "Filter/Converter/Video",
        .summary = "Converts video from one colorspace to another",
        .description =
            "Converts raw video between I420, YV12, NV12, NV21, YUY2, UYVY, Y42B, Y444, I420_10LE, P010_10LE, "
            "I422_10LE, Y444_10LE, I420_12LE, I422_12LE, Y444_12LE, RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, "
            "GRAY8 and GRAY16_LE, every pair, using the range and matrix (BT.601, BT.709, BT.2020, SMPTE 240M, FCC; "
            "limited or full) of each side's colorimetry; transfer function and primaries are carried, not "
            "converted. Exact direct paths: between 8-bit YUV layouts with the same colours (libyuv "
            "split/merge/pack; chroma repeated when upsampled, averaged when downsampled), between 8-bit RGB byte "
            "orders (libyuv shuffles), and I420_10LE <-> P010_10LE. YUV to YUV with the same colours and a depth "
            "above 8 bits on either side (10- and 12-bit to and from 8-bit, 10 <-> 12, 4:2:0/4:2:2/4:4:4) shifts "
            "each sample (limited range: 235 at 8 bits is 940 at 10 and 3760 at 12), rounding to nearest when bits "
            "are dropped, with the same chroma rule. 8-bit YUV or gray to 8-bit RGB goes through a fixed-point "
            "kernel (13-bit coefficients, AVX2 where available); every other pair through a 4:4:4 intermediate "
            "with one fixed-point matrix, rounded to nearest. Passes buffers through untouched when input and "
            "output caps are equal.",
        .convert_cost = 10};
    static constexpr ExecutionHints hints = ExecutionHints::cpu_intensive();
    static Caps pad_caps() { return Caps::parse_static(detail::every_video_format_caps); }

    [[nodiscard]] Caps transform_caps(const Pad&, const Pad& to, const Caps& caps) const override {
        return intersect(without_fields(caps, {"format", "colorimetry", "chroma-site"}), to.pad_template().caps);
    }

    [[nodiscard]] Caps fixate_caps(const Pad& pad, const Caps& caps, const Caps& reference) const override {
        if (caps.is_any() || caps.is_empty() || reference.size() != 1 || !reference.is_fixed()) {
            return SimpleTransform::fixate_caps(pad, caps, reference);
        }
        const Structure& ref = reference.structure(0);
        const auto in_name = ref.get_string("format");
        if (!in_name) {
            return SimpleTransform::fixate_caps(pad, caps, reference);
        }
        const auto in_format = video_format_from_string(*in_name);
        if (!in_format) {
            return SimpleTransform::fixate_caps(pad, caps, reference);
        }
        // The format that loses least, among the structures of this media type.
        std::optional<std::size_t> best_index;
        std::string best_format;
        int best_loss = 0;
        const VideoFormatInfo& from = video_format_info(*in_format);
        for (std::size_t i = 0; i < caps.size(); ++i) {
            const Structure& s = caps.structure(i);
            if (s.name() != ref.name() || caps.features(i) != reference.features(0)) {
                continue;
            }
            const CapsValue* v = s.get("format");
            std::vector<std::string_view> names;
            if (v == nullptr) {
                names.push_back(*in_name);
            } else if (const auto* one = v->get_if<std::string>()) {
                names.push_back(*one);
            } else {
                for (const CapsValue& item : v->list_items()) {
                    if (const auto* text = item.get_if<std::string>()) {
                        names.push_back(*text);
                    }
                }
            }
            for (std::string_view n : names) {
                auto f = video_format_from_string(n);
                if (!f) {
                    continue;
                }
                const int loss = conversion_loss(from, video_format_info(*f));
                if (!best_index || loss < best_loss) {
                    best_index = i;
                    best_format = std::string(n);
                    best_loss = loss;
                }
            }
        }
        if (!best_index) {
            return SimpleTransform::fixate_caps(pad, caps, reference);
        }
        Structure chosen = caps.structure(*best_index);
        chosen.set("format", best_format);
        Caps narrowed;
        narrowed.append(std::move(chosen), caps.features(*best_index));
        // Size, rate and the rest as the input has them; colours below.
        Caps fixed = SimpleTransform::fixate_caps(pad, narrowed,
                                                  without_fields(reference, {"format", "colorimetry", "chroma-site"}));
        if (!fixed.is_fixed() || fixed.size() != 1) {
            return fixed;
        }
        return with_input_colours(fixed, reference);
    }

protected:
    [[nodiscard]] bool passthrough_when_equal() const noexcept override { return true; }

    Result<void> set_info(const VideoInfo& in, const VideoInfo& out) override {
        auto converter = detail::VideoConverter::make(in, out);
        if (!converter) {
            return fail(std::move(converter.error()));
        }
        converter_ = std::move(*converter);
        return {};
    }

    void transform_frame(const VideoFrame& in, const WritableVideoFrame& out) override { converter_->convert(in, out); }

private:
    // GStreamer's rules for the colours of an output whose caps leave them
    // open: the input's colorimetry when both sides are YUV, RGB or gray;
    // otherwise the output's default range and matrix with the input's
    // transfer function and primaries. The chroma siting carries over
    // between YUV formats of the same subsampling.
    static Caps with_input_colours(const Caps& fixed, const Caps& reference) {
        const Structure& ref = reference.structure(0);
        Structure out = fixed.structure(0);
        auto in_info = VideoInfo::from_caps(reference);
        auto out_info = VideoInfo::from_caps(fixed);
        if (!in_info || !out_info) {
            return fixed;
        }
        const VideoFormatInfo& fi = in_info->format_info();
        const VideoFormatInfo& fo = out_info->format_info();
        if (!out.has("colorimetry") && ref.has("colorimetry")) {
            if (fi.family == fo.family) {
                out.set("colorimetry", *ref.get("colorimetry"));
            } else {
                VideoColorimetry c = out_info->colorimetry();
                c.transfer = in_info->colorimetry().transfer;
                c.primaries = in_info->colorimetry().primaries;
                if (const std::string text = c.to_string(); !text.empty()) {
                    out.set("colorimetry", text);
                }
            }
        }
        if (!out.has("chroma-site") && ref.has("chroma-site") && fi.is_yuv() && fo.is_yuv() &&
            fi.x_chroma_shift == fo.x_chroma_shift && fi.y_chroma_shift == fo.y_chroma_shift) {
            out.set("chroma-site", *ref.get("chroma-site"));
        }
        Caps result;
        result.append(std::move(out), fixed.features(0));
        return result;
    }

    std::unique_ptr<detail::VideoConverter> converter_;
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::VideoConvert);
