// The limiter waits on the pipeline clock, and the sink reads that same
// clock, so the lower bounds below are exact consequences of the limit
// (never upper bounds: a loaded machine may always be slower).

#include <parallax/element/registry.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <parallax/elements/flow/fakesink.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace parallax::ratelimiter_test {
namespace {

struct Arrival {
    std::uint64_t sequence = 0;
    std::size_t size = 0;
    ClockTime at; ///< Running time when the sink got it.
};

std::vector<Arrival> run_limited(std::initializer_list<PropertySetting> source,
                                 std::initializer_list<PropertySetting> limiter) {
    auto p = Pipeline::create();
    auto built =
        p->chain().then("fakesrc", source).then("ratelimiter", limiter, "limit").then("fakesink", {}, "sink").done();
    EXPECT_TRUE(built) << built.error().to_string();
    std::mutex mutex;
    std::vector<Arrival> got;
    auto sink = p->get<FakeSink>("sink");
    EXPECT_TRUE(sink);
    if (!built || !sink) {
        return got;
    }
    Pipeline* pipeline = p.get();
    (*sink)->set_handoff([&](const Buffer& b, Pad&) {
        std::lock_guard lock(mutex);
        got.push_back({b.meta().sequence(), b.size(), pipeline->running_time()});
    });
    EXPECT_TRUE((*sink)->set_property("signal-handoffs", "true"));
    auto ok = p->run(std::chrono::seconds(30));
    EXPECT_TRUE(ok) << ok.error().to_string();
    return got;
}

TEST(RateLimiterTest, IsRegisteredAsRatelimiter) {
    EXPECT_NE(Registry::global().find("ratelimiter"), nullptr);
}

TEST(RateLimiterTest, BuffersPerSecondKeepsBuffersAtLeastOneIntervalApart) {
    auto got = run_limited({{"num-buffers", 50}}, {{"buffers-per-second", "100"}});
    ASSERT_EQ(got.size(), 50U);
    for (std::size_t k = 0; k < got.size(); ++k) {
        EXPECT_GE(got[k].at, ClockTime::from_ms(10 * k)) << "buffer " << k;
    }
    // 50 buffers at 100 per second cannot take less than 49 intervals.
    EXPECT_GE(got.back().at, ClockTime::from_ms(490));
}

TEST(RateLimiterTest, BytesPerSecondHoldsTheNextBufferForTheBytesOfThisOne) {
    auto got =
        run_limited({{"num-buffers", 10}, {"sizetype", "fixed"}, {"sizemax", 1000}}, {{"bytes-per-second", 20000}});
    ASSERT_EQ(got.size(), 10U);
    for (std::size_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(got[k].size, 1000U);
        // 1000 bytes at 20000 bytes per second: 50 ms each.
        EXPECT_GE(got[k].at, ClockTime::from_ms(50 * k)) << "buffer " << k;
    }
}

TEST(RateLimiterTest, WithBothLimitsTheLongerWaitWins) {
    auto got = run_limited({{"num-buffers", 5}, {"sizetype", "fixed"}, {"sizemax", 1000}},
                           {{"buffers-per-second", "1000"}, {"bytes-per-second", 10000}});
    ASSERT_EQ(got.size(), 5U);
    for (std::size_t k = 0; k < got.size(); ++k) {
        EXPECT_GE(got[k].at, ClockTime::from_ms(100 * k)) << "buffer " << k;
    }
}

TEST(RateLimiterTest, PassesEveryBufferUnchangedAndInOrder) {
    auto got =
        run_limited({{"num-buffers", 20}, {"sizetype", "fixed"}, {"sizemax", 64}}, {{"buffers-per-second", "1000"}});
    ASSERT_EQ(got.size(), 20U);
    for (std::size_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(got[k].sequence, k);
        EXPECT_EQ(got[k].size, 64U);
    }
}

TEST(RateLimiterTest, WithoutALimitEveryBufferPasses) {
    auto got = run_limited({{"num-buffers", 1000}}, {});
    ASSERT_EQ(got.size(), 1000U);
    EXPECT_EQ(got.back().sequence, 999U);
}

TEST(RateLimiterTest, LimitsMayChangeWhileRunning) {
    auto e = Registry::global().create("ratelimiter");
    ASSERT_TRUE(e);
    for (const char* name : {"buffers-per-second", "bytes-per-second"}) {
        PropertyBase* prop = (*e)->property(name);
        ASSERT_NE(prop, nullptr) << name;
        EXPECT_EQ(prop->mutability(), Mutability::running) << name;
    }
}

TEST(RateLimiterTest, BadPropertyValuesAreErrorsNamingTheProperty) {
    auto e = Registry::global().create("ratelimiter");
    ASSERT_TRUE(e);
    const std::vector<std::pair<std::string, std::string>> bad = {{"buffers-per-second", "-1"},
                                                                  {"buffers-per-second", "fast"},
                                                                  {"buffers-per-second", "inf"},
                                                                  {"bytes-per-second", "-3"},
                                                                  {"bytes-per-second", "1.5"}};
    for (const auto& [name, value] : bad) {
        auto ok = (*e)->set_property(name, value);
        ASSERT_FALSE(ok) << name << "=" << value;
        EXPECT_NE(ok.error().message().find(name), std::string::npos) << ok.error().to_string();
    }
}

} // namespace
} // namespace parallax::ratelimiter_test
