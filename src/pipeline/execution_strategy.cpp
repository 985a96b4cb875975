#include <parallax/pipeline/execution_strategy.hpp>

#include <fmt/format.h>

namespace parallax {

std::string_view to_string(ExecutionStrategy s) noexcept {
    switch (s) {
    case ExecutionStrategy::in_process:
        return "in-process";
    case ExecutionStrategy::io:
        return "io";
    case ExecutionStrategy::real_time:
        return "real-time";
    }
    return "unknown";
}

Result<std::optional<ExecutionStrategy>> parse_execution_strategy(std::string_view text) {
    if (text == "auto") {
        return std::optional<ExecutionStrategy>();
    }
    for (auto s : {ExecutionStrategy::in_process, ExecutionStrategy::io, ExecutionStrategy::real_time}) {
        if (text == to_string(s)) {
            return std::optional<ExecutionStrategy>(s);
        }
    }
    return fail(Errc::invalid_argument,
                fmt::format("\"{}\" is not a strategy (auto, in-process, io, real-time)", text));
}

namespace {

StrategyDecision by_hints(const ExecutionHints& h) {
    if (const RealTimeChoice rt = real_time_choice(h); rt.real_time) {
        return {ExecutionStrategy::real_time, fmt::format("hints: {}", rt.reason), {}};
    } else if (rt.refused) {
        return {ExecutionStrategy::in_process, fmt::format("hints: {}", rt.reason),
                "asks for a real-time thread but does not declare itself rt-safe (it may allocate or block): "
                "it runs on the ordinary streaming threads"};
    }
    if (h.processing == ProcessingHint::io_bound) {
        return {ExecutionStrategy::io, "hints: processing=io-bound", {}};
    }
    return {ExecutionStrategy::in_process, "default: no hint asks for another", {}};
}

} // namespace

StrategyDecision choose_strategy(std::string_view element_name, std::string_view /*factory_name*/,
                                 const ExecutionHints& hints, const StrategyOverrides& overrides) {
    auto it = overrides.elements.find(element_name);
    if (it == overrides.elements.end()) {
        return by_hints(hints);
    }
    StrategyDecision d{it->second, fmt::format("strategy={} set for this element", to_string(it->second)), {}};
    if (d.strategy == ExecutionStrategy::real_time && !hints.rt_safe) {
        d.warning = "runs on a real-time thread as asked, but does not declare itself rt-safe: if it allocates "
                    "or blocks, it delays everything of lower priority";
    }
    return d;
}

} // namespace parallax
