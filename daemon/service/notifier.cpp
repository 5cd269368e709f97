#include "service/notifier.hpp"

#include <systemd/sd-daemon.h>

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>

namespace tapestream::service {

Notifier::Notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  _enabled = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // Not unset: the variables stay for a child the daemon never starts, and cost nothing.
  const int watchdog = sd_watchdog_enabled(0, &usec);
  if (watchdog > 0 && usec > 0 && _enabled) {  // a watchdog nobody can be told of is none
    _watchdog = std::chrono::microseconds{usec};
  } else if (watchdog < 0) {
    spdlog::warn("WATCHDOG_USEC or WATCHDOG_PID is malformed ({}): no watchdog, ignoring",
                 std::strerror(-watchdog));
  }
}

void Notifier::send(const std::string& state) {
  if (!_enabled) {
    return;
  }
  const int rc = sd_notify(0, state.c_str());
  if (rc < 0 && !_failure_logged) {
    _failure_logged = true;
    spdlog::warn("cannot notify the service manager ({}), ignoring: {}", std::strerror(-rc),
                 state.substr(0, state.find('\n')));
  }
}

}  // namespace tapestream::service
