// videoflip: rotates and mirrors raw video by multiples of 90 degrees, as
// GStreamer's videoflip (method=, video-direction=, automatic from the
// image-orientation tag). libyuv does the planes it has kernels for (8-bit
// planes, 16-bit planes, 4-byte pixels); a per-sample path does the rest.

#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "video/video_filter.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <libyuv.h>
#include <limits>
#include <optional>
#include <string_view>

namespace parallax {
namespace {

// GStreamer's GstVideoOrientationMethod; GstVideoFlipMethod has the same
// numbers for 0-8.
enum class Orientation : int {
    identity = 0,
    rotate_90r = 1,
    rotate_180 = 2,
    rotate_90l = 3,
    horizontal = 4,
    vertical = 5,
    ul_lr = 6,
    ur_ll = 7,
    automatic = 8,
    custom = 9,
};

constexpr EnumValue method_values[] = {
    {0, "none", "Identity (no rotation)"},
    {1, "clockwise", "Rotate clockwise 90 degrees"},
    {2, "rotate-180", "Rotate 180 degrees"},
    {3, "counterclockwise", "Rotate counter-clockwise 90 degrees"},
    {4, "horizontal-flip", "Flip horizontally"},
    {5, "vertical-flip", "Flip vertically"},
    {6, "upper-left-diagonal", "Flip across upper left/lower right diagonal"},
    {7, "upper-right-diagonal", "Flip across upper right/lower left diagonal"},
    {8, "automatic", "Select flip method based on image-orientation tag"},
};

constexpr EnumValue direction_values[] = {
    {0, "identity", "Identity (no rotation)"},
    {1, "90r", "Rotate clockwise 90 degrees"},
    {2, "180", "Rotate 180 degrees"},
    {3, "90l", "Rotate counter-clockwise 90 degrees"},
    {4, "horiz", "Flip horizontally"},
    {5, "vert", "Flip vertically"},
    {6, "ul-lr", "Flip across upper left/lower right diagonal"},
    {7, "ur-ll", "Flip across upper right/lower left diagonal"},
    {8, "auto", "Select flip method based on image-orientation tag"},
    {9, "custom", "Custom orientation (not supported by videoflip: refused)"},
};

constexpr bool transposes(Orientation o) noexcept {
    return o == Orientation::rotate_90r || o == Orientation::rotate_90l || o == Orientation::ul_lr ||
           o == Orientation::ur_ll;
}

// The method an image-orientation tag asks for (GStreamer's mapping), or
// nullopt for a value that is not one of the eight.
std::optional<Orientation> orientation_from_tag(std::string_view tag) {
    struct Entry {
        std::string_view tag;
        Orientation method;
    };
    static constexpr Entry table[] = {
        {"rotate-0", Orientation::identity},        {"rotate-90", Orientation::rotate_90r},
        {"rotate-180", Orientation::rotate_180},    {"rotate-270", Orientation::rotate_90l},
        {"flip-rotate-0", Orientation::horizontal}, {"flip-rotate-90", Orientation::ul_lr},
        {"flip-rotate-180", Orientation::vertical}, {"flip-rotate-270", Orientation::ur_ll},
    };
    for (const Entry& e : table) {
        if (e.tag == tag) {
            return e.method;
        }
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Kernels. Coordinates are in samples of one grid (a plane's units, or one
// component's samples). A destination sample (x, y) of a flip of a w x h
// source grid comes from source_of(); its grid is h x w when the method
// transposes.

struct GridPos {
    std::uint32_t x;
    std::uint32_t y;
};

GridPos source_of(Orientation o, std::uint32_t x, std::uint32_t y, std::uint32_t w, std::uint32_t h) noexcept {
    switch (o) {
    case Orientation::rotate_90r:
        return {y, h - 1 - x};
    case Orientation::rotate_180:
        return {w - 1 - x, h - 1 - y};
    case Orientation::rotate_90l:
        return {w - 1 - y, x};
    case Orientation::horizontal:
        return {w - 1 - x, y};
    case Orientation::vertical:
        return {x, h - 1 - y};
    case Orientation::ul_lr:
        return {y, x};
    case Orientation::ur_ll:
        return {w - 1 - y, h - 1 - x};
    default:
        return {x, y};
    }
}

// A grid of samples in memory: `first` is the first byte of sample (0, 0);
// sample (x, y) starts at first + y * stride + x * pixel_stride.
template <class Byte>
struct Grid {
    Byte* first;
    std::size_t stride;
    std::size_t pixel_stride;
};

// Copies `N`-byte samples from a w x h source grid to the destination grid,
// flipped by `o`. Walks each destination row with a constant source step.
template <std::size_t N>
void remap(Grid<const std::byte> src, Grid<std::byte> dst, std::uint32_t w, std::uint32_t h, Orientation o) {
    const bool swap = transposes(o);
    const std::uint32_t dw = swap ? h : w;
    const std::uint32_t dh = swap ? w : h;
    const auto row = static_cast<std::ptrdiff_t>(src.stride);
    const auto pix = static_cast<std::ptrdiff_t>(src.pixel_stride);
    std::ptrdiff_t step = pix; // source bytes from destination sample x to x + 1
    switch (o) {
    case Orientation::rotate_180:
    case Orientation::horizontal:
        step = -pix;
        break;
    case Orientation::rotate_90r:
    case Orientation::ur_ll:
        step = -row;
        break;
    case Orientation::rotate_90l:
    case Orientation::ul_lr:
        step = row;
        break;
    default:
        break;
    }
    for (std::uint32_t y = 0; y < dh; ++y) {
        const GridPos p = source_of(o, 0, y, w, h);
        const std::byte* s =
            src.first + static_cast<std::ptrdiff_t>(p.y) * row + static_cast<std::ptrdiff_t>(p.x) * pix;
        std::byte* d = dst.first + y * dst.stride;
        for (std::uint32_t x = 0; x < dw; ++x) {
            std::memcpy(d, s, N);
            d += dst.pixel_stride;
            s += step;
        }
    }
}

void remap_samples(std::size_t bytes, Grid<const std::byte> src, Grid<std::byte> dst, std::uint32_t w, std::uint32_t h,
                   Orientation o) {
    switch (bytes) {
    case 1:
        return remap<1>(src, dst, w, h, o);
    case 2:
        return remap<2>(src, dst, w, h, o);
    case 3:
        return remap<3>(src, dst, w, h, o);
    case 4:
        return remap<4>(src, dst, w, h, o);
    default:
        return remap<8>(src, dst, w, h, o);
    }
}

// The chroma of a 4:2:2 format under a method that transposes: a
// destination chroma sample covers two horizontally adjacent destination
// pixels, which come from two source rows, so it is the mean of the source
// chroma of both (GStreamer's videoflip does the same for YUY2). `w` x `h`
// is the source frame in pixels; the chroma grid has ceil(w / 2) columns.
// `wide`: samples are 16-bit little-endian words (I422_10LE, I422_12LE).
void remap_chroma_422_transposed(Grid<const std::byte> src, Grid<std::byte> dst, std::uint32_t w, std::uint32_t h,
                                 Orientation o, bool wide = false) {
    const std::uint32_t dw = h; // destination pixels per row
    const std::uint32_t dh = w;
    const std::uint32_t chroma_columns = (dw + 1) / 2;
    auto sample = [&](std::uint32_t x, std::uint32_t y) {
        const GridPos p = source_of(o, x, y, w, h);
        const std::byte* at = src.first + p.y * src.stride + (p.x / 2) * src.pixel_stride;
        return wide ? std::to_integer<unsigned>(at[0]) | std::to_integer<unsigned>(at[1]) << 8
                    : std::to_integer<unsigned>(at[0]);
    };
    for (std::uint32_t y = 0; y < dh; ++y) {
        std::byte* d = dst.first + y * dst.stride;
        for (std::uint32_t c = 0; c < chroma_columns; ++c) {
            const std::uint32_t x = 2 * c;
            unsigned v = sample(x, y);
            if (x + 1 < dw) {
                v = (v + sample(x + 1, y)) / 2;
            }
            d[c * dst.pixel_stride] = static_cast<std::byte>(v & 0xFF);
            if (wide) {
                d[c * dst.pixel_stride + 1] = static_cast<std::byte>(v >> 8);
            }
        }
    }
}

int to_int(std::size_t v) {
    return static_cast<int>(v);
}

// One plane of `unit`-byte samples, w x h units, contiguous in each row.
// libyuv where it has the kernel, the generic walk otherwise.
void flip_plane(std::size_t unit, const std::byte* src, std::size_t src_stride, std::byte* dst, std::size_t dst_stride,
                std::uint32_t w, std::uint32_t h, Orientation o) {
    const auto* s8 = reinterpret_cast<const std::uint8_t*>(src);
    auto* d8 = reinterpret_cast<std::uint8_t*>(dst);
    const int width = static_cast<int>(w);
    const int height = static_cast<int>(h);
    if (o == Orientation::identity || o == Orientation::vertical) {
        for (std::uint32_t y = 0; y < h; ++y) {
            const std::uint32_t from = o == Orientation::vertical ? h - 1 - y : y;
            std::memcpy(dst + y * dst_stride, src + from * src_stride, w * unit);
        }
        return;
    }
    auto rotation = [](Orientation m) {
        return m == Orientation::rotate_90r   ? libyuv::kRotate90
               : m == Orientation::rotate_180 ? libyuv::kRotate180
                                              : libyuv::kRotate270;
    };
    const bool rotates = o == Orientation::rotate_90r || o == Orientation::rotate_180 || o == Orientation::rotate_90l;
    if (unit == 1) {
        if (rotates) {
            libyuv::RotatePlane(s8, to_int(src_stride), d8, to_int(dst_stride), width, height, rotation(o));
            return;
        }
        if (o == Orientation::horizontal) {
            libyuv::MirrorPlane(s8, to_int(src_stride), d8, to_int(dst_stride), width, height);
            return;
        }
        if (o == Orientation::ul_lr) {
            libyuv::TransposePlane(s8, to_int(src_stride), d8, to_int(dst_stride), width, height);
            return;
        }
    } else if (unit == 2 && rotates && src_stride % 2 == 0 && dst_stride % 2 == 0) {
        // 16-bit samples, or the U, V pairs of NV12 taken as one 16-bit unit.
        libyuv::RotatePlane_16(reinterpret_cast<const std::uint16_t*>(src), to_int(src_stride / 2),
                               reinterpret_cast<std::uint16_t*>(dst), to_int(dst_stride / 2), width, height,
                               rotation(o));
        return;
    } else if (unit == 4) {
        // Any 4-byte pixel (RGBA, BGRx ...), or the U, V pairs of P010.
        if (rotates) {
            libyuv::ARGBRotate(s8, to_int(src_stride), d8, to_int(dst_stride), width, height, rotation(o));
            return;
        }
        if (o == Orientation::horizontal) {
            libyuv::ARGBMirror(s8, to_int(src_stride), d8, to_int(dst_stride), width, height);
            return;
        }
    } else if (unit == 3 && o == Orientation::horizontal) {
        libyuv::RGB24Mirror(s8, to_int(src_stride), d8, to_int(dst_stride), width, height);
        return;
    }
    remap_samples(unit, {src, src_stride, unit}, {dst, dst_stride, unit}, w, h, o);
}

constexpr std::uint32_t ceil_shift(std::uint32_t v, unsigned shift) noexcept {
    return static_cast<std::uint32_t>((std::uint64_t{v} + (std::uint64_t{1} << shift) - 1) >> shift);
}

// Flips `in` into `out` (whose size is in's, transposed when `o` transposes).
void flip_frame(const VideoFrame& in, const WritableVideoFrame& out, Orientation o) {
    const VideoFormatInfo& f = in.info().format_info();
    const std::uint32_t w = in.width();
    const std::uint32_t h = in.height();
    if (f.packed && f.x_chroma_shift == 1) {
        // YUY2, UYVY: components one by one within the macropixels.
        const std::byte* s = in.plane(0).data();
        std::byte* d = out.plane(0).data();
        const std::size_t ss = in.stride(0);
        const std::size_t ds = out.stride(0);
        const VideoComponentInfo& y = f.components[video_comp::y];
        remap<1>({s + y.offset, ss, y.pixel_stride}, {d + y.offset, ds, y.pixel_stride}, w, h, o);
        for (std::size_t c : {video_comp::u, video_comp::v}) {
            const VideoComponentInfo& ci = f.components[c];
            const Grid<const std::byte> from{s + ci.offset, ss, ci.pixel_stride};
            const Grid<std::byte> to{d + ci.offset, ds, ci.pixel_stride};
            if (transposes(o)) {
                remap_chroma_422_transposed(from, to, w, h, o);
            } else {
                remap<1>(from, to, ceil_shift(w, 1), h, o);
            }
        }
        // An odd width leaves the second luma sample of each row's last
        // macropixel unused: repeat the last pixel there rather than leave
        // whatever the buffer held.
        if (const std::uint32_t ow = out.width(); ow % 2 == 1) {
            for (std::uint32_t row = 0; row < out.height(); ++row) {
                std::byte* r = d + row * ds + y.offset;
                r[ow * y.pixel_stride] = r[(ow - 1) * y.pixel_stride];
            }
        }
        return;
    }
    for (std::size_t p = 0; p < f.n_planes; ++p) {
        const VideoPlaneInfo& pi = f.planes[p];
        const std::uint32_t pw = ceil_shift(w, pi.x_sub);
        const std::uint32_t ph = ceil_shift(h, pi.y_sub);
        const std::byte* s = in.plane(p).data();
        std::byte* d = out.plane(p).data();
        if (transposes(o) && pi.x_sub != pi.y_sub) {
            // The chroma planes of Y42B.
            remap_chroma_422_transposed({s, in.stride(p), pi.pixel_stride}, {d, out.stride(p), pi.pixel_stride}, w, h,
                                        o, f.depth > 8);
            continue;
        }
        flip_plane(pi.pixel_stride, s, in.stride(p), d, out.stride(p), pw, ph, o);
    }
}

// ---------------------------------------------------------------------------
// Caps.

Fraction inverse(Fraction f) {
    if (f.num() == 0) {
        return Fraction::make(std::numeric_limits<std::int32_t>::max(), 1).value();
    }
    return Fraction::make(f.den(), f.num()).value();
}

// The pixel aspect ratio of the image turned by 90 degrees: n/d becomes d/n,
// ranges and lists item by item.
CapsValue swapped_fraction(const CapsValue& v) {
    if (const Fraction* f = v.get_if<Fraction>()) {
        return inverse(*f);
    }
    if (const FractionRange* r = v.get_if<FractionRange>()) {
        auto range = FractionRange::make(inverse(r->max()), inverse(r->min()));
        if (range) {
            return *range;
        }
        return inverse(r->min());
    }
    if (v.holds<CapsValue::List>()) {
        CapsValue::List items;
        for (const CapsValue& item : v.list_items()) {
            items.push_back(swapped_fraction(item));
        }
        if (auto list = CapsValue::list(std::move(items))) {
            return *list;
        }
    }
    return v;
}

// `caps` with width and height exchanged and the pixel aspect ratio inverted.
Caps transposed_caps(const Caps& caps) {
    if (caps.is_any() || caps.is_empty()) {
        return caps;
    }
    Caps out = Caps::empty();
    for (std::size_t i = 0; i < caps.size(); ++i) {
        Structure s = caps.structure(i);
        const CapsValue* width = caps.structure(i).get("width");
        const CapsValue* height = caps.structure(i).get("height");
        s.remove("width");
        s.remove("height");
        if (height != nullptr) {
            s.set("width", *height);
        }
        if (width != nullptr) {
            s.set("height", *width);
        }
        if (const CapsValue* par = s.get("pixel-aspect-ratio")) {
            s.set("pixel-aspect-ratio", swapped_fraction(*par));
        }
        out.append(std::move(s), caps.features(i));
    }
    return out;
}

class VideoFlip final : public detail::VideoFilter {
public:
    static constexpr ElementInfo info{
        .factory = "videoflip",
        .klass = "Filter/Effect/Video",
        .summary = "Flips and rotates video",
        .description = "Rotates raw video by 90, 180 or 270 degrees or mirrors it (method= or video-direction=, "
                       "the same setting under GStreamer's two names); rotations by 90 degrees swap width and "
                       "height. method=automatic follows the stream's image-orientation tag. Every frame is "
                       "written into a new buffer; method=none passes buffers through untouched."};
    static constexpr ExecutionHints hints = ExecutionHints::cpu_intensive();

    static Caps pad_caps() {
        return Caps::parse_static(
            "video/x-raw, format=(string){ ARGB, BGRA, ABGR, RGBA, Y444, RGBx, BGRx, RGB, BGR, I420, YV12, YUY2, "
            "UYVY, NV12, NV21, GRAY8, GRAY16_LE, I420_10LE, Y42B, P010_10LE, I422_10LE, Y444_10LE, I420_12LE, "
            "I422_12LE, Y444_12LE }, width=(int)[ 1, 2147483647 ], "
            "height=(int)[ 1, 2147483647 ]");
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        if (from.direction() == to.direction()) {
            return Caps::any();
        }
        return transposes(effective()) ? transposed_caps(caps) : caps;
    }

protected:
    Result<void> start() override {
        tag_method_.store(static_cast<int>(Orientation::identity), std::memory_order_relaxed);
        return VideoFilter::start();
    }

    Result<void> set_info(const VideoInfo& in, const VideoInfo& out) override {
        if (out.format() != in.format()) {
            return fail(Errc::not_negotiated, fmt::format("{}: cannot change the format ({} to {})", name(),
                                                          in.format_info().name, out.format_info().name));
        }
        const Orientation o = effective();
        const bool same = out.width() == in.width() && out.height() == in.height();
        const bool swapped = out.width() == in.height() && out.height() == in.width();
        if (transposes(o) ? !swapped : !same) {
            return fail(Errc::not_negotiated,
                        fmt::format("{}: output {}x{} does not fit input {}x{} with video-direction={}", name(),
                                    out.width(), out.height(), in.width(), in.height(),
                                    direction_values[static_cast<int>(o)].nick));
        }
        method_in_use_ = o;
        return {};
    }

    [[nodiscard]] bool passthrough_when_equal() const noexcept override { return effective() == Orientation::identity; }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::tags && event.structure() != nullptr) {
            if (auto tag = event.structure()->get_string("image-orientation")) {
                if (auto o = orientation_from_tag(*tag)) {
                    const int previous = tag_method_.exchange(static_cast<int>(*o), std::memory_order_relaxed);
                    if (previous != static_cast<int>(*o) && requested() == Orientation::automatic) {
                        // The links change only when the picture turns.
                        request_new_caps(transposes(static_cast<Orientation>(previous)) != transposes(*o));
                    }
                }
            }
        } else if (event.type() == EventType::stream_start) {
            // A new stream has no orientation until its tags say so.
            const int previous =
                tag_method_.exchange(static_cast<int>(Orientation::identity), std::memory_order_relaxed);
            if (previous != static_cast<int>(Orientation::identity) && requested() == Orientation::automatic) {
                // The new stream's caps follow: the links need no new negotiation.
                request_new_caps(false);
            }
        }
        return VideoFilter::sink_event(pad, std::move(event));
    }

    void transform_frame(const VideoFrame& in, const WritableVideoFrame& out) override {
        flip_frame(in, out, method_in_use_);
    }

    Result<void> check_property(const PropertyBase& property) override {
        if (&property == &direction_ && direction_.get() == Orientation::custom) {
            return fail(Error(Errc::unsupported,
                              fmt::format("property \"video-direction\" of {}: custom is not supported: videoflip only "
                                          "flips and rotates by multiples of 90 degrees",
                                          name()))
                            .at_element(name()));
        }
        return {};
    }

    void property_changed(const PropertyBase& property) override {
        if (syncing_ || (&property != &method_ && &property != &direction_)) {
            return;
        }
        // The two properties are one setting under two names.
        syncing_ = true;
        if (&property == &method_) {
            static_cast<void>(direction_.set(method_.get()));
        } else {
            static_cast<void>(method_.set(direction_.get()));
        }
        syncing_ = false;
        request_new_caps();
    }

private:
    [[nodiscard]] Orientation requested() const noexcept { return method_.get(); }
    // The method in force: the property's, or the tag's for automatic.
    [[nodiscard]] Orientation effective() const noexcept {
        const Orientation o = requested();
        if (o == Orientation::automatic) {
            return static_cast<Orientation>(tag_method_.load(std::memory_order_relaxed));
        }
        return o == Orientation::custom ? Orientation::identity : o;
    }

    std::atomic<int> tag_method_{static_cast<int>(Orientation::identity)};
    // Control thread (property setters) only.
    bool syncing_ = false;
    // Streaming thread only: the method of the last configuration.
    Orientation method_in_use_ = Orientation::identity;

    Property<Orientation> method_{
        this,          "method",           Orientation::identity, "method (deprecated, use video-direction instead)",
        method_values, Mutability::running};
    Property<Orientation> direction_{this,
                                     "video-direction",
                                     Orientation::identity,
                                     "Video direction: rotation and flipping",
                                     direction_values,
                                     Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::VideoFlip);
