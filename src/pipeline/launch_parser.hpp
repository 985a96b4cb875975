#pragma once

// The parser of gst-launch-1.0 pipeline descriptions, e.g.
// `fakesrc num-buffers=10 ! video/x-raw,width=640 ! tee name=t t. ! queue ! fakesink`.
// It only reads the text: it produces a LaunchDescription (elements with
// their properties, links with their pads and caps filters) that the
// pipeline builder turns into elements and links. Factories, property names
// and element names are not looked up here.
//
// Every position is a byte offset into the text given to parse_launch(), so
// that the builder's errors can point at the offending character too.

#include <parallax/base/error.hpp>
#include <parallax/base/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::detail {

/// One `name=value` item of an element.
struct LaunchProperty {
    std::string name;
    /// Unescaped, without quotes and without a leading type cast such as `(int)`.
    std::string value;
    std::size_t name_pos = 0;
    /// The first character of the value text: after the cast, and inside the
    /// quotes when quoted (so an empty quoted value points at the closing quote).
    std::size_t value_pos = 0;
    bool quoted = false;
};

/// One element: its factory and properties in the order written. `name=x`
/// stays a property: the builder handles it.
struct LaunchElement {
    std::string factory;
    std::size_t pos = 0; ///< The first character of the factory name.
    std::vector<LaunchProperty> properties;
};

/// One side of a link: an element of the description, or an element named
/// by a reference (`t.`, `t.src_1`, `mux.sink_%u`), with an optional pad.
struct LaunchEndpoint {
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    /// Index into LaunchDescription::elements, or npos when `ref` names the element.
    std::size_t element = npos;
    /// The element name of a `name.` / `name.pad` reference; empty when `element` is set.
    std::string ref;
    /// A pad name or request template such as "sink_%u"; empty = any compatible pad.
    std::string pad;
    /// Where this endpoint starts: the factory name of an element, the name of a reference.
    std::size_t pos = 0;
    /// The first character of the pad name; npos when there is none.
    std::size_t pad_pos = npos;
};

/// A link `from ! to`, with the caps filter of `from ! caps ! to`.
struct LaunchLink {
    LaunchEndpoint from;
    LaunchEndpoint to;
    /// The caps filter as Caps::parse reads it (unescaped when it was quoted);
    /// empty when there is no filter. Already checked by parse_launch.
    std::string caps;
    /// The first character of the caps text (inside the quotes when quoted);
    /// meaningful only when `caps` is not empty.
    std::size_t caps_pos = 0;
    /// The `!` that makes this link (the first one when there are caps).
    std::size_t pos = 0;
};

/// What a gst-launch description says: elements in the order written, and
/// links in the order written. References are left for the builder to resolve.
struct LaunchDescription {
    std::vector<LaunchElement> elements;
    std::vector<LaunchLink> links;
};

/// Parses a gst-launch-1.0 description. On malformed text the Error
/// (Errc::invalid_argument) says what was expected and its position() is the
/// byte offset of the offending character (at most text.size()).
///
/// Accepted: chains `a ! b ! c`; properties `prop=value`, `prop = value`,
/// quoted with "..." or '...' (backslash escapes), with a type cast
/// `prop=(int)5`; caps filters `a ! video/x-raw, width=640 ! b` and quoted
/// ones `a ! "video/x-raw, width=640" ! b`; references `t.`, `t.src_1`,
/// `mux.sink_%u` at the start or the end of a chain; pads next to an element
/// (`a .src ! .sink b`); several chains separated by whitespace; groups
/// `( ... )` and `bin.( ... )`, nested at most 64 deep. There are no bins: a
/// group's elements and links join the description, a link into a group goes
/// to the first item of its first chain and a link out of it from the last
/// item of its last chain, without a pad name.
/// Not accepted: properties of a group (`bin.( name=b ... )`), group types
/// other than `bin`, URIs as elements, lists of pads `t.a,b`.
[[nodiscard]] Result<LaunchDescription> parse_launch(std::string_view text);

/// The position in `text` of the character that became byte `offset` of the
/// unescaped value of `property` (which parse_launch(text) produced): for
/// errors found inside a value, such as a bad number in a quoted list.
/// `offset` past the value gives the position just after the value text.
[[nodiscard]] std::size_t launch_value_position(std::string_view text, const LaunchProperty& property,
                                                std::size_t offset);

/// A parse error shown for a person: the line of `text` holding the error,
/// a line with a caret under error.position(), then the message, e.g.
///
///     fakesrc ! ! fakesink
///               ^
///     expected an element or a reference after '!'
///
/// Only the line with the error is shown when the text has several; the
/// caret column counts tabs as the text does and UTF-8 characters as one.
/// Without a known position, only the message. No trailing newline.
[[nodiscard]] std::string format_launch_error(std::string_view text, const Error& error);

} // namespace parallax::detail
