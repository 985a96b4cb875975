#include <parallax/element/flow.hpp>

namespace parallax {

std::string_view to_string(Flow f) noexcept {
    switch (f) {
    case Flow::ok:
        return "ok";
    case Flow::dropped:
        return "dropped";
    case Flow::not_linked:
        return "not-linked";
    case Flow::flushing:
        return "flushing";
    case Flow::eos:
        return "eos";
    case Flow::not_negotiated:
        return "not-negotiated";
    case Flow::error:
        return "error";
    }
    return "unknown";
}

} // namespace parallax
