// An spdlog sink to the systemd journal (sd_journal_sendv(3)): MESSAGE, PRIORITY (the syslog
// level of the spdlog level), SYSLOG_IDENTIFIER=tapestreamd, and the structured fields the log
// call carries (base/log_fields.hpp: TAPESTREAM_DRIVE, TAPESTREAM_FILE, TAPESTREAM_BYTES, ...).
// spdlog's own systemd_sink has no way to add fields per call. A message the journal does not
// take (journald is not running) goes to stderr instead, so that nothing is lost in silence.
#pragma once

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include <atomic>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/log_fields.hpp"

namespace tapestream::service {

// The syslog priority (0 emerg ... 7 debug) of an spdlog level.
int syslog_priority(spdlog::level::level_enum level);

// The journal entry of one message: "FIELD=value" each, in the order sent. Fields with a name
// the journal would refuse (not A-Z, 0-9, _; or starting with _) are left out.
std::vector<std::string> journal_entry(spdlog::level::level_enum level, std::string_view message,
                                       std::span<const LogField> fields);

// Thread-safe without a lock of its own: it keeps no state, and sd_journal_sendv is safe to call
// from any thread.
class JournalSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::atomic<bool> _fallback_said{false};
};

}  // namespace tapestream::service
