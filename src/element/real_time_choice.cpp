// The real-time rule of ExecutionHints (execution_hints.hpp), shared by the
// strategy selection and the executor's real-time threads.

#include <parallax/element/execution_hints.hpp>

namespace parallax {

RealTimeChoice real_time_choice(const ExecutionHints& h) noexcept {
    if (h.affinity == Affinity::real_time) {
        if (h.rt_safe) {
            return {.real_time = true, .refused = false, .reason = "affinity=real-time, rt-safe"};
        }
        return {.real_time = false, .refused = true, .reason = "affinity=real-time but not rt-safe"};
    }
    if (h.affinity == Affinity::async) {
        // Asked for the ordinary streaming threads in so many words: low
        // latency alone does not override that.
        return {};
    }
    if (h.rt_safe && h.latency == LatencyHint::ultra_low) {
        return {.real_time = true, .refused = false, .reason = "latency=ultra-low, rt-safe"};
    }
    if (h.rt_safe && h.latency == LatencyHint::low) {
        return {.real_time = true, .refused = false, .reason = "latency=low, rt-safe"};
    }
    return {};
}

} // namespace parallax
