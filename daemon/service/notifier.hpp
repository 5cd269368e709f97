// The daemon's word to the service manager (sd_notify(3)): READY=1, STATUS=, STOPPING=1,
// WATCHDOG=1. Without NOTIFY_SOCKET in the environment (not started by systemd as
// Type=notify, or NotifyAccess= excludes it) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tapestream::service {

class Notifier {
 public:
  Notifier();

  // NOTIFY_SOCKET is set: the manager listens.
  bool enabled() const { return _enabled; }
  // One notification, "READY=1\nSTATUS=..." for several at once. A failure to send is logged
  // once (at warn) and otherwise ignored: the daemon serves all the same.
  void send(const std::string& state);
  // WatchdogSec= of the unit (WATCHDOG_USEC, for this process by WATCHDOG_PID): the time within
  // which the manager wants WATCHDOG=1; none when no watchdog is asked for.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return _watchdog; }

 private:
  bool _enabled = false;
  bool _failure_logged = false;
  std::optional<std::chrono::microseconds> _watchdog;
};

}  // namespace tapestream::service
