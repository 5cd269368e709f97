// LOG SENSE: the parameter list, TapeAlert flags with their names, and the counters of the
// Sequential-Access Device and Volume Statistics pages.
#include <gtest/gtest.h>

#include <algorithm>

#include "scsi/log_pages.hpp"
#include "scsi/parse_error.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;

namespace {

Bytes page(std::uint8_t code, const Bytes& parameters) {
  Bytes d{code, 0x00, static_cast<std::uint8_t>(parameters.size() >> 8),
          static_cast<std::uint8_t>(parameters.size())};
  d.insert(d.end(), parameters.begin(), parameters.end());
  return d;
}

Bytes tape_alert_page(std::initializer_list<unsigned> active) {
  Bytes parameters;
  for (unsigned flag = 1; flag <= 64; ++flag) {
    const bool on = std::find(active.begin(), active.end(), flag) != active.end();
    parameters.insert(parameters.end(), {0x00, static_cast<std::uint8_t>(flag), 0x03, 0x01,
                                         static_cast<std::uint8_t>(on ? 1 : 0)});
  }
  return page(0x2E, parameters);
}

TEST(LogSense, TapeAlertFlags) {
  const auto p = parse_log_page(tape_alert_page({3, 20, 64})).value();
  EXPECT_EQ(p.code, 0x2E);
  EXPECT_EQ(p.parameters.size(), 64U);
  const auto alerts = parse_tape_alerts(p).value();
  EXPECT_EQ(alerts.count(), 3U);
  EXPECT_TRUE(alerts.test(3 - 1));
  EXPECT_TRUE(alerts.test(20 - 1));
  EXPECT_TRUE(alerts.test(64 - 1));
  EXPECT_EQ(tape_alert_name(3), "Hard error");
  EXPECT_EQ(tape_alert_name(20), "Cleaning required");
  EXPECT_EQ(tape_alert_severity(20), TapeAlertSeverity::critical);
  EXPECT_EQ(tape_alert_name(0x3C), "WORM volume - overwrite attempted");
  EXPECT_EQ(tape_alert_name(0), "Unknown TapeAlert flag");
  EXPECT_EQ(tape_alert_name(65), "Unknown TapeAlert flag");
}

TEST(LogSense, TapeAlertsOfAnotherPageIsAnError) {
  const auto p = parse_log_page(page(0x0C, {})).value();
  EXPECT_EQ(parse_tape_alerts(p).error(), ParseError::wrong_page);
}

TEST(LogSense, EveryTapeAlertFlagHasAName) {
  for (unsigned flag = 1; flag <= 64; ++flag) {
    EXPECT_FALSE(tape_alert_name(flag).empty()) << flag;
  }
  EXPECT_EQ(tape_alert_severity(4), TapeAlertSeverity::critical);   // Media
  EXPECT_EQ(tape_alert_severity(1), TapeAlertSeverity::warning);    // Read warning
  EXPECT_EQ(tape_alert_severity(19), TapeAlertSeverity::information);  // Nearing medium life
}

TEST(LogSense, SequentialAccessCounters) {
  const Bytes parameters{0x00, 0x00, 0x60, 0x08, 0, 0, 0, 0, 0x07, 0x5B, 0xCD, 0x15,  // 123456789
                         0x00, 0x01, 0x60, 0x04, 0x00, 0x00, 0x03, 0xE8,              // 1000
                         0x01, 0x00, 0x03, 0x02, 0x00, 0x00};
  const auto p = parse_log_page(page(0x0C, parameters)).value();
  ASSERT_EQ(p.parameters.size(), 3U);
  EXPECT_EQ(p.find(0x0000)->as_integer(), 123456789U);
  EXPECT_EQ(p.find(0x0001)->as_integer(), 1000U);
  EXPECT_EQ(p.find(0x0100)->as_integer(), 0U);
  EXPECT_EQ(p.find(0x0200), nullptr);
  EXPECT_EQ(log_parameter_name(0x0C, 0x0001), "Data bytes written to media by WRITE commands");
}

TEST(LogSense, VolumeStatisticsTextAndWideValues) {
  Bytes parameters{0x00, 0x40, 0x01, 0x08, 'A', 'B', 'C', '1', '2', '3', 'L', '9'};
  parameters.insert(parameters.end(), {0x02, 0x02, 0x03, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  const auto p = parse_log_page(page(0x17, parameters)).value();
  EXPECT_EQ(p.find(0x0040)->as_text(), "ABC123L9");
  EXPECT_EQ(log_parameter_name(0x17, 0x0040), "Volume serial number");
  EXPECT_FALSE(p.find(0x0202)->as_integer().has_value());  // 12 bytes: not a counter
  EXPECT_TRUE(log_parameter_name(0x17, 0x7777).empty());
}

TEST(LogSense, PageCutByAllocationLengthKeepsCompleteParameters) {
  auto d = tape_alert_page({1});
  d.resize(4 + 5 * 10 + 3);  // ten whole parameters and part of the eleventh
  const auto p = parse_log_page(d).value();
  EXPECT_EQ(p.parameters.size(), 10U);
}

TEST(LogSense, ParameterLongerThanThePageStopsParsing) {
  const Bytes d{0x0C, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0xFF, 1, 2};
  const auto p = parse_log_page(d).value();
  EXPECT_TRUE(p.parameters.empty());
  EXPECT_EQ(parse_log_page(Bytes{0x0C, 0}).error(), ParseError::truncated);
}

TEST(LogSense, SubpageFormat) {
  const Bytes d{0x40 | 0x0C, 0x01, 0x00, 0x00};
  const auto p = parse_log_page(d).value();
  EXPECT_EQ(p.code, 0x0C);
  EXPECT_EQ(p.subpage, 0x01);
}

}  // namespace

// Issue 12, item 5: the TapeAlert table against SSC-4 and TapeAlert 3.0 (T10 02-142r0): the
// severities the standard gives the flags the daemon acts on, and the names it prints.
TEST(LogSense, TapeAlertTableFollowsTheStandard) {
  using tapestream::scsi::TapeAlertSeverity;
  using tapestream::scsi::tape_alert_name;
  using tapestream::scsi::tape_alert_severity;
  struct Expected {
    unsigned flag;
    const char* name;
    TapeAlertSeverity severity;
  };
  const Expected expected[] = {
      {1, "Read warning", TapeAlertSeverity::warning},
      {3, "Hard error", TapeAlertSeverity::warning},
      {4, "Medium", TapeAlertSeverity::critical},
      {6, "Write failure", TapeAlertSeverity::critical},
      {10, "Volume removal prevented", TapeAlertSeverity::information},
      {20, "Cleaning required", TapeAlertSeverity::critical},
      {21, "Cleaning requested", TapeAlertSeverity::warning},
      {22, "Expired cleaning volume", TapeAlertSeverity::critical},
      {30, "Hardware A", TapeAlertSeverity::critical},
      {31, "Hardware B", TapeAlertSeverity::critical},
      {32, "Primary interface", TapeAlertSeverity::warning},
      {38, "Predictive failure", TapeAlertSeverity::critical},
      {52, "Tape system area write failure", TapeAlertSeverity::critical},
      {54, "No start of data", TapeAlertSeverity::critical},
      {58, "Microcode failure", TapeAlertSeverity::warning},
      {60, "WORM volume - overwrite attempted", TapeAlertSeverity::warning},
  };
  for (const auto& e : expected) {
    EXPECT_EQ(tape_alert_name(e.flag), e.name) << e.flag;
    EXPECT_EQ(tape_alert_severity(e.flag), e.severity) << e.flag;
  }
  EXPECT_EQ(tape_alert_name(0), "Unknown TapeAlert flag");
  EXPECT_EQ(tape_alert_name(65), "Unknown TapeAlert flag");
  EXPECT_EQ(tapestream::common::severity_name(TapeAlertSeverity::critical), "critical");
}
