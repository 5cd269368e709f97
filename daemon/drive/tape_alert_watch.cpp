#include "drive/tape_alert_watch.hpp"

#include "scsi/cdb.hpp"

namespace tapestream::drive {

bool TapeAlertWatch::due(bool ending) const {
  if (ending) {
    return !_final_done;
  }
  return _interval.count() > 0 && Clock::now() - _last >= _interval;
}

void TapeAlertWatch::poll(CommandChannel& channel, transport::DataBuffer buffer, bool ending,
                          std::function<void(std::optional<std::string>)> then) {
  _last = Clock::now();
  _final_done = _final_done || ending;
  const auto command = scsi::cdb::log_sense(scsi::log_page::tape_alert, 0,
                                            scsi::cdb::LogPageControl::current_cumulative, 0,
                                            static_cast<std::uint16_t>(buffer.bytes.size()));
  channel.send(command, buffer, [this, command, buffer, then = std::move(then)](const auto& r) {
    std::optional<std::string> critical;
    if (scsi::classify(command, r.status()).condition == scsi::TapeCondition::good) {
      if (auto page = scsi::parse_log_page(buffer.bytes)) {
        if (auto alerts = scsi::parse_tape_alerts(page.value())) {
          _seen(alerts.value());
          critical = critical_message(alerts.value());
        }
      }
    }
    then(std::move(critical));
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
