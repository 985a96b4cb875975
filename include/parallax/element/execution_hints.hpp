#pragma once

/// \file
/// ExecutionHints: what an element says about itself so that the executor can
/// decide how to run it (fused with its neighbours, on its own thread, on a
/// real-time thread, or isolated in a child process).

#include <parallax/base/export.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace parallax {

/// How far the data an element handles can be trusted.
enum class TrustLevel : std::uint8_t {
    trusted,      ///< Produced inside the pipeline.
    semi_trusted, ///< From a local file or device.
    untrusted,    ///< From the network or a user: the element should be isolated.
};

/// What bounds an element's processing.
enum class ProcessingHint : std::uint8_t {
    unknown,      ///< Unknown or mixed.
    cpu_bound,    ///< Computation (encoders, converters): worth a core of its own.
    io_bound,     ///< Waiting on files, devices or sockets.
    memory_bound, ///< Moving large amounts of memory.
};

/// How quickly an element must react.
enum class LatencyHint : std::uint8_t {
    ultra_low, ///< Below 1 ms.
    low,       ///< Below 10 ms.
    normal,    ///< Below 100 ms.
    relaxed,   ///< More is acceptable.
};

/// How much memory an element uses.
enum class MemoryHint : std::uint8_t {
    normal,
    low,       ///< Little: cheap to isolate.
    high,      ///< A lot.
    streaming, ///< Processes data in chunks and keeps nothing.
};

/// Where an element asks to be scheduled.
enum class Affinity : std::uint8_t {
    automatic, ///< Let the executor decide from the other hints.
    async,     ///< The ordinary streaming threads.
    real_time, ///< A real-time thread (only honoured when rt_safe).
};

/// An element's execution characteristics. The defaults describe a trusted,
/// crash-safe, lightweight element.
struct ExecutionHints {
    TrustLevel trust_level = TrustLevel::trusted;
    ProcessingHint processing = ProcessingHint::unknown;
    LatencyHint latency = LatencyHint::normal;
    /// False when bad input might crash the element: isolation is advised.
    bool crash_safe = true;
    /// True when the element runs native code through a C library.
    bool uses_native_code = false;
    MemoryHint memory = MemoryHint::normal;
    /// True when the processing function neither allocates nor blocks and
    /// runs in bounded time, so that it may run on a real-time thread.
    bool rt_safe = false;
    Affinity affinity = Affinity::automatic;

    /// A trusted, lightweight element (the defaults).
    static constexpr ExecutionHints trusted() noexcept { return {}; }
    /// An element that handles untrusted input (a decoder, a demuxer).
    static constexpr ExecutionHints untrusted() noexcept {
        ExecutionHints h;
        h.trust_level = TrustLevel::untrusted;
        h.crash_safe = false;
        return h;
    }
    /// A computation-heavy element: the executor gives it a thread of its own.
    static constexpr ExecutionHints cpu_intensive() noexcept {
        ExecutionHints h;
        h.processing = ProcessingHint::cpu_bound;
        return h;
    }
    /// An element that waits on I/O: the executor decouples it from the rest.
    static constexpr ExecutionHints io_bound() noexcept {
        ExecutionHints h;
        h.processing = ProcessingHint::io_bound;
        return h;
    }
    /// An element with a low-latency requirement.
    static constexpr ExecutionHints low_latency() noexcept {
        ExecutionHints h;
        h.latency = LatencyHint::low;
        return h;
    }
    /// An element that runs native code and may crash on bad input.
    static constexpr ExecutionHints native() noexcept {
        ExecutionHints h;
        h.uses_native_code = true;
        h.crash_safe = false;
        return h;
    }

    friend constexpr bool operator==(const ExecutionHints&, const ExecutionHints&) = default;
};

PARALLAX_API std::string_view to_string(TrustLevel v) noexcept;
PARALLAX_API std::string_view to_string(ProcessingHint v) noexcept;
PARALLAX_API std::string_view to_string(LatencyHint v) noexcept;
PARALLAX_API std::string_view to_string(MemoryHint v) noexcept;
PARALLAX_API std::string_view to_string(Affinity v) noexcept;

/// Whether hints place an element on a real-time thread, and why.
struct RealTimeChoice {
    bool real_time = false;
    /// The hints ask for a real-time thread the element cannot have
    /// (affinity real-time without rt-safe): it runs normally, with a warning.
    bool refused = false;
    /// Why, as static text ("affinity=real-time, rt-safe"); empty otherwise.
    std::string_view reason;
};

/// The real-time rule: affinity real-time gives a real-time thread when the
/// element is rt-safe (otherwise `refused`); latency ultra-low or low and
/// rt-safe gives one too, unless the affinity is async (the element asked
/// for the ordinary threads). Strategy selection and the executor share it.
PARALLAX_API RealTimeChoice real_time_choice(const ExecutionHints& hints) noexcept;
/// real_time_choice(hints).real_time.
inline bool wants_real_time(const ExecutionHints& hints) noexcept {
    return real_time_choice(hints).real_time;
}

/// One line such as "trust=trusted processing=cpu-bound latency=normal
/// crash-safe=yes native=no memory=normal rt-safe=no affinity=auto".
PARALLAX_API std::string to_string(const ExecutionHints& hints);

} // namespace parallax
