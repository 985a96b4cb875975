// delay: holds every buffer back for a fixed time (the original Parallax's
// behaviour) and/or moves its timestamps later by that time.

#include <parallax/element.hpp>

#include <limits>
#include <thread>

namespace parallax {
namespace {

enum class DelayMode { hold = 0, shift = 1, both = 2 };

constexpr EnumValue delay_modes[] = {
    {0, "hold", "Wait for delay on the pipeline clock before passing each buffer on; timestamps stay"},
    {1, "shift", "Add delay to each buffer's pts and dts and pass it on at once"},
    {2, "both", "Wait for delay and add it to pts and dts"},
};

class Delay final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "delay",
        .klass = "Filter/Timing",
        .summary = "Hold buffers back and/or shift their timestamps by a fixed time",
        .description = "In hold mode each buffer waits for delay on the pipeline clock before it goes on, so "
                       "every buffer adds delay (and the stream can pass at most one buffer per delay). In shift "
                       "mode pts and dts move later by delay, which a sink that syncs turns into latency without "
                       "blocking this thread (like GStreamer's identity ts-offset)."};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.latency = LatencyHint::relaxed;
        h.memory = MemoryHint::streaming;
        return h;
    }();

protected:
    Flow transform(Buffer& buffer, TransformContext& ctx) override {
        const ClockTime delay = ClockTime::from_ns(delay_.get());
        if (delay == ClockTime::zero()) {
            return Flow::ok;
        }
        const DelayMode mode = mode_.get();
        if (mode != DelayMode::hold) {
            Metadata& m = buffer.meta();
            m.set_pts(m.pts() + delay); // none stays none
            m.set_dts(m.dts() + delay);
        }
        if (mode != DelayMode::shift) {
            const ClockTime now = ctx.running_time();
            if (now.is_none()) {
                // A host without a running clock: hold on the steady clock.
                std::this_thread::sleep_for(std::chrono::nanoseconds(delay.ns()));
                return Flow::ok;
            }
            return ctx.wait_until(now + delay);
        }
        return Flow::ok;
    }

    bool query(Pad& pad, Query& q) override {
        const bool holds_latency =
            q.type() == QueryType::latency && pad.direction() == PadDirection::src && mode_.get() != DelayMode::shift;
        if (!holds_latency) {
            return Element::query(pad, q);
        }
        // Holding adds its delay to what upstream needs; with nobody upstream
        // to answer, the delay is the whole answer.
        if (!Element::query(pad, q)) {
            q.set_latency(false, ClockTime::zero(), ClockTime::none());
        }
        const ClockTime delay = ClockTime::from_ns(delay_.get());
        q.set_latency(q.live(), q.min_latency() + delay, q.max_latency() + delay);
        return true;
    }

private:
    Property<std::uint64_t> delay_{this,
                                   "delay",
                                   0,
                                   "Time in nanoseconds to hold each buffer and/or to add to its timestamps",
                                   {0, std::numeric_limits<std::int64_t>::max()},
                                   Mutability::running};
    Property<DelayMode> mode_{this, "mode", DelayMode::hold, "What the delay does to each buffer", delay_modes};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Delay);
