#include "flow/fakesink.hpp"
#include "flow/queue.hpp"

#include <parallax/pipeline/pipeline.hpp>

#include <gtest/gtest.h>

#include <atomic>

namespace parallax {
namespace {

TEST(ExecutorTest, SourceToSinkRunsToEos) {
    auto p = Pipeline::create();
    ASSERT_TRUE(p->chain().then("fakesrc", {{"num-buffers", 100}}).then("fakesink", {}, "sink").done());
    std::atomic<int> seen{0};
    auto sink = p->get<FakeSink>("sink");
    ASSERT_TRUE(sink);
    (*sink)->set_handoff([&](const Buffer&, Pad&) { ++seen; });
    ASSERT_TRUE((*sink)->set_property("signal-handoffs", "true"));
    auto ok = p->run(std::chrono::seconds(10));
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(seen.load(), 100);
    EXPECT_EQ(p->progress().buffers, 100U);
}

TEST(ExecutorTest, QueueHandsBuffersToAnotherThread) {
    auto p = Pipeline::create();
    ASSERT_TRUE(p->chain()
                    .then("fakesrc", {{"num-buffers", 1000}, {"sizetype", "fixed"}, {"sizemax", 1000}})
                    .then("queue", {}, "q")
                    .then("fakesink")
                    .done());
    auto ok = p->run(std::chrono::seconds(10));
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(p->progress().buffers, 1000U);
    EXPECT_EQ(p->progress().bytes, 1000U * 1000U);
    // A second run starts from scratch.
    ok = p->run(std::chrono::seconds(10));
    ASSERT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ(p->progress().buffers, 1000U);
    EXPECT_TRUE(p->get<Queue>("q"));
}

} // namespace
} // namespace parallax
