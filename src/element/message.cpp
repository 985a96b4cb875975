#include <parallax/element/message.hpp>
#include <parallax/element/state.hpp>

#include <fmt/format.h>

namespace parallax {

std::string_view to_string(State s) noexcept {
    switch (s) {
    case State::suspended:
        return "suspended";
    case State::idle:
        return "idle";
    case State::paused:
        return "paused";
    case State::running:
        return "running";
    }
    return "unknown";
}

std::string_view to_string(MessageType t) noexcept {
    switch (t) {
    case MessageType::error:
        return "error";
    case MessageType::warning:
        return "warning";
    case MessageType::info:
        return "info";
    case MessageType::eos:
        return "eos";
    case MessageType::state_changed:
        return "state-changed";
    case MessageType::stream_start:
        return "stream-start";
    case MessageType::element:
        return "element";
    case MessageType::property_notify:
        return "property-notify";
    case MessageType::latency:
        return "latency";
    }
    return "unknown";
}

std::string Message::to_string() const {
    std::string out = fmt::format("{} from {}", parallax::to_string(type), source);
    switch (type) {
    case MessageType::error:
    case MessageType::warning:
    case MessageType::info:
        if (error) {
            out += ": " + error->message();
        }
        if (!detail.empty()) {
            out += " (" + detail + ")";
        }
        break;
    case MessageType::state_changed:
        out += fmt::format(": {} -> {}", parallax::to_string(old_state), parallax::to_string(new_state));
        break;
    default:
        if (structure) {
            out += ": " + structure->to_string();
        }
        break;
    }
    return out;
}

Message Message::make_error(std::string source, Error error, std::string detail) {
    Message m;
    m.type = MessageType::error;
    m.source = std::move(source);
    m.error = std::move(error);
    m.detail = std::move(detail);
    return m;
}

Message Message::make_warning(std::string source, std::string text, std::string detail) {
    Message m;
    m.type = MessageType::warning;
    m.error = Error(Errc::failed, std::move(text)).at_element(source);
    m.source = std::move(source);
    m.detail = std::move(detail);
    return m;
}

Message Message::make_info(std::string source, std::string text, std::string detail) {
    Message m;
    m.type = MessageType::info;
    m.error = Error(Errc::failed, std::move(text)).at_element(source);
    m.source = std::move(source);
    m.detail = std::move(detail);
    return m;
}

Message Message::make_eos(std::string source) {
    Message m;
    m.type = MessageType::eos;
    m.source = std::move(source);
    return m;
}

Message Message::make_state_changed(std::string source, State from, State to) {
    Message m;
    m.type = MessageType::state_changed;
    m.source = std::move(source);
    m.old_state = from;
    m.new_state = to;
    return m;
}

Message Message::make_element(std::string source, Structure structure) {
    Message m;
    m.type = MessageType::element;
    m.source = std::move(source);
    m.structure = std::move(structure);
    return m;
}

} // namespace parallax
