#pragma once

/// \file
/// Pipeline: elements, their links, and the state that makes data flow.
/// Built from gst-launch text or from C++.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/element/element.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/element/state.hpp>
#include <parallax/pipeline/bus.hpp>
#include <parallax/pipeline/execution_strategy.hpp>
#include <parallax/pipeline/isolation.hpp>
#include <parallax/pipeline/negotiation.hpp>

#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parallax {

/// A property given in C++ when creating an element: `{"num-buffers", 100}`.
struct PropertySetting {
    std::string_view name;
    PropertyValue value;

    PropertySetting(std::string_view n, PropertyValue v) : name(n), value(std::move(v)) {}
    // Literals and ints read naturally: {"num-buffers", 100}, {"location", "/tmp/x"}.
    PropertySetting(std::string_view n, int v) : name(n), value(std::int64_t{v}) {}
    PropertySetting(std::string_view n, unsigned v) : name(n), value(std::uint64_t{v}) {}
    PropertySetting(std::string_view n, long v) : name(n), value(std::int64_t{v}) {}
    PropertySetting(std::string_view n, long long v) : name(n), value(std::int64_t{v}) {}
    PropertySetting(std::string_view n, unsigned long v) : name(n), value(std::uint64_t{v}) {}
    PropertySetting(std::string_view n, const char* v) : name(n), value(std::string(v)) {}
    // Without it, {"sync", false} would promote to int and set 0.
    PropertySetting(std::string_view n, bool v) : name(n), value(v) {}
};

/// How a pipeline decides where streaming threads meet.
struct SchedulingOptions {
    /// Put a thread boundary in front of elements whose hints say CPU-bound
    /// and behind I/O-bound sources (`auto-queue` elements, visible in the
    /// plan and dot dumps). Boundaries at `queue` elements always exist.
    bool automatic_boundaries = true;
    /// Strategy overrides above the elements' hints: isolate patterns,
    /// per-element strategies (`strategy=` in pipeline text), never isolate.
    StrategyOverrides strategies;
    /// Give elements whose strategy is real-time a real-time thread: a
    /// queue goes in front of each (with automatic_boundaries; a real-time
    /// source's own thread serves) and the thread that runs it gets
    /// SCHED_FIFO when the system permits, else normal priority and one
    /// warning on the bus.
    bool real_time = true;
    /// The SCHED_FIFO priority of real-time threads (1-99). The default, as
    /// JACK's, stays below the kernel's threaded interrupt handlers (50);
    /// lowered to RLIMIT_RTPRIO when the process may go no higher.
    int real_time_priority = 10;
    /// How elements whose strategy is isolated run: sandbox, restarts, hang
    /// timeout, the worker program (docs/guide/isolation.md).
    IsolationOptions isolation;
};

/// A pipeline: owns its elements, links them, and moves them through the
/// states together. Build it from text with parse() or in C++ with add() /
/// link() / chain(); run it with run() or set_state().
///
/// Control calls (building, set_state) are for one thread at a time, the
/// application's; messages arrive on the bus.
class PARALLAX_API Pipeline {
public:
    /// An empty pipeline named `name` (default "pipeline0", "pipeline1"...).
    [[nodiscard]] static std::unique_ptr<Pipeline> create(std::string name = {});
    /// A pipeline from gst-launch text, e.g. `fakesrc num-buffers=10 !
    /// identity ! fakesink`. Errors carry the position of the offending
    /// character (format them with format_pipeline_error()).
    [[nodiscard]] static Result<std::unique_ptr<Pipeline>> parse(std::string_view description,
                                                                 const Registry& registry = Registry::global());

    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    [[nodiscard]] const std::string& name() const noexcept;

    // Building.

    /// Creates an element by factory name, sets `properties` in order, and
    /// adds it.
    Result<Element*> add(std::string_view factory, std::string name = {},
                         std::initializer_list<PropertySetting> properties = {});
    /// Adds an element made elsewhere (Registry::create, make_element<T>).
    Result<Element*> add(std::unique_ptr<Element> element);
    /// Removes an element (and its links) while suspended or idle.
    Result<void> remove(Element& element);

    /// Links `src` to `sink` through the first pair of free (or requestable)
    /// pads whose caps can meet. With a `filter` other than ANY, a
    /// capsfilter goes between them.
    Result<void> link(Element& src, Element& sink, const Caps& filter = Caps::any());
    /// Links named pads; a request template name (`src_%u`) makes a new pad.
    Result<void> link(Element& src, std::string_view src_pad, Element& sink, std::string_view sink_pad);
    /// Links by reference text: "t" or "t.src_%u" to "mux.sink_0".
    Result<void> link(std::string_view src_ref, std::string_view sink_ref);

    /// The fluent form: `p->chain().then("fakesrc", {{"num-buffers", 10}}).then("fakesink").done()`.
    class PARALLAX_API Chain {
    public:
        /// Adds an element and links the previous one to it.
        Chain& then(std::string_view factory, std::initializer_list<PropertySetting> properties = {},
                    std::string name = {});
        /// Continues from an element already in the pipeline (`t` of a tee).
        Chain& from(std::string_view name);
        /// The next link goes through these caps.
        Chain& filter(std::string_view caps);
        /// The first error on the way, if any.
        Result<void> done();

    private:
        friend class Pipeline;
        explicit Chain(Pipeline& p) : pipeline_(&p) {}
        Pipeline* pipeline_;
        Element* last_ = nullptr;
        Caps filter_ = Caps::any();
        std::optional<Error> error_;
    };
    [[nodiscard]] Chain chain() { return Chain(*this); }

    // Finding elements.

    /// The element named `name`, or nullptr.
    [[nodiscard]] Element* find(std::string_view name) const noexcept;
    /// The element named `name` as type T; an error when there is none or it
    /// is of another type: `pipeline.get<Queue>("q")`.
    template <class T>
    [[nodiscard]] Result<T*> get(std::string_view name) const {
        Element* e = find(name);
        if (e == nullptr) {
            return fail(not_found(name));
        }
        if (auto* t = dynamic_cast<T*>(e)) {
            return t;
        }
        return fail(wrong_type(*e));
    }
    /// Every element, in the order added.
    [[nodiscard]] std::vector<Element*> elements() const;

    // Running.

    /// Moves to `state` through the states in between. Fails, leaving the
    /// pipeline in the last state it reached, when an element refuses.
    Result<void> set_state(State state);
    [[nodiscard]] State state() const noexcept;
    /// Runs to the end: to running, then waits for eos or an error, then
    /// back to idle. Returns the first error posted. The pipeline can run
    /// again afterwards.
    Result<void> run(std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1));
    /// Ends the stream at every source: each sends eos after what it has
    /// already produced (plx-launch -e).
    void send_eos();
    /// Sends `event` into the pipeline from the application, as
    /// gst_element_send_event() on a pipeline does: an upstream event (a
    /// custom-upstream or an upstream-force-key-unit: "a key frame here,
    /// please") goes to every sink, which passes it upstream; a downstream
    /// event (eos, custom-downstream, tags...) goes to every source, which
    /// sends it ahead of its next buffer. True when every element it went to
    /// took it (Element::send_event()); false when there was none.
    bool send_event(const Event& event);

    [[nodiscard]] Bus& bus() noexcept;
    [[nodiscard]] SchedulingOptions& scheduling() noexcept;

    /// Whether caps negotiation (from suspended to idle, and again before
    /// each run) may insert converters where two elements cannot agree:
    /// allow (the default), warn (insert, and post a warning) or deny.
    void set_converter_policy(ConverterPolicy policy) noexcept;
    [[nodiscard]] ConverterPolicy converter_policy() const noexcept;
    /// What the last negotiation did: the converters in the pipeline that
    /// negotiation inserted, and each link's caps.
    [[nodiscard]] const NegotiationReport& negotiation() const noexcept;

    /// Running time of the pipeline (none unless running or paused).
    [[nodiscard]] ClockTime running_time() const;
    /// Buffers and bytes that reached the sinks in this run, and the
    /// furthest pts seen there (for progress displays).
    struct Progress {
        std::uint64_t buffers = 0;
        std::uint64_t bytes = 0;
        ClockTime position;
    };
    [[nodiscard]] Progress progress() const;

    /// Graphviz text of the pipeline (elements, pads, properties that differ
    /// from their defaults, caps on links). With PARALLAX_DEBUG_DUMP_DOT_DIR
    /// set, a file is also written at each state change.
    [[nodiscard]] std::string to_dot() const;
    /// The scheduling plan (valid from idle on): the chains of elements each
    /// streaming thread runs, and why each thread boundary is there.
    [[nodiscard]] std::string plan() const;

    struct Impl;

private:
    explicit Pipeline(std::string name);
    static Error not_found(std::string_view name);
    static Error wrong_type(const Element& e);

    std::unique_ptr<Impl> impl_;
};

/// The text of a pipeline description with a caret under the character
/// where `error` happened, then the reason, e.g.
///
///     fakesrc ! ! fakesink
///               ^
///     expected an element or a reference after '!'
PARALLAX_API std::string format_pipeline_error(std::string_view description, const Error& error);

} // namespace parallax
