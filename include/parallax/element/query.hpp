#pragma once

/// \file
/// Query: a question asked of a pad's peer (or of the pipeline), answered in
/// place.

#include <parallax/base/export.hpp>
#include <parallax/buffer/clock_time.hpp>
#include <parallax/caps/caps.hpp>
#include <parallax/element/event.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parallax {

/// The kinds of query.
enum class QueryType : std::uint8_t {
    caps,        ///< What caps can this pad handle (optionally within a filter)?
    accept_caps, ///< Would this pad accept these fixed caps now?
    latency,     ///< Is the stream live, and what latency does it add?
    position,    ///< Where is the stream now?
    duration,    ///< How long is the stream?
    seeking,     ///< Can the stream seek in a format, and within which range?
    allocation,  ///< Which per-buffer metadata does downstream understand?
};

/// "caps", "accept-caps", "latency", "position", "duration", "seeking",
/// "allocation".
PARALLAX_API std::string_view to_string(QueryType t) noexcept;

/// A query: its type, its question and, once answered, its answer. Passed by
/// reference to the handler, which fills in the answer and returns true.
class PARALLAX_API Query {
public:
    /// Asks which caps a pad can handle; `filter` narrows the answer (ANY:
    /// no filter).
    [[nodiscard]] static Query caps(Caps filter = Caps::any());
    /// Asks whether `caps` would be accepted.
    [[nodiscard]] static Query accept_caps(Caps caps);
    [[nodiscard]] static Query latency();
    [[nodiscard]] static Query position(Format format = Format::time);
    [[nodiscard]] static Query duration(Format format = Format::time);
    /// Asks whether the stream can seek in `format` (GStreamer's seeking
    /// query). A muxer asks downstream in bytes before it goes back to
    /// rewrite a header; a sink that cannot seek says so, and so does a
    /// query that nobody answers.
    [[nodiscard]] static Query seeking(Format format = Format::time);
    /// Asks downstream, for buffers of `caps`, which per-buffer metadata it
    /// understands (GStreamer's ALLOCATION query, its meta part). A
    /// producer whose buffers need a meta to be read correctly, such as a
    /// decoder whose pictures carry their own plane layout (video_meta_api),
    /// sends them as they are only when the answer lists the meta, and
    /// copies them into the layout the caps describe otherwise.
    ///
    /// Elements do not forward it by default: an element that reads the
    /// bytes must say itself that it honours a meta. Elements that pass
    /// buffers on untouched (queue, identity, capsfilter, valve, tee: every
    /// branch) forward it; fakesink lists every meta asked about.
    [[nodiscard]] static Query allocation(Caps caps);

    [[nodiscard]] QueryType type() const noexcept { return type_; }

    /// caps: the filter; accept-caps and allocation: the caps asked about.
    [[nodiscard]] const Caps& caps_argument() const noexcept { return argument_; }
    /// caps: the answer (EMPTY until answered).
    [[nodiscard]] const Caps& caps_result() const noexcept { return result_; }
    void set_caps_result(Caps caps) { result_ = std::move(caps); }

    /// accept-caps: the answer.
    [[nodiscard]] bool accepted() const noexcept { return accepted_; }
    void set_accepted(bool accepted) noexcept { accepted_ = accepted; }

    /// latency: whether the stream is live, and the minimum and maximum
    /// latency (max none = unlimited).
    [[nodiscard]] bool live() const noexcept { return live_; }
    [[nodiscard]] ClockTime min_latency() const noexcept { return min_latency_; }
    [[nodiscard]] ClockTime max_latency() const noexcept { return max_latency_; }
    void set_latency(bool live, ClockTime min, ClockTime max) noexcept {
        live_ = live;
        min_latency_ = min;
        max_latency_ = max;
    }

    /// position, duration and seeking: the format asked for; position and
    /// duration: the answer.
    [[nodiscard]] Format format() const noexcept { return format_; }
    [[nodiscard]] std::optional<std::uint64_t> value() const noexcept { return value_; }
    void set_value(std::uint64_t value) noexcept { value_ = value; }

    /// seeking: whether the stream can seek in format(), and the range it
    /// can seek within (end none: up to wherever the stream ends).
    [[nodiscard]] bool seekable() const noexcept { return seekable_; }
    [[nodiscard]] std::uint64_t seek_start() const noexcept { return seek_start_; }
    [[nodiscard]] std::optional<std::uint64_t> seek_end() const noexcept { return seek_end_; }
    void set_seeking(bool seekable, std::uint64_t start = 0, std::optional<std::uint64_t> end = std::nullopt) noexcept {
        seekable_ = seekable;
        seek_start_ = start;
        seek_end_ = end;
    }

    /// allocation: whether the answer lists the meta API `api` (e.g.
    /// video_meta_api), and adding one to the answer.
    [[nodiscard]] bool has_meta(std::string_view api) const noexcept;
    void add_meta(std::string_view api);
    /// allocation: the metas listed, in the order they were added.
    [[nodiscard]] const std::vector<std::string>& metas() const noexcept { return metas_; }
    /// allocation: keeps only the metas `other` lists too (what every
    /// branch of a tee understands).
    void intersect_metas(const Query& other);

private:
    explicit Query(QueryType type) noexcept : type_(type) {}

    QueryType type_;
    Format format_ = Format::time;
    bool accepted_ = false;
    bool live_ = false;
    bool seekable_ = false;
    Caps argument_;
    Caps result_;
    ClockTime min_latency_ = ClockTime::zero();
    ClockTime max_latency_;
    std::optional<std::uint64_t> value_;
    std::uint64_t seek_start_ = 0;
    std::optional<std::uint64_t> seek_end_;
    std::vector<std::string> metas_;
};

} // namespace parallax
