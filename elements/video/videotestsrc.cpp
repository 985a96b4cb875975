// videotestsrc: GStreamer's test video source. Patterns with GStreamer's
// names and numbers, drawn into any raw format that negotiation chooses,
// with colours from that format's colorimetry. The drawing is in
// videotestsrc_paint.cpp; this file is the element: properties, caps,
// timestamps, pacing.

#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_info.hpp>

#include "video/videotestsrc_paint.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace parallax {
namespace {

using detail::VtsMotion;
using detail::VtsPattern;

constexpr EnumValue patterns[] = {
    {0, "smpte", "SMPTE 100% color bars"},
    {1, "snow", "Random (television snow)"},
    {2, "black", "100% Black"},
    {3, "white", "100% White"},
    {4, "red", "Red"},
    {5, "green", "Green"},
    {6, "blue", "Blue"},
    {7, "checkers-1", "Checkers 1px"},
    {8, "checkers-2", "Checkers 2px"},
    {9, "checkers-4", "Checkers 4px"},
    {10, "checkers-8", "Checkers 8px"},
    {11, "circular", "Circular"},
    {12, "blink", "Blink"},
    {13, "smpte75", "SMPTE 75% color bars"},
    {14, "zone-plate", "Zone plate"},
    {15, "gamut", "Gamut checkers (GStreamer's; not implemented here: refused)"},
    {16, "chroma-zone-plate", "Chroma zone plate (GStreamer's; not implemented here: refused)"},
    {17, "solid-color", "Solid color"},
    {18, "ball", "Moving ball"},
    {19, "smpte100", "SMPTE 100% color bars"},
    {20, "bar", "Bar"},
    {21, "pinwheel", "Pinwheel (GStreamer's; not implemented here: refused)"},
    {22, "spokes", "Spokes (GStreamer's; not implemented here: refused)"},
    {23, "gradient", "Gradient"},
    {24, "colors", "Colors (GStreamer's; not implemented here: refused)"},
    {25, "smpte-rp-219", "SMPTE test pattern, RP 219 conformant (GStreamer's; not implemented here: refused)"},
};

enum class AnimationMode { frames = 0, wall_time = 1, running_time = 2 };

constexpr EnumValue animation_modes[] = {
    {0, "frames", "frame count"},
    {1, "wall-time", "wall clock time"},
    {2, "running-time", "running time"},
};

constexpr EnumValue motions[] = {
    {0, "wavy", "Ball waves back and forth, up and down"},
    {1, "sweep", "1 revolution per second"},
    {2, "hsweep", "1/2 revolution per second, then reset to top"},
};

constexpr std::int32_t int_max = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t int_min = std::numeric_limits<std::int32_t>::min();

// n frames at `fps` in nanoseconds, rounded down (GStreamer's
// gst_util_uint64_scale), without overflow.
ClockTime frames_to_time(std::uint64_t n, Fraction fps) {
    __extension__ using Wide = unsigned __int128;
    const Wide ns =
        static_cast<Wide>(n) * static_cast<Wide>(fps.den()) * ClockTime::ns_per_s / static_cast<Wide>(fps.num());
    const auto max = static_cast<Wide>(ClockTime::max().ns());
    return ClockTime::from_ns(static_cast<ClockTime::rep>(ns < max ? ns : max));
}

class VideoTestSrc final : public SimpleSource {
public:
    static constexpr ElementInfo info{
        .factory = "videotestsrc",
        .klass = "Source/Video",
        .summary = "Creates a test video stream",
        .description = "GStreamer's test patterns (SMPTE bars, solid colours, checkers, snow, zone plate, moving "
                       "ball...) with GStreamer's pattern names and numbers, in any raw video format negotiation "
                       "chooses, colours computed from the format's colorimetry. Without constraints it produces "
                       "320x240 at 30/1 in the first format of its list (ABGR), as GStreamer does."};

    /// Every VideoFormat, in the order of GStreamer's videotestsrc template
    /// (so that the same constraints fixate to the same format).
    static Caps pad_caps() {
        return Caps::parse_static(
            "video/x-raw, format=(string){ ABGR, BGRA, ARGB, RGBA, I420_10LE, P010_10LE, Y444, BGRx, RGBx, BGR, "
            "RGB, Y42B, UYVY, YUY2, I420, YV12, NV21, NV12, GRAY16_LE, GRAY8, I422_10LE, Y444_10LE, I420_12LE, "
            "I422_12LE, Y444_12LE }, width=(int)[ 1, 2147483647 ], "
            "height=(int)[ 1, 2147483647 ], framerate=(fraction)[ 0/1, 2147483647/1 ], "
            "pixel-aspect-ratio=(fraction)[ 1/2147483647, 2147483647/1 ]");
    }

    /// GStreamer's videotestsrc preferences for what is left open: 320x240,
    /// 30/1, square pixels, progressive; then the first of what remains
    /// (the first format of the list).
    [[nodiscard]] Caps fixate_caps(const Pad& pad, const Caps& caps, const Caps& reference) const override {
        if (caps.is_any() || caps.is_empty()) {
            return Element::fixate_caps(pad, caps, reference);
        }
        Structure s = caps.structure(0);
        fixate_field_nearest_int(s, "width", 320);
        fixate_field_nearest_int(s, "height", 240);
        if (s.has("framerate")) {
            fixate_field_nearest_fraction(s, "framerate", *Fraction::make(30, 1));
        } else {
            s.set("framerate", *Fraction::make(30, 1));
        }
        if (s.has("pixel-aspect-ratio")) {
            fixate_field_nearest_fraction(s, "pixel-aspect-ratio", *Fraction::make(1, 1));
        } else {
            s.set("pixel-aspect-ratio", *Fraction::make(1, 1));
        }
        if (s.has("colorimetry")) {
            fixate_field_string(s, "colorimetry", "bt601");
        }
        if (s.has("chroma-site")) {
            fixate_field_string(s, "chroma-site", "mpeg2");
        }
        if (s.has("interlace-mode")) {
            fixate_field_string(s, "interlace-mode", "progressive");
        } else {
            s.set("interlace-mode", std::string("progressive"));
        }
        Caps out;
        out.append(fixate(s), caps.features(0));
        return out;
    }

protected:
    /// What negotiation fixed; outside a pipeline (a harness), the same
    /// choice made from what the peer accepts.
    [[nodiscard]] Caps output_caps() const override {
        if (Caps negotiated = src_pad().negotiated_caps(); negotiated.is_fixed()) {
            return negotiated;
        }
        Caps possible = allowed_caps(src_pad());
        if (const Pad* peer = src_pad().peer()) {
            possible = intersect(possible, peer->element().allowed_caps(*peer));
        }
        if (possible.is_empty()) {
            return possible;
        }
        return fixate_caps(src_pad(), possible, Caps());
    }

    Result<void> start() override {
        painter_.reset();
        frame_ = 0;
        fps_ = Fraction();
        return SimpleSource::start();
    }

    /// Latency, as GStreamer's videotestsrc answers it: live or not, and
    /// at least one frame (a live frame is complete only at its end).
    bool query(Pad& pad, Query& q) override {
        if (q.type() != QueryType::latency) {
            return SimpleSource::query(pad, q);
        }
        ClockTime frame = ClockTime::zero();
        Caps caps = src_pad().current_caps();
        if (caps.is_empty()) {
            caps = src_pad().negotiated_caps();
        }
        if (caps.size() == 1) {
            if (auto fps = caps.structure(0).get_fraction("framerate"); fps && fps->num() > 0) {
                frame = frames_to_time(1, *fps);
            }
        }
        q.set_latency(is_live_.get(), frame, ClockTime::none());
        return true;
    }

    Result<void> check_property(const PropertyBase& property) override {
        if (&property == &pattern_ && !detail::vts_pattern_implemented(pattern_.get())) {
            std::string implemented;
            for (const EnumValue& v : patterns) {
                if (detail::vts_pattern_implemented(static_cast<VtsPattern>(v.value))) {
                    implemented += fmt::format("{}{} ({})", implemented.empty() ? "" : ", ", v.nick, v.value);
                }
            }
            const auto number = static_cast<int>(pattern_.get());
            return fail(Error(Errc::unsupported,
                              fmt::format("property \"pattern\" of {}: pattern \"{}\" ({}) exists in GStreamer but "
                                          "this videotestsrc does not draw it; it draws: {}",
                                          name(), pattern_.value_string(), number, implemented))
                            .at_element(name()));
        }
        return {};
    }

    Flow create(Buffer& out, SourceContext& ctx) override {
        if (!painter_) {
            if (const Flow f = configure(ctx); f != Flow::ok) {
                return f;
            }
        }
        const std::int32_t limit = num_buffers_.get();
        if (limit >= 0 && frame_ >= static_cast<std::uint64_t>(limit)) {
            return Flow::eos;
        }
        const bool still = fps_.num() == 0;
        if (still && frame_ > 0) {
            // A frame rate of 0/1 is a still picture: one frame, as in GStreamer.
            return Flow::eos;
        }
        const ClockTime at = still ? ClockTime::zero() : frames_to_time(frame_, fps_);
        if (is_live_.get()) {
            // A live source delivers each frame when its time has come.
            if (const Flow f = ctx.wait_until(at); f != Flow::ok) {
                return f;
            }
        }
        auto buffer = ctx.allocate(painter_->info().size());
        if (!buffer) {
            return ctx.error(std::move(buffer.error()));
        }
        auto bytes = buffer->map_writable();
        if (!bytes) {
            return ctx.error(std::move(bytes.error()));
        }
        painter_->paint(bytes->first(painter_->info().size()), frame_params(ctx, at));

        Metadata& m = buffer->meta();
        m.set_pts(ClockTime::from_ns(static_cast<ClockTime::rep>(timestamp_offset_.get())) + at);
        m.set_duration(still ? ClockTime::none() : frames_to_time(frame_ + 1, fps_) - at);
        m.set_sequence(frame_);
        if (frame_ == 0) {
            m.set_flag(BufferFlags::discont);
        }
        if (is_live_.get()) {
            m.set_flag(BufferFlags::live);
        }
        ++frame_;
        out = std::move(*buffer);
        return Flow::ok;
    }

private:
    // Reads the caps sent downstream (output_caps()) once per run.
    Flow configure(SourceContext& ctx) {
        const Caps caps = src_pad().current_caps();
        if (caps.is_empty()) {
            return ctx.error(
                Error(Errc::not_negotiated, fmt::format("{}: no caps to produce", name())).at_element(name()));
        }
        auto video = VideoInfo::from_caps(caps);
        if (!video) {
            return ctx.error(std::move(video.error()).at_element(name()));
        }
        painter_.emplace(*video);
        fps_ = video->framerate();
        return Flow::ok;
    }

    detail::VtsFrameParams frame_params(const SourceContext& ctx, ClockTime at) const {
        detail::VtsFrameParams p;
        p.pattern = pattern_.get();
        p.foreground = foreground_.get();
        p.background = background_.get();
        p.frame = frame_;
        p.motion = motion_.get();
        p.flip = flip_.get();
        // speed * frame modulo the width, without overflow.
        const auto w = static_cast<std::int64_t>(painter_->info().width());
        const std::int64_t speed = ((horizontal_speed_.get() % w) + w) % w;
        p.scroll = speed * static_cast<std::int64_t>(frame_ % static_cast<std::uint64_t>(w)) % w;
        switch (animation_mode_.get()) {
        case AnimationMode::frames:
            p.seconds = static_cast<double>(at.ns()) / 1e9;
            break;
        case AnimationMode::running_time: {
            const ClockTime now = ctx.running_time();
            p.seconds = now.is_none() ? 0.0 : static_cast<double>(now.ns()) / 1e9;
            break;
        }
        case AnimationMode::wall_time:
            p.seconds = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
            break;
        }
        p.zone_plate = {k0_.get(),  kx_.get(),  ky_.get(),  kt_.get(),  kxt_.get(),     kyt_.get(),
                        kxy_.get(), kx2_.get(), ky2_.get(), kt2_.get(), xoffset_.get(), yoffset_.get()};
        return p;
    }

    std::optional<detail::VtsPainter> painter_;
    std::uint64_t frame_ = 0;
    Fraction fps_;

    Property<VtsPattern> pattern_{this,     "pattern",          VtsPattern::smpte, "Type of test pattern to generate",
                                  patterns, Mutability::running};
    Property<std::int32_t> num_buffers_{
        this, "num-buffers", -1, "Number of buffers to output before sending EOS (-1 = unlimited)", {-1, int_max}};
    Property<bool> is_live_{this, "is-live", false,
                            "Whether to act as a live source: each frame leaves when the pipeline clock reaches its "
                            "time"};
    Property<std::int64_t> timestamp_offset_{this,
                                             "timestamp-offset",
                                             0,
                                             "An offset added to timestamps set on buffers (in ns)",
                                             {0, std::numeric_limits<std::int64_t>::max()}};
    Property<std::uint32_t> foreground_{
        this, "foreground-color", 0xffffffff, "Foreground color to use (big-endian ARGB)", {}, Mutability::running};
    Property<std::uint32_t> background_{
        this, "background-color", 0xff000000, "Background color to use (big-endian ARGB)", {}, Mutability::running};
    Property<std::int32_t> horizontal_speed_{this,
                                             "horizontal-speed",
                                             0,
                                             "Scroll image number of pixels per frame (positive is scroll to the left)",
                                             {int_min, int_max},
                                             Mutability::running};
    Property<AnimationMode> animation_mode_{this,
                                            "animation-mode",
                                            AnimationMode::frames,
                                            "For pattern=ball, which counter defines the position of the ball",
                                            animation_modes,
                                            Mutability::running};
    Property<VtsMotion> motion_{
        this, "motion", VtsMotion::wavy, "For pattern=ball, what motion the ball does", motions, Mutability::running};
    Property<bool> flip_{this, "flip", false, "For pattern=ball, invert colors every second.", Mutability::running};
    Property<std::int32_t> k0_{this,
                               "k0",
                               0,
                               "Zoneplate zero order phase, for generating plain fields or phase offsets",
                               {int_min, int_max},
                               Mutability::running};
    Property<std::int32_t> kx_{this,
                               "kx",
                               0,
                               "Zoneplate 1st order x phase, for generating constant horizontal frequencies",
                               {int_min, int_max},
                               Mutability::running};
    Property<std::int32_t> ky_{this,
                               "ky",
                               0,
                               "Zoneplate 1st order y phase, for generating content vertical frequencies",
                               {int_min, int_max},
                               Mutability::running};
    Property<std::int32_t> kt_{this,
                               "kt",
                               0,
                               "Zoneplate 1st order t phase, for generating phase rotation as a function of time",
                               {int_min, int_max},
                               Mutability::running};
    Property<std::int32_t> kxt_{this, "kxt", 0, "Zoneplate x*t product phase", {int_min, int_max}, Mutability::running};
    Property<std::int32_t> kyt_{this, "kyt", 0, "Zoneplate y*t product phase", {int_min, int_max}, Mutability::running};
    Property<std::int32_t> kxy_{this, "kxy", 0, "Zoneplate x*y product phase", {int_min, int_max}, Mutability::running};
    Property<std::int32_t> kx2_{this,
                                "kx2",
                                0,
                                "Zoneplate 2nd order x phase, normalised to kx2/256 cycles per horizontal pixel at "
                                "width/2 from origin",
                                {int_min, int_max},
                                Mutability::running};
    Property<std::int32_t> ky2_{this,
                                "ky2",
                                0,
                                "Zoneplate 2nd order y phase, normalised to ky2/256 cycles per vertical pixel at "
                                "height/2 from origin",
                                {int_min, int_max},
                                Mutability::running};
    Property<std::int32_t> kt2_{this,
                                "kt2",
                                0,
                                "Zoneplate 2nd order t phase, t*t/256 cycles per picture",
                                {int_min, int_max},
                                Mutability::running};
    Property<std::int32_t> xoffset_{
        this, "xoffset", 0, "Zoneplate 2nd order products x offset", {int_min, int_max}, Mutability::running};
    Property<std::int32_t> yoffset_{
        this, "yoffset", 0, "Zoneplate 2nd order products y offset", {int_min, int_max}, Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::VideoTestSrc);
