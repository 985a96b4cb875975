#pragma once
/// \file
/// ArrivalPredictor: when the next item of a steady stream is due.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>

namespace parallax {

/// Learns the rhythm of a stream whose data comes at regular intervals (a
/// live source: a camera, a capture card, a 1 ms control loop) from the times
/// a waiting reader saw each arrival, and says when the reader should be
/// awake for the next one.
///
/// A sleeping reader pays the wake-up (tens of microseconds on a VM) on
/// every arrival; a spinning one pays a core. Knowing the period, the reader
/// can sleep until shortly before the next arrival is due and spin only
/// across the window where it is expected: the latency of a spinning reader
/// for a fraction of the CPU. A stream without a steady rhythm is never
/// predicted, and the reader keeps its ordinary wait.
///
/// Not thread-safe: one reader owns it.
class ArrivalPredictor {
public:
    /// The time span to be awake and polling for the next arrival, in the
    /// clock of arrived().
    struct Window {
        std::int64_t wake_at = 0;
        std::int64_t give_up_at = 0;
    };

    /// Periods below this are left to the ordinary adaptive spin, which
    /// already stays awake across them; above the maximum, the stream is
    /// too sparse for a rhythm to mean anything.
    static constexpr std::int64_t min_period_ns = 20'000;
    static constexpr std::int64_t max_period_ns = 1'000'000'000;
    /// Arrivals observed before the rhythm is trusted.
    static constexpr int warm_up = 8;
    /// The least half-width of the window: covers the wake-up of the
    /// producer's own thread, which moves each arrival by a few tens of µs
    /// even when its period is exact. (How late the reader's timer ends a
    /// sleep is the reader's to allow for: ShmRing learns it.)
    static constexpr std::int64_t base_margin_ns = 60'000;

    /// Data was seen at `now_ns` after the reader had found nothing.
    void arrived(std::int64_t now_ns) noexcept {
        if (last_ns_ != 0) {
            const std::int64_t interval = now_ns - last_ns_;
            if (interval <= 0 || (samples_ > 0 && interval > 4 * period_ns_)) {
                // A pause, a seek or a clock step: learn again from here.
                samples_ = 0;
            } else if (samples_ == 0) {
                period_ns_ = interval;
                deviation_ns_ = 0;
                samples_ = 1;
            } else {
                const std::int64_t error = interval - period_ns_;
                period_ns_ += error / 8;
                deviation_ns_ += (std::abs(error) - deviation_ns_) / 8;
                samples_ = std::min(samples_ + 1, warm_up);
            }
        }
        last_ns_ = now_ns;
    }

    /// The window of the next arrival, or nothing while the stream has no
    /// steady rhythm (still learning, irregular, too fast or too slow).
    [[nodiscard]] std::optional<Window> next() const noexcept {
        if (samples_ < warm_up || period_ns_ < min_period_ns || period_ns_ > max_period_ns ||
            deviation_ns_ > period_ns_ / 4) {
            return std::nullopt;
        }
        const std::int64_t margin = std::min(base_margin_ns + 4 * deviation_ns_, period_ns_ / 2);
        const std::int64_t due = last_ns_ + period_ns_;
        return Window{due - margin, due + margin};
    }

    [[nodiscard]] std::int64_t period_ns() const noexcept { return samples_ >= warm_up ? period_ns_ : 0; }

    void reset() noexcept { *this = ArrivalPredictor(); }

private:
    std::int64_t last_ns_ = 0;
    std::int64_t period_ns_ = 0;
    std::int64_t deviation_ns_ = 0; // mean absolute deviation of the intervals
    int samples_ = 0;
};

} // namespace parallax
