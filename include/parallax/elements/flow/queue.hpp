#pragma once

// queue: a thread boundary. Buffers and events cross to a streaming thread
// of the queue's own through a bounded lock-free ring (ThreadLink), with
// back-pressure or leaking when full.

#include <parallax/element.hpp>
#include <parallax/runtime/thread_link.hpp>

#include <atomic>
#include <memory>

namespace parallax {

class PARALLAX_API Queue final : public Element {
public:
    static constexpr ElementInfo info{.factory = "queue",
                                      .klass = "Generic",
                                      .summary = "Simple data queue",
                                      .description = "Hands data over to a streaming thread of its own through a "
                                                     "bounded ring: limits in buffers, bytes and time, leaky modes."};
    static std::vector<PadTemplate> pad_templates();

    Queue();
    ~Queue() override;

    [[nodiscard]] bool drives_src_pads() const noexcept override { return true; }
    void unblock() override;

    /// What is queued now.
    [[nodiscard]] LinkLevel level() const noexcept;
    /// Buffers dropped by the leaky modes.
    [[nodiscard]] std::uint64_t dropped() const noexcept;

protected:
    void init() override;
    Result<void> start() override;
    Result<void> stop() override;
    Flow chain(Pad& pad, Buffer&& buffer) override;
    bool sink_event(Pad& pad, Event&& event) override;
    /// Allocation queries go to the elements downstream (buffers pass
    /// untouched).
    bool query(Pad& pad, Query& q) override;
    void property_changed(const PropertyBase& property) override;

private:
    Flow step();
    LinkLimits limits() const noexcept;
    [[nodiscard]] bool below_min_threshold() const noexcept;

    Pad* sink_ = nullptr;
    Pad* src_ = nullptr;
    std::unique_ptr<ThreadLink> link_;
    std::atomic<Flow> src_result_{Flow::ok};
    std::atomic<bool> drained_{false};
    std::atomic<bool> stopping_{false}; // unblock(): the streaming thread ends, no flush to wait out
    std::atomic<bool> eos_queued_{false};
    LinkLimits limits_cache_;

    Property<std::uint32_t> max_buffers_{this, "max-size-buffers", 200,
                                         "Max. number of buffers in the queue (0 = no limit)", {},
                                         Mutability::running};
    Property<std::uint32_t> max_bytes_{this, "max-size-bytes", 10 * 1024 * 1024,
                                       "Max. amount of data in the queue (bytes, 0 = no limit)", {},
                                       Mutability::running};
    Property<std::uint64_t> max_time_{this, "max-size-time", 1'000'000'000,
                                      "Max. amount of data in the queue (in ns, 0 = no limit)", {},
                                      Mutability::running};
    Property<std::uint32_t> min_buffers_{this, "min-threshold-buffers", 0,
                                         "Min. number of buffers in the queue to allow reading (0 = disable)", {},
                                         Mutability::running};
    Property<std::uint32_t> min_bytes_{this, "min-threshold-bytes", 0,
                                       "Min. amount of data in the queue to allow reading (bytes, 0 = disable)", {},
                                       Mutability::running};
    Property<std::uint64_t> min_time_{this, "min-threshold-time", 0,
                                      "Min. amount of data in the queue to allow reading (in ns, 0 = disable)", {},
                                      Mutability::running};
    Property<Leaky> leaky_{this, "leaky", Leaky::no, "Where the queue leaks, if at all", leaky_values,
                           Mutability::running};
    Property<bool> silent_{this, "silent", false, "Don't emit queue signals", Mutability::running};

    static constexpr EnumValue leaky_values[] = {
        {0, "no", "Not Leaky"},
        {1, "upstream", "Leaky on upstream (new buffers)"},
        {2, "downstream", "Leaky on downstream (old buffers)"},
    };
};

} // namespace parallax
