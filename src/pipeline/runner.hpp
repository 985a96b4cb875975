#pragma once

// The seam between the pipeline layer and the runtime layer above it: the
// pipeline owns the graph and the bus and says which state it wants; a
// Runner (the runtime's Executor) makes data flow. The pipeline layer
// declares the interface, the runtime implements it and provides
// make_runner(), so that no pipeline header includes a runtime one.

#include "pipeline/graph.hpp"

#include <parallax/element/element_context.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/element/state.hpp>
#include <parallax/pipeline/bus.hpp>
#include <parallax/pipeline/negotiation.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <functional>
#include <memory>
#include <string>

namespace parallax::detail {

/// What a Runner sees of its pipeline.
struct PipelineCore {
    std::string name;
    Graph graph;
    Bus bus;
    SchedulingOptions scheduling;
    const Registry* registry = &Registry::global();
    /// Whether negotiation may insert converters, and what it did last.
    ConverterPolicy converter_policy = ConverterPolicy::allow;
    NegotiationReport negotiation;
    /// Called on the control thread when an element added a sometimes pad.
    std::function<void(Element&, Pad&)> on_pad_added;
    /// Whether a link that waits for a sometimes pad will link this pad
    /// (so that it need not be linked before data flows).
    std::function<bool(const Pad&)> awaits_link;
    /// Called after every state change of the pipeline (dot dumps).
    std::function<void(State, State)> on_state_changed;
};

class Runner : public ElementHost {
public:
    /// Moves one step (suspended <-> idle <-> paused <-> running).
    virtual Result<void> step_state(State from, State to) = 0;
    [[nodiscard]] virtual std::string plan() const = 0;
    virtual void send_eos() = 0;
    /// Runs `fn` on the control thread and waits for it (inline when called
    /// from the control thread).
    virtual void run_on_control(const std::function<void()>& fn) = 0;
    /// Set when the streaming side stopped the pipeline on an error.
    [[nodiscard]] virtual State current_state() const noexcept = 0;
};

/// Defined by the runtime layer (src/runtime/executor.cpp).
std::unique_ptr<Runner> make_runner(PipelineCore& core);

} // namespace parallax::detail
