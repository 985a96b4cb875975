// videocrop: removes pixels from the edges of raw video, as GStreamer's
// videocrop (top, bottom, left, right; -1 crops automatically to the size
// negotiated downstream). The kept region is copied into a new buffer.

#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "video/video_filter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

namespace parallax {
namespace {

constexpr std::int32_t max_int = std::numeric_limits<std::int32_t>::max();

// The crop of one axis: the two sides' settings, -1 meaning automatic.
struct AxisCrop {
    std::int32_t before; // left or top
    std::int32_t after;  // right or bottom

    [[nodiscard]] bool dynamic() const noexcept { return before < 0 || after < 0; }
    // What is removed for sure (the automatic sides count as 0).
    [[nodiscard]] std::int64_t fixed() const noexcept {
        return std::int64_t{std::max(before, 0)} + std::int64_t{std::max(after, 0)};
    }
};

// The sizes one axis may have after the crop (to_output) or before it,
// given the sizes [lo, hi] on the other side. Sizes clamp to 1 as
// GStreamer clamps them, so that a crop larger than the frame still
// negotiates and the stream then fails with an error naming the properties
// (sink_event()); the way back is the inverse of that clamp (an output of 1
// may come from any input up to 1 + the crop), so that negotiating in both
// directions agrees. An automatic side opens the size: any output up to
// what the fixed sides leave, any input at least as large as the output
// plus the fixed sides.
std::pair<std::int64_t, std::int64_t> crop_span(std::int64_t lo, std::int64_t hi, AxisCrop crop, bool to_output) {
    const std::int64_t c = crop.fixed();
    if (to_output) {
        lo = crop.dynamic() ? 1 : std::max<std::int64_t>(lo - c, 1);
        hi = std::max<std::int64_t>(hi - c, 1);
    } else {
        lo = lo <= 1 ? 1 : lo + c;
        hi = crop.dynamic() ? max_int : std::min<std::int64_t>(hi + c, max_int);
    }
    return {std::min<std::int64_t>(lo, max_int), std::min<std::int64_t>(hi, max_int)};
}

CapsValue int_span(std::int64_t lo, std::int64_t hi) {
    if (lo == hi) {
        return static_cast<std::int32_t>(lo);
    }
    return IntRange::make(static_cast<std::int32_t>(lo), static_cast<std::int32_t>(hi)).value();
}

// crop_span() on a caps value: an int, an int range or a list of ints (a
// list stays a list while every item maps to one size, else becomes the
// range that covers them). Other values are left alone; nullopt for a list
// without ints.
std::optional<CapsValue> crop_dimension(const CapsValue& v, AxisCrop crop, bool to_output) {
    if (const std::int32_t* i = v.get_if<std::int32_t>()) {
        const auto [lo, hi] = crop_span(*i, *i, crop, to_output);
        return int_span(lo, hi);
    }
    if (const IntRange* r = v.get_if<IntRange>()) {
        const auto [lo, hi] = crop_span(r->min(), r->max(), crop, to_output);
        return int_span(lo, hi);
    }
    if (!v.holds<CapsValue::List>()) {
        return v; // not a size this element knows
    }
    CapsValue::List items;
    std::int64_t all_lo = max_int;
    std::int64_t all_hi = 1;
    bool fixed = true;
    for (const CapsValue& item : v.list_items()) {
        if (const std::int32_t* n = item.get_if<std::int32_t>()) {
            const auto [lo, hi] = crop_span(*n, *n, crop, to_output);
            all_lo = std::min(all_lo, lo);
            all_hi = std::max(all_hi, hi);
            fixed = fixed && lo == hi;
            const CapsValue one = static_cast<std::int32_t>(lo);
            if (std::find(items.begin(), items.end(), one) == items.end()) {
                items.push_back(one);
            }
        }
    }
    if (items.empty()) {
        return std::nullopt;
    }
    if (!fixed || items.size() == 1) {
        return int_span(all_lo, all_hi);
    }
    return CapsValue::list(std::move(items)).value();
}

// The region of the input that is kept.
struct Region {
    std::uint32_t left = 0;
    std::uint32_t top = 0;
    std::uint32_t right = 0;
    std::uint32_t bottom = 0;
};

// Copies the kept region of `in` into `out` (whose size is the region's).
// Luma and full-resolution components are exact. Subsampled chroma starts at
// the chroma sample that holds the first kept pixel (left and top rounded
// down to the subsampling), as GStreamer does; for YUY2 and UYVY an odd left
// edge keeps the luma exact and takes the chroma of the macropixel that
// holds the first kept pixel.
void crop_frame(const VideoFrame& in, const WritableVideoFrame& out, const Region& r) {
    const VideoFormatInfo& f = in.info().format_info();
    if (f.packed && f.x_chroma_shift == 1) {
        const VideoComponentInfo& y = f.components[video_comp::y];
        const std::size_t macropixels = (out.width() + 1) / 2;
        const std::uint32_t in_luma_slots = 2 * ((in.width() + 1) / 2);
        for (std::uint32_t row = 0; row < out.height(); ++row) {
            const std::byte* s = in.plane(0).data() + (r.top + row) * in.stride(0);
            std::byte* d = out.plane(0).data() + row * out.stride(0);
            std::memcpy(d, s + (r.left / 2) * 4, macropixels * 4);
            if (r.left % 2 == 1) {
                for (std::uint32_t x = 0; x < 2 * macropixels; ++x) {
                    const std::uint32_t from = std::min(r.left + x, in_luma_slots - 1);
                    d[y.offset + x * y.pixel_stride] = s[y.offset + from * y.pixel_stride];
                }
            }
        }
        return;
    }
    for (std::size_t p = 0; p < f.n_planes; ++p) {
        const VideoPlaneInfo& pi = f.planes[p];
        const std::size_t first_column = r.left >> pi.x_sub;
        const std::size_t first_row = r.top >> pi.y_sub;
        // The plane's first component tells its size (every component of a
        // plane has the same subsampling here).
        std::size_t comp = 0;
        while (comp < f.n_components && f.components[comp].plane != p) {
            ++comp;
        }
        const std::size_t bytes = static_cast<std::size_t>(out.component_width(comp)) * pi.pixel_stride;
        const std::uint32_t rows = out.component_height(comp);
        const std::byte* s = in.plane(p).data() + first_row * in.stride(p) + first_column * pi.pixel_stride;
        std::byte* d = out.plane(p).data();
        for (std::uint32_t row = 0; row < rows; ++row) {
            std::memcpy(d + row * out.stride(p), s + row * in.stride(p), bytes);
        }
    }
}

class VideoCrop final : public detail::VideoFilter {
public:
    static constexpr ElementInfo info{
        .factory = "videocrop",
        .klass = "Filter/Effect/Video",
        .summary = "Crops video into a user-defined region",
        .description = "Removes top, bottom, left and right pixels from raw video; -1 on a side crops "
                       "automatically to the size negotiated downstream (split evenly when both sides of an "
                       "axis are -1). The kept region is copied into a new buffer. Settings changed while "
                       "running take effect at the next frame, with new caps."};

    static Caps pad_caps() {
        return Caps::parse_static(
            "video/x-raw, format=(string){ RGB, BGR, RGBx, BGRx, RGBA, ARGB, BGRA, ABGR, GRAY8, GRAY16_LE, YUY2, "
            "UYVY, I420, YV12, Y444, Y42B, I420_10LE, NV12, NV21, P010_10LE, I422_10LE, Y444_10LE, I420_12LE, "
            "I422_12LE, Y444_12LE }, width=(int)[ 1, 2147483647 ], "
            "height=(int)[ 1, 2147483647 ]");
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        if (from.direction() == to.direction()) {
            return Caps::any();
        }
        if (caps.is_any() || caps.is_empty()) {
            return caps;
        }
        const bool to_output = from.direction() == PadDirection::sink;
        const AxisCrop x{left_.get(), right_.get()};
        const AxisCrop y{top_.get(), bottom_.get()};
        Caps out = Caps::empty();
        for (std::size_t i = 0; i < caps.size(); ++i) {
            Structure s = caps.structure(i);
            bool possible = true;
            for (auto [field, crop] : {std::pair{"width", x}, std::pair{"height", y}}) {
                if (const CapsValue* v = s.get(field)) {
                    auto adjusted = crop_dimension(*v, crop, to_output);
                    if (!adjusted) {
                        possible = false;
                        break;
                    }
                    s.set(field, std::move(*adjusted));
                }
            }
            if (possible) {
                out.append(std::move(s), caps.features(i));
            }
        }
        return out;
    }

protected:
    Result<void> stop() override {
        // No stream: nothing to check new values against until the next.
        in_width_.store(0, std::memory_order_relaxed);
        in_height_.store(0, std::memory_order_relaxed);
        return {};
    }

    Result<void> set_info(const VideoInfo& in, const VideoInfo& out) override {
        if (out.format() != in.format()) {
            return fail(Errc::not_negotiated, fmt::format("{}: cannot change the format ({} to {})", name(),
                                                          in.format_info().name, out.format_info().name));
        }
        auto horizontal = resolve("left", left_.get(), "right", right_.get(), in.width(), out.width());
        auto vertical = resolve("top", top_.get(), "bottom", bottom_.get(), in.height(), out.height());
        if (!horizontal || !vertical) {
            return fail(std::move(!horizontal ? horizontal.error() : vertical.error()));
        }
        in_width_.store(in.width(), std::memory_order_relaxed);
        in_height_.store(in.height(), std::memory_order_relaxed);
        region_ = Region{horizontal->first, vertical->first, horizontal->second, vertical->second};
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (const Caps* caps = event.caps_value()) {
            // A crop larger than the frame: say which settings, rather than
            // that no output caps are possible.
            if (caps->size() == 1) {
                const Structure& s = caps->structure(0);
                Result<void> fits =
                    check_fits("left", left_.get(), "right", right_.get(),
                               static_cast<std::uint32_t>(std::max(s.get_int("width").value_or(0), 0)), "columns");
                if (fits) {
                    fits = check_fits("top", top_.get(), "bottom", bottom_.get(),
                                      static_cast<std::uint32_t>(std::max(s.get_int("height").value_or(0), 0)), "rows");
                }
                if (!fits) {
                    context().error(Error(Errc::not_negotiated, fits.error().message()).at_element(name()));
                    return false;
                }
            }
        }
        return VideoFilter::sink_event(pad, std::move(event));
    }

    [[nodiscard]] bool passthrough_when_equal() const noexcept override { return true; }

    void transform_frame(const VideoFrame& in, const WritableVideoFrame& out) override { crop_frame(in, out, region_); }

    // A crop that leaves nothing of the stream running now is refused at
    // once, naming the properties, rather than failing the next frame.
    Result<void> check_property(const PropertyBase& property) override {
        const std::uint32_t width = in_width_.load(std::memory_order_relaxed);
        const std::uint32_t height = in_height_.load(std::memory_order_relaxed);
        if (&property == &left_ || &property == &right_) {
            return check_fits("left", left_.get(), "right", right_.get(), width, "columns");
        }
        if (&property == &top_ || &property == &bottom_) {
            return check_fits("top", top_.get(), "bottom", bottom_.get(), height, "rows");
        }
        return {};
    }

    void property_changed(const PropertyBase&) override { request_new_caps(); }

private:
    [[nodiscard]] Result<void> check_fits(const char* before_name, std::int32_t before, const char* after_name,
                                          std::int32_t after, std::uint32_t size, const char* unit) const {
        if (size == 0) {
            return {};
        }
        const std::int64_t sum = std::int64_t{std::max(before, 0)} + std::int64_t{std::max(after, 0)};
        if (sum >= size) {
            return fail(Error(Errc::out_of_range,
                              fmt::format("properties \"{}\" ({}) and \"{}\" ({}) of {} crop {} of the {} {} of the "
                                          "stream: nothing would be left",
                                          before_name, before, after_name, after, name(), sum, size, unit))
                            .at_element(name()));
        }
        return {};
    }

    // The (before, after) crop of one axis for an input of `in` and an
    // output of `out` pixels: the automatic sides (-1) take what is left,
    // split evenly when both are automatic (the odd pixel goes after).
    [[nodiscard]] Result<std::pair<std::uint32_t, std::uint32_t>> resolve(const char* before_name, std::int32_t before,
                                                                          const char* after_name, std::int32_t after,
                                                                          std::uint32_t in, std::uint32_t out) const {
        const std::int64_t total = std::int64_t{in} - std::int64_t{out};
        std::int64_t b = before;
        std::int64_t a = after;
        if (b < 0 && a < 0) {
            b = total / 2;
            a = total - b;
        } else if (b < 0) {
            b = total - a;
        } else if (a < 0) {
            a = total - b;
        }
        auto error = [&](std::string why) {
            return fail(Error(Errc::not_negotiated, fmt::format("{}: properties \"{}\"={} and \"{}\"={} {}", name(),
                                                                before_name, before, after_name, after, why))
                            .at_element(name()));
        };
        if (b + a >= std::int64_t{in}) {
            return error(fmt::format("crop {} of {} pixels: nothing would be left", b + a, in));
        }
        if (b < 0 || a < 0 || b + a != total) {
            return error(fmt::format("do not turn {} pixels into {}", in, out));
        }
        return std::pair{static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(a)};
    }

    // The size of the input, for check_property (0 before caps).
    std::atomic<std::uint32_t> in_width_{0};
    std::atomic<std::uint32_t> in_height_{0};
    // Streaming thread only: the region of the last configuration.
    Region region_;

    Property<std::int32_t> left_{
        this, "left", 0, "Pixels to crop at left (-1 to auto-crop)", {-1, max_int}, Mutability::running};
    Property<std::int32_t> right_{
        this, "right", 0, "Pixels to crop at right (-1 to auto-crop)", {-1, max_int}, Mutability::running};
    Property<std::int32_t> top_{
        this, "top", 0, "Pixels to crop at top (-1 to auto-crop)", {-1, max_int}, Mutability::running};
    Property<std::int32_t> bottom_{this,          "bottom",           0, "Pixels to crop at bottom (-1 to auto-crop)",
                                   {-1, max_int}, Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::VideoCrop);
