// timeout: watches the flow of buffers and acts when none has come for a
// given time: posts an error (GStreamer's watchdog), posts a "timeout"
// element message for every period of silence, or ends the stream.

#include <parallax/base/log.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

namespace parallax {
namespace {

LogCategory timeout_log("timeout", "the timeout element: timers, stalls and what was done about them");

enum class TimeoutAction { error = 0, message = 1, eos = 2 };

constexpr EnumValue timeout_actions[] = {
    {0, "error", "Post an error, which stops the pipeline"},
    {1, "message", "Post a \"timeout\" element message for every timeout of silence; data flows on"},
    {2, "eos", "End the stream: send eos downstream and refuse later buffers"},
};

std::int64_t steady_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

class Timeout final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "timeout",
        .klass = "Filter/Timing",
        .summary = "Act when no buffer has arrived for a given time",
        .description = "Counts from the start of the run and from every buffer (or gap event). When timeout "
                       "passes without one while the pipeline is running, it posts an error, posts a \"timeout\" "
                       "element message (fields action, count, elapsed, timeout; again after each further "
                       "timeout of silence), or ends the stream with eos. Pauses do not count. eos from upstream "
                       "ends the watch."};
    // The streaming side stores a time per buffer and, with action=eos,
    // takes a lock-free gate: no allocation, no blocking.
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.rt_safe = true;
        h.memory = MemoryHint::streaming;
        return h;
    }();

    ~Timeout() override { disarm(); }

protected:
    Result<void> start() override {
        last_ns_.store(steady_ns(), std::memory_order_relaxed);
        ended_.store(false, std::memory_order_relaxed);
        gate_.store(gate_open, std::memory_order_relaxed);
        std::lock_guard lock(watch_->mutex);
        ++watch_->generation;
        watch_->fired_at = 0;
        watch_->count = 0;
        if (timeout_.get() > 0) {
            arm_locked(std::chrono::nanoseconds(timeout_.get()));
        }
        return {};
    }

    Result<void> stop() override {
        disarm();
        return {};
    }

    // Silence is counted from when the last buffer came and from when it
    // had gone on: a buffer held up downstream for longer than timeout
    // counts as silence (a hang downstream trips the watchdog too), one that
    // simply took long does not shorten the next wait.
    Flow chain(Pad& pad, Buffer&& buffer) override {
        last_ns_.store(steady_ns(), std::memory_order_relaxed);
        Flow f = Flow::eos;
        if (action_.get() != TimeoutAction::eos) {
            f = SimpleTransform::chain(pad, std::move(buffer));
        } else if (enter()) {
            f = SimpleTransform::chain(pad, std::move(buffer));
            leave();
        }
        last_ns_.store(steady_ns(), std::memory_order_relaxed);
        return f;
    }

    Flow transform(Buffer&, TransformContext&) override { return Flow::ok; }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::gap) {
            last_ns_.store(steady_ns(), std::memory_order_relaxed);
        }
        if (action_.get() != TimeoutAction::eos || !event.is_serialized()) {
            if (event.type() == EventType::eos) {
                ended_.store(true, std::memory_order_relaxed);
            }
            return SimpleTransform::sink_event(pad, std::move(event));
        }
        // Serialized events keep their place among the buffers, so they pass
        // the same gate; once this element ended the stream they stop here.
        if (!enter()) {
            return event.type() == EventType::eos;
        }
        if (event.type() == EventType::eos) {
            ended_.store(true, std::memory_order_relaxed);
        }
        const bool ok = SimpleTransform::sink_event(pad, std::move(event));
        leave();
        return ok;
    }

private:
    // Timers hold this, not the element: a timer that fires after stop()
    // (or, under a host that runs timers on threads of their own, while the
    // element goes away) finds a newer generation and leaves.
    struct Watch {
        std::mutex mutex;
        std::uint64_t generation = 0;
        TimerHandle timer;
        std::int64_t fired_at = 0; ///< Steady time of the last action in this stall (0: none).
        std::int32_t count = 0;    ///< Actions in the current stall.
    };

    // The gate that keeps buffers and serialized events from passing while
    // the timer sends eos (action=eos only). Neither side waits for the
    // other except for the moment the timer holds it to check or send eos.
    enum : std::uint8_t { gate_open, gate_busy, gate_timer, gate_closed };

    bool enter() noexcept {
        while (true) {
            std::uint8_t expected = gate_open;
            if (gate_.compare_exchange_weak(expected, gate_busy, std::memory_order_acquire)) {
                return true;
            }
            if (expected == gate_closed) {
                return false;
            }
            if (expected == gate_timer) {
                std::this_thread::yield();
            }
        }
    }
    void leave() noexcept { gate_.store(gate_open, std::memory_order_release); }

    void disarm() {
        std::lock_guard lock(watch_->mutex);
        ++watch_->generation;
        watch_->timer.cancel();
    }

    void arm_locked(std::chrono::nanoseconds delay) {
        // A long timeout is waited for in steps, so that the host's timer
        // never computes a deadline past the end of its clock.
        delay = std::min<std::chrono::nanoseconds>(delay, std::chrono::hours(1));
        watch_->timer = context().after(delay, [this, watch = watch_, generation = watch_->generation] {
            std::lock_guard lock(watch->mutex);
            if (watch->generation == generation) {
                check_locked();
            }
        });
    }

    // Called from: the host's timer thread (the control thread in a
    // pipeline), with watch_->mutex held.
    void check_locked() {
        if (ended_.load(std::memory_order_relaxed)) {
            return;
        }
        const std::int64_t timeout = static_cast<std::int64_t>(timeout_.get());
        const std::int64_t now = steady_ns();
        if (state() != State::running) {
            // Paused (or not yet running): silence does not count.
            last_ns_.store(now, std::memory_order_relaxed);
            arm_locked(std::chrono::nanoseconds(timeout));
            return;
        }
        const std::int64_t last = last_ns_.load(std::memory_order_relaxed);
        if (last > watch_->fired_at) {
            // Data came since the last action: a new stall, if any.
            watch_->fired_at = 0;
            watch_->count = 0;
        }
        const std::int64_t since = std::max(last, watch_->fired_at);
        if (now - since < timeout) {
            arm_locked(std::chrono::nanoseconds(timeout - (now - since)));
            return;
        }
        const ClockTime elapsed = ClockTime::from_ns(static_cast<std::uint64_t>(now - last));
        switch (action_.get()) {
        case TimeoutAction::error:
            ended_.store(true, std::memory_order_relaxed);
            static_cast<void>(context().error(
                Error(Errc::timeout, fmt::format("{}: no data for {} (timeout {})", name(), elapsed.to_string(),
                                                 ClockTime::from_ns(timeout_.get()).to_string())),
                "timeout action=error"));
            return;
        case TimeoutAction::message:
            watch_->fired_at = now;
            ++watch_->count;
            post_timeout_message(elapsed);
            arm_locked(std::chrono::nanoseconds(timeout));
            return;
        case TimeoutAction::eos:
            send_eos_locked(now, timeout, elapsed);
            return;
        }
    }

    void send_eos_locked(std::int64_t now, std::int64_t timeout, ClockTime elapsed) {
        std::uint8_t expected = gate_open;
        if (!gate_.compare_exchange_strong(expected, gate_timer, std::memory_order_acquire)) {
            if (expected != gate_closed) {
                // A buffer is on its way through: not a stall.
                arm_locked(std::chrono::nanoseconds(timeout));
            }
            return;
        }
        // One may have passed between the check and the gate.
        const std::int64_t last = last_ns_.load(std::memory_order_relaxed);
        if (now - last < timeout) {
            gate_.store(gate_open, std::memory_order_release);
            arm_locked(std::chrono::nanoseconds(timeout - (now - last)));
            return;
        }
        ended_.store(true, std::memory_order_relaxed);
        ++watch_->count;
        post_timeout_message(elapsed);
        PARALLAX_INFO(timeout_log, "{}: no data for {}, ending the stream", name(), elapsed.to_string());
        src_pad().push_event(Event::eos());
        gate_.store(gate_closed, std::memory_order_release);
    }

    void post_timeout_message(ClockTime elapsed) {
        Structure s("timeout");
        s.set("action", std::string(action_.value_string()));
        s.set("count", watch_->count);
        s.set("elapsed", elapsed.to_string());
        s.set("timeout", ClockTime::from_ns(timeout_.get()).to_string());
        context().post_element_message(std::move(s));
    }

    std::shared_ptr<Watch> watch_ = std::make_shared<Watch>();
    std::atomic<std::int64_t> last_ns_{0};
    std::atomic<bool> ended_{false};
    std::atomic<std::uint8_t> gate_{gate_open};

    Property<std::uint64_t> timeout_{this,
                                     "timeout",
                                     1'000'000'000,
                                     "Time in nanoseconds without a buffer after which the action is taken (0 = "
                                     "never)",
                                     {0, std::numeric_limits<std::int64_t>::max()}};
    Property<TimeoutAction> action_{this, "action", TimeoutAction::error,
                                    "What to do when timeout passes without a buffer", timeout_actions};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Timeout);
