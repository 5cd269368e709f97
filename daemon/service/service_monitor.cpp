#include "service/service_monitor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tapestream::service {
namespace {

// STATUS= is refreshed this often (when its words changed).
constexpr std::chrono::seconds status_every{2};
// Without a watchdog a worker still counts as stuck after this long (logged, and in STATUS=).
constexpr std::chrono::seconds stuck_without_watchdog{10};
// A healthy worker turns at least every 100 ms (its ring's wait): below this, a short
// WatchdogSec= would take a busy moment for a stuck worker.
constexpr std::chrono::milliseconds shortest_stuck{500};

double seconds(ServiceMonitor::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

ServiceMonitor::ServiceMonitor(const server::Server& server, Notifier& notifier)
    : _server{server},
      _notifier{notifier},
      _stuck_after{stuck_without_watchdog},
      _samples(server.workers().size()),
      _stuck_logged(server.workers().size(), false) {
  if (const auto interval = notifier.watchdog_interval()) {
    _ping_every = std::chrono::duration_cast<Clock::duration>(*interval) / 2;
    _stuck_after = std::max<Clock::duration>(*_ping_every, shortest_stuck);
    spdlog::info("watchdog: WATCHDOG=1 every {:.1f} s while every drive's worker turns",
                 seconds(*_ping_every));
  }
}

std::vector<DriveLine> ServiceMonitor::look(Clock::time_point now, bool measure) {
  std::vector<DriveLine> lines;
  const auto& workers = _server.workers();
  for (std::size_t i = 0; i < workers.size(); ++i) {
    const auto& worker = *workers[i];
    DriveLine line{worker.name(), worker.glance(), std::nullopt, std::nullopt};
    if (const auto idle = now - worker.last_turn(); idle > _stuck_after) {
      line.stalled_for = seconds(idle);
    }
    auto& sample = _samples[i];
    const auto& g = line.glance;
    if (measure) {
      const bool same_stream = g.streaming && sample.streaming && g.file == sample.file &&
                               g.bytes >= sample.bytes && now > sample.when;
      sample.rate = same_stream ? std::optional{static_cast<double>(g.bytes - sample.bytes) / seconds(now - sample.when)}
                                : std::nullopt;
      sample.streaming = g.streaming;
      sample.file = g.file;
      sample.bytes = g.bytes;
      sample.when = now;
    }
    line.rate = sample.rate;
    lines.push_back(std::move(line));
  }
  return lines;
}

void ServiceMonitor::ready(Clock::time_point now) {
  _last_status = status_line(look(now, true), _server.stopping());
  _notifier.send("READY=1\nSTATUS=" + _last_status);
  _next_status = now + status_every;
  feed_watchdog(now);
}

void ServiceMonitor::tick(Clock::time_point now) {
  if (_server.stopping() && !_stopping_sent) {
    _stopping_sent = true;
    _last_status = status_line(look(now, false), true);
    _notifier.send("STOPPING=1\nSTATUS=" + _last_status);
  }
  if (now >= _next_status) {
    refresh_status(now);
  }
  if (now >= _next_ping) {
    feed_watchdog(now);
  }
}

void ServiceMonitor::refresh_status(Clock::time_point now) {
  _next_status = now + status_every;
  auto text = status_line(look(now, true), _server.stopping());
  // A catalog that cannot keep up never stops a stream, so it is said here (systemctl status).
  if (const auto* catalog = _server.catalog(); catalog != nullptr) {
    if (const auto health = catalog->health(); !health.ok) {
      text += "; catalog failing: " + std::to_string(health.failed_changes) +
              " changes not recorded (" + health.last_error.substr(0, 120) + ")";
    }
  }
  if (text != _last_status) {
    _last_status = std::move(text);
    _notifier.send("STATUS=" + _last_status);
  }
}

// Without a watchdog this only looks (once a second) for a stuck worker, to say so. Fed only
// when every worker turned within the last WatchdogSec/2 (at least 0.5 s): the
// manager then restarts a daemon one of whose drives is stuck for good.
void ServiceMonitor::feed_watchdog(Clock::time_point now) {
  _next_ping = now + _ping_every.value_or(std::chrono::seconds{1});
  bool all_turn = true;
  const auto& workers = _server.workers();
  for (std::size_t i = 0; i < workers.size(); ++i) {
    const auto idle = now - workers[i]->last_turn();
    if (idle <= _stuck_after) {
      if (_stuck_logged[i]) {
        _stuck_logged[i] = false;
        spdlog::warn("drive {}: its worker turns again after {:.1f} s", workers[i]->name(),
                     seconds(idle));
      }
      continue;
    }
    all_turn = false;
    if (!_stuck_logged[i]) {
      _stuck_logged[i] = true;
      spdlog::error("drive {}: its worker has not turned for {:.1f} s (stuck in a command in the "
                    "kernel?); {}",
                    workers[i]->name(), seconds(idle),
                    _ping_every ? "the watchdog is no longer fed, so the service manager "
                                  "restarts the daemon"
                                : "no watchdog is configured to restart the daemon");
    }
  }
  if (all_turn && _ping_every) {
    _notifier.send("WATCHDOG=1");
  }
}

}  // namespace tapestream::service
