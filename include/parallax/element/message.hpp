#pragma once

/// \file
/// Message: what elements and pipelines post to the bus.

#include <parallax/base/error.hpp>
#include <parallax/base/export.hpp>
#include <parallax/buffer/clock_time.hpp>
#include <parallax/caps/structure.hpp>
#include <parallax/element/state.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parallax {

/// The kinds of bus message.
enum class MessageType : std::uint8_t {
    error,           ///< A fatal error; the pipeline stops.
    warning,         ///< Something went wrong but data still flows.
    info,            ///< Worth telling the user.
    eos,             ///< Every sink reached end of stream (posted by the pipeline).
    state_changed,   ///< An element or the pipeline changed state.
    stream_start,    ///< Every sink started a new stream (posted by the pipeline).
    element,         ///< Element-specific; the Structure says what.
    property_notify, ///< A property changed value (with plx-launch -v).
    latency,         ///< The latency of the pipeline changed.
};

/// "error", "warning", "info", "eos", "state-changed", "stream-start",
/// "element", "property-notify", "latency".
PARALLAX_API std::string_view to_string(MessageType t) noexcept;

/// A bus message. `source` names the element (or the pipeline) that posted
/// it.
struct PARALLAX_API Message {
    MessageType type = MessageType::info;
    std::string source;
    /// error: the error (with the element set); warning and info: a message
    /// in error().message().
    std::optional<Error> error;
    /// Extra detail for error, warning and info (GStreamer's "debug" text).
    std::string detail;
    /// state-changed: the old and new state.
    State old_state = State::suspended;
    State new_state = State::suspended;
    /// element: what happened; property-notify: one field, the property.
    std::optional<Structure> structure;
    /// Running time when posted (none before the pipeline ran).
    ClockTime timestamp;

    /// One line: "error from fakesrc0: message (detail)", "state-changed
    /// from pipeline0: idle -> running", ...
    [[nodiscard]] std::string to_string() const;

    [[nodiscard]] static Message make_error(std::string source, Error error, std::string detail = {});
    [[nodiscard]] static Message make_warning(std::string source, std::string text, std::string detail = {});
    [[nodiscard]] static Message make_info(std::string source, std::string text, std::string detail = {});
    [[nodiscard]] static Message make_eos(std::string source);
    [[nodiscard]] static Message make_state_changed(std::string source, State from, State to);
    [[nodiscard]] static Message make_element(std::string source, Structure structure);
};

} // namespace parallax
