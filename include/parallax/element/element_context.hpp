#pragma once

/// \file
/// ElementContext: everything an element may reach outside itself (the bus,
/// buffers, streaming tasks, the clock, timers), and ElementHost, what
/// provides it (the pipeline runtime, the test harness, a worker process).

#include <parallax/base/error.hpp>
#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/buffer.hpp>
#include <parallax/buffer/clock_time.hpp>
#include <parallax/caps/structure.hpp>
#include <parallax/element/flow.hpp>
#include <parallax/element/message.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace parallax {

class Element;
class Pad;

/// Cancels a timer set with ElementContext::after().
class PARALLAX_API TimerHandle {
public:
    TimerHandle() = default;
    explicit TimerHandle(std::shared_ptr<std::atomic<bool>> cancelled) : cancelled_(std::move(cancelled)) {}
    /// The callback will not run after this returns (unless it is running).
    void cancel() noexcept {
        if (cancelled_) {
            cancelled_->store(true);
        }
    }

private:
    std::shared_ptr<std::atomic<bool>> cancelled_;
};

/// The services behind every ElementContext. Implemented by the pipeline
/// runtime, by parallax::check::Harness and by the worker of isolated
/// elements; an element never sees which.
class PARALLAX_API ElementHost {
public:
    virtual ~ElementHost() = default;

    /// Posts `message` to the bus. Called from: any thread.
    virtual void post(Message message) = 0;
    /// A buffer of `size` writable bytes in shared memory. Called from: any
    /// thread.
    virtual Result<Buffer> allocate(std::size_t size) = 0;
    /// Runs `step` over and over on a streaming thread of its own while the
    /// pipeline runs, until it returns anything but ok or dropped (see
    /// ElementContext::start_task). Called from: control thread.
    virtual Result<void> start_task(Element& element, std::string name, std::function<Flow()> step) = 0;
    /// The running time now (time spent running since the pipeline started,
    /// pauses excluded); none when not running.
    [[nodiscard]] virtual ClockTime running_time() const = 0;
    /// Waits until the running time reaches `t`. Returns ok, or flushing when
    /// the wait was interrupted (flush, pause, stop).
    virtual Flow wait_until(Element& element, ClockTime t) = 0;
    /// A sink finished its stream (every sink pad got eos).
    virtual void sink_eos(Element& element) = 0;
    /// A sink received stream-start (the pipeline posts one stream-start
    /// message once every sink has). The default does nothing.
    virtual void sink_stream_start(Element& element) { static_cast<void>(element); }
    /// An element added a pad while running (a sometimes pad).
    virtual void pad_added(Element& element, Pad& pad) = 0;
    /// Runs `fn` on the control thread (the pipeline's Asio context).
    virtual void post_control(std::function<void()> fn) = 0;
    /// Runs `fn` on the control thread after `delay`, unless cancelled.
    virtual TimerHandle after(std::chrono::nanoseconds delay, std::function<void()> fn) = 0;
    /// Solves the caps of every link again while data flows (a setting that
    /// constrains caps changed): sources then announce their new caps before
    /// their next buffer, converters follow. Nothing is inserted while
    /// running; a graph that cannot agree any more gets an error on the bus.
    /// Returns at once; the work happens on the control thread. The default
    /// does nothing (nothing to negotiate with).
    virtual void renegotiate(Element& element) { static_cast<void>(element); }
};

/// An element's window on the world. Each element has one; elements reach
/// the bus, buffers, threads, the clock and timers only through it, so the
/// same element runs in a pipeline, in the test harness or in a sandboxed
/// worker without change.
class PARALLAX_API ElementContext {
public:
    ElementContext(Element& element, ElementHost& host) noexcept : element_(&element), host_(&host) {}

    /// Posts `error` to the bus, naming the element (only the first error of
    /// a run is posted; later ones are logged), and returns Flow::error.
    /// Called from: any thread.
    Flow error(Error error, std::string detail = {});
    /// Same, for control calls: posts and returns the error.
    Error post_error(Error error, std::string detail = {});
    void warning(std::string text, std::string detail = {});
    void info(std::string text, std::string detail = {});
    /// Posts an element-specific message.
    void post_element_message(Structure structure);

    /// A buffer of `size` writable bytes in shared memory.
    Result<Buffer> allocate(std::size_t size) { return host_->allocate(size); }

    /// Starts a streaming task: `step` runs over and over on a thread of its
    /// own while the pipeline is running (it waits while paused) until it
    /// returns anything but ok or dropped. flushing parks the task until the
    /// pipeline restarts it; not-linked and not-negotiated are reported as an
    /// error naming the element. Called from: control thread, in start().
    Result<void> start_task(std::string name, std::function<Flow()> step) {
        return host_->start_task(*element_, std::move(name), std::move(step));
    }

    [[nodiscard]] ClockTime running_time() const { return host_->running_time(); }
    /// Waits until the running time reaches `t`; flushing when interrupted.
    Flow wait_until(ClockTime t) { return host_->wait_until(*element_, t); }
    /// Runs `fn` on the control thread.
    void post_control(std::function<void()> fn) { host_->post_control(std::move(fn)); }
    /// Runs `fn` on the control thread after `delay`.
    TimerHandle after(std::chrono::nanoseconds delay, std::function<void()> fn) {
        return host_->after(delay, std::move(fn));
    }
    /// Asks for the caps of the pipeline to be negotiated again (see
    /// ElementHost::renegotiate). Called from: any thread.
    void renegotiate() { host_->renegotiate(*element_); }

    /// Clears the "error already posted" mark (done by the runtime when a
    /// run starts).
    void reset_errors() noexcept { error_posted_.store(false, std::memory_order_relaxed); }
    [[nodiscard]] bool error_posted() const noexcept { return error_posted_.load(std::memory_order_relaxed); }

    [[nodiscard]] Element& element() const noexcept { return *element_; }
    [[nodiscard]] ElementHost& host() const noexcept { return *host_; }

private:
    Element* element_;
    ElementHost* host_;
    std::atomic<bool> error_posted_{false};
};

/// The context type each Simple base passes to its one function.
using SourceContext = ElementContext;
using TransformContext = ElementContext;
using SinkContext = ElementContext;

} // namespace parallax
