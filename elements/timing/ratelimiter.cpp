// ratelimiter: holds buffers back so that no more than a given number of
// buffers and/or bytes per second go through; nothing is dropped.

#include <parallax/element.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace parallax {
namespace {

class RateLimiter final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "ratelimiter",
        .klass = "Filter/Timing",
        .summary = "Limit the throughput to buffers and/or bytes per second",
        .description = "Waits on the pipeline clock before passing a buffer on whenever the one before it came "
                       "through too recently: at buffers-per-second, buffers leave at least 1/rate apart; at "
                       "bytes-per-second, a buffer of n bytes keeps the next one back for n/rate. With both, the "
                       "longer wait wins. Buffers are never dropped, and time lost upstream is not made up with "
                       "a burst. 0 turns a limit off."};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.latency = LatencyHint::relaxed;
        h.memory = MemoryHint::streaming;
        return h;
    }();

protected:
    Result<void> start() override {
        forget_last();
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::flush_stop) {
            // After a flush the clock may have been reset: what came before
            // says nothing about when the next buffer may go.
            forget_last();
        }
        return SimpleTransform::sink_event(pad, std::move(event));
    }

    Flow transform(Buffer& buffer, TransformContext& ctx) override {
        const double per_second = buffers_per_second_.get();
        const std::uint64_t byte_rate = bytes_per_second_.get();
        if (per_second <= 0.0 && byte_rate == 0) {
            forget_last();
            return Flow::ok;
        }
        const ClockTime now = ctx.running_time();
        if (now.is_none()) {
            // No pipeline clock (not running): nothing to pace against.
            return Flow::ok;
        }
        ClockTime when = now;
        if (last_pass_.is_valid()) {
            std::uint64_t gap = 0;
            if (per_second > 0.0) {
                gap = std::max(gap, ns_ceil(1e9 / per_second));
            }
            if (byte_rate > 0) {
                gap = std::max(gap, ns_ceil(static_cast<double>(last_size_) * 1e9 / static_cast<double>(byte_rate)));
            }
            when = std::max(now, last_pass_ + ClockTime::from_ns(gap));
        }
        if (when > now) {
            if (const Flow f = ctx.wait_until(when); f != Flow::ok) {
                return f;
            }
        }
        // The planned time, not the time the wait returned: oversleeping
        // once must not push every later buffer back.
        last_pass_ = when;
        last_size_ = buffer.size();
        return Flow::ok;
    }

private:
    // Rounded up, so that the configured rate is an upper bound.
    static std::uint64_t ns_ceil(double ns) {
        if (!(ns < static_cast<double>(ClockTime::max().ns()))) {
            return ClockTime::max().ns();
        }
        return static_cast<std::uint64_t>(std::ceil(ns));
    }

    void forget_last() noexcept {
        last_pass_ = ClockTime::none();
        last_size_ = 0;
    }

    ClockTime last_pass_;
    std::size_t last_size_ = 0;

    Property<double> buffers_per_second_{this,       "buffers-per-second",
                                         0.0,        "Most buffers to pass per second (0 = no limit)",
                                         {0.0, 1e9}, Mutability::running};
    Property<std::uint64_t> bytes_per_second_{
        this, "bytes-per-second", 0, "Most bytes to pass per second (0 = no limit)", {}, Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::RateLimiter);
