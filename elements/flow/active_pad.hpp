#pragma once

// The active-pad property that input-selector and output-selector share: it
// names one of the element's request pads of one direction.

#include <parallax/element.hpp>

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace parallax::detail {

/// The error for an active-pad value that names no pad of `element`;
/// `direction` is "sink" or "src", `pad_names` the pads it has,
/// comma-separated.
inline Error no_such_active_pad(const Element& element, std::string_view wanted, std::string_view direction,
                                const std::string& pad_names) {
    return Error(Errc::not_found, fmt::format("{}: active-pad \"{}\" is not a {} pad of this element (it has: {})",
                                              element.name(), wanted, direction,
                                              pad_names.empty() ? "none" : pad_names))
        .at_element(element.name())
        .at_pad(std::string(wanted));
}

/// Checks a new active-pad value. Empty (the element chooses) and the name
/// of an existing pad (`exists`) are fine; before the run a name that
/// `request_template` matches is fine too, as pipeline text sets properties
/// before it links (start() checks again).
inline Result<void> check_active_pad(const Element& element, std::string_view wanted, bool exists,
                                     std::string_view request_template, std::string_view direction,
                                     const std::string& pad_names) {
    if (wanted.empty() || exists) {
        return {};
    }
    const PadTemplate* templ = element.find_template(request_template);
    if (element.state() < State::paused && templ != nullptr && templ->matches(wanted)) {
        return {};
    }
    return fail(no_such_active_pad(element, wanted, direction, pad_names));
}

} // namespace parallax::detail
