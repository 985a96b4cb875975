#pragma once

/// \file
/// Event: control information that travels along a link in order with the
/// buffers (downstream) or against them (upstream), and StreamSegment.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/clock_time.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/caps/structure.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace parallax {

/// The kinds of event, with GStreamer's meaning.
enum class EventType : std::uint8_t {
    // Downstream, serialized with buffers unless stated otherwise.
    stream_start,      ///< A new stream begins; carries its stream id.
    caps,              ///< The format of the buffers that follow.
    segment,           ///< How buffer timestamps map to running time.
    tags,              ///< Stream metadata (a Structure named "taglist").
    eos,               ///< No more data on this pad.
    gap,               ///< No data for a stretch of time.
    flush_start,       ///< Not serialized: drop everything, refuse data until flush-stop.
    flush_stop,        ///< Data flows again.
    custom_downstream, ///< An application-defined Structure.
    // Upstream.
    seek,            ///< Move to another position.
    qos,             ///< Quality of service feedback from a sink.
    latency,         ///< The latency the pipeline configured.
    reconfigure,     ///< Downstream wants to renegotiate.
    custom_upstream, ///< An application-defined Structure.
    // Numbered after the others because the number is also the event's type
    // on the wire of ipc rings (docs/design/ipc.md): the events above keep
    // the codes they always had.
    /// Downstream, serialized: the buffer that follows starts a key unit made
    /// on request (GstVideo's downstream force-key-unit event).
    downstream_force_key_unit,
    /// Upstream: asks the encoders upstream for a key unit at or after a
    /// running time (GstVideo's upstream force-key-unit event).
    upstream_force_key_unit,
};

/// "stream-start", "caps", ... (GStreamer's event names; the force-key-unit
/// events, custom events with a "GstForceKeyUnit" structure in GStreamer, are
/// "downstream-force-key-unit" and "upstream-force-key-unit").
PARALLAX_API std::string_view to_string(EventType t) noexcept;

/// True for events that travel downstream.
constexpr bool is_downstream(EventType t) noexcept {
    return t <= EventType::custom_downstream || t == EventType::downstream_force_key_unit;
}

/// True for downstream events that keep their place among the buffers (all
/// but flush-start).
constexpr bool is_serialized(EventType t) noexcept {
    return is_downstream(t) && t != EventType::flush_start;
}

/// Units of a StreamSegment or a position.
enum class Format : std::uint8_t { time, bytes, buffers, default_units };

/// "time", "bytes", "buffers", "default".
PARALLAX_API std::string_view to_string(Format f) noexcept;

/// Maps buffer timestamps to running time, as GstSegment does for a
/// positive rate: running time = (timestamp - start) / |rate| + base.
struct StreamSegment {
    Format format = Format::time;
    double rate = 1.0;
    std::uint64_t start = 0;
    std::uint64_t stop = ClockTime::none_ns; ///< none_ns: open-ended.
    std::uint64_t time = 0;                  ///< Stream time of `start`.
    std::uint64_t base = 0;                  ///< Running time of `start`.
    std::uint64_t position = 0;

    /// The running time of timestamp `t`; none when `t` is none or outside
    /// the segment.
    [[nodiscard]] PARALLAX_API ClockTime to_running_time(ClockTime t) const noexcept;

    friend bool operator==(const StreamSegment&, const StreamSegment&) = default;
};

/// The seek request of a seek event.
struct SeekRequest {
    double rate = 1.0;
    Format format = Format::time;
    bool flush = true;
    std::uint64_t start = 0;
    std::uint64_t stop = ClockTime::none_ns;
    friend bool operator==(const SeekRequest&, const SeekRequest&) = default;
};

/// The payload of a qos event.
struct QosReport {
    double proportion = 1.0;
    std::int64_t jitter_ns = 0;
    ClockTime timestamp;
    friend bool operator==(const QosReport&, const QosReport&) = default;
};

/// The payload of a downstream force-key-unit event, as
/// gst_video_event_new_downstream_force_key_unit() has it. An encoder sends
/// it just ahead of a key unit it made because it was asked to; elements
/// downstream (multifilesink next-file=key-unit-event, a segmenting muxer)
/// start something new there.
struct DownstreamForceKeyUnit {
    ClockTime timestamp;    ///< The pts of the key unit's first buffer.
    ClockTime stream_time;  ///< Its stream time.
    ClockTime running_time; ///< Its running time.
    /// The key unit carries every header a decoder needs (AV1 sequence
    /// header, H.264 SPS and PPS), so that it decodes on its own.
    bool all_headers = true;
    std::uint32_t count = 0; ///< The count of the request it answers.
    friend bool operator==(const DownstreamForceKeyUnit&, const DownstreamForceKeyUnit&) = default;
};

/// The payload of an upstream force-key-unit event, as
/// gst_video_event_new_upstream_force_key_unit() has it: a request that the
/// first frame at or after `running_time` be encoded as a key unit.
struct UpstreamForceKeyUnit {
    ClockTime running_time;  ///< None: as soon as possible (the next frame).
    bool all_headers = true; ///< Send every header with the key unit.
    /// Numbers the request; the answering downstream event carries it, so
    /// that a sink seeing it twice (through two branches) acts once.
    std::uint32_t count = 0;
    friend bool operator==(const UpstreamForceKeyUnit&, const UpstreamForceKeyUnit&) = default;
};

/// An event: a type and its payload. A small value; copies share the
/// payload, which is immutable once made.
class PARALLAX_API Event {
public:
    [[nodiscard]] static Event stream_start(std::string stream_id);
    [[nodiscard]] static Event caps(Caps caps);
    [[nodiscard]] static Event segment(const StreamSegment& segment);
    /// `tags` is a Structure named "taglist" whose fields are the tags.
    [[nodiscard]] static Event tags(Structure tags);
    [[nodiscard]] static Event eos();
    [[nodiscard]] static Event gap(ClockTime timestamp, ClockTime duration);
    [[nodiscard]] static Event flush_start();
    /// `reset_time`: running time starts again from zero afterwards.
    [[nodiscard]] static Event flush_stop(bool reset_time = true);
    [[nodiscard]] static Event seek(const SeekRequest& request);
    [[nodiscard]] static Event qos(const QosReport& report);
    [[nodiscard]] static Event latency(ClockTime latency);
    [[nodiscard]] static Event reconfigure();
    /// A custom event in `direction` (custom_downstream or custom_upstream)
    /// carrying `data`.
    [[nodiscard]] static Event custom(EventType direction, Structure data);
    /// Announces a key unit made on request; goes just ahead of its buffer.
    [[nodiscard]] static Event downstream_force_key_unit(const DownstreamForceKeyUnit& key_unit);
    /// Asks the encoders upstream for a key unit.
    [[nodiscard]] static Event upstream_force_key_unit(const UpstreamForceKeyUnit& request);

    [[nodiscard]] EventType type() const noexcept { return type_; }
    [[nodiscard]] bool is_downstream() const noexcept { return parallax::is_downstream(type_); }
    [[nodiscard]] bool is_serialized() const noexcept { return parallax::is_serialized(type_); }

    /// Payload accessors; each returns nullptr (or none) for events of
    /// another type.
    [[nodiscard]] const std::string* stream_id() const noexcept;
    [[nodiscard]] const Caps* caps_value() const noexcept;
    [[nodiscard]] const StreamSegment* segment_value() const noexcept;
    /// The Structure of tags and custom events.
    [[nodiscard]] const Structure* structure() const noexcept;
    [[nodiscard]] const SeekRequest* seek_value() const noexcept;
    [[nodiscard]] const QosReport* qos_value() const noexcept;
    [[nodiscard]] const DownstreamForceKeyUnit* downstream_force_key_unit_value() const noexcept;
    [[nodiscard]] const UpstreamForceKeyUnit* upstream_force_key_unit_value() const noexcept;
    /// The timestamp of a gap, the latency of a latency event.
    [[nodiscard]] ClockTime time() const noexcept { return time_; }
    /// The duration of a gap.
    [[nodiscard]] ClockTime duration() const noexcept { return duration_; }
    /// flush-stop's reset_time.
    [[nodiscard]] bool reset_time() const noexcept { return flag_; }

    /// "caps: video/x-raw, width=(int)640", "eos", ... for logs and -v.
    [[nodiscard]] std::string to_string() const;

private:
    struct Payload;
    explicit Event(EventType type) noexcept : type_(type) {}

    EventType type_;
    bool flag_ = false;
    ClockTime time_;
    ClockTime duration_;
    std::shared_ptr<const Payload> payload_;
};

/// True for either force-key-unit event (gst_video_event_is_force_key_unit).
inline bool is_force_key_unit(const Event& event) noexcept {
    return event.type() == EventType::downstream_force_key_unit || event.type() == EventType::upstream_force_key_unit;
}

/// The payload of a downstream force-key-unit event
/// (gst_video_event_parse_downstream_force_key_unit); Errc::invalid_argument
/// naming the event's type when it is another event.
PARALLAX_API Result<DownstreamForceKeyUnit> parse_downstream_force_key_unit(const Event& event);

/// The payload of an upstream force-key-unit event
/// (gst_video_event_parse_upstream_force_key_unit); Errc::invalid_argument
/// naming the event's type when it is another event.
PARALLAX_API Result<UpstreamForceKeyUnit> parse_upstream_force_key_unit(const Event& event);

} // namespace parallax
