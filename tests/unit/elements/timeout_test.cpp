// Stalls are made with a live fakesrc whose datarate spaces its buffers far
// apart; flowing data with one whose buffers come far more often than the
// timeout.

#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <parallax/elements/flow/fakesink.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace parallax::timeout_test {
namespace {

constexpr std::int64_t ms = 1'000'000;

struct Outcome {
    Result<void> result;
    int buffers = 0;
    std::vector<Structure> timeout_messages; ///< "timeout" element messages from the element.
};

// fakesrc <source> ! timeout name=watch <timeout> ! fakesink, run to the end.
Outcome run_watched(std::initializer_list<PropertySetting> source, std::initializer_list<PropertySetting> timeout) {
    Outcome out;
    auto p = Pipeline::create();
    auto built =
        p->chain().then("fakesrc", source).then("timeout", timeout, "watch").then("fakesink", {}, "sink").done();
    EXPECT_TRUE(built) << built.error().to_string();
    auto sink = p->get<FakeSink>("sink");
    EXPECT_TRUE(sink);
    if (!built || !sink) {
        return out;
    }
    std::atomic<int> buffers{0};
    std::mutex mutex;
    (*sink)->set_handoff([&](const Buffer&, Pad&) { ++buffers; });
    EXPECT_TRUE((*sink)->set_property("signal-handoffs", "true"));
    p->bus().set_sync_handler([&](const Message& m) {
        if (m.type == MessageType::element && m.source == "watch" && m.structure && m.structure->name() == "timeout") {
            std::lock_guard lock(mutex);
            out.timeout_messages.push_back(*m.structure);
        }
        return true;
    });
    out.result = p->run(std::chrono::seconds(30));
    p->bus().set_sync_handler({});
    out.buffers = buffers.load();
    return out;
}

TEST(TimeoutTest, IsRegisteredAsTimeout) {
    EXPECT_NE(Registry::global().find("timeout"), nullptr);
}

TEST(TimeoutTest, ErrorIsTheDefaultAction) {
    auto e = Registry::global().create("timeout");
    ASSERT_TRUE(e);
    EXPECT_EQ(*(*e)->get_property("action"), "error");
    EXPECT_EQ(*(*e)->get_property("timeout"), "1000000000");
}

TEST(TimeoutTest, ErrorActionStopsAStalledPipelineNamingTheElement) {
    // Buffers 1 s apart against a 100 ms timeout.
    auto out = run_watched(
        {{"num-buffers", 3}, {"sizetype", "fixed"}, {"sizemax", 1000}, {"datarate", 1000}, {"is-live", "true"}},
        {{"timeout", 100 * ms}});
    ASSERT_FALSE(out.result) << "a 1 s gap must trip a 100 ms timeout";
    EXPECT_EQ(out.result.error().element(), "watch") << out.result.error().to_string();
    EXPECT_TRUE(out.result.error().is(Errc::timeout)) << out.result.error().to_string();
    EXPECT_LT(out.buffers, 3) << "the pipeline stopped before the stream ended";
}

TEST(TimeoutTest, ErrorActionStaysQuietWhileDataFlows) {
    // A buffer every 10 ms for 0.3 s against a 2 s timeout.
    auto out = run_watched(
        {{"num-buffers", 30}, {"sizetype", "fixed"}, {"sizemax", 1000}, {"datarate", 100000}, {"is-live", "true"}},
        {{"timeout", 2000 * ms}});
    ASSERT_TRUE(out.result) << out.result.error().to_string();
    EXPECT_EQ(out.buffers, 30);
}

TEST(TimeoutTest, MessageActionReportsAStallAndLetsDataFlowOn) {
    // Buffers 0.5 s apart against a 100 ms timeout: the stream still ends
    // normally, with messages along the way.
    auto out = run_watched(
        {{"num-buffers", 3}, {"sizetype", "fixed"}, {"sizemax", 1000}, {"datarate", 2000}, {"is-live", "true"}},
        {{"timeout", 100 * ms}, {"action", "message"}});
    ASSERT_TRUE(out.result) << out.result.error().to_string();
    EXPECT_EQ(out.buffers, 3);
    ASSERT_FALSE(out.timeout_messages.empty());
    const Structure& first = out.timeout_messages.front();
    EXPECT_EQ(first.get_string("action"), "message");
    EXPECT_EQ(first.get_int("count"), 1);
    EXPECT_EQ(first.get_string("timeout"), ClockTime::from_ms(100).to_string());
    auto elapsed = ClockTime::parse(*first.get_string("elapsed"));
    ASSERT_TRUE(elapsed);
    EXPECT_GE(*elapsed, ClockTime::from_ms(100));
    // Within one stall the count goes up by one per message; a new stall
    // starts again from one.
    for (std::size_t i = 1; i < out.timeout_messages.size(); ++i) {
        const auto count = out.timeout_messages[i].get_int("count");
        const auto before = out.timeout_messages[i - 1].get_int("count");
        ASSERT_TRUE(count && before);
        EXPECT_TRUE(*count == *before + 1 || *count == 1) << *before << " then " << *count;
    }
}

TEST(TimeoutTest, EosActionEndsTheStreamWhenTheSourceStalls) {
    // One buffer, then the next one 10 s later: the timeout ends the stream
    // long before.
    auto out = run_watched(
        {{"num-buffers", -1}, {"sizetype", "fixed"}, {"sizemax", 1000}, {"datarate", 100}, {"is-live", "true"}},
        {{"timeout", 100 * ms}, {"action", "eos"}});
    ASSERT_TRUE(out.result) << out.result.error().to_string();
    EXPECT_EQ(out.buffers, 1);
    ASSERT_EQ(out.timeout_messages.size(), 1U) << "eos is announced once";
    EXPECT_EQ(out.timeout_messages.front().get_string("action"), "eos");
}

TEST(TimeoutTest, EosActionPassesAStreamThatFlows) {
    auto out = run_watched({{"num-buffers", 200}, {"sizetype", "fixed"}, {"sizemax", 100}},
                           {{"timeout", 2000 * ms}, {"action", "eos"}});
    ASSERT_TRUE(out.result) << out.result.error().to_string();
    EXPECT_EQ(out.buffers, 200);
    EXPECT_TRUE(out.timeout_messages.empty());
}

TEST(TimeoutTest, ZeroTimeoutNeverFires) {
    auto out = run_watched(
        {{"num-buffers", 2}, {"sizetype", "fixed"}, {"sizemax", 1000}, {"datarate", 4000}, {"is-live", "true"}},
        {{"timeout", 0}, {"action", "message"}});
    ASSERT_TRUE(out.result) << out.result.error().to_string();
    EXPECT_EQ(out.buffers, 2);
    EXPECT_TRUE(out.timeout_messages.empty());
}

bool wait_for_error(check::Harness& h, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (h.error()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return h.error().has_value();
}

TEST(TimeoutTest, HarnessSeesTheErrorWhenNothingArrives) {
    auto h = check::Harness::create("timeout timeout=50000000");
    ASSERT_TRUE(h) << h.error().to_string();
    ASSERT_TRUE((*h)->start());
    ASSERT_TRUE(wait_for_error(**h, std::chrono::seconds(10)));
    EXPECT_TRUE((*h)->error()->is(Errc::timeout));
    EXPECT_TRUE((*h)->stop());
}

std::size_t error_count(const check::Harness& h) {
    const auto messages = h.messages();
    return static_cast<std::size_t>(
        std::count_if(messages.begin(), messages.end(), [](const Message& m) { return m.type == MessageType::error; }));
}

TEST(TimeoutTest, EosFromUpstreamEndsTheWatch) {
    auto h = check::Harness::create("timeout timeout=100000000");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->start());
    // Paused, the time it takes to get the stream going does not count.
    (*h)->pause();
    auto b = (*h)->make_buffer(16);
    ASSERT_TRUE(b);
    EXPECT_EQ((*h)->push(std::move(*b)), Flow::ok);
    ASSERT_TRUE((*h)->push_event(Event::eos()));
    ASSERT_TRUE((*h)->wait_eos());
    const std::size_t errors = error_count(**h);
    (*h)->resume();
    // Many timeouts later, no error: the stream ended as it should.
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    EXPECT_EQ(error_count(**h), errors) << (*h)->error()->to_string();
    EXPECT_TRUE((*h)->stop());
}

TEST(TimeoutTest, PausedTimeDoesNotCount) {
    auto h = check::Harness::create("timeout timeout=100000000");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->start());
    (*h)->pause();
    const std::size_t errors = error_count(**h);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    EXPECT_EQ(error_count(**h), errors) << "six timeouts of pause are not a stall";
    (*h)->resume();
    // Running again with nothing arriving: now it is.
    EXPECT_TRUE(wait_for_error(**h, std::chrono::seconds(10)));
    EXPECT_TRUE((*h)->stop());
}

TEST(TimeoutTest, StopCancelsTheWatch) {
    auto h = check::Harness::create("timeout timeout=50000000");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->start());
    ASSERT_TRUE((*h)->stop());
    const std::size_t errors = error_count(**h);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(error_count(**h), errors);
}

TEST(TimeoutTest, BadPropertyValuesAreErrorsNamingTheProperty) {
    auto e = Registry::global().create("timeout");
    ASSERT_TRUE(e);
    const std::vector<std::pair<std::string, std::string>> bad = {{"timeout", "-5"},
                                                                  {"timeout", "1s"},
                                                                  {"timeout", "18446744073709551615"},
                                                                  {"action", "explode"},
                                                                  {"action", "3"}};
    for (const auto& [name, value] : bad) {
        auto ok = (*e)->set_property(name, value);
        ASSERT_FALSE(ok) << name << "=" << value;
        EXPECT_NE(ok.error().message().find(name), std::string::npos) << ok.error().to_string();
    }
}

} // namespace
} // namespace parallax::timeout_test
