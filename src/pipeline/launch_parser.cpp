// parse_launch: gst-launch-1.0 descriptions, with a PEGTL grammar:
//
//   description := chain (space chain)*
//   chain       := item ('!' (caps '!')? item)*
//   item        := pad? element | reference | group   (`.sink element` after a '!')
//   element     := factory property* pad?             (`element .src` before a '!')
//   property    := name '=' ('(' type ')')? value
//   reference   := name '.' pad-name?                 (only at a chain's start or end)
//   group       := ('(' | 'bin.(') chain+ ')'
//
// What an item is follows from its first characters (`word.` is a
// reference, `word/` a caps filter, `word=` a property), so each place first
// looks ahead, then reads the item or raises the error that fits there. The
// actions fill a ParseState with elements and links. A group makes no element:
// its contents join the description, and a link into or out of it goes to
// its first item or from its last. Every failure becomes a SyntaxError
// carrying the byte offset of the offending character; it never leaves this
// file.

#include "pipeline/launch_parser.hpp"

#include <parallax/caps/caps.hpp>

#include <fmt/format.h>
#include <tao/pegtl.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parallax::detail {

namespace {

struct SyntaxError {
    std::string message;
    std::size_t position;
};

/// How many groups may be open at once; the grammar recurses once per group.
constexpr std::size_t max_group_depth = 64;

struct ParseState;

// What the grammar asks the state (defined with ParseState below).
bool inside_group(const ParseState& st);
bool value_parens_open(const ParseState& st);
bool caps_brackets_open(const ParseState& st);

// --- Grammar -----------------------------------------------------------------

namespace grammar {

namespace pg = tao::pegtl;

// Matches nothing; succeeds when Test says so. For the few places where the
// language depends on what came before: a ')' ends a group only inside one.
template <bool (*Test)(const ParseState&)>
struct when {
    using rule_t = when;
    using subs_t = pg::empty_list;

    template <pg::apply_mode, pg::rewind_mode, template <typename...> class Action,
              template <typename...> class Control, typename Input>
    static bool match(Input& /*in*/, const ParseState& st) {
        return Test(st);
    }
};

struct in_group : when<inside_group> {};
struct in_value_parens : when<value_parens_open> {};
struct in_caps_brackets : when<caps_brackets_open> {};

// Raises Error when Cond matches here; consumes nothing.
template <typename Cond, typename Error>
struct reject : pg::if_then_else<pg::at<Cond>, pg::raise<Error>, pg::success> {};
// Raises Error unless Cond matches here; consumes nothing.
template <typename Cond, typename Error>
struct expect : pg::sor<pg::at<Cond>, pg::raise<Error>> {};

// --- Errors raised by the grammar (the messages are further down).
struct empty_description {};
struct link_first {};
struct stray_dot {};
struct caps_first {};
struct quote_first {};
struct property_first {};
struct unlinked_reference {};
struct uri {};
struct unexpected_character {};
struct end_after_link {};
struct link_after_link {};
struct group_end_after_link {};
struct property_after_link {};
struct element_after_pad {};
struct reference_in_chain {};
struct missing_pad_name {};
struct pad_list {};
struct junk_after_pad_name {};
struct junk_after_reference {};
struct unlinked_pad {};
struct missing_value {};
struct missing_cast_value {};
struct junk_after_quote {};
struct unlinked_caps {};
struct junk_after_caps {};
struct second_caps {};
struct empty_group {};
struct group_property {};

// --- Words.
struct ws : pg::star<pg::space> {};
// Factory names and the element name of a reference.
struct name_char : pg::sor<pg::alnum, pg::one<'_', '-'>> {};
struct name : pg::plus<name_char> {};
// Pad names and request templates such as `sink_%u` or `src_%u_%u`.
struct pad_char : pg::sor<name_char, pg::one<'%', ':'>> {};
struct pad_name : pg::plus<pad_char> {};
struct quote : pg::one<'"', '\''> {};
// A would-be property name: up to a space, '=' or '!'.
struct token : pg::star<pg::not_one<' ', '\t', '\n', '\r', '\f', '\v', '=', '!'>> {};
// The ')' that ends the innermost group.
struct group_end : pg::seq<in_group, pg::one<')'>> {};
// What ends a name, a reference or a value.
struct item_end : pg::sor<pg::eof, pg::space, pg::one<'!'>, group_end> {};

// --- What an item is, from its first characters.
struct special_start : pg::sor<pg::one<'!', '(', '"', '\'', '.'>, group_end> {};
struct caps_ahead : pg::seq<name, pg::one<'/'>> {};
struct uri_separator : pg::string<':', '/', '/'> {};
struct uri_ahead : pg::seq<name, uri_separator> {};
// After these, a name is something else than a (badly named) property.
struct name_decided : pg::sor<item_end, pg::one<'/', '=', '.'>, uri_separator> {};
// `name=value` or `name = value`; also `a.b=1`, `1x=2`, `=2`: properties with
// bad names, which property_name reports.
struct property_ahead
    : pg::seq<pg::not_at<special_start>,
              pg::sor<pg::seq<name, pg::one<'='>>, pg::seq<name, pg::one<'.'>, pg::star<pad_char>, ws, pg::one<'='>>,
                      pg::seq<name, pg::space, ws, pg::one<'='>>,
                      pg::seq<pg::not_at<name, name_decided>, token, ws, pg::one<'='>>>> {};
struct element_ahead : pg::seq<pg::not_at<property_ahead>, name, item_end> {};
struct reference_ahead : pg::seq<pg::not_at<property_ahead>, name, pg::one<'.'>> {};
struct caps_or_quote_ahead : pg::sor<caps_ahead, quote> {};

// --- Quoted text: "..." or '...', a backslash keeps the next character.
template <char Q>
struct quote_open : pg::one<Q> {};
template <char Q>
struct quote_close : pg::one<Q> {};
struct escaped : pg::seq<pg::one<'\\'>, pg::any> {};
template <char Q>
struct plain : pg::not_one<Q, '\\'> {};
template <char Q>
struct quoted : pg::if_must<quote_open<Q>, pg::star<pg::sor<escaped, plain<Q>>>, quote_close<Q>> {};

// --- Properties: `name=value`, `name=(type)value`, `name="quoted value"`.
struct property_name : token {};
struct property_equals : pg::one<'='> {};
struct cast_name : pg::plus<pg::sor<pg::alnum, pg::one<'_'>>> {};
struct cast_close : pg::one<')'> {};
struct type_cast : pg::if_must<pg::one<'('>, cast_name, cast_close> {};
// Unquoted values end at a space or '!', and inside a group at a ')' that
// closes no '(' of the value: `( filesrc location=a(1).txt)`.
struct value_open_paren : pg::one<'('> {};
struct value_close_paren : pg::seq<in_value_parens, pg::one<')'>> {};
struct value_char : pg::seq<pg::not_at<item_end>, pg::any> {};
struct unquoted_value : pg::plus<pg::sor<escaped, value_open_paren, value_close_paren, value_char>> {};
template <char Q>
struct quoted_value : quoted<Q> {};
struct value : pg::sor<pg::seq<pg::sor<quoted_value<'"'>, quoted_value<'\''>>, expect<item_end, junk_after_quote>>,
                       unquoted_value> {};
struct property : pg::seq<property_name, ws, pg::must<property_equals>, ws, reject<item_end, missing_value>,
                          pg::opt<type_cast, reject<item_end, missing_cast_value>>, value> {};

// --- Pads and references.
template <typename Error>
struct after_pad : pg::sor<pg::at<item_end>, pg::seq<pg::at<pg::one<','>>, pg::raise<pad_list>>, pg::raise<Error>> {};
struct link_pad : pg::seq<pg::one<'.'>, pad_name> {};    // `! .sink element`
struct element_pad : pg::seq<pg::one<'.'>, pad_name> {}; // `element .src !`
// `name.`, `name.pad` or `name.template`.
struct reference
    : pg::seq<name, pg::one<'.'>,
              pg::sor<pg::seq<pad_name, after_pad<junk_after_pad_name>>, after_pad<junk_after_reference>>> {};

// --- Elements: a factory name, properties, and the pad of the link that follows.
struct factory : name {};
struct element_tail : pg::seq<pg::star<ws, pg::at<property_ahead>, property>,
                              pg::opt<ws, pg::at<pg::one<'.'>>, pg::sor<element_pad, pg::raise<missing_pad_name>>,
                                      after_pad<junk_after_pad_name>, ws, expect<pg::one<'!'>, unlinked_pad>>> {};
struct element : pg::seq<pg::at<element_ahead>, factory, element_tail> {};
struct bad_element : pg::sor<pg::seq<pg::at<uri_ahead>, pg::raise<uri>>,
                             pg::seq<pg::star<name_char>, pg::raise<unexpected_character>>> {};

// --- Groups: `( ... )` and `bin.( ... )`.
struct chain;
struct group_open : pg::one<'('> {};
struct group_close : pg::one<')'> {};
struct group_type : name {};
struct group_chains : pg::star<pg::not_at<pg::sor<pg::eof, group_end>>, pg::must<chain>, ws> {};
struct group : pg::seq<group_open, ws, reject<group_end, empty_group>, reject<property_ahead, group_property>,
                       group_chains, pg::must<group_close>> {};
struct typed_group : pg::seq<pg::at<name, pg::one<'.'>, pg::one<'('>>, group_type, pg::one<'.'>, group> {};

// --- Caps filters: unquoted up to the first '!' outside quotes and brackets.
struct caps_quote_open : pg::one<'"'> {};
struct caps_quote_close : pg::one<'"'> {};
struct caps_quote
    : pg::if_must<caps_quote_open, pg::star<pg::sor<pg::seq<pg::one<'\\'>, pg::any>, pg::not_one<'"', '\\'>>>,
                  caps_quote_close> {};
struct caps_open_bracket : pg::one<'(', '[', '{'> {};
struct caps_close_bracket : pg::seq<in_caps_brackets, pg::one<')', ']', '}'>> {};
// A bracket that closes nothing is for Caps::parse to report, except a
// ')' that ends a group.
struct caps_stray_close : pg::sor<pg::one<']', '}'>, pg::seq<pg::not_at<in_group>, pg::one<')'>>> {};
struct caps_char
    : pg::sor<pg::seq<in_caps_brackets, pg::one<'!'>>, pg::not_one<'!', '"', '(', '[', '{', ')', ']', '}'>> {};
struct unquoted_caps
    : pg::star<pg::sor<caps_quote, caps_open_bracket, caps_close_bracket, caps_stray_close, caps_char>> {};
template <char Q>
struct quoted_caps : quoted<Q> {};
struct caps_filter
    : pg::seq<pg::sor<quoted_caps<'"'>, quoted_caps<'\''>, unquoted_caps>, ws,
              pg::sor<pg::one<'!'>, pg::seq<pg::eof, pg::raise<unlinked_caps>>, pg::raise<junk_after_caps>>, ws,
              reject<caps_or_quote_ahead, second_caps>> {};

// --- Chains.
// What cannot start a chain.
struct misplaced_start
    : pg::sor<pg::seq<pg::at<pg::one<'!'>>, pg::raise<link_first>>, pg::seq<pg::at<pg::one<'.'>>, pg::raise<stray_dot>>,
              pg::seq<pg::at<caps_ahead>, pg::raise<caps_first>>, pg::seq<pg::at<quote>, pg::raise<quote_first>>,
              pg::seq<pg::at<property_ahead>, pg::raise<property_first>>> {};
// A reference before '!' starts a chain.
struct first_reference : pg::seq<pg::at<reference_ahead>, reference, ws, expect<pg::one<'!'>, unlinked_reference>> {};
struct chain_start : pg::sor<misplaced_start, group, typed_group, element, first_reference, bad_element> {};

struct link_bang : pg::one<'!'> {};
// What cannot follow a '!' (and its caps filter).
struct misplaced_target
    : pg::sor<pg::seq<pg::eof, pg::raise<end_after_link>>, pg::seq<pg::at<pg::one<'!'>>, pg::raise<link_after_link>>,
              pg::seq<pg::at<group_end>, pg::raise<group_end_after_link>>,
              pg::seq<pg::at<property_ahead>, pg::raise<property_after_link>>> {};
struct padded_element : pg::seq<pg::sor<link_pad, pg::raise<missing_pad_name>>, after_pad<junk_after_pad_name>, ws,
                                expect<element_ahead, element_after_pad>, element> {};
// A reference after '!' ends the chain.
struct last_reference
    : pg::seq<pg::at<reference_ahead>, reference, pg::opt<ws, pg::at<pg::one<'!'>>, pg::raise<reference_in_chain>>> {};
struct link_target : pg::sor<pg::seq<pg::at<pg::one<'.'>>, padded_element>, misplaced_target, group, typed_group,
                             element, last_reference, bad_element> {};
struct link : pg::seq<link_bang, ws, pg::opt<pg::at<caps_or_quote_ahead>, caps_filter>, link_target> {};
struct chain : pg::seq<chain_start, pg::star<ws, link>> {};

struct description : pg::seq<ws, reject<pg::eof, empty_description>, pg::star<pg::not_at<pg::eof>, pg::must<chain>, ws>,
                             pg::must<pg::eof>> {};

} // namespace grammar

// --- ParseState -------------------------------------------------------------------

// One level of nesting: the description itself, or an open group.
struct Level {
    std::size_t open = 0; ///< The '(' of a group.
    /// The last item of the chain being read: where the next link starts.
    LaunchEndpoint current;
    /// The link that waits for the next item; npos when none.
    std::size_t pending = LaunchEndpoint::npos;
    /// The first item of the level: where a link into the group goes.
    std::optional<LaunchEndpoint> first;
};

LaunchEndpoint without_pad(LaunchEndpoint endpoint) {
    endpoint.pad.clear();
    endpoint.pad_pos = LaunchEndpoint::npos;
    return endpoint;
}

struct ParseState {
    std::string_view text;
    LaunchDescription out;
    std::vector<Level> levels = std::vector<Level>(1);

    // The pad of `! .sink element`, until the element comes.
    std::string link_pad;
    std::size_t link_pad_pos = LaunchEndpoint::npos;
    // The pad of `element .src !` and its dot, for its error.
    std::string element_pad;
    std::size_t element_pad_dot = 0;
    // The last reference read, for its errors.
    LaunchEndpoint reference;

    LaunchProperty property;
    std::string cast;             // the type cast of the property, such as "(int)"
    std::size_t value_parens = 0; // '(' of an unquoted value not closed yet

    // The unescaped text of a quoted string or an unquoted value, and the
    // text position of each of its characters.
    std::string buffer;
    std::vector<std::size_t> positions;
    std::size_t quote = 0; // the opening quote of a quoted string

    std::vector<std::size_t> caps_brackets; // unclosed brackets of unquoted caps
    std::size_t caps_quote = 0;             // a quote inside unquoted caps

    Level& level() { return levels.back(); }
    [[nodiscard]] const Level& level() const { return levels.back(); }
    LaunchLink& pending_link() { return out.links[level().pending]; }
    [[nodiscard]] const LaunchLink& pending_link() const { return out.links[level().pending]; }

    // An item of a chain has been read: a link to it goes `to` there, the
    // next link starts `from` there.
    void add_item(const LaunchEndpoint& to, const LaunchEndpoint& from) {
        Level& l = level();
        if (l.pending != LaunchEndpoint::npos) {
            out.links[l.pending].to = to;
            l.pending = LaunchEndpoint::npos;
        }
        if (!l.first) {
            l.first = without_pad(to);
        }
        l.current = from;
    }

    void append(char c, std::size_t pos) {
        buffer += c;
        positions.push_back(pos);
    }
};

bool inside_group(const ParseState& st) {
    return st.levels.size() > 1;
}

bool value_parens_open(const ParseState& st) {
    return st.value_parens > 0;
}

bool caps_brackets_open(const ParseState& st) {
    return !st.caps_brackets.empty();
}

// --- Errors ------------------------------------------------------------------

// A character as a message shows it: 'x', or its byte value when unprintable.
std::string show_char(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
        return fmt::format("'{}'", c);
    }
    return fmt::format("byte 0x{:02x}", byte);
}

// A piece of the text as a message quotes it; long pieces are cut.
std::string show_text(std::string_view s) {
    constexpr std::size_t max = 40;
    if (s.size() > max) {
        return fmt::format("'{}...'", s.substr(0, max));
    }
    return fmt::format("'{}'", s);
}

std::string reference_text(const LaunchEndpoint& endpoint) {
    return endpoint.ref + "." + endpoint.pad;
}

// Where the grammar raised an error.
struct Here {
    std::string_view text;
    std::size_t pos;

    [[nodiscard]] char next() const { return pos < text.size() ? text[pos] : '\0'; }

    // The would-be property name starting here: up to a space, '=' or '!'.
    [[nodiscard]] std::string_view token() const {
        const std::size_t end = text.find_first_of(" \t\n\r\f\v=!", pos);
        return text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    }
};

template <typename Rule>
SyntaxError error_of(Rule /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"syntax error", here.pos};
}

SyntaxError error_of(grammar::empty_description /*rule*/, const Here& /*here*/, const ParseState& /*st*/) {
    return {"empty pipeline description: expected an element", 0};
}

SyntaxError error_of(grammar::link_first /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"expected an element or a reference before '!'", here.pos};
}

SyntaxError error_of(grammar::stray_dot /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"stray '.': expected an element or a reference (a pad name such as '.src' goes right after an element "
            "or after '!')",
            here.pos};
}

SyntaxError error_of(grammar::caps_first /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"a caps filter goes between two '!': expected an element or a reference before it", here.pos};
}

SyntaxError error_of(grammar::quote_first /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"expected an element or a reference, not quoted text (a quoted caps filter goes between two '!')",
            here.pos};
}

SyntaxError error_of(grammar::property_first /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {fmt::format("expected an element or a reference before the property {}", show_text(here.token())),
            here.pos};
}

SyntaxError error_of(grammar::unlinked_reference /*rule*/, const Here& /*here*/, const ParseState& st) {
    return {
        fmt::format("the reference {} is not linked: expected '!' after it", show_text(reference_text(st.reference))),
        st.reference.pos};
}

SyntaxError error_of(grammar::uri /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"URIs are not supported as elements: use a source such as filesrc location=...", here.pos};
}

SyntaxError error_of(grammar::unexpected_character /*rule*/, const Here& here, const ParseState& /*st*/) {
    // The grammar stops here only at a character; keep the end in the text anyway.
    const std::size_t pos = here.text.empty() ? 0 : std::min(here.pos, here.text.size() - 1);
    return {fmt::format("unexpected {}: expected an element name (letters, digits, '-' and '_') or a reference "
                        "such as 't.'",
                        show_char(here.text.empty() ? '\0' : here.text[pos])),
            pos};
}

SyntaxError error_of(grammar::end_after_link /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"expected an element or a reference after '!', found the end of the description", here.pos};
}

SyntaxError error_of(grammar::link_after_link /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"expected an element or a reference after '!'", here.pos};
}

SyntaxError error_of(grammar::group_end_after_link /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"expected an element or a reference after '!', found the ')' that ends the group", here.pos};
}

SyntaxError error_of(grammar::property_after_link /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {fmt::format("expected an element or a reference after '!', found the property {}", show_text(here.token())),
            here.pos};
}

SyntaxError error_of(grammar::element_after_pad /*rule*/, const Here& here, const ParseState& st) {
    return {fmt::format("expected an element after the pad {}", show_text("." + st.link_pad)), here.pos};
}

SyntaxError error_of(grammar::reference_in_chain /*rule*/, const Here& here, const ParseState& st) {
    return {fmt::format("a reference can only start or end a chain: end this chain at {} and start a new one with it",
                        show_text(reference_text(st.reference))),
            here.pos};
}

SyntaxError error_of(grammar::missing_pad_name /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"expected a pad name after '.'", here.pos};
}

SyntaxError error_of(grammar::pad_list /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"lists of pads are not supported: link each pad in its own chain", here.pos};
}

SyntaxError error_of(grammar::junk_after_pad_name /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {fmt::format("unexpected {} after the pad name", show_char(here.next())), here.pos};
}

SyntaxError error_of(grammar::junk_after_reference /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {fmt::format("unexpected {} after the reference", show_char(here.next())), here.pos};
}

SyntaxError error_of(grammar::unlinked_pad /*rule*/, const Here& /*here*/, const ParseState& st) {
    return {fmt::format("the pad {} is not linked: expected '!' after it", show_text("." + st.element_pad)),
            st.element_pad_dot};
}

SyntaxError error_of(grammar::property_equals /*rule*/, const Here& here, const ParseState& /*st*/) {
    // property_ahead saw the '='; this is only a safety net.
    return {"expected '=' after the property name", here.pos};
}

SyntaxError error_of(grammar::missing_value /*rule*/, const Here& here, const ParseState& st) {
    return {fmt::format("expected a value for the property {} after '='", show_text(st.property.name)), here.pos};
}

SyntaxError error_of(grammar::cast_name /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"expected a type name such as int or string after '('", here.pos};
}

SyntaxError error_of(grammar::cast_close /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"expected ')' after the type name", here.pos};
}

SyntaxError error_of(grammar::missing_cast_value /*rule*/, const Here& here, const ParseState& st) {
    return {fmt::format("expected a value after the type cast {}", show_text(st.cast)), here.pos};
}

SyntaxError error_of(grammar::junk_after_quote /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {fmt::format("expected a space or '!' after the closing quote, found {}", show_char(here.next())), here.pos};
}

template <char Q>
SyntaxError error_of(grammar::quote_close<Q> /*rule*/, const Here& /*here*/, const ParseState& st) {
    // Point at the quote that was never closed, not at the end.
    return {fmt::format("unterminated quoted string: expected a closing {}", show_char(Q)), st.quote};
}

SyntaxError error_of(grammar::caps_quote_close /*rule*/, const Here& /*here*/, const ParseState& st) {
    return {"unterminated quoted string in the caps filter: expected a closing '\"'", st.caps_quote};
}

SyntaxError error_of(grammar::unlinked_caps /*rule*/, const Here& /*here*/, const ParseState& st) {
    return {"the caps filter is not linked to anything: expected '!' and an element or a reference after it",
            st.pending_link().caps_pos};
}

SyntaxError error_of(grammar::junk_after_caps /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {fmt::format("expected '!' after the caps filter, found {}", show_char(here.next())), here.pos};
}

SyntaxError error_of(grammar::second_caps /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"expected an element or a reference after the caps filter, not another caps filter", here.pos};
}

SyntaxError error_of(grammar::empty_group /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"empty group: expected an element or a reference between '(' and ')'", here.pos};
}

SyntaxError error_of(grammar::group_property /*rule*/, const Here& here, const ParseState& /*st*/) {
    return {"libparallax has no bins: a group's contents join the pipeline; properties of a group are not supported",
            here.pos};
}

SyntaxError error_of(grammar::group_close /*rule*/, const Here& /*here*/, const ParseState& st) {
    return {"unclosed '(': expected ')' to end the group", st.levels.back().open};
}

template <typename Rule>
struct control : grammar::pg::normal<Rule> {
    template <typename Input>
    [[noreturn]] static void raise(const Input& in, ParseState& st) {
        throw error_of(Rule{}, Here{st.text, static_cast<std::size_t>(in.current() - in.begin())}, st);
    }
};

// --- Actions -----------------------------------------------------------------

// Where the text an action sees starts.
template <typename Input>
std::size_t start_of(const Input& in) {
    return static_cast<std::size_t>(in.begin() - in.input().begin());
}

// Checks link.caps with Caps::parse; `positions` maps each character of
// link.caps, and its end, to the text (empty: the caps were not escaped).
void check_caps(const LaunchLink& link, const std::vector<std::size_t>& positions) {
    if (auto caps = Caps::parse(link.caps); !caps) {
        const std::size_t p = std::min(caps.error().position(), link.caps.size());
        const std::size_t where = positions.empty() ? link.caps_pos + p : positions[p];
        throw SyntaxError{fmt::format("invalid caps filter: {}", caps.error().message()), where};
    }
}

template <typename Rule>
struct action : grammar::pg::nothing<Rule> {};

template <>
struct action<grammar::factory> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        LaunchEndpoint endpoint;
        endpoint.element = st.out.elements.size();
        endpoint.pos = start_of(in);
        st.out.elements.push_back(LaunchElement{in.string(), endpoint.pos, {}});
        LaunchEndpoint to = endpoint;
        if (st.link_pad_pos != LaunchEndpoint::npos) {
            to.pad = std::move(st.link_pad);
            to.pad_pos = st.link_pad_pos;
            st.link_pad.clear();
            st.link_pad_pos = LaunchEndpoint::npos;
        }
        st.add_item(to, endpoint);
    }
};

template <>
struct action<grammar::reference> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        const std::string_view text = in.string_view();
        const std::size_t dot = text.find('.');
        LaunchEndpoint& ref = st.reference;
        ref = LaunchEndpoint{};
        ref.ref = std::string(text.substr(0, dot));
        ref.pos = start_of(in);
        if (dot + 1 < text.size()) {
            ref.pad = std::string(text.substr(dot + 1));
            ref.pad_pos = ref.pos + dot + 1;
        }
        st.add_item(ref, ref);
    }
};

template <>
struct action<grammar::link_pad> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.link_pad = in.string().substr(1);
        st.link_pad_pos = start_of(in) + 1;
    }
};

template <>
struct action<grammar::element_pad> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.element_pad = in.string().substr(1);
        st.element_pad_dot = start_of(in);
        st.level().current.pad = st.element_pad;
        st.level().current.pad_pos = st.element_pad_dot + 1;
    }
};

template <>
struct action<grammar::link_bang> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        LaunchLink link;
        link.pos = start_of(in);
        link.from = st.level().current;
        st.level().pending = st.out.links.size();
        st.out.links.push_back(std::move(link));
    }
};

template <>
struct action<grammar::group_open> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        if (st.levels.size() > max_group_depth) {
            throw SyntaxError{fmt::format("groups nested too deeply: at most {} may be open at once", max_group_depth),
                              start_of(in)};
        }
        st.levels.emplace_back().open = start_of(in);
    }
};

template <>
struct action<grammar::group_close> {
    static void apply0(ParseState& st) {
        // A non-empty group has a first item and a current one.
        Level group = std::move(st.levels.back());
        st.levels.pop_back();
        st.add_item(*group.first, without_pad(group.current));
    }
};

template <>
struct action<grammar::group_type> {
    template <typename Input>
    static void apply(const Input& in, ParseState& /*st*/) {
        if (in.string_view() != "bin") {
            throw SyntaxError{fmt::format("libparallax has no bins: a group's contents join the pipeline; a group of "
                                          "type {} is not supported, only '( ... )' and 'bin.( ... )'",
                                          show_text(in.string_view())),
                              start_of(in)};
        }
    }
};

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_valid_property_name(std::string_view name) {
    return !name.empty() && is_alpha(name.front()) && std::all_of(name.begin(), name.end(), [](char c) {
        return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

template <>
struct action<grammar::property_name> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.property = LaunchProperty{};
        st.property.name = in.string();
        st.property.name_pos = start_of(in);
        if (st.property.name.empty()) {
            throw SyntaxError{"expected a property name before '='", st.property.name_pos};
        }
        if (!is_valid_property_name(st.property.name)) {
            throw SyntaxError{fmt::format("{} is not a valid property name: expected a letter, then letters, "
                                          "digits, '-' or '_'",
                                          show_text(st.property.name)),
                              st.property.name_pos};
        }
        st.buffer.clear();
        st.positions.clear();
        st.value_parens = 0;
    }
};

template <>
struct action<grammar::type_cast> {
    // Dropped: the builder converts the text to the property's own type.
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.cast = in.string();
    }
};

template <char Q>
struct action<grammar::quote_open<Q>> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.quote = start_of(in);
        st.buffer.clear();
        st.positions.clear();
    }
};

template <>
struct action<grammar::escaped> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.append(in.peek_char(1), start_of(in) + 1);
    }
};

template <char Q>
struct action<grammar::plain<Q>> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.append(in.peek_char(), start_of(in));
    }
};

template <>
struct action<grammar::value_char> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.append(in.peek_char(), start_of(in));
    }
};

template <>
struct action<grammar::value_open_paren> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.append('(', start_of(in));
        ++st.value_parens;
    }
};

template <>
struct action<grammar::value_close_paren> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.append(')', start_of(in));
        --st.value_parens;
    }
};

template <char Q>
struct action<grammar::quoted_value<Q>> {
    static void apply0(ParseState& st) {
        st.property.value = st.buffer;
        st.property.value_pos = st.quote + 1;
        st.property.quoted = true;
    }
};

template <>
struct action<grammar::unquoted_value> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.property.value = st.buffer;
        st.property.value_pos = start_of(in);
    }
};

template <>
struct action<grammar::property> {
    static void apply0(ParseState& st) { st.out.elements.back().properties.push_back(std::move(st.property)); }
};

template <>
struct action<grammar::caps_quote_open> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.caps_quote = start_of(in);
    }
};

template <>
struct action<grammar::caps_open_bracket> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        st.caps_brackets.push_back(start_of(in));
    }
};

template <>
struct action<grammar::caps_close_bracket> {
    static void apply0(ParseState& st) {
        st.caps_brackets.pop_back(); // a mismatched pair is for Caps::parse to report
    }
};

template <>
struct action<grammar::unquoted_caps> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        if (!st.caps_brackets.empty()) {
            const std::size_t open = st.caps_brackets.back();
            throw SyntaxError{fmt::format("unclosed {} in the caps filter", show_char(st.text[open])), open};
        }
        std::string_view caps = in.string_view();
        caps.remove_suffix(caps.size() - (caps.find_last_not_of(" \t\n\r\f\v") + 1));
        LaunchLink& link = st.pending_link();
        link.caps = std::string(caps);
        link.caps_pos = start_of(in);
        check_caps(link, {});
    }
};

template <char Q>
struct action<grammar::quoted_caps<Q>> {
    template <typename Input>
    static void apply(const Input& in, ParseState& st) {
        LaunchLink& link = st.pending_link();
        link.caps = st.buffer;
        link.caps_pos = st.quote + 1;
        if (link.caps.find_first_not_of(" \t\n\r\f\v") == std::string::npos) {
            throw SyntaxError{"expected caps between the quotes", st.quote};
        }
        st.positions.push_back(start_of(in) + in.size() - 1); // the end of the caps is the closing quote
        check_caps(link, st.positions);
    }
};

} // namespace

Result<LaunchDescription> parse_launch(std::string_view text) {
    ParseState st;
    st.text = text;
    grammar::pg::memory_input<grammar::pg::tracking_mode::lazy> in(text.data(), text.size(), "launch");
    try {
        if (!grammar::pg::parse<grammar::description, action, control>(in, st)) {
            return fail(Error(Errc::invalid_argument, "expected a pipeline description").at_position(0));
        }
    } catch (const SyntaxError& e) {
        return fail(Error(Errc::invalid_argument, e.message).at_position(e.position));
    }
    return std::move(st.out);
}

std::size_t launch_value_position(std::string_view text, const LaunchProperty& property, std::size_t offset) {
    // Both quoted and unquoted values drop the backslash of an escape.
    offset = std::min(offset, property.value.size());
    std::size_t i = property.value_pos;
    for (std::size_t k = 0; k < offset && i < text.size(); ++k) {
        i += (text[i] == '\\' && i + 1 < text.size()) ? 2 : 1;
    }
    return std::min(i, text.size());
}

std::string format_launch_error(std::string_view text, const Error& error) {
    if (error.position() == Error::no_position) {
        return error.message();
    }
    const std::size_t pos = std::min(error.position(), text.size());
    const std::size_t newline_before = pos == 0 ? std::string_view::npos : text.rfind('\n', pos - 1);
    const std::size_t line_start = newline_before == std::string_view::npos ? 0 : newline_before + 1;
    std::size_t line_end = text.find('\n', pos);
    if (line_end == std::string_view::npos) {
        line_end = text.size();
    }
    std::string_view line = text.substr(line_start, line_end - line_start);
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    // Keep the tabs so the caret lines up; count a UTF-8 character once.
    std::string caret;
    for (std::size_t j = line_start; j < pos; ++j) {
        const auto byte = static_cast<unsigned char>(text[j]);
        if ((byte & 0xc0) == 0x80) {
            continue;
        }
        caret += text[j] == '\t' ? '\t' : ' ';
    }
    return fmt::format("{}\n{}^\n{}", line, caret, error.message());
}

} // namespace parallax::detail
