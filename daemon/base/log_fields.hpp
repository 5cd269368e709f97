// Structured fields for the log line being written on this thread: a caller that has more to
// say than the message (a stream's drive, file, bytes, rate...) sets them for the length of one
// log call, and the journal sink (daemon/service/journal_sink.hpp) sends them as journal fields
// beside MESSAGE. spdlog's sinks run synchronously in the calling thread, so a thread_local is
// all it takes; other sinks ignore the fields, which the message repeats in words anyway.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace tapestream {

struct LogField {
  std::string_view name;  // a journal field name: A-Z, 0-9 and _, not starting with _
  std::string value;
};

// Sets the fields for this thread while it lives; the previous ones come back afterwards.
class LogFieldScope {
 public:
  explicit LogFieldScope(std::span<const LogField> fields);
  ~LogFieldScope();
  LogFieldScope(const LogFieldScope&) = delete;
  LogFieldScope& operator=(const LogFieldScope&) = delete;

 private:
  std::span<const LogField> _previous;
};

// The fields of the log call under way on this thread (empty outside a LogFieldScope).
std::span<const LogField> current_log_fields();

}  // namespace tapestream
