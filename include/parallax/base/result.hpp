#pragma once

/// \file
/// Result<T>: the value of a control call, or the Error that stopped it.

#include <parallax/base/error.hpp>

#include <tl/expected.hpp>

#include <string>
#include <utility>

namespace parallax {

/// The outcome of a control call. Same interface as C++23's std::expected.
template <typename T>
using Result = tl::expected<T, Error>;

/// Shorthand for returning an error from a function that returns Result<T>.
inline tl::unexpected<Error> fail(Errc code, std::string message) {
    return tl::unexpected<Error>(Error(code, std::move(message)));
}

/// Shorthand for returning an existing Error.
inline tl::unexpected<Error> fail(Error error) {
    return tl::unexpected<Error>(std::move(error));
}

/// Shorthand for a failed system call (errno is read by the caller).
inline tl::unexpected<Error> fail_errno(int err, std::string_view what) {
    return tl::unexpected<Error>(Error::from_errno(err, what));
}

} // namespace parallax
