// Fuzz target of parse_launch. Arbitrary bytes must give a description or an
// Error, never a crash; an error must say what and where, and format for a
// person; what is accepted must hold together: every endpoint names an
// element or a reference, every position lies in the text, every caps filter
// parses, every property name is valid.
#include <parallax/caps/caps.hpp>

#include "pipeline/launch_parser.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void check_endpoint(const parallax::detail::LaunchEndpoint& ep, const parallax::detail::LaunchDescription& d,
                    std::size_t size) {
    using parallax::detail::LaunchEndpoint;
    if (ep.element == LaunchEndpoint::npos) {
        check(!ep.ref.empty());
    } else {
        check(ep.element < d.elements.size() && ep.ref.empty());
    }
    check(ep.pos < size);
    check(ep.pad.empty() == (ep.pad_pos == LaunchEndpoint::npos));
    check(ep.pad.empty() || ep.pad_pos < size);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto parsed = parallax::detail::parse_launch(input);
    if (!parsed) {
        const parallax::Error& error = parsed.error();
        check(error.position() <= size && !error.message().empty());
        check(error.is(parallax::Errc::invalid_argument));
        const std::string shown = parallax::detail::format_launch_error(input, error);
        check(shown.size() >= error.message().size());
        return 0;
    }
    check(!parsed->elements.empty() || !parsed->links.empty());
    for (const auto& element : parsed->elements) {
        check(!element.factory.empty() && element.pos < size);
        check(input.substr(element.pos, element.factory.size()) == element.factory);
        for (const auto& property : element.properties) {
            check(!property.name.empty() && property.name_pos < size && property.value_pos <= size);
            check(input.substr(property.name_pos, property.name.size()) == property.name);
            check(parallax::detail::launch_value_position(input, property, property.value.size()) <= size);
        }
    }
    for (const auto& link : parsed->links) {
        check_endpoint(link.from, *parsed, size);
        check_endpoint(link.to, *parsed, size);
        check(link.pos < size && input[link.pos] == '!');
        if (!link.caps.empty()) {
            check(link.caps_pos < size && parallax::Caps::parse(link.caps).has_value());
        }
    }
    return 0;
}
