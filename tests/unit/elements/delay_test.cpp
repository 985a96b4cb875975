#include <parallax/element/query.hpp>
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

namespace parallax {
namespace {

struct Arrival {
    Metadata meta;
    ClockTime at; ///< Running time when the sink got it.
};

// fakesrc <source> ! delay <delay> ! fakesink, run to the end.
std::vector<Arrival> run_delayed(std::initializer_list<PropertySetting> source,
                                 std::initializer_list<PropertySetting> delay) {
    auto p = Pipeline::create();
    auto built = p->chain().then("fakesrc", source).then("delay", delay, "delay").then("fakesink", {}, "sink").done();
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
        got.push_back({b.meta(), pipeline->running_time()});
    });
    EXPECT_TRUE((*sink)->set_property("signal-handoffs", "true"));
    auto ok = p->run(std::chrono::seconds(30));
    EXPECT_TRUE(ok) << ok.error().to_string();
    return got;
}

constexpr std::int64_t ms = 1'000'000;

TEST(DelayTest, IsRegisteredAsDelay) {
    EXPECT_NE(Registry::global().find("delay"), nullptr);
}

TEST(DelayTest, HoldIsTheDefaultModeAndKeepsTimestamps) {
    auto e = Registry::global().create("delay");
    ASSERT_TRUE(e);
    EXPECT_EQ(*(*e)->get_property("mode"), "hold");
    EXPECT_EQ(*(*e)->get_property("delay"), "0");
}

TEST(DelayTest, HoldModeHoldsEveryBufferForTheDelay) {
    auto got = run_delayed({{"num-buffers", 5}, {"sizetype", "fixed"}, {"sizemax", 100}, {"datarate", 100000}},
                           {{"delay", 100 * ms}});
    ASSERT_EQ(got.size(), 5U);
    for (std::uint64_t k = 0; k < got.size(); ++k) {
        // Each buffer waits its own delay after the one before it went.
        EXPECT_GE(got[k].at, ClockTime::from_ms(100 * (k + 1))) << "buffer " << k;
        EXPECT_EQ(got[k].meta.pts(), ClockTime::from_ms(k)) << "hold leaves timestamps alone";
    }
}

TEST(DelayTest, ShiftModeMovesPtsAndDtsLaterWithoutChangingDuration) {
    auto got = run_delayed({{"num-buffers", 5}, {"sizetype", "fixed"}, {"sizemax", 100}, {"datarate", 1000}},
                           {{"delay", 1000 * ms}, {"mode", "shift"}});
    ASSERT_EQ(got.size(), 5U);
    for (std::uint64_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(got[k].meta.pts(), ClockTime::from_ms(1000 + 100 * k)) << "buffer " << k;
        EXPECT_EQ(got[k].meta.duration(), ClockTime::from_ms(100));
        EXPECT_TRUE(got[k].meta.dts().is_none()) << "a missing dts stays missing";
    }
}

TEST(DelayTest, ShiftModeLeavesBuffersWithoutTimestampsAlone) {
    auto got = run_delayed({{"num-buffers", 3}}, {{"delay", 1000 * ms}, {"mode", "shift"}});
    ASSERT_EQ(got.size(), 3U);
    for (const auto& a : got) {
        EXPECT_TRUE(a.meta.pts().is_none());
    }
}

TEST(DelayTest, BothModeHoldsAndShifts) {
    auto got = run_delayed({{"num-buffers", 3}, {"sizetype", "fixed"}, {"sizemax", 10}, {"datarate", 1000}},
                           {{"delay", 50 * ms}, {"mode", "both"}});
    ASSERT_EQ(got.size(), 3U);
    for (std::uint64_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(got[k].meta.pts(), ClockTime::from_ms(50 + 10 * k));
        EXPECT_GE(got[k].at, ClockTime::from_ms(50 * (k + 1))) << "buffer " << k;
    }
}

TEST(DelayTest, ZeroDelayPassesBuffersUntouched) {
    auto got = run_delayed({{"num-buffers", 10}, {"sizetype", "fixed"}, {"sizemax", 10}, {"datarate", 1000}},
                           {{"mode", "both"}});
    ASSERT_EQ(got.size(), 10U);
    for (std::uint64_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(got[k].meta.pts(), ClockTime::from_ms(10 * k));
        EXPECT_EQ(got[k].meta.sequence(), k);
    }
}

TEST(DelayTest, HoldingAddsTheDelayToTheLatencyQuery) {
    for (const char* mode : {"hold", "both", "shift"}) {
        SCOPED_TRACE(mode);
        auto p = Pipeline::create();
        ASSERT_TRUE(p->chain()
                        .then("fakesrc")
                        .then("delay", {{"delay", 40 * ms}, {"mode", mode}})
                        .then("fakesink", {}, "sink")
                        .done());
        Query q = Query::latency();
        const bool answered = p->find("sink")->pad("sink")->peer_query(q);
        if (std::string(mode) == "shift") {
            // Nothing waits: the question goes upstream unchanged.
            EXPECT_TRUE(!answered || q.min_latency() == ClockTime::zero());
        } else {
            ASSERT_TRUE(answered);
            EXPECT_EQ(q.min_latency(), ClockTime::from_ms(40));
        }
    }
}

TEST(DelayTest, DelayMayChangeWhileRunning) {
    auto e = Registry::global().create("delay");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->property("delay")->mutability(), Mutability::running);
}

TEST(DelayTest, BadPropertyValuesAreErrorsNamingTheProperty) {
    auto e = Registry::global().create("delay");
    ASSERT_TRUE(e);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"delay", "-1"}, {"delay", "soon"}, {"delay", "18446744073709551615"}, {"mode", "later"}, {"mode", "7"}};
    for (const auto& [name, value] : bad) {
        auto ok = (*e)->set_property(name, value);
        ASSERT_FALSE(ok) << name << "=" << value;
        EXPECT_NE(ok.error().message().find(name), std::string::npos) << ok.error().to_string();
    }
}

} // namespace
} // namespace parallax
