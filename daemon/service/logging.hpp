// Where the daemon's log goes (log-target = auto|journal|stderr): to the journal with
// priorities and structured fields (journal_sink.hpp), or to stderr as lines with a time stamp
// and level. auto chooses the journal when stderr is the journal (JOURNAL_STREAM names the
// device and inode of descriptor 2) or the daemon is a service's main process (INVOCATION_ID
// is set and its parent is PID 1, the service manager), and stderr otherwise.
#pragma once

#include <spdlog/common.h>

#include <optional>
#include <string_view>

namespace tapestream::service {

enum class LogTarget { automatic, journal, stderr_stream };

// "auto", "journal" or "stderr".
std::optional<LogTarget> parse_log_target(std::string_view text);

// What auto means in this process's environment: journal or stderr_stream.
LogTarget resolve_log_target(LogTarget target);

// Makes the default logger write to `target` (journal or stderr_stream) at `level`.
void set_up_logging(LogTarget target, spdlog::level::level_enum level);

}  // namespace tapestream::service
