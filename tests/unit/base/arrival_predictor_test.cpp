#include <parallax/base/arrival_predictor.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace parallax {
namespace {

constexpr std::int64_t ms = 1'000'000;

// Feeds `count` arrivals `period` apart from `start`; returns the last time.
std::int64_t feed(ArrivalPredictor& p, std::int64_t start, std::int64_t period, int count) {
    std::int64_t t = start;
    for (int i = 0; i < count; ++i) {
        t += period;
        p.arrived(t);
    }
    return t;
}

TEST(ArrivalPredictorTest, ASteadyStreamIsPredictedAfterItsWarmUp) {
    ArrivalPredictor p;
    std::int64_t t = 5 * ms;
    p.arrived(t);
    for (int i = 0; i < ArrivalPredictor::warm_up; ++i) {
        EXPECT_FALSE(p.next()) << "after " << i << " intervals";
        t = feed(p, t, ms, 1);
    }
    const auto w = p.next();
    ASSERT_TRUE(w);
    EXPECT_EQ(p.period_ns(), ms);
    EXPECT_LT(w->wake_at, t + ms);
    EXPECT_GT(w->give_up_at, t + ms);
    // No jitter: the margin is the base one on both sides.
    EXPECT_EQ(t + ms - w->wake_at, ArrivalPredictor::base_margin_ns);
    EXPECT_EQ(w->give_up_at - (t + ms), ArrivalPredictor::base_margin_ns);
}

TEST(ArrivalPredictorTest, JitterWidensTheWindowUpToHalfAPeriod) {
    ArrivalPredictor steady;
    ArrivalPredictor jittery;
    std::int64_t a = 0;
    std::int64_t b = 0;
    steady.arrived(a);
    jittery.arrived(b);
    for (int i = 0; i < 64; ++i) {
        a += ms;
        b += ms + (i % 2 == 0 ? 50'000 : -50'000);
        steady.arrived(a);
        jittery.arrived(b);
    }
    const auto ws = steady.next();
    const auto wj = jittery.next();
    ASSERT_TRUE(ws);
    ASSERT_TRUE(wj);
    EXPECT_GT(wj->give_up_at - wj->wake_at, ws->give_up_at - ws->wake_at);
    EXPECT_LE(wj->give_up_at - wj->wake_at, jittery.period_ns());
}

TEST(ArrivalPredictorTest, AnIrregularStreamIsNeverPredicted) {
    ArrivalPredictor p;
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::int64_t> gap(100'000, 3 * ms);
    std::int64_t t = 0;
    for (int i = 0; i < 500; ++i) {
        t += gap(rng);
        p.arrived(t);
        EXPECT_FALSE(p.next()) << "arrival " << i;
    }
}

TEST(ArrivalPredictorTest, APauseMakesItLearnAgain) {
    ArrivalPredictor p;
    std::int64_t t = feed(p, 0, ms, 20);
    ASSERT_TRUE(p.next());
    t += 50 * ms; // paused
    p.arrived(t);
    EXPECT_FALSE(p.next());
    t = feed(p, t, 2 * ms, ArrivalPredictor::warm_up - 1);
    EXPECT_FALSE(p.next());
    feed(p, t, 2 * ms, 1);
    ASSERT_TRUE(p.next());
    EXPECT_EQ(p.period_ns(), 2 * ms);
}

TEST(ArrivalPredictorTest, PeriodsOutsideItsRangeAreLeftToTheOrdinaryWait) {
    ArrivalPredictor fast;
    feed(fast, 0, 5'000, 100);
    EXPECT_FALSE(fast.next());
    ArrivalPredictor slow;
    feed(slow, 0, 2'000 * ms, 20);
    EXPECT_FALSE(slow.next());
    ArrivalPredictor backwards;
    feed(backwards, 10 * ms, ms, 20);
    backwards.arrived(ms); // the clock went back
    EXPECT_FALSE(backwards.next());
}

} // namespace
} // namespace parallax
