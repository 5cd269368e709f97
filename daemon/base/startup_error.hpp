// A failure that stops the daemon from starting (a missing kernel feature, a memory lock limit,
// a bad configuration). Thrown only during start-up; the message says what to do about it.
#pragma once

#include <stdexcept>
#include <string>

namespace tapestream {

class StartupError : public std::runtime_error {
 public:
  explicit StartupError(const std::string& message) : std::runtime_error{message} {}
};

}  // namespace tapestream
