#pragma once

// Real-time streaming threads for the Executor: which task thread runs each
// real-time element, switching that thread to SCHED_FIFO (or saying why it
// could not), thread names, and the per-thread flag behind
// on_real_time_thread().

#include <parallax/element/element.hpp>
#include <parallax/element/message.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/runtime/realtime.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::detail {

/// Names `thread` (as top and gdb show it), cut to the kernel's 15 bytes.
void name_thread(pthread_t thread, std::string_view name) noexcept;

/// Marks the calling thread as one that runs a real-time element.
void mark_real_time_thread() noexcept;

/// What became of one attempt to make a thread real-time.
struct RealTimeOutcome {
    bool granted = false;
    int priority = 0; ///< The SCHED_FIFO priority set (granted only).
    std::string text; ///< For the plan: "real-time (SCHED_FIFO 10)", "real-time refused: ...".
    std::string why;  ///< Why it was refused (empty when granted).
};

/// Switches `thread` to SCHED_FIFO at `priority` (clamped to 1-99). When
/// that is refused and RLIMIT_RTPRIO allows a lower priority, takes that.
RealTimeOutcome make_real_time(pthread_t thread, int priority);

/// The real-time threads of one pipeline. Used from the control thread;
/// describe() from any thread.
class RealTimeThreads {
public:
    using Drivers = std::map<const Element*, const Element*>;

    /// For each element that drives a thread (a source, a queue), the
    /// real-time element (one that `is_real_time`) that thread runs. A
    /// real-time element that drives its own src pads is its own driver.
    [[nodiscard]] static Drivers drivers(const std::vector<Element*>& elements, const SchedulingOptions& options,
                                         const std::function<bool(const Element&)>& is_real_time);

    /// Before the elements start (and their tasks with them).
    void prepare(Drivers drivers);

    /// The real-time element that `driver`'s task runs, or nullptr.
    [[nodiscard]] const Element* fed_by(const Element& driver) const;

    /// After `driver`'s task thread was created: names it, and when it runs
    /// a real-time element, makes it real-time. Returns the warning to post
    /// when that was refused, once per pipeline.
    std::optional<Message> start(const Element& driver, pthread_t thread, std::string_view task_name,
                                 const SchedulingOptions& options);

    /// What the plan says of `driver`'s thread: ", real-time (SCHED_FIFO
    /// 10) for x" and the like; empty for an ordinary thread.
    [[nodiscard]] std::string describe(const Element& driver, const Drivers& rt,
                                       const SchedulingOptions& options) const;

private:
    mutable std::mutex mutex_;
    Drivers drivers_;
    std::map<const Element*, RealTimeOutcome> outcomes_;
    bool refusal_warned_ = false; // once per pipeline
};

} // namespace parallax::detail
