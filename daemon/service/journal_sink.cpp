#include "service/journal_sink.hpp"

#include <sys/uio.h>
// CODE_FILE, CODE_LINE and CODE_FUNC would name this sink, not the code that logged.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace tapestream::service {
namespace {

bool valid_field_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && name[0] != '_' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
         });
}

}  // namespace

int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical: return 2;  // LOG_CRIT
    case spdlog::level::err: return 3;       // LOG_ERR
    case spdlog::level::warn: return 4;      // LOG_WARNING
    case spdlog::level::info: return 6;      // LOG_INFO
    default: return 7;                       // LOG_DEBUG: debug and trace
  }
}

std::vector<std::string> journal_entry(spdlog::level::level_enum level, std::string_view message,
                                       std::span<const LogField> fields) {
  std::vector<std::string> entry;
  entry.reserve(3 + fields.size());
  entry.push_back("MESSAGE=" + std::string{message});
  entry.push_back("PRIORITY=" + std::to_string(syslog_priority(level)));
  entry.emplace_back("SYSLOG_IDENTIFIER=tapestreamd");
  for (const auto& field : fields) {
    if (valid_field_name(field.name)) {
      entry.push_back(std::string{field.name} + "=" + field.value);
    }
  }
  return entry;
}

void JournalSink::sink_it_(const spdlog::details::log_msg& msg) {
  const std::string_view message{msg.payload.data(), msg.payload.size()};
  const auto entry = journal_entry(msg.level, message, current_log_fields());
  std::vector<iovec> vector;
  vector.reserve(entry.size());
  for (const auto& field : entry) {
    vector.push_back({const_cast<char*>(field.data()), field.size()});
  }
  const int rc = sd_journal_sendv(vector.data(), static_cast<int>(vector.size()));
  if (rc >= 0) {
    return;
  }
  if (!_fallback_said.exchange(true)) {
    std::fprintf(stderr, "tapestreamd: the journal does not take messages (%s); logging to stderr\n",
                 std::strerror(-rc));
  }
  std::fprintf(stderr, "tapestreamd: %s %.*s\n", spdlog::level::to_string_view(msg.level).data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace tapestream::service
