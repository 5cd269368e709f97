#include "service/logging.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "service/journal_sink.hpp"

namespace tapestream::service {
namespace {

// systemd sets JOURNAL_STREAM=DEVICE:INODE for a service whose stdout or stderr it connected to
// the journal; a descriptor 2 on that very inode is the journal (systemd.exec(5)).
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) {
    return false;
  }
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) {
    return false;
  }
  struct stat st {};
  return ::fstat(2, &st) == 0 && static_cast<unsigned long long>(st.st_dev) == device &&
         static_cast<unsigned long long>(st.st_ino) == inode;
}

constexpr const char* journal_socket = "/run/systemd/journal/socket";

}  // namespace

std::optional<LogTarget> parse_log_target(std::string_view text) {
  if (text == "auto") {
    return LogTarget::automatic;
  }
  if (text == "journal") {
    return LogTarget::journal;
  }
  if (text == "stderr") {
    return LogTarget::stderr_stream;
  }
  return std::nullopt;
}

LogTarget resolve_log_target(LogTarget target) {
  if (target != LogTarget::automatic) {
    return target;
  }
  // INVOCATION_ID is inherited by everything a service starts (a CI runner's test daemons,
  // a cron job's children), so it counts only for a process the service manager started
  // itself: its parent is PID 1 (a service's main process, also after exec from a wrapper).
  const char* invocation = std::getenv("INVOCATION_ID");
  const bool started_by_manager = invocation != nullptr && *invocation != '\0' && ::getppid() == 1;
  return stderr_is_journal() || started_by_manager ? LogTarget::journal : LogTarget::stderr_stream;
}

void set_up_logging(LogTarget target, spdlog::level::level_enum level) {
  std::shared_ptr<spdlog::logger> logger;
  target = resolve_log_target(target);
  // sd_journal_send(3) drops a message in silence when journald's socket does not exist.
  if (target == LogTarget::journal && ::access(journal_socket, F_OK) != 0) {
    std::fprintf(stderr, "tapestreamd: no journal here (%s does not exist); logging to stderr\n",
                 journal_socket);
    target = LogTarget::stderr_stream;
  }
  if (target == LogTarget::journal) {
    // The journal stamps time, priority and identifier itself.
    logger = std::make_shared<spdlog::logger>("tapestreamd", std::make_shared<JournalSink>());
  } else {
    logger = spdlog::stderr_color_mt("tapestreamd");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
}

}  // namespace tapestream::service
