#include <parallax/pipeline/restart_policy.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace parallax {

std::string_view to_string(Backoff b) noexcept {
    switch (b) {
    case Backoff::fixed:
        return "fixed";
    case Backoff::linear:
        return "linear";
    case Backoff::exponential:
        return "exponential";
    }
    return "unknown";
}

Result<Backoff> parse_backoff(std::string_view text) {
    for (auto b : {Backoff::fixed, Backoff::linear, Backoff::exponential}) {
        if (text == to_string(b)) {
            return b;
        }
    }
    return fail(Errc::invalid_argument, fmt::format("\"{}\" is not a backoff (fixed, linear, exponential)", text));
}

std::chrono::milliseconds RestartPolicy::delay_before(std::uint32_t n) const noexcept {
    const std::int64_t base = delay.count();
    const std::int64_t cap = max_delay.count();
    if (n == 0 || base <= 0) {
        return std::chrono::milliseconds(0);
    }
    std::int64_t d = base;
    switch (backoff) {
    case Backoff::fixed:
        break;
    case Backoff::linear:
        // Saturating: n can be large when failures never stop.
        d = n > static_cast<std::uint64_t>(cap / base) + 1 ? cap : base * static_cast<std::int64_t>(n);
        break;
    case Backoff::exponential:
        for (std::uint32_t i = 1; i < n && d < cap; ++i) {
            d *= 2;
        }
        break;
    }
    return std::chrono::milliseconds(std::min(d, cap));
}

Result<void> RestartPolicy::validate() const {
    if (delay.count() < 0) {
        return fail(Errc::invalid_argument, fmt::format("restart delay {} ms is negative", delay.count()));
    }
    if (max_delay < delay) {
        return fail(Errc::invalid_argument,
                    fmt::format("restart max-delay {} ms is below the delay {} ms", max_delay.count(), delay.count()));
    }
    if (reset_window.count() <= 0) {
        return fail(Errc::invalid_argument,
                    fmt::format("restart reset-window {} ms must be positive", reset_window.count()));
    }
    return {};
}

std::optional<std::chrono::milliseconds> RestartBudget::on_failure(Clock::time_point now) {
    // A long healthy run since the last failure starts the backoff over.
    if (last_failure_ && now - *last_failure_ >= policy_.reset_window) {
        streak_ = 0;
    }
    last_failure_ = now;
    while (!recent_.empty() && now - recent_.front() >= policy_.reset_window) {
        recent_.pop_front();
    }
    if (recent_.size() >= policy_.max_restarts) {
        return std::nullopt;
    }
    recent_.push_back(now);
    ++streak_;
    ++total_;
    return policy_.delay_before(streak_);
}

} // namespace parallax
