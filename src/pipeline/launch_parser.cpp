// parse_launch: gst-launch-1.0 descriptions, read with a small hand-written
// scanner rather than a PEGTL grammar. The language is a flat sequence of
// whitespace-separated items whose meaning depends on a character or two of
// lookahead (`word.` is a reference, `word/` a caps filter, `word =` a
// property) and on where the item stands (a reference after '!' ends its
// chain); the scanner says that directly and keeps each error at its byte.
// It never recurses and looks at each byte a bounded number of times.
// Every failure becomes a SyntaxError that never leaves this file.

#include "pipeline/launch_parser.hpp"

#include <parallax/caps/caps.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
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

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Factory names and the element name of a reference.
bool is_name_char(char c) {
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}

// Pad names and request templates such as `sink_%u` or `src_%u_%u`.
bool is_pad_char(char c) {
    return is_name_char(c) || c == '%' || c == ':';
}

bool is_quote(char c) {
    return c == '"' || c == '\'';
}

bool is_valid_property_name(std::string_view name) {
    return !name.empty() && is_alpha(name.front()) && std::all_of(name.begin(), name.end(), is_name_char);
}

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

// What the item starting at a position is, judged from its first characters.
enum class Item {
    end,       // nothing left
    link,      // `!`
    bin,       // `(`
    quote,     // `"` or `'`: a quoted caps filter after `!`
    pad,       // `.pad` next to an element
    caps,      // `type/subtype...`
    reference, // `name.` or `name.pad`
    property,  // `name=value` or `name = value`
    element,   // a factory name
    uri,       // `scheme://...`
    other,     // anything else: an error wherever it stands
};

class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    LaunchDescription run() {
        skip_spaces();
        if (at_end()) {
            throw SyntaxError{"empty pipeline description: expected an element", 0};
        }
        while (!at_end()) {
            parse_chain();
            skip_spaces();
        }
        return std::move(out_);
    }

private:
    [[nodiscard]] bool at_end() const { return i_ >= text_.size(); }
    [[nodiscard]] bool at(char c) const { return i_ < text_.size() && text_[i_] == c; }
    // True at a character that ends a value, a name or a reference.
    [[nodiscard]] bool at_item_end() const { return at_end() || is_space(text_[i_]) || text_[i_] == '!'; }

    [[nodiscard]] std::size_t spaces_end(std::size_t from) const {
        while (from < text_.size() && is_space(text_[from])) {
            ++from;
        }
        return from;
    }

    void skip_spaces() { i_ = spaces_end(i_); }

    [[nodiscard]] std::size_t name_end(std::size_t from) const {
        while (from < text_.size() && is_name_char(text_[from])) {
            ++from;
        }
        return from;
    }

    [[nodiscard]] std::size_t pad_end(std::size_t from) const {
        while (from < text_.size() && is_pad_char(text_[from])) {
            ++from;
        }
        return from;
    }

    // The end of a would-be property name: up to a space, '=' or '!'.
    [[nodiscard]] std::size_t token_end(std::size_t from) const {
        while (from < text_.size() && !is_space(text_[from]) && text_[from] != '=' && text_[from] != '!') {
            ++from;
        }
        return from;
    }

    [[nodiscard]] bool equals_at(std::size_t pos) const { return pos < text_.size() && text_[pos] == '='; }

    [[nodiscard]] Item classify(std::size_t pos) const {
        if (pos >= text_.size()) {
            return Item::end;
        }
        switch (text_[pos]) {
        case '!':
            return Item::link;
        case '(':
            return Item::bin;
        case '"':
        case '\'':
            return Item::quote;
        case '.':
            return Item::pad;
        default:
            break;
        }
        const std::size_t n = name_end(pos);
        if (n > pos) {
            if (n == text_.size() || text_[n] == '!') {
                return Item::element;
            }
            const char next = text_[n];
            if (next == '/') {
                return Item::caps;
            }
            if (next == '=') {
                return Item::property;
            }
            if (next == '.') {
                // `a.b=1` is a (badly named) property, not a reference.
                return equals_at(spaces_end(pad_end(n + 1))) ? Item::property : Item::reference;
            }
            if (is_space(next)) {
                return equals_at(spaces_end(n)) ? Item::property : Item::element;
            }
            if (text_.substr(n, 3) == "://") {
                return Item::uri;
            }
        }
        // Not a name: still a property (with a bad name) when '=' follows.
        return equals_at(spaces_end(token_end(pos))) ? Item::property : Item::other;
    }

    // A description is chains separated by whitespace.
    void parse_chain() {
        const Item first = classify(i_);
        switch (first) {
        case Item::link:
            throw SyntaxError{"expected an element or a reference before '!'", i_};
        case Item::pad:
            throw SyntaxError{"stray '.': expected an element or a reference (a pad name such as '.src' goes "
                              "right after an element or after '!')",
                              i_};
        case Item::caps:
            throw SyntaxError{"a caps filter goes between two '!': expected an element or a reference before it", i_};
        case Item::quote:
            throw SyntaxError{"expected an element or a reference, not quoted text (a quoted caps filter goes "
                              "between two '!')",
                              i_};
        case Item::property:
            throw SyntaxError{fmt::format("expected an element or a reference before the property {}",
                                          show_text(text_.substr(i_, token_end(i_) - i_))),
                              i_};
        default:
            break;
        }
        LaunchEndpoint current = parse_endpoint(first);
        if (current.element == LaunchEndpoint::npos) {
            skip_spaces();
            if (!at('!')) {
                throw SyntaxError{fmt::format("the reference {} is not linked: expected '!' after it",
                                              show_text(reference_text(current))),
                                  current.pos};
            }
        }
        for (;;) {
            if (current.element != LaunchEndpoint::npos) {
                parse_element_tail(current);
            }
            skip_spaces();
            if (!at('!')) {
                return; // what follows starts a new chain
            }
            LaunchLink link;
            link.pos = i_;
            link.from = std::move(current);
            link.to = parse_link_target(link);
            current = link.to;
            out_.links.push_back(std::move(link));
            if (current.element == LaunchEndpoint::npos) {
                skip_spaces();
                if (at('!')) {
                    throw SyntaxError{
                        fmt::format("a reference can only start or end a chain: end this chain at {} and start "
                                    "a new one with it",
                                    show_text(reference_text(current))),
                        i_};
                }
                return;
            }
        }
    }

    // At the '!' of a link: reads the optional caps filter into `link`, then
    // returns what the link goes to.
    LaunchEndpoint parse_link_target(LaunchLink& link) {
        ++i_;
        skip_spaces();
        Item item = classify(i_);
        if (item == Item::caps || item == Item::quote) {
            parse_caps(link);
            skip_spaces();
            item = classify(i_);
            if (item == Item::caps || item == Item::quote) {
                throw SyntaxError{"expected an element or a reference after the caps filter, not another caps filter",
                                  i_};
            }
        }
        std::string pad;
        std::size_t pad_pos = LaunchEndpoint::npos;
        if (item == Item::pad) {
            pad_pos = i_ + 1;
            pad = parse_pad_name();
            skip_spaces();
            item = classify(i_);
            if (item != Item::element) {
                throw SyntaxError{fmt::format("expected an element after the pad {}", show_text("." + pad)), i_};
            }
        }
        switch (item) {
        case Item::end:
            throw SyntaxError{"expected an element or a reference after '!', found the end of the description", i_};
        case Item::link:
            throw SyntaxError{"expected an element or a reference after '!'", i_};
        case Item::property:
            throw SyntaxError{fmt::format("expected an element or a reference after '!', found the property {}",
                                          show_text(text_.substr(i_, token_end(i_) - i_))),
                              i_};
        default:
            break;
        }
        LaunchEndpoint target = parse_endpoint(item);
        if (pad_pos != LaunchEndpoint::npos) {
            target.pad = std::move(pad);
            target.pad_pos = pad_pos;
        }
        return target;
    }

    // An element or a reference; any other item is an error here.
    LaunchEndpoint parse_endpoint(Item item) {
        LaunchEndpoint endpoint;
        endpoint.pos = i_;
        switch (item) {
        case Item::element: {
            const std::size_t end = name_end(i_);
            LaunchElement element;
            element.factory = std::string(text_.substr(i_, end - i_));
            element.pos = i_;
            endpoint.element = out_.elements.size();
            out_.elements.push_back(std::move(element));
            i_ = end;
            return endpoint;
        }
        case Item::reference:
            parse_reference(endpoint);
            return endpoint;
        case Item::bin:
            throw SyntaxError{"bins '( ... )' are not supported: write the elements without parentheses", i_};
        case Item::uri:
            throw SyntaxError{"URIs are not supported as elements: use a source such as filesrc location=...", i_};
        default: {
            // A name with a bad character in it, or a bad character alone.
            const std::size_t bad = std::min(name_end(i_), text_.size() - 1);
            throw SyntaxError{fmt::format("unexpected {}: expected an element name (letters, digits, '-' and "
                                          "'_') or a reference such as 't.'",
                                          show_char(text_[bad])),
                              bad};
        }
        }
    }

    // `name.`, `name.pad` or `name.template`.
    void parse_reference(LaunchEndpoint& endpoint) {
        const std::size_t dot = name_end(i_);
        endpoint.ref = std::string(text_.substr(i_, dot - i_));
        i_ = dot + 1;
        if (at('(')) {
            throw SyntaxError{"bins '( ... )' are not supported: write the elements without parentheses", i_};
        }
        const std::size_t end = pad_end(i_);
        if (end > i_) {
            endpoint.pad = std::string(text_.substr(i_, end - i_));
            endpoint.pad_pos = i_;
        }
        i_ = end;
        check_after_pad(endpoint.pad.empty() ? "the reference" : "the pad name");
    }

    // `.pad`, at the dot. Returns the pad name.
    std::string parse_pad_name() {
        const std::size_t dot = i_;
        const std::size_t end = pad_end(dot + 1);
        if (end == dot + 1) {
            throw SyntaxError{"expected a pad name after '.'", dot};
        }
        i_ = end;
        check_after_pad("the pad name");
        return std::string(text_.substr(dot + 1, end - dot - 1));
    }

    void check_after_pad(std::string_view what) const {
        if (at_item_end()) {
            return;
        }
        if (text_[i_] == ',') {
            throw SyntaxError{"lists of pads are not supported: link each pad in its own chain", i_};
        }
        throw SyntaxError{fmt::format("unexpected {} after {}", show_char(text_[i_]), what), i_};
    }

    // The properties of an element, then an optional `.pad` for the link
    // that follows. Stops before a '!', the end, or an item that starts a
    // new chain.
    void parse_element_tail(LaunchEndpoint& endpoint) {
        for (;;) {
            skip_spaces();
            const Item item = classify(i_);
            if (item == Item::property) {
                parse_property(out_.elements[endpoint.element]);
                continue;
            }
            if (item == Item::pad) {
                const std::size_t dot = i_;
                std::string pad = parse_pad_name();
                skip_spaces();
                if (!at('!')) {
                    throw SyntaxError{
                        fmt::format("the pad {} is not linked: expected '!' after it", show_text("." + pad)), dot};
                }
                endpoint.pad = std::move(pad);
                endpoint.pad_pos = dot + 1;
            }
            return;
        }
    }

    void parse_property(LaunchElement& element) {
        LaunchProperty property;
        property.name_pos = i_;
        const std::size_t name_stop = token_end(i_);
        property.name = std::string(text_.substr(i_, name_stop - i_));
        if (property.name.empty()) {
            throw SyntaxError{"expected a property name before '='", i_};
        }
        if (!is_valid_property_name(property.name)) {
            throw SyntaxError{fmt::format("{} is not a valid property name: expected a letter, then letters, "
                                          "digits, '-' or '_'",
                                          show_text(property.name)),
                              i_};
        }
        i_ = spaces_end(name_stop);
        if (!at('=')) {
            // classify() saw the '='; this is only a safety net.
            throw SyntaxError{"expected '=' after the property name", i_};
        }
        ++i_;
        skip_spaces();
        if (at_item_end()) {
            throw SyntaxError{fmt::format("expected a value for the property {} after '='", show_text(property.name)),
                              i_};
        }
        if (at('(')) {
            skip_type_cast();
        }
        property.value_pos = i_;
        if (at('"') || at('\'')) {
            const std::size_t open = i_;
            property.quoted = true;
            property.value_pos = open + 1;
            property.value = read_quoted(open, nullptr);
            if (!at_item_end()) {
                throw SyntaxError{
                    fmt::format("expected a space or '!' after the closing quote, found {}", show_char(text_[i_])), i_};
            }
        } else {
            // Unquoted: up to a space or '!'; a backslash keeps the next
            // character, so `a\ b` is one value.
            while (!at_item_end()) {
                if (text_[i_] == '\\' && i_ + 1 < text_.size()) {
                    ++i_;
                }
                property.value += text_[i_];
                ++i_;
            }
        }
        element.properties.push_back(std::move(property));
    }

    // `(type)` before a value, as in `width=(int)640`: dropped, the builder
    // converts the text to the property's own type.
    void skip_type_cast() {
        const std::size_t open = i_;
        std::size_t end = open + 1;
        while (end < text_.size() && (is_alpha(text_[end]) || is_digit(text_[end]) || text_[end] == '_')) {
            ++end;
        }
        if (end == open + 1) {
            throw SyntaxError{"expected a type name such as int or string after '('", end};
        }
        if (end == text_.size() || text_[end] != ')') {
            throw SyntaxError{"expected ')' after the type name", end};
        }
        i_ = end + 1;
        if (at_item_end()) {
            throw SyntaxError{
                fmt::format("expected a value after the type cast {}", show_text(text_.substr(open, i_ - open))), i_};
        }
    }

    // The quoted string opening at `open`, unescaped; moves past the closing
    // quote. When `positions` is given, it receives the text position of
    // each character of the result.
    std::string read_quoted(std::size_t open, std::vector<std::size_t>* positions) {
        const char quote = text_[open];
        std::string out;
        for (std::size_t j = open + 1; j < text_.size(); ++j) {
            if (text_[j] == quote) {
                i_ = j + 1;
                return out;
            }
            if (text_[j] == '\\' && j + 1 < text_.size()) {
                ++j;
            }
            out += text_[j];
            if (positions != nullptr) {
                positions->push_back(j);
            }
        }
        throw SyntaxError{fmt::format("unterminated quoted string: expected a closing {}", show_char(quote)), open};
    }

    // A caps filter after '!', through the '!' that ends it.
    void parse_caps(LaunchLink& link) {
        const std::size_t start = i_;
        // The text position of each character of link.caps, and of its end.
        std::vector<std::size_t> positions;
        if (is_quote(text_[start])) {
            link.caps = read_quoted(start, &positions);
            link.caps_pos = start + 1;
            if (link.caps.find_first_not_of(" \t\n\r\f\v") == std::string::npos) {
                throw SyntaxError{"expected caps between the quotes", start};
            }
            positions.push_back(i_ - 1); // the end of the caps is the closing quote
        } else {
            const std::size_t end = unquoted_caps_end(start);
            std::size_t last = end;
            while (last > start && is_space(text_[last - 1])) {
                --last;
            }
            link.caps = std::string(text_.substr(start, last - start));
            link.caps_pos = start;
            i_ = end;
        }
        if (auto caps = Caps::parse(link.caps); !caps) {
            const std::size_t p = std::min(caps.error().position(), link.caps.size());
            const std::size_t where = positions.empty() ? link.caps_pos + p : positions[p];
            throw SyntaxError{fmt::format("invalid caps filter: {}", caps.error().message()), where};
        }
        skip_spaces();
        if (at_end()) {
            throw SyntaxError{"the caps filter is not linked to anything: expected '!' and an element or a "
                              "reference after it",
                              link.caps_pos};
        }
        if (!at('!')) {
            throw SyntaxError{fmt::format("expected '!' after the caps filter, found {}", show_char(text_[i_])), i_};
        }
        ++i_;
    }

    // Where unquoted caps end: at the first '!' outside quotes and brackets,
    // or at the end of the text.
    [[nodiscard]] std::size_t unquoted_caps_end(std::size_t start) const {
        std::vector<std::size_t> open; // positions of the unclosed brackets
        std::size_t j = start;
        while (j < text_.size()) {
            const char c = text_[j];
            if (c == '!' && open.empty()) {
                break;
            }
            if (c == '"') {
                std::size_t k = j + 1;
                while (k < text_.size() && text_[k] != '"') {
                    k += text_[k] == '\\' ? 2 : 1;
                }
                if (k >= text_.size()) {
                    throw SyntaxError{"unterminated quoted string in the caps filter: expected a closing '\"'", j};
                }
                j = k + 1;
                continue;
            }
            if (c == '(' || c == '[' || c == '{') {
                open.push_back(j);
            } else if ((c == ')' || c == ']' || c == '}') && !open.empty()) {
                open.pop_back(); // a mismatched pair is for Caps::parse to report
            }
            ++j;
        }
        if (!open.empty()) {
            throw SyntaxError{fmt::format("unclosed {} in the caps filter", show_char(text_[open.back()])),
                              open.back()};
        }
        return j;
    }

    [[nodiscard]] static std::string reference_text(const LaunchEndpoint& endpoint) {
        return endpoint.ref + "." + endpoint.pad;
    }

    std::string_view text_;
    std::size_t i_ = 0;
    LaunchDescription out_;
};

} // namespace

Result<LaunchDescription> parse_launch(std::string_view text) {
    try {
        return Parser(text).run();
    } catch (const SyntaxError& e) {
        return fail(Error(Errc::invalid_argument, e.message).at_position(e.position));
    }
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
