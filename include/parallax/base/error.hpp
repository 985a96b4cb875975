#pragma once

/// \file
/// Error: what every control call of libparallax reports when it fails.

#include <parallax/base/export.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace parallax {

/// Error conditions of libparallax, in the `parallax` error category.
enum class Errc : int {
    invalid_argument = 1, ///< A value given by the caller is unusable.
    out_of_range,         ///< A value or offset lies outside what is allowed.
    corrupt,              ///< Bytes from outside (a file, a header, a frame) are malformed.
    version_mismatch,     ///< A versioned structure has a version this build does not read.
    exhausted,            ///< A bounded resource (slots, participants) has nothing left.
    timeout,              ///< A wait ran out of time.
    closed,               ///< The other end of a channel went away.
    would_block,          ///< A non-blocking call could not complete now.
    unsupported,          ///< The system or build does not offer what was asked.
    system,               ///< A system call failed; the std::error_code is the errno.
    state,                ///< The object is not in a state that allows the call.
    not_found,            ///< No such element, factory, pad or property.
    exception,            ///< Element code threw an exception.
    not_linked,           ///< A pad that must be linked is not.
    not_negotiated,       ///< The two sides of a link cannot agree on a format.
    failed,               ///< An element failed at its job (see the message).
};

/// The `parallax` error category.
PARALLAX_API const std::error_category& parallax_category() noexcept;

/// Makes an error code of the `parallax` category.
inline std::error_code make_error_code(Errc e) noexcept {
    return {static_cast<int>(e), parallax_category()};
}

/// An error: a code, a human message, and where it happened when that is known
/// (the element, the pad, the character of a pipeline or caps string).
class PARALLAX_API Error {
public:
    static constexpr std::size_t no_position = static_cast<std::size_t>(-1);

    Error(Errc code, std::string message) : code_(make_error_code(code)), message_(std::move(message)) {}
    Error(std::error_code code, std::string message) : code_(code), message_(std::move(message)) {}

    /// An error from a failed system call: `what` says what was attempted,
    /// the code is the errno in the system category.
    static Error from_errno(int err, std::string_view what);

    [[nodiscard]] std::error_code code() const noexcept { return code_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    [[nodiscard]] const std::string& element() const noexcept { return element_; }
    [[nodiscard]] const std::string& pad() const noexcept { return pad_; }
    [[nodiscard]] std::size_t position() const noexcept { return position_; }

    /// True when the code is `e` of the parallax category.
    [[nodiscard]] bool is(Errc e) const noexcept { return code_ == make_error_code(e); }

    Error& at_element(std::string name) & {
        element_ = std::move(name);
        return *this;
    }
    Error&& at_element(std::string name) && {
        element_ = std::move(name);
        return std::move(*this);
    }
    Error& at_pad(std::string name) & {
        pad_ = std::move(name);
        return *this;
    }
    Error&& at_pad(std::string name) && {
        pad_ = std::move(name);
        return std::move(*this);
    }
    Error& at_position(std::size_t pos) & {
        position_ = pos;
        return *this;
    }
    Error&& at_position(std::size_t pos) && {
        position_ = pos;
        return std::move(*this);
    }

    /// "element:pad: message (code)" with the parts that are known.
    [[nodiscard]] std::string to_string() const;

private:
    std::error_code code_;
    std::string message_;
    std::string element_;
    std::string pad_;
    std::size_t position_ = no_position;
};

} // namespace parallax

template <>
struct std::is_error_code_enum<parallax::Errc> : std::true_type {};
