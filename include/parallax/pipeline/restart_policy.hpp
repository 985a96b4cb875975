#pragma once

/// \file
/// RestartPolicy: how often, and after how long a pause, a supervised part of
/// a pipeline (an isolated element's worker process) is started again after
/// it died; RestartBudget applies a policy to one run of failures.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>

namespace parallax {

/// How the pause before a restart grows with the number of restarts.
enum class Backoff : std::uint8_t {
    fixed,       ///< Always `delay`.
    linear,      ///< `delay` × n for the n-th restart.
    exponential, ///< `delay` × 2^(n-1) for the n-th restart.
};

/// "fixed", "linear", "exponential".
PARALLAX_API std::string_view to_string(Backoff b) noexcept;
/// Reads what to_string() writes; anything else is an error listing them.
PARALLAX_API Result<Backoff> parse_backoff(std::string_view text);

/// When and how often to restart.
struct RestartPolicy {
    /// Restarts allowed within `reset_window`; one more failure than that
    /// fails the pipeline. 0: never restart.
    std::uint32_t max_restarts = 10;
    Backoff backoff = Backoff::exponential;
    /// The pause before the first restart.
    std::chrono::milliseconds delay{10};
    /// No pause is longer than this.
    std::chrono::milliseconds max_delay{2000};
    /// Restarts older than this no longer count against `max_restarts`, and
    /// the backoff starts over once a run lasted this long without failing.
    std::chrono::milliseconds reset_window{60'000};

    /// The pause before the n-th restart in a row (n >= 1), capped at
    /// max_delay.
    [[nodiscard]] PARALLAX_API std::chrono::milliseconds delay_before(std::uint32_t n) const noexcept;
    /// Refuses a policy that cannot work: a zero reset window, a max_delay
    /// below delay. The Error names the field.
    [[nodiscard]] PARALLAX_API Result<void> validate() const;
};

/// Applies a RestartPolicy to the failures of one supervised thing.
/// Not thread-safe: owned by whoever supervises (the control thread).
class PARALLAX_API RestartBudget {
public:
    using Clock = std::chrono::steady_clock;

    explicit RestartBudget(RestartPolicy policy) : policy_(policy) {}

    /// Records a failure at `now`. Returns the pause before restarting, or
    /// nothing when the budget is spent (max_restarts restarts already
    /// happened within the reset window).
    std::optional<std::chrono::milliseconds> on_failure(Clock::time_point now);
    /// Restarts so far (all of them, for reports).
    [[nodiscard]] std::uint32_t restarts() const noexcept { return total_; }
    [[nodiscard]] const RestartPolicy& policy() const noexcept { return policy_; }

private:
    RestartPolicy policy_;
    std::deque<Clock::time_point> recent_; // restarts within the window
    std::optional<Clock::time_point> last_failure_;
    std::uint32_t streak_ = 0; // restarts since the last long healthy run
    std::uint32_t total_ = 0;
};

} // namespace parallax
