// core/result.hpp — the error type every fallible call in linerate returns.
//
// Result<T> is tl::expected<T, Error>; it has the shape of C++23 std::expected so
// the swap is mechanical later. Error carries an std::error_code (errno or our own
// category) plus a short human context, and renders as one line for the user.
#pragma once

#include <string>
#include <system_error>
#include <utility>

#include <tl/expected.hpp>

namespace linerate::core {

struct Error {
  std::error_code code;
  std::string context;  // what we were doing / what was wrong, one line

  /// One line for a user: "context: strerror" or just context when code is empty.
  [[nodiscard]] std::string message() const {
    if (!code) {
      return context;
    }
    return context.empty() ? code.message() : context + ": " + code.message();
  }
};

template <typename T>
using Result = tl::expected<T, Error>;

/// Error from the current errno.
[[nodiscard]] inline tl::unexpected<Error> errno_error(std::string context) {
  return tl::unexpected(Error{std::error_code(errno, std::system_category()), std::move(context)});
}

/// Error with a message only (bad input, protocol violation).
[[nodiscard]] inline tl::unexpected<Error> fail(std::string context) {
  return tl::unexpected(Error{{}, std::move(context)});
}

/// Error with an explicit code.
[[nodiscard]] inline tl::unexpected<Error> fail(std::errc code, std::string context) {
  return tl::unexpected(Error{std::make_error_code(code), std::move(context)});
}

}  // namespace linerate::core
