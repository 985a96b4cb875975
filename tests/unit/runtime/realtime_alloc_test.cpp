// The hot path of a real-time thread must not allocate: from the warm-up
// buffer to the last one, an AllocationCounter (tests/support, which every
// test program links: it replaces operator new and counts on the thread
// where a counter lives) lives on the thread of the real-time element, and
// on_real_time_thread() confirms which thread that is. The counter only
// forwards to malloc, which the sanitizers intercept, so this runs under
// ASan and TSan too.

#include <parallax/element.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/runtime/realtime.hpp>

#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;

constexpr int warm_up = 50; // the first buffers may allocate (caps, first events)
constexpr int total = 2000;

// Allocations between the warm-up buffer and the last one, counted on the
// thread that runs the real-time element (everything that thread does: the
// queue's pop, the element, the sink, releasing buffers).
struct Window {
    std::optional<check::AllocationCounter> counter; // used by the real-time thread only
    std::atomic<std::uint64_t> steady{0};
    std::atomic<int> buffers{0};
    std::atomic<bool> on_rt{false};

    void reset() {
        buffers = 0;
        on_rt = false;
        steady = ~std::uint64_t{0};
    }
    void buffer() {
        const int n = ++buffers;
        if (n == 1) {
            on_rt = on_real_time_thread();
        }
        if (n == warm_up) {
            counter.emplace();
        }
        if (n == total) {
            steady = counter->count();
            counter.reset();
        }
    }
    [[nodiscard]] std::uint64_t steady_allocations() const { return steady.load(); }
};

Window window;

constexpr ExecutionHints rt_hints = [] {
    ExecutionHints h;
    h.latency = LatencyHint::low;
    h.rt_safe = true;
    return h;
}();

class RtCount final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "test-rt-count", .klass = "Filter", .summary = "Counts"};
    static constexpr ExecutionHints hints = rt_hints;

protected:
    Flow transform(Buffer&, TransformContext&) override {
        window.buffer();
        return Flow::ok;
    }
};

// Claims rt-safety but allocates per buffer: shows that the check sees it.
class RtLiar final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "test-rt-liar", .klass = "Filter", .summary = "Allocates"};
    static constexpr ExecutionHints hints = rt_hints;

protected:
    Flow transform(Buffer& b, TransformContext&) override {
        window.buffer();
        std::vector<std::byte> copy(b.data().begin(), b.data().end());
        sink_ += copy.size();
        return Flow::ok;
    }

private:
    std::size_t sink_ = 0;
};

// A real-time source: its own thread allocates every buffer from the arenas.
class RtSource final : public SimpleSource {
public:
    static constexpr ElementInfo info{.factory = "test-rt-source", .klass = "Source", .summary = "Real-time"};
    static constexpr ExecutionHints hints = rt_hints;

protected:
    Flow create(Buffer& out, SourceContext& ctx) override {
        if (window.buffers.load() >= total) {
            return Flow::eos;
        }
        window.buffer();
        auto b = ctx.allocate(1024);
        if (!b) {
            return ctx.error(b.error());
        }
        out = std::move(*b);
        out.meta().set_pts(ClockTime::from_ns(window.buffers.load() * 1'000'000LL));
        return Flow::ok;
    }
};

template <class T>
Result<void> run(std::string_view before, std::string_view after) {
    window.reset();
    auto p = Pipeline::parse(before);
    EXPECT_TRUE(p);
    auto rt = (*p)->add(make_element<T>("rt").value());
    EXPECT_TRUE(rt);
    // The parsed part ends in an element named "last"; `after` follows rt.
    EXPECT_TRUE((*p)->link(*(*p)->find("last"), **rt));
    auto tail = (*p)->add(std::string(after), "tail");
    EXPECT_TRUE(tail);
    EXPECT_TRUE((*p)->link(**rt, **tail));
    auto ok = (*p)->run(30s);
    EXPECT_TRUE(ok) << ok.error().to_string();
    EXPECT_EQ((*p)->progress().buffers, std::uint64_t{total});
    return ok;
}

TEST(RealTimeAllocationTest, AutoQueueToRtElementToFakesinkDoesNotAllocate) {
    ASSERT_TRUE(run<RtCount>("fakesrc name=last num-buffers=2000 sizetype=fixed sizemax=1024", "fakesink"));
    EXPECT_TRUE(window.on_rt.load());
    EXPECT_EQ(window.steady_allocations(), 0U);
}

TEST(RealTimeAllocationTest, ExplicitQueueWithLimitsDoesNotAllocate) {
    // A small queue: the real-time consumer sleeps and wakes the producer.
    ASSERT_TRUE(run<RtCount>("fakesrc num-buffers=2000 sizetype=fixed sizemax=1024 ! queue name=last "
                             "max-size-buffers=4",
                             "fakesink"));
    EXPECT_TRUE(window.on_rt.load());
    EXPECT_EQ(window.steady_allocations(), 0U);
}

TEST(RealTimeAllocationTest, ARealTimeSourceAllocatingFromTheArenasDoesNotAllocateOnTheHeap) {
    window.reset();
    auto p = Pipeline::create();
    auto src = p->add(make_element<RtSource>("rtsrc").value());
    auto id = p->add("identity");
    auto snk = p->add("fakesink");
    ASSERT_TRUE(src && id && snk && p->link(**src, **id) && p->link(**id, **snk));
    ASSERT_TRUE(p->run(30s));
    EXPECT_TRUE(window.on_rt.load());
    EXPECT_EQ(window.steady_allocations(), 0U);
}

TEST(RealTimeAllocationTest, TheCheckSeesAnElementThatAllocates) {
    ASSERT_TRUE(run<RtLiar>("fakesrc name=last num-buffers=2000 sizetype=fixed sizemax=1024", "fakesink"));
    EXPECT_TRUE(window.on_rt.load());
    EXPECT_GE(window.steady_allocations(), std::uint64_t{total - warm_up});
}

} // namespace
} // namespace parallax
