// The CLI's progress line and summary (issue 13: pv-class progress): what they say with and
// without the daemon's telemetry, with and without a known size, and while the drive is busy.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "progress.hpp"

namespace tapestream::cli {
namespace {

constexpr std::uint64_t mib = 1024 * 1024;

ts_telemetry streaming(std::uint64_t rate_now, std::uint64_t rate_average) {
  ts_telemetry t;
  TS_INIT(ts_telemetry, &t);
  t.state = TS_PROGRESS_STREAMING;
  t.drive_waited_ns = 300'000'000;
  t.backhitches = 2;
  t.rate_now = rate_now;
  t.rate_average = rate_average;
  t.fill_now_permille = 875;
  t.fill_min_permille = 120;
  return t;
}

TEST(Progress, SizesAreShownWithThreeSignificantDigits) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1536), "1.50 KiB");
  EXPECT_EQ(human_bytes(16'000'000), "15.3 MiB");
  EXPECT_EQ(human_bytes(512.0 * mib), "512 MiB");
  EXPECT_EQ(human_bytes(4.0 * 1024 * mib), "4.00 GiB");
}

// With a known size: percentage and ETA from the stream's own average; rates and pool fill
// from the daemon's telemetry.
TEST(Progress, AKnownSizeGivesPercentageAndEta) {
  ProgressView v;
  v.verb = "written";
  v.bytes = 300 * mib;
  v.total = 1000 * mib;
  v.seconds = 10;
  v.telemetry = streaming(40 * mib, 30 * mib);
  EXPECT_EQ(progress_line(v),
            "written 300 MiB / 1000 MiB  30%  40.0 MiB/s (avg 30.0 MiB/s)  pool 87% (min 12%)  "
            "0:00:10  ETA 0:00:23");
}

// Without telemetry (an older daemon) the client's own rates and the pool's buffers; without
// a size no percentage and no ETA.
TEST(Progress, WithoutTelemetryTheClientsRatesAndThePoolsBuffers) {
  ProgressView v;
  v.verb = "read";
  v.bytes = 16'000'000;
  v.seconds = 2;
  v.client_rate = 9.0 * mib;
  v.buffers_full = 12;
  v.buffers = 15;
  EXPECT_EQ(progress_line(v), "read 15.3 MiB  9.00 MiB/s (avg 7.63 MiB/s)  pool 80%  0:00:02");
}

TEST(Progress, RatesTheDaemonDoesNotKnowFallBackToTheClients) {
  ProgressView v;
  v.verb = "written";
  v.bytes = 10 * mib;
  v.seconds = 1;
  v.client_rate = 5.0 * mib;
  v.telemetry = streaming(TS_TELEMETRY_UNKNOWN, TS_TELEMETRY_UNKNOWN);
  EXPECT_EQ(progress_line(v), "written 10.0 MiB  5.00 MiB/s (avg 10.0 MiB/s)  pool 87% (min 12%)  0:00:01");
}

TEST(Progress, TheSummarySaysHowLongTheDriveStoodAndItsBackhitches) {
  ProgressView v;
  v.verb = "written";
  v.bytes = 4ULL * 1024 * mib;
  v.seconds = 3725;
  v.telemetry = streaming(0, 0);
  EXPECT_EQ(summary_line(v),
            "written 4.00 GiB in 1:02:05, 1.10 MiB/s on average; the drive stood idle 0.3 s, "
            "2 backhitches");
  v.telemetry->backhitches = 1;
  v.telemetry->drive_waited_ns = TS_TELEMETRY_UNKNOWN;
  EXPECT_EQ(summary_line(v), "written 4.00 GiB in 1:02:05, 1.10 MiB/s on average; 1 backhitch");
  v.telemetry.reset();
  EXPECT_EQ(summary_line(v), "written 4.00 GiB in 1:02:05, 1.10 MiB/s on average");
}

// Queued behind another stream: whose, and since when (local time).
TEST(Progress, WaitingForABusyDriveNamesItsOwnerAndSince) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  ts_telemetry t;
  TS_INIT(ts_telemetry, &t);
  t.state = TS_PROGRESS_WAITING;
  t.owner_uid = 1000;
  t.owner_since = 1'764'669'720;  // 2025-12-02 10:02:00 UTC
  EXPECT_EQ(waiting_line("emu0", t), "waiting for emu0: in use by uid 1000 since 10:02");
  t.owner_since = 0;
  EXPECT_EQ(waiting_line("emu0", t), "waiting for emu0: in use by uid 1000");
}

}  // namespace
}  // namespace tapestream::cli
