#pragma once
/// \file
/// ShmWait: how the reading side of a shared-memory ring waits for data
/// (ipcsrc's wait-mode, IsolationOptions::wait).

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <cstdint>
#include <string_view>

namespace parallax {

/// How the consumer waits for the next record when the ring is empty.
enum class ShmWait : std::uint8_t {
    /// Spins briefly (adapting to the gaps seen), then sleeps on the futex:
    /// no CPU while idle; each record that finds it asleep pays a wake-up.
    sleep = 0,
    /// Like sleep, but learns the period of a stream that arrives at steady
    /// intervals and sleeps only until shortly before the next record is
    /// due, then spins across the window where it is expected: the record
    /// finds the consumer awake. Costs the window's share of a core (12-20 %
    /// at one record per millisecond); a stream without a steady
    /// rhythm is waited for as with sleep.
    predict = 1,
    /// Never sleeps while waiting: the lowest latency, a core of its own.
    spin = 2,
};

/// Reads "sleep", "predict" or "spin"; an Error names the text and the
/// choices.
PARALLAX_API Result<ShmWait> parse_shm_wait(std::string_view text);
/// "sleep", "predict" or "spin".
PARALLAX_API std::string_view to_string(ShmWait wait) noexcept;

} // namespace parallax
