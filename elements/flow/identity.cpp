// identity: passes buffers through unchanged; can sleep, fail after N
// buffers, drop at random, report buffers, and collapse segments.

#include <parallax/element.hpp>

#include <fmt/format.h>

#include <limits>
#include <random>
#include <thread>

namespace parallax {
namespace {

class Identity final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "identity",
                                      .klass = "Generic",
                                      .summary = "Pass data without modification",
                                      .description = "Passes buffers and events through; for tests it can sleep, "
                                                     "fail or drop."};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.rt_safe = true;
        return h;
    }();

protected:
    Result<void> start() override {
        count_ = 0;
        rng_.seed(0x1de);
        sent_segment_ = false;
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (single_segment_.get() && event.type() == EventType::segment) {
            if (sent_segment_) {
                return true;
            }
            sent_segment_ = true;
            return forward_event(pad, Event::segment(StreamSegment{}));
        }
        if (!silent_.get()) {
            report(fmt::format("event   ******* ({}:sink) E ({})", name(), event.to_string()));
        }
        return Element::sink_event(pad, std::move(event));
    }

    bool query(Pad& pad, Query& q) override {
        if (q.type() == QueryType::allocation) {
            return forward_query(pad, q); // buffers pass untouched
        }
        return SimpleTransform::query(pad, q);
    }

    Flow transform(Buffer& buffer, TransformContext& ctx) override {
        ++count_;
        const std::int32_t error_after = error_after_.get();
        if (error_after >= 0 && count_ > static_cast<std::uint64_t>(error_after)) {
            return ctx.error(Error(Errc::failed, fmt::format("{}: error-after={} reached", name(), error_after)));
        }
        const double p = drop_probability_.get();
        if (p > 0.0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p) {
            return Flow::dropped;
        }
        if (const auto us = sleep_time_.get(); us > 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(us));
        }
        if (!silent_.get()) {
            const Metadata& m = buffer.meta();
            report(fmt::format("chain   ******* ({}:sink) ({} bytes, pts: {}, duration: {}, offset: {})", name(),
                               buffer.size(), m.pts().to_string(), m.duration().to_string(), m.byte_offset()));
        }
        if (dump_.get()) {
            Structure s("dump");
            s.set("size", static_cast<std::int32_t>(buffer.size()));
            std::string hex;
            for (auto b : buffer.data()) {
                hex += fmt::format("{:02x}", std::to_integer<unsigned>(b));
            }
            s.set("data", hex);
            ctx.post_element_message(std::move(s));
        }
        return Flow::ok;
    }

private:
    void report(std::string text) {
        Structure s("last-message");
        s.set("value", std::move(text));
        Message m;
        m.type = MessageType::property_notify;
        m.source = name();
        m.structure = std::move(s);
        context().host().post(std::move(m));
    }

    std::uint64_t count_ = 0;
    bool sent_segment_ = false;
    std::mt19937 rng_;

    Property<std::uint32_t> sleep_time_{this, "sleep-time", 0, "Microseconds to sleep between processing",
                                        {}, Mutability::running};
    Property<std::int32_t> error_after_{this, "error-after", -1, "Error after N buffers (-1 = never)",
                                        {-1, std::numeric_limits<std::int32_t>::max()}};
    Property<double> drop_probability_{this, "drop-probability", 0.0, "The probability that a buffer is dropped",
                                       {0.0, 1.0}, Mutability::running};
    Property<bool> dump_{this, "dump", false, "Dump buffer contents to the bus", Mutability::running};
    Property<bool> silent_{this, "silent", true, "Don't produce last-message events", Mutability::running};
    Property<bool> single_segment_{this, "single-segment", false,
                                   "Send one segment from the start and drop the ones that follow"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Identity);
PARALLAX_REGISTER_ALIAS("passthrough", "identity");
