// The drive model's arithmetic (emulated/drive_model.hpp) on a clock of the test's own: when
// WRITEs are acknowledged, how fast the tape drains, when it stops, what a backhitch costs and
// what is counted.
#include <gtest/gtest.h>

#include "emulated/drive_model.hpp"

namespace tapestream::emulated {
namespace {

using namespace std::chrono_literals;
using Clock = DriveModel::Clock;

constexpr std::uint64_t mb = 1'000'000;

// A small LTO-like drive: 400 MB/s down to 100 MB/s, a 100 MB buffer, 2 s per backhitch.
DriveModelSpec small_drive() {
  return {.rate = 400.0 * mb, .min_rate = 100.0 * mb, .buffer = 100 * mb, .backhitch = 2s};
}

// The test's clock: an origin and how far it has moved.
struct FakeClock {
  Clock::time_point origin{std::chrono::hours{1}};
  Clock::time_point at(std::chrono::nanoseconds t) const { return origin + t; }
};

double seconds(DriveModel::Duration d) { return std::chrono::duration<double>(d).count(); }

TEST(DriveModel, WritesAreAcknowledgedAtOnceWhileTheBufferHasRoom) {
  DriveModel model{small_drive()};
  FakeClock clock;
  for (int i = 0; i < 50; ++i) {  // 50 MB at once: half the buffer
    EXPECT_EQ(model.write(clock.at(0s), mb).count(), 0);
  }
  const auto [objects, bytes] = model.buffered(clock.at(0s));
  EXPECT_EQ(objects, 50U);
  EXPECT_EQ(bytes, 50 * mb);
}

TEST(DriveModel, AFullBufferAcknowledgesAtTheTapesSpeed) {
  DriveModel model{small_drive()};
  FakeClock clock;
  std::chrono::nanoseconds t{0};
  for (int i = 0; i < 100; ++i) {
    t += model.write(clock.at(t), mb);
  }
  EXPECT_EQ(t.count(), 0) << "100 MB fill the buffer exactly";
  // More than half full: the tape runs at 400 MB/s, so one more MB waits 2.5 ms.
  const auto wait = model.write(clock.at(t), mb);
  EXPECT_NEAR(seconds(wait), 0.0025, 1e-6);
  // A host that sends 1 GB as fast as it can is held to the tape's rate.
  t += wait;
  for (int i = 0; i < 1000; ++i) {
    t += model.write(clock.at(t), mb);
  }
  EXPECT_NEAR(seconds(t), 1000.0 / 400, 0.01);
  EXPECT_EQ(model.counters(clock.at(t)).backhitches, 0U);
}

TEST(DriveModel, TheTapeMatchesASlowHostAndDrainsWithinItsLimits) {
  DriveModel model{small_drive()};
  FakeClock clock;
  // 200 MB/s for 3 s: 1 MB every 5 ms. The tape matches it and never runs dry.
  std::chrono::nanoseconds t{0};
  for (int i = 0; i < 600; ++i) {
    t += model.write(clock.at(t), mb);
    t += 5ms;
  }
  EXPECT_NEAR(model.speed(), 0.9 * 200 * mb, 10.0 * mb) << "a little below the host's rate";
  EXPECT_EQ(model.counters(clock.at(t)).backhitches, 0U);
  // What is buffered goes at the matched speed: within the buffer, ahead of the stream.
  const auto [objects, bytes] = model.buffered(clock.at(t));
  EXPECT_LT(bytes, 50 * mb);
  EXPECT_GT(objects, 0U);
  const auto speed = model.speed();
  const auto drain = model.drain(clock.at(t));
  EXPECT_NEAR(seconds(drain), static_cast<double>(bytes) / speed, 1e-3);
  EXPECT_EQ(model.buffered(clock.at(t + drain)).second, 0U);
  EXPECT_EQ(model.counters(clock.at(t + drain)).bytes_on_tape, 600 * mb);
}

TEST(DriveModel, AStallThatEmptiesTheBufferCostsABackhitchWhenDataComesBack) {
  DriveModel model{small_drive()};
  FakeClock clock;
  std::chrono::nanoseconds t{0};
  for (int i = 0; i < 100; ++i) {  // a full buffer at once
    t += model.write(clock.at(t), mb);
  }
  // The host stalls for 5 s; the tape empties the buffer in 0.25 s at full speed and stops.
  t += 5s;
  auto c = model.counters(clock.at(t));
  EXPECT_EQ(c.backhitches, 0U) << "nothing is owed until data comes back";
  EXPECT_EQ(model.buffered(clock.at(t)).second, 0U);
  EXPECT_EQ(model.write(clock.at(t), mb).count(), 0) << "room: acknowledged at once";
  c = model.counters(clock.at(t));
  EXPECT_EQ(c.backhitches, 1U);
  // Empty from 0.25 s until the tape moves again, 2 s after the data came back at 5 s.
  EXPECT_NEAR(seconds(c.waited), 5 - 0.25 + 2, 1e-3);
  // While repositioning the tape takes nothing: the block is still buffered a second later.
  EXPECT_EQ(model.buffered(clock.at(t + 1s)).first, 1U);
  // And a full buffer during the backhitch waits for its end, then for the tape.
  for (int i = 0; i < 99; ++i) {
    EXPECT_EQ(model.write(clock.at(t + 1s), mb).count(), 0);
  }
  EXPECT_NEAR(seconds(model.write(clock.at(t + 1s), mb)), 1 + 0.0025, 1e-3);
  EXPECT_EQ(model.counters(clock.at(t + 2s)).backhitches, 1U);
}

TEST(DriveModel, ADrainRequestedByTheHostOwesNoBackhitch) {
  DriveModel model{small_drive()};
  FakeClock clock;
  model.write(clock.at(0s), 10 * mb);
  const auto drain = model.drain(clock.at(0s));
  EXPECT_GT(drain.count(), 0);
  // The next stream starts an hour later: the end of the last one was no starvation.
  model.write(clock.at(1h), mb);
  EXPECT_EQ(model.counters(clock.at(1h)).backhitches, 0U);
  EXPECT_EQ(model.counters(clock.at(1h)).waited.count(), 0);
}

TEST(DriveModel, ABurstyProducerFarBelowTheMinimumRateShoeShines) {
  DriveModel model{small_drive()};
  FakeClock clock;
  // 20 MB every 3 s: each burst is on tape long before the next, which then pays a backhitch
  // (bursts that come during a backhitch would share it).
  std::chrono::nanoseconds t{0};
  for (int burst = 0; burst < 10; ++burst) {
    for (int i = 0; i < 20; ++i) {
      t += model.write(clock.at(t), mb);
    }
    t += 3s;
  }
  EXPECT_EQ(model.counters(clock.at(t)).backhitches, 9U);
}

}  // namespace
}  // namespace tapestream::emulated
