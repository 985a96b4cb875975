#pragma once

/// \file
/// Harness: tests one element on its own. It feeds the element's input pad,
/// collects what comes out of its output pad, runs its streaming tasks, and
/// records the messages it posts (GStreamer's GstHarness, for libparallax).
///
///     auto h = parallax::check::Harness::create("identity drop-probability=0.0").value();
///     h->set_input_caps(parallax::Caps::parse("video/x-raw,format=GRAY8").value());
///     h->start();
///     h->push(h->make_buffer(16).value());
///     auto out = h->pull();

#include <parallax/base/result.hpp>
#include <parallax/buffer/buffer.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/element/element.hpp>
#include <parallax/element/registry.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::check {

class Harness {
public:
    /// An element from a description: a factory name and properties, as in
    /// pipeline text (`identity sleep-time=10`).
    static Result<std::unique_ptr<Harness>> create(std::string_view description,
                                                   const Registry& registry = Registry::global());
    /// An element made elsewhere (make_element<T>() for unregistered types).
    static Result<std::unique_ptr<Harness>> wrap(std::unique_ptr<Element> element);

    ~Harness();
    Harness(const Harness&) = delete;
    Harness& operator=(const Harness&) = delete;

    [[nodiscard]] Element& element() const noexcept;
    template <class T>
    [[nodiscard]] T& element_as() const {
        return dynamic_cast<T&>(element());
    }
    /// The element's pad the harness feeds (nullptr for sources) and the one
    /// it reads (nullptr for sinks).
    [[nodiscard]] Pad* input() const noexcept;
    [[nodiscard]] Pad* output() const noexcept;

    /// Starts the element (start(), then its tasks run): paused, then
    /// running. Stops it first if running.
    Result<void> start();
    /// Stops it (tasks joined, stop() called); start() may follow.
    Result<void> stop();
    /// Pauses and resumes the element's tasks.
    void pause();
    void resume();

    /// Sends stream-start (the first time), caps and a time segment into the
    /// input pad.
    Result<void> set_input_caps(const Caps& caps);
    /// The metas the harness's output lists when the element asks an
    /// allocation query (Query::allocation), e.g. video_meta_api to take
    /// decoded pictures in their own layout. Default: none, as an element
    /// that reads the bytes in the layout of the caps. Any thread.
    void set_output_metas(std::vector<std::string> apis);
    /// A buffer of `size` bytes, each set to `fill`, from the harness's
    /// shared-memory arenas.
    Result<Buffer> make_buffer(std::size_t size, std::uint8_t fill = 0);
    /// A buffer holding a copy of `bytes`.
    Result<Buffer> make_buffer(std::span<const std::byte> bytes);
    /// Pushes into the input pad and returns the element's Flow.
    Flow push(Buffer buffer);
    /// Sends an event into the input pad (downstream events) or into the
    /// output pad (upstream events).
    bool push_event(Event event);

    /// The next buffer out of the element, waiting up to `timeout`.
    std::optional<Buffer> pull(std::chrono::nanoseconds timeout = std::chrono::seconds(5));
    /// Buffers waiting to be pulled.
    [[nodiscard]] std::size_t buffers_out() const;
    /// Downstream events that came out, oldest first (taken).
    std::vector<Event> take_events();
    /// True once eos came out of the element (or, for a sink, the sink
    /// reported its end of stream).
    [[nodiscard]] bool eos() const;
    /// Waits up to `timeout` for eos().
    bool wait_eos(std::chrono::nanoseconds timeout = std::chrono::seconds(5));

    /// Every message the element posted.
    [[nodiscard]] std::vector<Message> messages() const;
    /// The first error message's error, if any.
    [[nodiscard]] std::optional<Error> error() const;

    struct Impl;

private:
    explicit Harness(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace parallax::check
