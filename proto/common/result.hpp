// The result type of every fallible operation: a value or an error. The error is a
// std::error_code by default (Result<T>); where a person reads the failure (the CLI, the daemon's
// tools, drive discovery) it is a Failure (Result<T, Failure>), a code with the words that
// explain it. Exceptions are only for start-up and configuration (StartupError, daemon/base).
#pragma once

#include <boost/outcome/std_result.hpp>
#include <boost/outcome/try.hpp>

#include <string>
#include <system_error>
#include <utility>

namespace tapestream {

namespace outcome = BOOST_OUTCOME_V2_NAMESPACE;

template <class T, class E = std::error_code>
using Result = outcome::std_result<T, E>;

// An error code and the message that says what failed and where ("/dev/sg3: Permission denied").
// A Result<T> propagates into a Result<U, Failure> with BOOST_OUTCOME_TRY (the message is then the
// code's own).
struct Failure {
  std::error_code code;
  std::string message;

  Failure() = default;
  Failure(std::error_code c) : code{c} {}  // NOLINT: implicit, so that a Result<T> propagates
  Failure(std::error_code c, std::string m) : code{c}, message{std::move(m)} {}
  // The message, or the code's text when there is none.
  std::string what() const { return message.empty() ? code.message() : message; }
};

// Outcome treats a Failure as an error code: value() on a failed Result<T, Failure> throws
// std::system_error carrying the message.
inline std::error_code make_error_code(const Failure& f) { return f.code; }
[[noreturn]] inline void outcome_throw_as_system_error_with_payload(const Failure& f) {
  throw std::system_error{f.code, f.what()};
}

}  // namespace tapestream
