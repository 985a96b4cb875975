#include <parallax/pipeline/restart_policy.hpp>

#include <gtest/gtest.h>

namespace parallax {
namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

RestartPolicy policy(Backoff b, ms delay = 10ms, ms max_delay = 1000ms) {
    RestartPolicy p;
    p.backoff = b;
    p.delay = delay;
    p.max_delay = max_delay;
    return p;
}

TEST(RestartPolicyTest, FixedBackoffAlwaysWaitsTheDelay) {
    const auto p = policy(Backoff::fixed);
    EXPECT_EQ(p.delay_before(1), 10ms);
    EXPECT_EQ(p.delay_before(7), 10ms);
}

TEST(RestartPolicyTest, LinearBackoffGrowsByTheDelayUpToTheCap) {
    const auto p = policy(Backoff::linear, 10ms, 35ms);
    EXPECT_EQ(p.delay_before(1), 10ms);
    EXPECT_EQ(p.delay_before(2), 20ms);
    EXPECT_EQ(p.delay_before(3), 30ms);
    EXPECT_EQ(p.delay_before(4), 35ms);
    EXPECT_EQ(p.delay_before(4'000'000'000U), 35ms);
}

TEST(RestartPolicyTest, ExponentialBackoffDoublesUpToTheCap) {
    const auto p = policy(Backoff::exponential, 10ms, 100ms);
    EXPECT_EQ(p.delay_before(1), 10ms);
    EXPECT_EQ(p.delay_before(2), 20ms);
    EXPECT_EQ(p.delay_before(3), 40ms);
    EXPECT_EQ(p.delay_before(4), 80ms);
    EXPECT_EQ(p.delay_before(5), 100ms);
    EXPECT_EQ(p.delay_before(4'000'000'000U), 100ms);
}

TEST(RestartPolicyTest, ZeroDelayMeansRestartAtOnce) {
    EXPECT_EQ(policy(Backoff::exponential, 0ms, 0ms).delay_before(3), 0ms);
}

TEST(RestartPolicyTest, ValidateNamesTheBadField) {
    auto p = policy(Backoff::fixed, 100ms, 10ms);
    auto bad = p.validate();
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("max-delay 10 ms is below the delay 100 ms"), std::string::npos);
    p = RestartPolicy{};
    p.reset_window = 0ms;
    bad = p.validate();
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("reset-window"), std::string::npos);
    p = RestartPolicy{};
    p.delay = -1ms;
    EXPECT_FALSE(p.validate());
    EXPECT_TRUE(RestartPolicy{}.validate());
}

TEST(RestartPolicyTest, BackoffNamesRoundTripAndOthersAreRefused) {
    for (auto b : {Backoff::fixed, Backoff::linear, Backoff::exponential}) {
        auto parsed = parse_backoff(to_string(b));
        ASSERT_TRUE(parsed);
        EXPECT_EQ(*parsed, b);
    }
    auto bad = parse_backoff("quadratic");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message(), "\"quadratic\" is not a backoff (fixed, linear, exponential)");
}

TEST(RestartBudgetTest, AllowsMaxRestartsWithinTheWindowThenRefuses) {
    RestartPolicy p = policy(Backoff::exponential);
    p.max_restarts = 3;
    p.reset_window = 60s;
    RestartBudget budget(p);
    const auto t0 = RestartBudget::Clock::time_point{} + 1h;
    EXPECT_EQ(budget.on_failure(t0), 10ms);
    EXPECT_EQ(budget.on_failure(t0 + 1s), 20ms);
    EXPECT_EQ(budget.on_failure(t0 + 2s), 40ms);
    EXPECT_EQ(budget.on_failure(t0 + 3s), std::nullopt);
    EXPECT_EQ(budget.restarts(), 3U);
}

TEST(RestartBudgetTest, OldRestartsLeaveTheWindow) {
    RestartPolicy p = policy(Backoff::fixed);
    p.max_restarts = 2;
    p.reset_window = 10s;
    RestartBudget budget(p);
    const auto t0 = RestartBudget::Clock::time_point{} + 1h;
    EXPECT_TRUE(budget.on_failure(t0));
    EXPECT_TRUE(budget.on_failure(t0 + 5s));
    EXPECT_FALSE(budget.on_failure(t0 + 9s));
    // t0's restart is 10 s old at t0 + 10s: one slot is free again.
    EXPECT_TRUE(budget.on_failure(t0 + 10s));
    EXPECT_EQ(budget.restarts(), 3U);
}

TEST(RestartBudgetTest, ALongHealthyRunStartsTheBackoffOver) {
    RestartPolicy p = policy(Backoff::exponential);
    p.max_restarts = 10;
    p.reset_window = 10s;
    RestartBudget budget(p);
    const auto t0 = RestartBudget::Clock::time_point{} + 1h;
    EXPECT_EQ(budget.on_failure(t0), 10ms);
    EXPECT_EQ(budget.on_failure(t0 + 1s), 20ms);
    EXPECT_EQ(budget.on_failure(t0 + 2s), 40ms);
    EXPECT_EQ(budget.on_failure(t0 + 30s), 10ms);
}

TEST(RestartBudgetTest, ZeroRestartsFailsAtTheFirstFailure) {
    RestartPolicy p;
    p.max_restarts = 0;
    RestartBudget budget(p);
    EXPECT_FALSE(budget.on_failure(RestartBudget::Clock::now()));
    EXPECT_EQ(budget.restarts(), 0U);
}

} // namespace
} // namespace parallax
