#pragma once

// appsrc: the way an application hands buffers to a pipeline (GStreamer's
// appsrc). Buffers go into a bounded queue from any thread; the element's
// streaming task takes them out and pushes them downstream.

#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>

namespace parallax {

/// What AppSrc does with a buffer pushed while its queue is full
/// (GstAppLeakyType).
enum class AppLeakyType : std::uint8_t {
    none = 0,       ///< Wait for room (block=true) or refuse the buffer (block=false).
    upstream = 1,   ///< Drop the new buffer.
    downstream = 2, ///< Drop the oldest queued buffer to make room.
};

/// The formats AppSrc can announce in its segment; the numbers are
/// GStreamer's GstFormat values.
enum class AppFormat : std::uint8_t { default_units = 1, bytes = 2, time = 3, buffers = 4 };

/// Feeds application buffers into a pipeline.
///
/// Get it with `pipeline->get<AppSrc>("src")`, then push buffers from any
/// thread. Pushing is possible before the pipeline first starts and while it
/// is paused or running; between a stop and the next start (and for a push
/// that waits while the pipeline stops) it fails with Errc::state, as
/// GStreamer's appsrc returns FLUSHING. Stopping the pipeline drops what is
/// still queued.
///
/// The queue is full when any of max-buffers, max-bytes and max-time is
/// reached (0 = no limit of that kind). A push into a full queue then drops
/// per leaky-type, or waits for room when block is true, or else fails with
/// Errc::would_block.
class PARALLAX_API AppSrc final : public SimpleSource {
public:
    static constexpr ElementInfo info{.factory = "appsrc",
                                      .klass = "Generic/Source",
                                      .summary = "Allow the application to feed buffers to a pipeline",
                                      .description = "Takes buffers that the application pushes through its C++ API "
                                                     "into a bounded queue and sends them downstream from a "
                                                     "streaming thread of its own."};

    /// How full the queue is.
    struct Level {
        std::uint64_t buffers = 0;
        std::uint64_t bytes = 0;
        /// Between the oldest and the newest queued timestamp (dts, else
        /// pts; plus the newest buffer's duration); 0 without timestamps.
        std::uint64_t time_ns = 0;
    };

    /// Called when the queue runs empty (and, with min-percent, each time a
    /// buffer leaves it at or below that share of max-bytes): the
    /// application should push more. The argument is a size hint in bytes
    /// (4096, GStreamer's default blocksize). Called from: streaming thread.
    using NeedData = std::function<void(std::size_t)>;
    /// Called when a push finds the queue full: the application should stop
    /// pushing for a while. Called from: the pushing thread.
    using EnoughData = std::function<void()>;

    AppSrc();
    ~AppSrc() override;

    /// Queues a buffer. With do-timestamp, a buffer without pts and dts gets
    /// the running time now as both. Errors: Errc::closed after
    /// end_of_stream(), Errc::state when the pipeline is stopping or was
    /// stopped, Errc::would_block when the queue is full, leaky-type is none
    /// and block is false. A buffer dropped by leaky-type counts as success.
    /// **Ownership:** the buffer moves into the queue (or is dropped).
    /// Called from: any thread; from the need-data callback only when the
    /// push cannot wait (the queue has room then, unless limits changed).
    Result<void> push_buffer(Buffer buffer);
    /// Like push_buffer(), but when the queue is full and leaky-type is none
    /// it waits at most `timeout` for room, whatever block says; then
    /// Errc::timeout.
    Result<void> push_buffer(Buffer buffer, std::chrono::nanoseconds timeout);
    /// Marks the end of the stream: eos goes downstream once the queue is
    /// drained. Errc::state when the pipeline is stopping or was stopped.
    /// Called from: any thread.
    Result<void> end_of_stream();
    /// Sets the caps property: a caps event goes downstream before the next
    /// buffer pushed after this call. Called from: any thread.
    Result<void> set_caps(Caps caps);
    /// The caps property.
    [[nodiscard]] Caps caps() const { return caps_.get(); }
    /// A buffer of `size` writable bytes from the pipeline's memory, to fill
    /// and push. Fails while the element is in no pipeline.
    Result<Buffer> allocate(std::size_t size) { return context().allocate(size); }

    /// Sets or clears (empty function) the callbacks. Called from: any
    /// thread; a callback may run once more after it was replaced.
    void set_need_data(NeedData callback);
    void set_enough_data(EnoughData callback);

    /// What is queued now (GStreamer's current-level-* properties).
    [[nodiscard]] Level level() const;
    /// Buffers dropped by leaky-type since the element was made.
    [[nodiscard]] std::uint64_t dropped() const;

    /// Negotiation: the caps property (ANY when unset) narrows the pad.
    [[nodiscard]] Caps allowed_caps(const Pad& pad) const override {
        const Caps c = caps_.get();
        return c.is_empty() ? pad.pad_template().caps : intersect(pad.pad_template().caps, c);
    }
    void request_eos() override;
    void unblock() override;

protected:
    Result<void> start() override;
    Result<void> stop() override;
    Flow create(Buffer& out, SourceContext& ctx) override;
    [[nodiscard]] StreamSegment output_segment() const override;
    bool query(Pad& pad, Query& query) override;
    void property_changed(const PropertyBase& property) override;

private:
    // A buffer, or a caps change that applies to the buffers queued after it.
    struct Item {
        Buffer buffer;
        std::optional<Caps> caps;
    };

    // Waits for room when `wait`: until `deadline`, or for ever without one.
    Result<void> push(Buffer buffer, bool wait, std::optional<std::chrono::steady_clock::time_point> deadline);
    [[nodiscard]] bool full_locked() const;
    [[nodiscard]] std::uint64_t queued_time_locked() const;
    void drop_oldest_locked();
    void queue_caps_change();
    void call_need_data();

    mutable std::mutex mutex_;
    std::condition_variable data_cv_; // The streaming task waits for items.
    std::condition_variable room_cv_; // Pushers wait for room.
    std::deque<Item> queue_;
    std::uint64_t queued_buffers_ = 0;
    std::uint64_t queued_bytes_ = 0;
    std::uint64_t dropped_ = 0;
    bool flushing_ = false;
    bool eos_ = false;
    bool need_data_called_ = false;
    bool discont_upstream_ = false;   // The next queued buffer follows a dropped one.
    bool discont_downstream_ = false; // The next pushed buffer follows a dropped one.
    // The caps that apply to the next buffer out of the queue, and how many
    // caps changes the streaming task has taken out so far.
    Caps output_caps_ = Caps::any();
    std::uint64_t output_caps_gen_ = 0;

    // Streaming thread only: which caps change went downstream last.
    std::uint64_t sent_caps_gen_ = 0;
    bool caps_sent_ = false;

    std::mutex callbacks_mutex_;
    std::shared_ptr<const NeedData> need_data_;
    std::shared_ptr<const EnoughData> enough_data_;

    static constexpr EnumValue format_values[] = {
        {1, "default", "Default format of the data"},
        {2, "bytes", "Bytes"},
        {3, "time", "Time"},
        {4, "buffers", "Buffers"},
    };
    static constexpr EnumValue leaky_values[] = {
        {0, "none", "Not Leaky"},
        {1, "upstream", "Leaky on upstream (new buffers)"},
        {2, "downstream", "Leaky on downstream (old buffers)"},
    };

    Property<Caps> caps_{this, "caps", Caps::any(),
                         "The caps of the pushed buffers, sent downstream before the next buffer (ANY = none)",
                         Mutability::running};
    Property<AppFormat> format_{this, "format", AppFormat::bytes, "The format of the segment events", format_values};
    Property<std::uint64_t> max_buffers_{this,
                                         "max-buffers",
                                         0,
                                         "The maximum number of buffers to queue internally (0 = unlimited)",
                                         PropertyRange<std::uint64_t>(),
                                         Mutability::running};
    Property<std::uint64_t> max_bytes_{this,
                                       "max-bytes",
                                       200000,
                                       "The maximum number of bytes to queue internally (0 = unlimited)",
                                       PropertyRange<std::uint64_t>(),
                                       Mutability::running};
    Property<std::uint64_t> max_time_{this,
                                      "max-time",
                                      0,
                                      "The maximum amount of time to queue internally in ns (0 = unlimited)",
                                      PropertyRange<std::uint64_t>(),
                                      Mutability::running};
    Property<bool> block_{this, "block", false, "Block push-buffer when the queue is full", Mutability::running};
    Property<AppLeakyType> leaky_type_{
        this,         "leaky-type",       AppLeakyType::none, "Whether to drop buffers once the queue is full",
        leaky_values, Mutability::running};
    Property<std::uint32_t> min_percent_{this,
                                         "min-percent",
                                         0,
                                         "Call need-data when the queued bytes drop below this percent of max-bytes",
                                         PropertyRange<std::uint32_t>(0, 100),
                                         Mutability::running};
    Property<bool> is_live_{this, "is-live", false, "Whether to act as a live source"};
    Property<bool> do_timestamp_{this, "do-timestamp", false,
                                 "Stamp buffers without timestamps with the running time when pushed",
                                 Mutability::running};
    Property<std::int64_t> min_latency_{this,
                                        "min-latency",
                                        -1,
                                        "The minimum latency in ns (-1 = default)",
                                        PropertyRange<std::int64_t>(-1, std::numeric_limits<std::int64_t>::max()),
                                        Mutability::running};
    Property<std::int64_t> max_latency_{this,
                                        "max-latency",
                                        -1,
                                        "The maximum latency in ns (-1 = unlimited)",
                                        PropertyRange<std::int64_t>(-1, std::numeric_limits<std::int64_t>::max()),
                                        Mutability::running};
    Property<std::int64_t> size_{this,
                                 "size",
                                 -1,
                                 "The size of the data stream in bytes (-1 if unknown)",
                                 PropertyRange<std::int64_t>(-1, std::numeric_limits<std::int64_t>::max()),
                                 Mutability::running};
    Property<std::uint64_t> duration_{this,
                                      "duration",
                                      ClockTime::none_ns,
                                      "The duration of the data stream in ns (18446744073709551615 if unknown)",
                                      PropertyRange<std::uint64_t>(),
                                      Mutability::running};
};

} // namespace parallax
