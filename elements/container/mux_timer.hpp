// The wall-clock timer behind the muxers' live-mode timeout (mpegtsmux,
// oggmux, mp4mux): when an input that the others wait for stays silent,
// the muxer arms it and, when it fires, sends what may go by then even if
// no other buffer arrives to trigger that.
//
// The timer runs on the host's timer thread. A generation's `life` is held
// while its callback works, so retire() (from stop() and the destructor)
// waits for a running callback and no callback runs afterwards. The
// callback takes the muxer's mutex after `life`; nothing that holds the
// muxer's mutex takes `life` (arm() only takes `state_mutex_`, a leaf).

#pragma once

#include <parallax/element/element_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

namespace parallax::detail {

class MuxTimer {
public:
    /// Starts a new generation (the muxer's start()): timers may be armed.
    void start() {
        std::lock_guard lock(state_mutex_);
        state_ = std::make_shared<State>();
    }

    /// Same, and every input's silence starts now: `inputs` holds pointers
    /// to the muxer's inputs, which have a `last_arrival` time point.
    template <class Inputs>
    void start(Inputs& inputs) {
        start();
        const auto now = std::chrono::steady_clock::now();
        for (auto& in : inputs) {
            in->last_arrival = now;
        }
    }

    /// Ends the generation: cancels the timer and waits for a callback that
    /// is running. Called from: control thread, without the muxer's mutex.
    void retire() {
        std::shared_ptr<State> s;
        {
            std::lock_guard lock(state_mutex_);
            s = state_;
        }
        if (s) {
            std::lock_guard life(s->life);
            s->alive = false;
            std::lock_guard hl(s->handle_mutex);
            s->handle.cancel();
        }
    }

    /// Runs `fn` with `mutex` held after `delay` (at least 1 ms), unless a
    /// timer is armed already or the generation is retired. Called from:
    /// any thread, with `mutex` held.
    void arm(ElementContext& context, std::chrono::nanoseconds delay, std::mutex& mutex, std::function<void()> fn) {
        std::shared_ptr<State> s;
        {
            std::lock_guard lock(state_mutex_);
            s = state_;
        }
        if (!s || s->armed.exchange(true)) {
            return;
        }
        std::lock_guard hl(s->handle_mutex);
        s->handle =
            context.after(std::max(delay, std::chrono::nanoseconds(1'000'000)), [s, &mutex, fn = std::move(fn)] {
                std::lock_guard life(s->life);
                s->armed = false;
                if (!s->alive) {
                    return;
                }
                std::lock_guard lock(mutex);
                fn();
            });
    }

private:
    struct State {
        std::mutex life;
        bool alive = true;
        std::atomic<bool> armed{false};
        std::mutex handle_mutex;
        TimerHandle handle;
    };
    std::mutex state_mutex_; // guards state_ only
    std::shared_ptr<State> state_;
};

} // namespace parallax::detail
