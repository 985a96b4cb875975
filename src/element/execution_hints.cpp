#include <parallax/element/execution_hints.hpp>

#include <fmt/format.h>

namespace parallax {

std::string_view to_string(TrustLevel v) noexcept {
    switch (v) {
    case TrustLevel::trusted:
        return "trusted";
    case TrustLevel::semi_trusted:
        return "semi-trusted";
    case TrustLevel::untrusted:
        return "untrusted";
    }
    return "unknown";
}

std::string_view to_string(ProcessingHint v) noexcept {
    switch (v) {
    case ProcessingHint::unknown:
        return "unknown";
    case ProcessingHint::cpu_bound:
        return "cpu-bound";
    case ProcessingHint::io_bound:
        return "io-bound";
    case ProcessingHint::memory_bound:
        return "memory-bound";
    }
    return "unknown";
}

std::string_view to_string(LatencyHint v) noexcept {
    switch (v) {
    case LatencyHint::ultra_low:
        return "ultra-low";
    case LatencyHint::low:
        return "low";
    case LatencyHint::normal:
        return "normal";
    case LatencyHint::relaxed:
        return "relaxed";
    }
    return "unknown";
}

std::string_view to_string(MemoryHint v) noexcept {
    switch (v) {
    case MemoryHint::normal:
        return "normal";
    case MemoryHint::low:
        return "low";
    case MemoryHint::high:
        return "high";
    case MemoryHint::streaming:
        return "streaming";
    }
    return "unknown";
}

std::string_view to_string(Affinity v) noexcept {
    switch (v) {
    case Affinity::automatic:
        return "auto";
    case Affinity::async:
        return "async";
    case Affinity::real_time:
        return "real-time";
    }
    return "unknown";
}

std::string to_string(const ExecutionHints& h) {
    return fmt::format("trust={} processing={} latency={} crash-safe={} native={} memory={} rt-safe={} affinity={}",
                       to_string(h.trust_level), to_string(h.processing), to_string(h.latency),
                       h.crash_safe ? "yes" : "no", h.uses_native_code ? "yes" : "no", to_string(h.memory),
                       h.rt_safe ? "yes" : "no", to_string(h.affinity));
}

} // namespace parallax
