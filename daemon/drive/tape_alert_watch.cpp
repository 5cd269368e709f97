#include "drive/tape_alert_watch.hpp"

#include "scsi/cdb.hpp"

namespace tapestream::drive {

bool TapeAlertWatch::due(bool ending) const {
  if (!_baseline_done) {
    return !ending;  // a stream that never wrote has nothing to judge
  }
  if (ending) {
    return !_final_done;
  }
  return _interval.count() > 0 && Clock::now() - _last >= _interval;
}

void TapeAlertWatch::poll(CommandChannel& channel, transport::DataBuffer buffer, bool ending,
                          Then then) {
  const bool judge = _baseline_done;
  _baseline_done = true;
  _last = Clock::now();
  _final_done = _final_done || ending;
  const auto command = scsi::cdb::log_sense(scsi::log_page::tape_alert, 0,
                                            scsi::cdb::LogPageControl::current_cumulative, 0,
                                            static_cast<std::uint16_t>(buffer.bytes.size()));
  channel.send(command, buffer, [this, command, buffer, judge, then = std::move(then)](const auto& r) {
    std::optional<std::string> critical;
    const auto c = scsi::classify(command, r.status());
    if (c.condition == scsi::TapeCondition::good) {
      if (auto page = scsi::parse_log_page(buffer.bytes)) {
        if (auto alerts = scsi::parse_tape_alerts(page.value())) {
          _seen(alerts.value());
          critical = judge ? critical_message(alerts.value()) : std::nullopt;
        }
      }
    }
    then(c, r.timed_out, std::move(critical));
  });
}

std::optional<std::string> TapeAlertWatch::critical_message(const scsi::TapeAlerts& alerts) {
  for (unsigned flag = 1; flag <= alerts.size(); ++flag) {
    if (alerts.test(flag - 1) &&
        scsi::tape_alert_severity(flag) == scsi::TapeAlertSeverity::critical) {
      return "the drive raised critical TapeAlert flag " + std::to_string(flag) + " (" +
             std::string{scsi::tape_alert_name(flag)} + ")";
    }
  }
  return std::nullopt;
}

}  // namespace tapestream::drive
