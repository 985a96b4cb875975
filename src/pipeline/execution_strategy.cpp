#include <parallax/pipeline/execution_strategy.hpp>

#include <fmt/format.h>

#include <fnmatch.h>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace parallax {

std::string_view to_string(ExecutionStrategy s) noexcept {
    switch (s) {
    case ExecutionStrategy::in_process:
        return "in-process";
    case ExecutionStrategy::io:
        return "io";
    case ExecutionStrategy::real_time:
        return "real-time";
    case ExecutionStrategy::isolated:
        return "isolated";
    }
    return "unknown";
}

Result<std::optional<ExecutionStrategy>> parse_execution_strategy(std::string_view text) {
    if (text == "auto") {
        return std::optional<ExecutionStrategy>();
    }
    for (auto s : {ExecutionStrategy::in_process, ExecutionStrategy::io, ExecutionStrategy::real_time,
                   ExecutionStrategy::isolated}) {
        if (text == to_string(s)) {
            return std::optional<ExecutionStrategy>(s);
        }
    }
    return fail(Errc::invalid_argument,
                fmt::format("\"{}\" is not a strategy (auto, in-process, io, real-time, isolated)", text));
}

namespace {

bool matches(const std::string& pattern, std::string_view name) {
    return fnmatch(pattern.c_str(), std::string(name).c_str(), 0) == 0;
}

// The first isolate pattern that matches the element, as a rule text.
std::optional<std::string> isolate_pattern_rule(std::string_view element_name, std::string_view factory_name,
                                                const std::vector<std::string>& patterns) {
    for (const auto& p : patterns) {
        if (matches(p, element_name)) {
            return fmt::format("isolate pattern '{}' matches {}", p, element_name);
        }
        if (matches(p, factory_name)) {
            return fmt::format("isolate pattern '{}' matches its factory {}", p, factory_name);
        }
    }
    return std::nullopt;
}

StrategyDecision by_hints(const ExecutionHints& h) {
    // Isolation comes before everything else: a crash or an exploit costs
    // more than any latency an isolated element pays.
    if (h.trust_level == TrustLevel::untrusted) {
        return {ExecutionStrategy::isolated, "hints: trust=untrusted", {}};
    }
    if (h.uses_native_code && !h.crash_safe) {
        return {ExecutionStrategy::isolated, "hints: native code, not crash-safe", {}};
    }
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

StrategyDecision choose_strategy(std::string_view element_name, std::string_view factory_name,
                                 const ExecutionHints& hints, const StrategyOverrides& overrides) {
    StrategyDecision d;
    if (auto it = overrides.elements.find(element_name); it != overrides.elements.end()) {
        d = {it->second, fmt::format("strategy={} set for this element", to_string(it->second)), {}};
        if (d.strategy == ExecutionStrategy::real_time && !hints.rt_safe) {
            d.warning = "runs on a real-time thread as asked, but does not declare itself rt-safe: if it allocates "
                        "or blocks, it delays everything of lower priority";
        }
    } else if (auto rule = isolate_pattern_rule(element_name, factory_name, overrides.isolate)) {
        d = {ExecutionStrategy::isolated, std::move(*rule), {}};
    } else {
        d = by_hints(hints);
    }
    if (d.strategy == ExecutionStrategy::isolated && overrides.never_isolate) {
        d.strategy = ExecutionStrategy::in_process;
        d.rule = fmt::format("never-isolate (debugging): would be isolated by {}", d.rule);
    }
    return d;
}

} // namespace parallax
