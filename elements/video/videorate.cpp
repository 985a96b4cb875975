// videorate: turns a stream into the frame rate negotiated downstream by
// dropping and duplicating frames, as GStreamer's videorate: each output slot
// n (at segment start + n / rate) takes the input frame nearest to it in
// time.

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace parallax {
namespace {

LogCategory videorate_log("videorate", "videorate: frames dropped and duplicated");

constexpr std::int32_t max_i32 = std::numeric_limits<std::int32_t>::max();
constexpr std::uint64_t none = ClockTime::none_ns;
constexpr std::uint64_t ns_per_s = ClockTime::ns_per_s;

__extension__ using Wide128 = unsigned __int128; // g++ and clang both have it

// value * num / den without overflow, rounded down (gst_util_uint64_scale).
std::uint64_t scale(std::uint64_t value, std::uint64_t num, std::uint64_t den) {
    const Wide128 r = static_cast<Wide128>(value) * num / den;
    return r > std::numeric_limits<std::uint64_t>::max() - 1 ? none - 1 : static_cast<std::uint64_t>(r);
}

std::uint64_t abs_diff(std::uint64_t a, std::uint64_t b) {
    return a > b ? a - b : b - a;
}

// The smallest and largest rate a framerate value allows (nullopt for a
// value that is not a fraction).
std::optional<std::pair<Fraction, Fraction>> rate_bounds(const CapsValue& v) {
    if (const Fraction* f = v.get_if<Fraction>()) {
        return std::pair{*f, *f};
    }
    if (const FractionRange* r = v.get_if<FractionRange>()) {
        return std::pair{r->min(), r->max()};
    }
    std::optional<std::pair<Fraction, Fraction>> bounds;
    for (const CapsValue& item : v.list_items()) {
        if (const Fraction* f = item.get_if<Fraction>()) {
            if (!bounds) {
                bounds = std::pair{*f, *f};
            } else {
                bounds->first = std::min(bounds->first, *f);
                bounds->second = std::max(bounds->second, *f);
            }
        }
    }
    return bounds;
}

Fraction whole(std::int32_t n) {
    return Fraction::make(n, 1).value();
}

CapsValue rate_range(Fraction lo, Fraction hi) {
    if (lo == hi) {
        return lo;
    }
    return FractionRange::make(lo, hi).value();
}

class VideoRate final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "videorate",
        .klass = "Filter/Effect/Video",
        .summary = "Drops/duplicates/adjusts timestamps on video frames to make a perfect stream",
        .description =
            "Produces the frame rate negotiated downstream: output frame n is stamped segment start + n / rate "
            "and is the input frame nearest that time, so frames are dropped or repeated as needed (repeats carry "
            "the gap flag). With drop-only it never repeats; max-rate caps the output rate. A variable output "
            "rate (0/1) passes frames on unchanged. The counters in, out, duplicate and drop are read-only."};

    static Caps pad_caps() { return Caps::parse_static("video/x-raw; video/x-bayer; image/jpeg; image/png"); }

    // The output may take any rate (up to max-rate; in drop-only mode not
    // above the input's), the input's first; the input may come at any rate
    // (in drop-only mode at least the output's).
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        if (from.direction() == to.direction()) {
            return Caps::any();
        }
        if (caps.is_any() || caps.is_empty()) {
            return caps;
        }
        const bool drop_only = drop_only_.get();
        const Fraction max_rate = whole(max_rate_.get());
        const Fraction zero;
        Caps out = Caps::empty();
        for (std::size_t i = 0; i < caps.size(); ++i) {
            const Structure& s = caps.structure(i);
            const CapsValue* rate = s.get("framerate");
            const auto bounds = rate != nullptr ? rate_bounds(*rate) : std::nullopt;
            auto with_rate = [&](CapsValue v) {
                Structure copy = s;
                copy.set("framerate", std::move(v));
                out.append(std::move(copy), caps.features(i));
            };
            if (from.direction() == PadDirection::sink) {
                // First choice: the input's own rate, where max-rate allows it.
                if (rate == nullptr) {
                    out.append(s, caps.features(i));
                } else if (auto kept = intersect(*rate, rate_range(zero, max_rate))) {
                    with_rate(std::move(*kept));
                }
                Fraction top = max_rate;
                if (drop_only && bounds) {
                    top = std::min(top, bounds->second);
                }
                with_rate(rate_range(zero, top));
            } else {
                if (drop_only && bounds && bounds->first > zero) {
                    with_rate(rate_range(bounds->first, whole(max_i32)));
                    with_rate(zero); // a variable rate is fine too
                } else {
                    with_rate(rate_range(zero, whole(max_i32)));
                }
            }
        }
        return simplify(out);
    }

    // Keeps the input's rate when allowed, else the allowed rate nearest it.
    [[nodiscard]] Caps fixate_caps(const Pad& pad, const Caps& caps, const Caps& reference) const override {
        std::optional<Fraction> in_rate;
        if (reference.size() == 1) {
            in_rate = reference.structure(0).get_fraction("framerate");
        }
        if (!in_rate || caps.is_any() || caps.is_empty()) {
            return SimpleTransform::fixate_caps(pad, caps, reference);
        }
        Caps nearest = Caps::empty();
        for (std::size_t i = 0; i < caps.size(); ++i) {
            Structure s = caps.structure(i);
            fixate_field_nearest_fraction(s, "framerate", *in_rate);
            nearest.append(std::move(s), caps.features(i));
        }
        // The first structure holds the input's rate when it is allowed.
        for (std::size_t i = 0; i < nearest.size(); ++i) {
            if (nearest.structure(i).get_fraction("framerate") == in_rate) {
                Caps one = Caps::empty();
                one.append(nearest.structure(i), nearest.features(i));
                return SimpleTransform::fixate_caps(pad, one, reference);
            }
        }
        return SimpleTransform::fixate_caps(pad, nearest, reference);
    }

protected:
    Result<void> start() override {
        reset();
        return {};
    }

    Result<void> stop() override {
        prev_.reset();
        return {};
    }

    Result<void> set_caps(const Caps& in, const Caps& out) override {
        auto rate_of = [&](const Caps& caps, const char* side) -> Result<Fraction> {
            std::optional<Fraction> rate;
            if (caps.size() == 1) {
                rate = caps.structure(0).get_fraction("framerate");
            }
            if (!rate) {
                return fail(Error(Errc::not_negotiated,
                                  fmt::format("{}: the {} caps have no framerate: {}", name(), side, caps.to_string()))
                                .at_element(name()));
            }
            return *rate;
        };
        // The input rate itself does not matter (the timestamps do), but
        // caps without one are not video this element understands.
        if (auto from = rate_of(in, "input"); !from) {
            return fail(std::move(from.error()));
        }
        auto to = rate_of(out, "output");
        if (!to) {
            return fail(std::move(to.error()));
        }
        if (prev_) {
            // A frame still held goes out once, under the old caps, before
            // the new caps go downstream.
            if (to_rate_.num() != 0 && next_ts_ != none) {
                static_cast<void>(flush_prev(false));
            }
            prev_.reset();
        }
        if (*to != to_rate_ && to_rate_.num() != 0) {
            // The time of the frames sent at the old rate stays; slots
            // count again from there.
            base_ts_ +=
                scale(out_frame_count_, std::uint64_t(to_rate_.den()) * ns_per_s, std::uint64_t(to_rate_.num()));
            out_frame_count_ = 0;
        }
        to_rate_ = *to;
        last_ts_ = none;
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::segment: {
            const StreamSegment& seg = *event.segment_value();
            if (seg.format != Format::time) {
                context().error(Error(Errc::not_negotiated, fmt::format("{}: needs a segment in time, not in {}",
                                                                        name(), to_string(seg.format)))
                                    .at_pad("sink"));
                return false;
            }
            if (seg.rate < 0.0) {
                context().error(
                    Error(Errc::unsupported,
                          fmt::format("{}: reverse playback (segment rate {}) is not supported", name(), seg.rate))
                        .at_pad("sink"));
                return false;
            }
            if (prev_) {
                // Close the segment that ends: its last frame fills the
                // slots up to its stop.
                const Flow f = close_segment();
                if (f != Flow::ok && f != Flow::eos) {
                    return false;
                }
                prev_.reset();
            }
            base_ts_ = 0;
            out_frame_count_ = 0;
            next_ts_ = none;
            segment_ = seg;
            break;
        }
        case EventType::eos:
            if (prev_ && !drop_only_.get()) {
                static_cast<void>(close_segment());
            }
            prev_.reset();
            break;
        case EventType::gap:
            // The output has no gaps: a frame goes into every slot.
            return true;
        case EventType::flush_stop:
            reset();
            break;
        default:
            break;
        }
        return SimpleTransform::sink_event(pad, std::move(event));
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (to_rate_.num() == 0) {
            // A variable rate downstream: every frame goes on as it is.
            count(in_, 1);
            count(out_, 1);
            return src_pad().push(std::move(buffer));
        }
        std::uint64_t in_ts = buffer.meta().pts().ns();
        if (in_ts == none) {
            in_ts = last_ts_;
            if (in_ts == none) {
                PARALLAX_WARNING(videorate_log, "{}: a buffer without timestamp, dropped", name());
                return Flow::ok;
            }
        }
        last_ts_ = in_ts;
        if (const ClockTime d = buffer.meta().duration(); d.is_valid()) {
            last_ts_ = (ClockTime(in_ts) + d).ns();
        }
        const std::uint64_t intime = (ClockTime(in_ts) + ClockTime(segment_.base)).ns();

        if (!prev_ || drop_only_.get()) {
            take(std::move(buffer), intime);
            count(in_, 1);
            if (next_ts_ == none) {
                if (skip_to_first_.get() || drop_only_.get()) {
                    next_ts_ = intime;
                    base_ts_ = (ClockTime(in_ts) - ClockTime(segment_.start)).ns();
                    out_frame_count_ = 0;
                } else {
                    next_ts_ = (ClockTime(segment_.start) + ClockTime(segment_.base)).ns();
                }
            }
            if (drop_only_.get()) {
                // Out now if its slot has come, else never.
                Flow f = Flow::ok;
                if (intime >= next_ts_) {
                    f = flush_prev(false, intime);
                } else {
                    count(drop_, 1);
                }
                prev_.reset();
                return f;
            }
            return Flow::ok;
        }

        count(in_, 1);
        const std::uint64_t prev_time = prev_ts_;
        if (intime < prev_time) {
            // Older than the frame held: useless.
            count(drop_, 1);
            return Flow::ok;
        }
        if (const std::uint64_t max_gap = max_duplication_time_.get(); max_gap > 0 && intime - prev_time > max_gap) {
            // Too long a gap to fill: the held frame fills its own slots,
            // then the output jumps to the new frame.
            std::uint64_t n = 0;
            while (next_ts_ <= prev_time) {
                const Flow f = flush_prev(n > 0);
                ++n;
                if (f != Flow::ok) {
                    return f;
                }
            }
            if (n > 1) {
                count(duplicate_, n - 1);
            }
            // The slots start again from the new frame.
            discont_ = true;
            base_ts_ = (ClockTime(in_ts) - ClockTime(segment_.start)).ns();
            out_frame_count_ = 0;
            next_ts_ = intime;
            take(std::move(buffer), intime);
            return Flow::ok;
        }
        // The held frame goes into every slot it is nearer to than the new
        // one (on a tie too, once).
        std::uint64_t n = 0;
        std::uint64_t diff_prev = 0;
        std::uint64_t diff_new = 0;
        do {
            if (!prev_->meta().duration().is_valid()) {
                prev_->meta().set_duration(ClockTime(intime - prev_time));
            }
            diff_prev = abs_diff(prev_time, next_ts_);
            diff_new = abs_diff(intime, next_ts_);
            if (diff_prev <= diff_new) {
                ++n;
                if (const Flow f = flush_prev(n > 1); f != Flow::ok) {
                    return f;
                }
            }
        } while (diff_prev < diff_new);
        if (n > 1) {
            count(duplicate_, n - 1);
        } else if (n == 0) {
            count(drop_, 1);
        }
        take(std::move(buffer), intime);
        return Flow::ok;
    }

    // chain() handles every buffer itself.
    Flow transform(Buffer&, TransformContext&) override { return Flow::ok; }

    void property_changed(const PropertyBase& property) override {
        if ((&property == &drop_only_ || &property == &max_rate_) && state() >= State::paused) {
            context().renegotiate();
        }
    }

private:
    // Back to the state before the first buffer (start, flush).
    void reset() {
        for (Property<std::uint64_t>* counter : {&in_, &out_, &duplicate_, &drop_}) {
            static_cast<void>(counter->set(0));
        }
        prev_.reset();
        prev_ts_ = 0;
        next_ts_ = none;
        last_ts_ = none;
        base_ts_ = 0;
        out_frame_count_ = 0;
        discont_ = true;
        segment_ = StreamSegment{};
    }

    void take(Buffer&& buffer, std::uint64_t intime) {
        prev_ = std::move(buffer);
        prev_ts_ = intime;
    }

    // Sends the held frame into the slot at next_ts_ and moves to the next
    // slot. `duplicate`: it went out before (gap flag).
    // `at`: stamp it with this time instead of the slot's (drop-only mode
    // keeps the frame's own time, as GStreamer does; the duration is still
    // the slot's).
    Flow flush_prev(bool duplicate, std::uint64_t at = none) {
        Buffer out = *prev_;
        const std::uint64_t slot = next_ts_;
        count(out_, 1);
        ++out_frame_count_;
        next_ts_ = (ClockTime(segment_.base) + ClockTime(segment_.start) + ClockTime(base_ts_) +
                    ClockTime(scale(out_frame_count_, std::uint64_t(to_rate_.den()) * ns_per_s,
                                    std::uint64_t(to_rate_.num()))))
                       .ns();
        Metadata& m = out.meta();
        m.set_duration(ClockTime(next_ts_ - slot));
        m.set_pts(ClockTime(at == none ? slot : at) - ClockTime(segment_.base));
        if (duplicate) {
            m.set_flag(BufferFlags::gap);
        } else {
            m.unset_flag(BufferFlags::gap);
        }
        if (discont_) {
            m.set_flag(BufferFlags::discont);
            discont_ = false;
        } else {
            m.unset_flag(BufferFlags::discont);
        }
        return src_pad().push(std::move(out));
    }

    // Before eos or a new segment: the held frame goes out once, and fills
    // the slots up to the segment's stop when it has one (as long as they
    // lie within max-closing-segment-duplication-duration of its end), but
    // not into a slot at or past the stop.
    Flow close_segment() {
        if (next_ts_ == none || to_rate_.num() == 0) {
            return Flow::ok;
        }
        std::uint64_t n = 0;
        Flow f = Flow::ok;
        const std::uint64_t stop = segment_.stop;
        const std::uint64_t limit = max_closing_duration_.get();
        auto slot_before_stop = [&] { return stop == none || next_ts_ - segment_.base < stop; };
        auto within_limit = [&] {
            return limit == none || last_ts_ == none || last_ts_ > next_ts_ || next_ts_ - last_ts_ < limit;
        };
        while (f == Flow::ok && slot_before_stop() && (n == 0 || (stop != none && within_limit()))) {
            f = flush_prev(n > 0);
            ++n;
        }
        if (n > 1) {
            count(duplicate_, n - 1);
        } else if (n == 0) {
            count(drop_, 1);
        }
        return f;
    }

    // Adds `n` to a counter, and tells the bus about drops and duplicates
    // unless silent (GStreamer's notify::drop and notify::duplicate).
    // Only the streaming thread counts (and reset() while stopped).
    void count(Property<std::uint64_t>& property, std::uint64_t n) {
        const std::uint64_t v = property.get() + n;
        static_cast<void>(property.set(v));
        if ((&property == &drop_ || &property == &duplicate_) && !silent_.get()) {
            Structure s(property.name());
            s.set("value", std::to_string(v));
            Message m;
            m.type = MessageType::property_notify;
            m.source = name();
            m.structure = std::move(s);
            context().host().post(std::move(m));
        }
    }

    // Streaming thread only.
    std::optional<Buffer> prev_;   // the frame held until the next one shows which slots it fills
    std::uint64_t prev_ts_ = 0;    // its time: pts + segment base
    std::uint64_t next_ts_ = none; // the time of the next output slot (+ segment base)
    std::uint64_t last_ts_ = none; // where the last input frame ended, for frames without pts
    std::uint64_t base_ts_ = 0;    // time before slot 0 of the current rate
    std::uint64_t out_frame_count_ = 0;
    bool discont_ = true;
    Fraction to_rate_; // 0/1: variable, frames pass on unchanged
    StreamSegment segment_;

    // The counters, and the properties that show them.
    Property<std::uint64_t> in_{this, "in", 0, "Number of input frames", {}, Mutability::read_only};
    Property<std::uint64_t> out_{this, "out", 0, "Number of output frames", {}, Mutability::read_only};
    Property<std::uint64_t> duplicate_{this, "duplicate", 0, "Number of duplicated frames", {}, Mutability::read_only};
    Property<std::uint64_t> drop_{this, "drop", 0, "Number of dropped frames", {}, Mutability::read_only};
    Property<bool> silent_{this, "silent", true, "Don't emit notify for dropped and duplicated frames",
                           Mutability::running};
    Property<double> new_pref_{this,       "new-pref",
                               1.0,        "Value indicating how much to prefer new frames (unused, as in GStreamer)",
                               {0.0, 1.0}, Mutability::running};
    Property<bool> skip_to_first_{this, "skip-to-first", false, "Don't produce buffers before the first one we receive",
                                  Mutability::running};
    Property<bool> drop_only_{this, "drop-only", false, "Only drop frames, no duplicates are produced",
                              Mutability::running};
    Property<std::int32_t> max_rate_{this,         "max-rate",
                                     max_i32,      "Maximum framerate allowed to pass through (in frames per second)",
                                     {1, max_i32}, Mutability::running};
    Property<std::uint64_t> max_duplication_time_{
        this, "max-duplication-time",
        0,    "Do not duplicate frames if the gap exceeds this period (in ns) (0 = disabled)",
        {},   Mutability::running};
    Property<std::uint64_t> max_closing_duration_{
        this,     "max-closing-segment-duplication-duration",
        ns_per_s, "Maximum duration of duplicated buffers to close current segment (18446744073709551615 = unlimited)",
        {},       Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::VideoRate);
