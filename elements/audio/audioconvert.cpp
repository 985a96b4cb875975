// audioconvert: converts raw audio between sample formats, layouts and
// channel layouts (GStreamer's audioconvert, with its properties).
//
// Samples go through double precision (float where that is exact and
// enough: U8, S16LE and F32LE among themselves), are mixed by a matrix
// (rows: output channels, columns: input channels) built from the channel
// masks, and are written with clipping, rounding and optional dither. The
// matrix and its rules are documented in docs/guide/audio.md.

#include <parallax/audio/audio_info.hpp>
#include <parallax/audio/audio_samples.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>

#include "audio/audio_caps.hpp"
#include "audio/sample_codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <numbers>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace parallax {
namespace {

using Pos = AudioChannelPosition;

enum class DitherMethod { none = 0, rpdf = 1, tpdf = 2, tpdf_hf = 3 };
enum class NoiseShaping { none = 0, error_feedback = 1, simple = 2, medium = 3, high = 4 };

constexpr EnumValue dither_methods[] = {
    {0, "none", "No dithering"},
    {1, "rpdf", "Rectangular dithering: uniform noise of +-0.5 LSB"},
    {2, "tpdf", "Triangular dithering: the sum of two uniform noises, +-1 LSB"},
    {3, "tpdf-hf", "High-frequency triangular dithering: the difference of successive uniform noises"},
};
constexpr EnumValue noise_shapings[] = {
    {0, "none", "No noise shaping"},
    {1, "error-feedback", "Error feedback (not implemented: refused)"},
    {2, "simple", "Simple 2-pole noise shaping (not implemented: refused)"},
    {3, "medium", "Medium 5-pole noise shaping (not implemented: refused)"},
    {4, "high", "High 8-pole noise shaping (not implemented: refused)"},
};

constexpr std::size_t block_frames = 256;
constexpr double minus_3db = std::numbers::sqrt2 / 2;

// --- the mixing matrix ------------------------------------------------------

// Every left position and its right-hand twin.
constexpr std::pair<Pos, Pos> left_right_pairs[] = {
    {Pos::front_left, Pos::front_right},         {Pos::front_left_of_center, Pos::front_right_of_center},
    {Pos::rear_left, Pos::rear_right},           {Pos::side_left, Pos::side_right},
    {Pos::top_front_left, Pos::top_front_right}, {Pos::top_rear_left, Pos::top_rear_right},
    {Pos::top_side_left, Pos::top_side_right},   {Pos::wide_left, Pos::wide_right},
    {Pos::surround_left, Pos::surround_right},   {Pos::bottom_front_left, Pos::bottom_front_right},
};

// The mirror image of a position (left <-> right); centre positions map to
// themselves.
Pos mirror(Pos p) {
    for (const auto& [left, right] : left_right_pairs) {
        if (p == left) {
            return right;
        }
        if (p == right) {
            return left;
        }
    }
    return p;
}

bool is_right(Pos p) {
    return std::any_of(std::begin(left_right_pairs), std::end(left_right_pairs),
                       [p](const auto& pair) { return pair.second == p; });
}

struct Target {
    Pos to;
    double gain;
};
using Group = std::vector<Target>;

// Where input position `p` goes when the output lacks it: the first group
// whose positions the output all has. Written for the left side and the
// centre; right positions use the mirror image.
std::vector<Group> fold_rules(Pos p) {
    if (is_right(p)) {
        std::vector<Group> rules = fold_rules(mirror(p));
        for (Group& g : rules) {
            for (Target& t : g) {
                t.to = mirror(t.to);
            }
        }
        return rules;
    }
    switch (p) {
    case Pos::mono:
        return {{{Pos::front_left, 1.0}, {Pos::front_right, 1.0}}, {{Pos::front_center, 1.0}}};
    case Pos::front_left:
        return {{{Pos::front_center, minus_3db}}};
    case Pos::front_center:
        return {{{Pos::front_left, minus_3db}, {Pos::front_right, minus_3db}}};
    case Pos::front_left_of_center:
    case Pos::wide_left:
    case Pos::bottom_front_left:
        return {{{Pos::front_left, 1.0}}, {{Pos::front_center, minus_3db}}};
    case Pos::rear_left:
        return {{{Pos::side_left, 1.0}}, {{Pos::surround_left, 1.0}}, {{Pos::front_left, minus_3db}}};
    case Pos::side_left:
        return {{{Pos::rear_left, 1.0}}, {{Pos::surround_left, 1.0}}, {{Pos::front_left, minus_3db}}};
    case Pos::surround_left:
        return {{{Pos::side_left, 1.0}}, {{Pos::rear_left, 1.0}}, {{Pos::front_left, minus_3db}}};
    case Pos::top_front_left:
        return {{{Pos::front_left, minus_3db}}};
    case Pos::top_side_left:
        return {{{Pos::side_left, minus_3db}}, {{Pos::rear_left, minus_3db}}, {{Pos::front_left, 0.5}}};
    case Pos::top_rear_left:
        return {{{Pos::rear_left, minus_3db}}, {{Pos::side_left, minus_3db}}, {{Pos::front_left, 0.5}}};
    case Pos::rear_center:
        return {{{Pos::rear_left, minus_3db}, {Pos::rear_right, minus_3db}},
                {{Pos::side_left, minus_3db}, {Pos::side_right, minus_3db}},
                {{Pos::front_left, minus_3db}, {Pos::front_right, minus_3db}}};
    case Pos::top_rear_center:
        return {{{Pos::rear_left, 0.5}, {Pos::rear_right, 0.5}},
                {{Pos::side_left, 0.5}, {Pos::side_right, 0.5}},
                {{Pos::front_left, 0.5}, {Pos::front_right, 0.5}}};
    case Pos::top_center:
    case Pos::top_front_center:
    case Pos::bottom_front_center:
        return {{{Pos::front_center, minus_3db}}, {{Pos::front_left, 0.5}, {Pos::front_right, 0.5}}};
    case Pos::lfe1:
        return {{{Pos::lfe2, 1.0}}};
    case Pos::lfe2:
        return {{{Pos::lfe1, 1.0}}};
    default:
        return {};
    }
}

// The automatic matrix for positioned channels (see docs/guide/audio.md).
std::vector<double> positioned_matrix(const std::vector<Pos>& in, const std::vector<Pos>& out) {
    const std::size_t ni = in.size();
    const std::size_t no = out.size();
    std::vector<double> m(no * ni, 0.0);
    const auto index_of = [&](Pos p) -> std::optional<std::size_t> {
        for (std::size_t o = 0; o < no; ++o) {
            if (out[o] == p) {
                return o;
            }
        }
        return std::nullopt;
    };
    for (std::size_t c = 0; c < ni; ++c) {
        const Pos p = in[c];
        if (auto o = index_of(p)) {
            m[*o * ni + c] += 1.0;
            continue;
        }
        if (p == Pos::lfe1 || p == Pos::lfe2) {
            if (auto o = index_of(p == Pos::lfe1 ? Pos::lfe2 : Pos::lfe1)) {
                m[*o * ni + c] += 1.0;
            }
            continue; // no LFE output: dropped, as ITU-R BS.775 downmixes do
        }
        bool placed = false;
        for (const Group& g : fold_rules(p)) {
            if (std::all_of(g.begin(), g.end(), [&](const Target& t) { return index_of(t.to).has_value(); })) {
                for (const Target& t : g) {
                    m[*index_of(t.to) * ni + c] += t.gain;
                }
                placed = true;
                break;
            }
        }
        if (placed) {
            continue;
        }
        // Nothing fits: into the front pair, else the centre, else evenly
        // into every output.
        if (auto l = index_of(Pos::front_left), r = index_of(Pos::front_right); l && r) {
            m[*l * ni + c] += 0.5;
            m[*r * ni + c] += 0.5;
        } else if (auto fc = index_of(Pos::front_center)) {
            m[*fc * ni + c] += 1.0;
        } else {
            for (std::size_t o = 0; o < no; ++o) {
                m[o * ni + c] += 1.0 / static_cast<double>(no);
            }
        }
    }
    return m;
}

// The automatic matrix from `in` to `out`.
std::vector<double> auto_matrix(const AudioInfo& in, const AudioInfo& out) {
    const std::size_t ni = in.channels();
    const std::size_t no = out.channels();
    std::vector<double> m(no * ni, 0.0);
    if (in.channel_mask() == out.channel_mask() && ni == no) {
        for (std::size_t i = 0; i < ni; ++i) {
            m[i * ni + i] = 1.0;
        }
        return m;
    }
    std::vector<Pos> pin = in.positions();
    std::vector<Pos> pout = out.positions();
    // Unpositioned channels: one to one when the counts agree; otherwise
    // read as the default layout of their count (up to 8 channels); beyond
    // that, channel i to channel i.
    if (in.is_unpositioned() || out.is_unpositioned()) {
        const auto as_default = [](std::vector<Pos>& p, std::uint32_t channels) {
            if (channels > 8) {
                return false;
            }
            p = audio_channel_positions(audio_default_channel_mask(channels), channels);
            return true;
        };
        if (ni == no || (in.is_unpositioned() && !as_default(pin, in.channels())) ||
            (out.is_unpositioned() && !as_default(pout, out.channels()))) {
            for (std::size_t i = 0; i < std::min(ni, no); ++i) {
                m[i * ni + i] = 1.0;
            }
            return m;
        }
    }
    if (no == 1 && pout[0] == Pos::mono) {
        // Mono out: a single channel in goes straight through; anything
        // else is downmixed to a virtual stereo pair whose halves are
        // averaged (0.5 L + 0.5 R), which cannot clip.
        const std::vector<Pos> stereo{Pos::front_left, Pos::front_right};
        const std::vector<double> s = positioned_matrix(pin, stereo);
        for (std::size_t c = 0; c < ni; ++c) {
            m[c] = ni == 1 ? 1.0 : 0.5 * (s[c] + s[ni + c]);
        }
    } else {
        m = positioned_matrix(pin, pout);
    }
    // Normalise so that no output can exceed full scale when every input
    // is at full scale.
    double peak = 0;
    for (std::size_t o = 0; o < no; ++o) {
        double sum = 0;
        for (std::size_t c = 0; c < ni; ++c) {
            sum += std::abs(m[o * ni + c]);
        }
        peak = std::max(peak, sum);
    }
    if (peak > 1.0) {
        for (double& x : m) {
            x /= peak;
        }
    }
    return m;
}

// Reads GStreamer's mix-matrix text, `<<1, 0>, <0, 1>>` (values may carry
// a `(float)` or `(double)` type): rows are output channels, columns input
// channels. `<>` or an empty text: no matrix.
struct MixMatrix {
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<double> values;
};

Result<std::optional<MixMatrix>> parse_mix_matrix(std::string_view text) {
    std::string t;
    for (char c : text) {
        if (c != ' ' && c != '\t' && c != '\n') {
            t += c;
        }
    }
    for (std::string_view cast : {"(float)", "(double)", "(gfloat)", "(gdouble)"}) {
        for (auto at = t.find(cast); at != std::string::npos; at = t.find(cast)) {
            t.erase(at, cast.size());
        }
    }
    if (t.empty() || t == "<>") {
        return std::optional<MixMatrix>();
    }
    const auto bad = [&](std::string_view why) {
        return fail(Errc::invalid_argument,
                    fmt::format("mix-matrix '{}' is not a matrix such as <<1, 0>, <0, 1>>: {}", text, why));
    };
    if (t.size() < 4 || t.front() != '<' || t.back() != '>') {
        return bad("it must be rows in < >, inside < >");
    }
    MixMatrix mm;
    std::size_t i = 1;
    while (i < t.size() - 1) {
        if (t[i] != '<') {
            return bad("expected '<' to open a row");
        }
        const std::size_t close = t.find('>', i);
        if (close == std::string::npos) {
            return bad("a row is not closed");
        }
        std::vector<double> row;
        std::string_view body(t.data() + i + 1, close - i - 1);
        while (!body.empty()) {
            const std::size_t comma = body.find(',');
            std::string_view item = body.substr(0, comma);
            double v = 0;
            auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
            if (ec != std::errc() || end != item.data() + item.size() || !std::isfinite(v)) {
                return bad(fmt::format("'{}' is not a number", item));
            }
            row.push_back(v);
            body = comma == std::string_view::npos ? std::string_view() : body.substr(comma + 1);
        }
        if (row.empty()) {
            return bad("a row is empty");
        }
        if (mm.rows > 0 && row.size() != mm.cols) {
            return bad("rows differ in length");
        }
        mm.cols = row.size();
        ++mm.rows;
        mm.values.insert(mm.values.end(), row.begin(), row.end());
        i = close + 1;
        if (i < t.size() - 1) {
            if (t[i] != ',') {
                return bad("expected ',' between rows");
            }
            ++i;
        }
    }
    if (i != t.size() - 1) {
        return bad("the matrix is not closed");
    }
    if (mm.rows == 0) {
        return std::optional<MixMatrix>();
    }
    if (mm.rows > audio_max_channels || mm.cols > audio_max_channels) {
        return bad(fmt::format("more than {} rows or columns", audio_max_channels));
    }
    return std::optional<MixMatrix>(std::move(mm));
}

// The format of `candidates` (a list or a single value) nearest `reference`:
// the smallest depth that loses nothing, integer or float as the reference,
// else the deepest.
std::optional<std::string> nearest_format(const CapsValue& candidates, AudioFormat reference) {
    std::vector<AudioFormat> formats;
    const auto consider = [&](const CapsValue& v) {
        if (const auto* s = v.get_if<std::string>()) {
            if (auto f = audio_format_from_string(*s)) {
                formats.push_back(*f);
            }
        }
    };
    if (candidates.list_items().empty()) {
        consider(candidates);
    } else {
        for (const CapsValue& v : candidates.list_items()) {
            consider(v);
        }
    }
    if (formats.empty()) {
        return std::nullopt;
    }
    const AudioFormatInfo& ref = audio_format_info(reference);
    const auto score = [&](AudioFormat f) {
        const AudioFormatInfo& i = audio_format_info(f);
        const int loses = i.depth < ref.depth ? 1 : 0;
        // Lossless first, shallowest of those; lossy: deepest first.
        const int depth = loses != 0 ? 256 - i.depth : i.depth;
        const int kind = i.is_float == ref.is_float ? 0 : 1;
        return std::tuple(loses, depth, kind);
    };
    const AudioFormat best = *std::min_element(formats.begin(), formats.end(),
                                               [&](AudioFormat a, AudioFormat b) { return score(a) < score(b); });
    return std::string(to_string(best));
}

class AudioConvert final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "audioconvert",
        .klass = "Filter/Converter/Audio",
        .summary = "Convert audio to different formats",
        .description = "Converts between the raw formats U8, S16LE, S32LE, F32LE and F64LE, interleaved and "
                       "non-interleaved layouts, and channel layouts (up- and downmixing by a matrix from the "
                       "channel masks, or mix-matrix), with clipping and TPDF dither when the depth is reduced. "
                       "Negotiation inserts it where formats or channels disagree.",
        .convert_cost = 5};

    static Caps pad_caps() {
        return Caps::parse_static("audio/x-raw, format=(string){ F64LE, F32LE, S32LE, S16LE, U8 }, "
                                  "layout=(string){ interleaved, non-interleaved }, rate=(int)[ 1, 2147483647 ], "
                                  "channels=(int)[ 1, 64 ]");
    }

    // Format, layout and channels may change; the rate may not. With a
    // mix-matrix, the channel counts are its dimensions.
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad&, const Caps& caps) const override {
        Caps open = without_fields(caps, {"format", "layout", "channels", "channel-mask"});
        auto matrix = parse_mix_matrix(mix_matrix_.get());
        if (!matrix || !*matrix || open.is_any() || open.is_empty()) {
            return open;
        }
        const bool downstream = from.direction() == PadDirection::sink;
        const auto channels = static_cast<std::int32_t>(downstream ? (*matrix)->rows : (*matrix)->cols);
        Caps out;
        for (std::size_t i = 0; i < open.size(); ++i) {
            Structure s = open.structure(i);
            s.set("channels", channels);
            out.append(std::move(s), open.features(i));
        }
        return out;
    }

    // Keeps what the input has wherever the output allows it; otherwise the
    // nearest format, interleaved, the nearest channel count with its
    // default channel mask.
    [[nodiscard]] Caps fixate_caps(const Pad& pad, const Caps& caps, const Caps& reference) const override {
        if (caps.is_any() || caps.is_empty()) {
            return caps;
        }
        Structure s = caps.structure(0);
        const Structure* ref =
            reference.size() == 1 && reference.structure(0).name() == s.name() ? &reference.structure(0) : nullptr;
        if (ref == nullptr) {
            return Element::fixate_caps(pad, caps, reference);
        }
        const auto keep = [&](std::string_view field) {
            const CapsValue* r = ref->get(field);
            if (r == nullptr || !r->is_fixed()) {
                return false;
            }
            const CapsValue* v = s.get(field);
            if (v == nullptr || is_subset(*r, *v)) {
                s.set(field, *r);
                return true;
            }
            return false;
        };
        keep("rate");
        if (!keep("format")) {
            const auto ref_format = ref->get_string("format");
            const CapsValue* options = s.get("format");
            if (ref_format && options != nullptr) {
                if (auto f = audio_format_from_string(*ref_format)) {
                    if (auto best = nearest_format(*options, *f)) {
                        s.set("format", *best);
                    }
                }
            }
        }
        if (!keep("layout")) {
            fixate_field_string(s, "layout", "interleaved");
        }
        if (keep("channels")) {
            keep("channel-mask");
        } else if (auto c = ref->get_int("channels")) {
            fixate_field_nearest_int(s, "channels", *c);
        }
        return detail::fixated_audio_caps(s, caps.features(0));
    }

protected:
    // Equal caps need no work unless a mix-matrix says otherwise.
    [[nodiscard]] bool passthrough_when_equal() const noexcept override { return identity_; }

    Result<void> check_property(const PropertyBase& property) override {
        if (&property == &mix_matrix_) {
            if (auto m = parse_mix_matrix(mix_matrix_.get()); !m) {
                return fail(Errc::invalid_argument,
                            fmt::format("property 'mix-matrix' of element '{}': {}", name(), m.error().message()));
            }
        } else if (&property == &noise_shaping_ && noise_shaping_.get() != NoiseShaping::none) {
            return fail(Errc::unsupported, fmt::format("property 'noise-shaping' of element '{}': only 'none' is "
                                                       "implemented",
                                                       name()));
        }
        return {};
    }

    Result<void> set_caps(const Caps& in_caps, const Caps& out_caps) override {
        auto infos = detail::audio_infos_from_caps(in_caps, out_caps);
        if (!infos) {
            return fail(std::move(infos.error()));
        }
        const AudioInfo& in = infos->in;
        const AudioInfo& out = infos->out;
        if (in.rate() != out.rate()) {
            return fail(Errc::not_negotiated, fmt::format("audioconvert does not change the rate ({} Hz to {} Hz): "
                                                          "add audioresample",
                                                          in.rate(), out.rate()));
        }
        auto matrix = parse_mix_matrix(mix_matrix_.get());
        if (!matrix) {
            return fail(matrix.error());
        }
        std::vector<double> m;
        if (*matrix) {
            if ((*matrix)->rows != out.channels() || (*matrix)->cols != in.channels()) {
                return fail(Errc::not_negotiated,
                            fmt::format("mix-matrix is {}x{} (rows: output channels, columns: input channels) but "
                                        "the caps have {} input and {} output channels",
                                        (*matrix)->rows, (*matrix)->cols, in.channels(), out.channels()));
            }
            m = (*matrix)->values;
        } else {
            m = auto_matrix(in, out);
        }
        configure(in, out, std::move(m));
        return {};
    }

    Flow transform(Buffer& buffer, TransformContext& ctx) override {
        if (!in_) {
            return ctx.error(Error(Errc::not_negotiated, "no caps before the first buffer"));
        }
        auto in = AudioSamples::map(*in_, buffer);
        if (!in) {
            return ctx.error(std::move(in.error()));
        }
        const std::size_t frames = in->frames();
        auto made = ctx.allocate(frames * out_->bytes_per_frame());
        if (!made) {
            return ctx.error(made.error());
        }
        Buffer out = std::move(*made);
        if (frames > 0) {
            auto bytes = out.map_writable();
            if (!bytes) {
                return ctx.error(bytes.error());
            }
            convert(in->data().data(), bytes->data(), frames);
        }
        out.meta() = buffer.meta();
        if (buffer.meta().has_byte_offset()) {
            out.meta().set_byte_offset(buffer.meta().byte_offset() / in_->bytes_per_frame() * out_->bytes_per_frame());
        }
        buffer = std::move(out);
        return Flow::ok;
    }

private:
    void configure(const AudioInfo& in, const AudioInfo& out, std::vector<double> matrix) {
        in_ = in;
        out_ = out;
        matrix_ = std::move(matrix);
        const std::size_t ni = in.channels();
        const std::size_t no = out.channels();
        identity_ = ni == no;
        source_.assign(no, -1);
        simple_ = true; // every output row is one input at gain 1, or silence
        for (std::size_t o = 0; o < no; ++o) {
            int nonzero = 0;
            for (std::size_t c = 0; c < ni; ++c) {
                const double g = matrix_[o * ni + c];
                if (g != 0.0) {
                    ++nonzero;
                    source_[o] = g == 1.0 ? static_cast<int>(c) : -2;
                }
                if (g != (o == c ? 1.0 : 0.0)) {
                    identity_ = false;
                }
            }
            if (nonzero > 1 || source_[o] == -2) {
                simple_ = false;
            }
        }
        const AudioFormatInfo& fi = in.format_info();
        const AudioFormatInfo& fo = out.format_info();
        const DitherMethod method = dithering_.get();
        dither_ = fo.is_integer() && method != DitherMethod::none && fo.depth <= dithering_threshold_.get() &&
                  (fi.is_float || fi.depth > fo.depth);
        method_ = method;
        rng_ = detail::FastRandom(0x1234567U);
        hf_prev_.assign(no, 0.0);
        flat_ = identity_ && !dither_ && in.layout() == out.layout() ? detail::convert_run_fn(in.format(), out.format())
                                                                     : nullptr;
        unpack_ = detail::unpack_fn(in.format());
        pack_ = detail::pack_fn(out.format());
        work_in_.assign(ni * block_frames, 0.0);
        work_out_.assign(no * block_frames, 0.0);
        dither_values_.assign(block_frames, 0.0);
    }

    void convert(const std::byte* in, std::byte* out, std::size_t frames) {
        const AudioInfo& a = *in_;
        const AudioInfo& b = *out_;
        if (flat_ != nullptr) {
            if (a.layout() == AudioLayout::interleaved) {
                flat_(in, out, frames * a.channels());
            } else {
                for (std::size_t c = 0; c < a.channels(); ++c) {
                    flat_(in + c * frames * a.sample_size(), out + c * frames * b.sample_size(), frames);
                }
            }
            return;
        }
        const std::size_t ni = a.channels();
        const std::size_t no = b.channels();
        const bool in_interleaved = a.layout() == AudioLayout::interleaved;
        const bool out_interleaved = b.layout() == AudioLayout::interleaved;
        const std::size_t in_frame_step = in_interleaved ? a.bytes_per_frame() : a.sample_size();
        const std::size_t in_chan_step = in_interleaved ? a.sample_size() : frames * a.sample_size();
        const std::size_t out_frame_step = out_interleaved ? b.bytes_per_frame() : b.sample_size();
        const std::size_t out_chan_step = out_interleaved ? b.sample_size() : frames * b.sample_size();
        for (std::size_t f0 = 0; f0 < frames; f0 += block_frames) {
            const std::size_t n = std::min(block_frames, frames - f0);
            for (std::size_t c = 0; c < ni; ++c) {
                unpack_(in + c * in_chan_step + f0 * in_frame_step, in_frame_step, &work_in_[c * block_frames], n);
            }
            for (std::size_t o = 0; o < no; ++o) {
                const double* row = mix_row(o, n);
                const double* dither = nullptr;
                if (dither_) {
                    fill_dither(o, n);
                    dither = dither_values_.data();
                }
                pack_(row, out + o * out_chan_step + f0 * out_frame_step, out_frame_step, n, dither);
            }
        }
    }

    // Output channel `o` of the current block.
    const double* mix_row(std::size_t o, std::size_t n) {
        const std::size_t ni = in_->channels();
        if (simple_) {
            if (source_[o] >= 0) {
                return &work_in_[static_cast<std::size_t>(source_[o]) * block_frames];
            }
            double* silent = &work_out_[o * block_frames];
            std::fill(silent, silent + n, 0.0);
            return silent;
        }
        double* acc = &work_out_[o * block_frames];
        std::fill(acc, acc + n, 0.0);
        for (std::size_t c = 0; c < ni; ++c) {
            const double g = matrix_[o * ni + c];
            if (g == 0.0) {
                continue;
            }
            const double* x = &work_in_[c * block_frames];
            for (std::size_t i = 0; i < n; ++i) {
                acc[i] += g * x[i];
            }
        }
        return acc;
    }

    void fill_dither(std::size_t channel, std::size_t n) {
        double* d = dither_values_.data();
        switch (method_) {
        case DitherMethod::none:
            std::fill(d, d + n, 0.0);
            break;
        case DitherMethod::rpdf:
            for (std::size_t i = 0; i < n; ++i) {
                d[i] = rng_.uniform() - 0.5;
            }
            break;
        case DitherMethod::tpdf:
            for (std::size_t i = 0; i < n; ++i) {
                d[i] = rng_.uniform() + rng_.uniform() - 1.0;
            }
            break;
        case DitherMethod::tpdf_hf: {
            double prev = hf_prev_[channel];
            for (std::size_t i = 0; i < n; ++i) {
                const double r = rng_.uniform() - 0.5;
                d[i] = r - prev;
                prev = r;
            }
            hf_prev_[channel] = prev;
            break;
        }
        }
    }

    std::optional<AudioInfo> in_;
    std::optional<AudioInfo> out_;
    std::vector<double> matrix_;
    std::vector<int> source_;
    bool identity_ = true;
    bool simple_ = true;
    bool dither_ = false;
    DitherMethod method_ = DitherMethod::tpdf;
    detail::FastRandom rng_;
    std::vector<double> hf_prev_;
    detail::ConvertRunFn flat_ = nullptr;
    detail::UnpackFn unpack_ = nullptr;
    detail::PackFn pack_ = nullptr;
    std::vector<double> work_in_;
    std::vector<double> work_out_;
    std::vector<double> dither_values_;

    Property<DitherMethod> dithering_{this, "dithering", DitherMethod::tpdf,
                                      "Selects between different dithering methods.", dither_methods};
    Property<std::uint32_t> dithering_threshold_{
        this,
        "dithering-threshold",
        20,
        "Threshold for the output bit depth at/below which to apply dithering.",
        {0, 32}};
    Property<NoiseShaping> noise_shaping_{this, "noise-shaping", NoiseShaping::none,
                                          "Selects between different noise shaping methods (only none is "
                                          "implemented).",
                                          noise_shapings};
    Property<std::string> mix_matrix_{this, "mix-matrix", "",
                                      "Transformation matrix for input/output channels, rows are output channels: "
                                      "<<1, 0>, <0, 1>> (empty: from the channel masks)"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::AudioConvert);
