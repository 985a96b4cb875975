#pragma once

/// \file
/// ExecutionStrategy: how the executor runs one element, chosen from the
/// element's ExecutionHints by fixed rules (first match wins) unless the
/// pipeline overrides it.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/element/execution_hints.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parallax {

/// How one element runs.
enum class ExecutionStrategy : std::uint8_t {
    /// On the pipeline's streaming threads, called directly by its upstream
    /// neighbour (a CPU-bound element still gets a thread boundary in front).
    in_process,
    /// Decoupled from its neighbours by a thread boundary, so that waiting on
    /// files, devices or sockets stalls nothing else.
    io,
    /// On a dedicated real-time thread (SCHED_FIFO where permitted).
    real_time,
    /// In a sandboxed worker process that is started again if it dies
    /// (IsolationOptions in parallax/pipeline/isolation.hpp says how).
    isolated,
};

/// "in-process", "io", "real-time", "isolated".
PARALLAX_API std::string_view to_string(ExecutionStrategy s) noexcept;
/// Reads what to_string() writes, and "auto" as no value (the rules
/// decide). Anything else is an error that lists the accepted words.
PARALLAX_API Result<std::optional<ExecutionStrategy>> parse_execution_strategy(std::string_view text);

/// What a pipeline says about strategies, above the elements' own hints.
struct StrategyOverrides {
    /// Per element name: the strategy to use whatever its hints say (the
    /// `strategy=` word in pipeline text sets these).
    std::map<std::string, ExecutionStrategy, std::less<>> elements;
    /// Elements whose name or factory name matches one of these glob
    /// patterns (fnmatch: `*dec*`, `crash?`) run isolated, unless `elements`
    /// names them. plx-launch's --isolate sets these.
    std::vector<std::string> isolate;
    /// Run nothing isolated (for debugging an element under gdb): every
    /// element that a rule, a pattern or its own entry in `elements` would
    /// isolate runs in process instead. plx-launch's --no-isolate sets it.
    bool never_isolate = false;
};

/// A strategy and why it was chosen.
struct StrategyDecision {
    ExecutionStrategy strategy = ExecutionStrategy::in_process;
    /// The rule or override that chose it, e.g. "hints: processing=io-bound".
    std::string rule;
    /// Set when the element asked for something it cannot have (real-time
    /// affinity without being RT-safe): say it once.
    std::string warning;
};

/// The strategy of one element. The element's own entry in
/// `overrides.elements` comes first, then the `isolate` patterns; then the
/// rules, first match wins:
///   - untrusted -> isolated;
///   - native code and not crash-safe -> isolated;
///   - real-time affinity -> real-time if RT-safe, else in-process with a warning;
///   - ultra-low or low latency and RT-safe -> real-time;
///   - I/O-bound -> io;
///   - otherwise in-process.
/// Last, `never_isolate` turns an isolated result into in-process; the rule
/// text then says what would have isolated it.
PARALLAX_API StrategyDecision choose_strategy(std::string_view element_name, std::string_view factory_name,
                                              const ExecutionHints& hints, const StrategyOverrides& overrides);

} // namespace parallax
