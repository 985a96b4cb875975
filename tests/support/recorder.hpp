#pragma once

// Recorder: a sink for element tests that records every buffer and event it
// receives, in order, and lets the test read them from another thread.

#include <parallax/element.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace parallax::check {

class Recorder final : public SimpleSink {
public:
    static constexpr ElementInfo info{
        .factory = "test-recorder", .klass = "Sink", .summary = "Records buffers and events"};

    struct Item {
        std::optional<EventType> event; ///< nullopt: a buffer
        std::size_t size = 0;
        std::uint64_t sequence = 0;
        BufferFlags flags = BufferFlags::none;
        ClockTime time;           ///< a buffer's pts, an event's time (gap, ...)
        ClockTime running_time;   ///< a buffer's pts in the segment current then
        StreamSegment segment;    ///< of a segment event
    };

    /// Called on the streaming thread after each buffer is recorded.
    std::function<void(const Item&)> on_buffer;

    [[nodiscard]] std::vector<Item> items() const {
        std::lock_guard lock(mutex_);
        return items_;
    }
    [[nodiscard]] std::vector<Item> buffers() const {
        std::vector<Item> out;
        for (const Item& i : items()) {
            if (!i.event) {
                out.push_back(i);
            }
        }
        return out;
    }
    [[nodiscard]] std::size_t buffer_count() const { return count(std::nullopt); }
    [[nodiscard]] std::size_t count(std::optional<EventType> t) const {
        const auto all = items();
        return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [&](const Item& i) { return i.event == t; }));
    }
    [[nodiscard]] std::vector<StreamSegment> segments() const {
        std::vector<StreamSegment> out;
        for (const Item& i : items()) {
            if (i.event == EventType::segment) {
                out.push_back(i.segment);
            }
        }
        return out;
    }
    /// True when two calls (buffers or events) ever ran at the same time.
    [[nodiscard]] bool overlapped() const { return overlapped_.load(); }

protected:
    Result<void> start() override {
        std::lock_guard lock(mutex_);
        items_.clear();
        return {};
    }
    Flow render(Buffer& b, SinkContext&) override {
        enter();
        const Item item{std::nullopt, b.size(), b.meta().sequence(), b.meta().flags(), b.meta().pts(),
                        segment().to_running_time(b.meta().pts()), {}};
        add(item);
        leave();
        if (on_buffer) {
            on_buffer(item);
        }
        return Flow::ok;
    }
    bool sink_event(Pad& pad, Event&& e) override {
        enter();
        Item item{e.type(), 0, 0, BufferFlags::none, e.time(), ClockTime::none(), {}};
        if (const StreamSegment* s = e.segment_value()) {
            item.segment = *s;
        }
        add(item);
        leave();
        return SimpleSink::sink_event(pad, std::move(e));
    }

private:
    void enter() {
        if (inside_.exchange(true)) {
            overlapped_ = true;
        }
    }
    void leave() { inside_ = false; }
    void add(const Item& i) {
        std::lock_guard lock(mutex_);
        items_.push_back(i);
    }

    mutable std::mutex mutex_;
    std::vector<Item> items_;
    std::atomic<bool> inside_{false};
    std::atomic<bool> overlapped_{false};
};

} // namespace parallax::check
