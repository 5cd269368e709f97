// The service layer's pieces that need no service manager: the words of STATUS=, the journal
// entry of a log call and its fields, the syslog priorities, socket-mode and log-target.
#include <gtest/gtest.h>

#include <vector>

#include "base/log_fields.hpp"
#include "base/startup_error.hpp"
#include "server/listener.hpp"
#include "service/journal_sink.hpp"
#include "service/logging.hpp"
#include "service/status_line.hpp"

namespace {

using tapestream::LogField;
using tapestream::LogFieldScope;
using tapestream::drive::DriveState;
using tapestream::service::DriveLine;

DriveLine line(const char* name, DriveState state) {
  DriveLine d;
  d.name = name;
  d.glance.state = state;
  return d;
}

TEST(StatusLine, TheIssueExample) {
  auto lto1 = line("lto1", DriveState::writing);
  lto1.glance.streaming = true;
  lto1.glance.file = 12;
  lto1.rate = 312.4e6;
  EXPECT_EQ(tapestream::service::status_line({lto1, line("lto2", DriveState::positioned)}, false),
            "2 drives; lto1 writing file 12 at 312 MB/s; lto2 idle");
}

TEST(StatusLine, EveryState) {
  auto reading = line("r", DriveState::reading);
  reading.glance.streaming = true;  // a read where the tape stands: no file number, no rate yet
  auto positioning = line("p", DriveState::writing);  // a stream before READY
  auto stuck = line("s", DriveState::writing);
  stuck.stalled_for = 41.6;
  EXPECT_EQ(tapestream::service::status_line(
                {reading, positioning, line("e", DriveState::no_medium),
                 line("f", DriveState::failed), line("w", DriveState::at_early_warning), stuck},
                true),
            "stopping; 6 drives; r reading a file; p writing; e empty; f failed; "
            "w idle at early warning; s stopped turning 42 s ago");
  EXPECT_EQ(tapestream::service::status_line({line("emu0", DriveState::loaded)}, false),
            "1 drive; emu0 idle");
}

TEST(JournalEntry, MessagePriorityIdentifierThenFields) {
  const std::vector<LogField> fields{{"TAPESTREAM_DRIVE", "lto1"},
                                     {"TAPESTREAM_LABEL", "a=b\nc"},
                                     {"_PID", "1"},           // trusted fields are journald's
                                     {"lower_case", "x"},     // refused by the journal
                                     {"", "empty"}};
  const auto entry = tapestream::service::journal_entry(spdlog::level::warn, "drive lto1: hm", fields);
  EXPECT_EQ(entry, (std::vector<std::string>{"MESSAGE=drive lto1: hm", "PRIORITY=4",
                                             "SYSLOG_IDENTIFIER=tapestreamd",
                                             "TAPESTREAM_DRIVE=lto1", "TAPESTREAM_LABEL=a=b\nc"}));
}

TEST(JournalEntry, SyslogPriorities) {
  using tapestream::service::syslog_priority;
  EXPECT_EQ(syslog_priority(spdlog::level::critical), 2);
  EXPECT_EQ(syslog_priority(spdlog::level::err), 3);
  EXPECT_EQ(syslog_priority(spdlog::level::warn), 4);
  EXPECT_EQ(syslog_priority(spdlog::level::info), 6);
  EXPECT_EQ(syslog_priority(spdlog::level::debug), 7);
  EXPECT_EQ(syslog_priority(spdlog::level::trace), 7);
}

TEST(LogFields, ScopesNestAndEnd) {
  EXPECT_TRUE(tapestream::current_log_fields().empty());
  const std::vector<LogField> outer{{"A", "1"}};
  {
    const LogFieldScope a{outer};
    const std::vector<LogField> inner{{"B", "2"}, {"C", "3"}};
    {
      const LogFieldScope b{inner};
      EXPECT_EQ(tapestream::current_log_fields().size(), 2U);
    }
    ASSERT_EQ(tapestream::current_log_fields().size(), 1U);
    EXPECT_EQ(tapestream::current_log_fields()[0].value, "1");
  }
  EXPECT_TRUE(tapestream::current_log_fields().empty());
}

TEST(SocketMode, OctalPermissionBitsOnly) {
  using tapestream::server::parse_socket_mode;
  EXPECT_EQ(parse_socket_mode("0660"), 0660U);
  EXPECT_EQ(parse_socket_mode("660"), 0660U);
  EXPECT_EQ(parse_socket_mode("0"), 0U);
  EXPECT_EQ(parse_socket_mode("0777"), 0777U);
  for (const char* bad : {"", "0888", "1777", "4660", "rw-rw----", "06600", "-660", "0x1b0"}) {
    EXPECT_THROW(parse_socket_mode(bad), tapestream::StartupError) << bad;
  }
}

TEST(LogTarget, Names) {
  using tapestream::service::LogTarget;
  using tapestream::service::parse_log_target;
  EXPECT_EQ(parse_log_target("auto"), LogTarget::automatic);
  EXPECT_EQ(parse_log_target("journal"), LogTarget::journal);
  EXPECT_EQ(parse_log_target("stderr"), LogTarget::stderr_stream);
  EXPECT_FALSE(parse_log_target("syslog").has_value());
  EXPECT_EQ(tapestream::service::resolve_log_target(LogTarget::stderr_stream),
            LogTarget::stderr_stream);
}

}  // namespace
