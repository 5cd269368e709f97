// What the service manager hears while the daemon serves, sent from the control thread after
// each turn of its ring: READY=1 once serving, STATUS= in plain words every few seconds,
// STOPPING=1 as soon as a stop was asked for, and WATCHDOG=1 every WatchdogSec/2 — but only
// while every drive's worker loop turns. A worker stuck in the kernel (a driver in D state)
// stops the pings, so the manager kills and restarts the daemon; a long ERASE or LOCATE does
// not, since commands run asynchronously on the worker's ring and its loop keeps turning.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/server.hpp"
#include "service/notifier.hpp"
#include "service/status_line.hpp"

namespace tapestream::service {

class ServiceMonitor {
 public:
  using Clock = std::chrono::steady_clock;

  ServiceMonitor(const server::Server& server, Notifier& notifier);

  // The socket is bound or adopted and every drive identified: READY=1, the first STATUS= and
  // the first WATCHDOG=1.
  void ready(Clock::time_point now);
  // After each turn of the control thread's ring.
  void tick(Clock::time_point now);

  // A worker whose loop has not turned for this long counts as stuck.
  Clock::duration stuck_after() const { return _stuck_after; }

 private:
  struct Sample {
    bool streaming = false;
    std::optional<std::uint64_t> file;
    std::uint64_t bytes = 0;
    Clock::time_point when{};
    std::optional<double> rate;
  };
  // The drives as their workers last published them; rates from the previous refresh.
  std::vector<DriveLine> look(Clock::time_point now, bool measure);
  void refresh_status(Clock::time_point now);
  void feed_watchdog(Clock::time_point now);

  const server::Server& _server;
  Notifier& _notifier;
  std::optional<Clock::duration> _ping_every;  // WatchdogSec/2
  Clock::duration _stuck_after;
  Clock::time_point _next_ping{};
  Clock::time_point _next_status{};
  bool _stopping_sent = false;
  std::vector<Sample> _samples;      // per worker
  std::vector<bool> _stuck_logged;   // per worker: said so once, until it turns again
  std::string _last_status;
};

}  // namespace tapestream::service
