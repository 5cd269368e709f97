// The pace a write stream feeds its drive at (drive/feed_pacer.hpp): the producer's mean over
// the window, never below the drive's lowest speed, with a young stream's mean taken over the
// whole window; a pool three quarters full is never held back.
#include <gtest/gtest.h>

#include "drive/feed_pacer.hpp"

namespace tapestream::drive {
namespace {

using Clock = FeedPacer::Clock;
using std::chrono::milliseconds;
constexpr double mb = 1e6;
constexpr std::uint32_t block = 256 * 1024;

// The producer gives `rate` bytes/s from `from` for `duration`, in 10 ms steps; returns the
// byte count after it.
std::uint64_t produce(FeedPacer& pacer, Clock::time_point from, milliseconds duration, double rate,
                      std::uint64_t total) {
  for (milliseconds t{0}; t < duration; t += milliseconds{10}) {
    total += static_cast<std::uint64_t>(rate / 100);
    pacer.produced(from + t + milliseconds{10}, total);
  }
  return total;
}

// Blocks that may go from `from` for `duration` with a tick every 10 ms and the pool at `fill`.
std::uint64_t bytes_let_through(FeedPacer& pacer, Clock::time_point from, milliseconds duration,
                                double fill) {
  std::uint64_t sent = 0;
  for (milliseconds t{0}; t <= duration; t += milliseconds{10}) {
    while (pacer.may_send(from + t, block, fill)) {
      sent += block;
      if (fill >= FeedPacer::unpaced_fill && sent > 1000 * std::uint64_t{block}) {
        return sent;
      }
    }
  }
  return sent;
}

TEST(FeedPacer, AYoungStreamsMeanIsTakenOverTheWholeWindow) {
  const auto t0 = Clock::now();
  FeedPacer pacer{static_cast<std::uint64_t>(17.7 * mb), milliseconds{15'000}, t0};
  // A first burst: 2 s at 120 MB/s is 16 MB/s over the window, below the drive's lowest speed.
  produce(pacer, t0, milliseconds{2'000}, 120 * mb, 0);
  EXPECT_NEAR(pacer.rate(t0 + milliseconds{2'000}), FeedPacer::floor_margin * 17.7 * mb, 0.01 * mb);
}

// A spanning stream's next part: the bytes of the parts before are not its producer's mean.
TEST(FeedPacer, ANextPartsMeanLeavesOutThePartsBefore) {
  const auto t0 = Clock::now();
  FeedPacer pacer{static_cast<std::uint64_t>(10 * mb), milliseconds{10'000}, t0, 50'000'000'000};
  produce(pacer, t0, milliseconds{10'000}, 30 * mb, 50'000'000'000);
  EXPECT_NEAR(pacer.rate(t0 + milliseconds{10'000}), 30 * mb, 0.5 * mb);
}

TEST(FeedPacer, ASteadyProducerIsFollowedAtItsRate) {
  const auto t0 = Clock::now();
  FeedPacer pacer{static_cast<std::uint64_t>(10 * mb), milliseconds{10'000}, t0};
  produce(pacer, t0, milliseconds{30'000}, 30 * mb, 0);
  EXPECT_NEAR(pacer.rate(t0 + milliseconds{30'000}), 30 * mb, 0.5 * mb);
}

// Bursts and stalls: the mean over the window, and in a long stall the drive's lowest speed,
// never less.
TEST(FeedPacer, BurstsAndStallsArePacedAtTheirMeanAndNeverBelowTheFloor) {
  const auto t0 = Clock::now();
  FeedPacer pacer{static_cast<std::uint64_t>(17.7 * mb), milliseconds{18'000}, t0};
  std::uint64_t total = 0;
  auto t = t0;
  for (int cycle = 0; cycle < 6; ++cycle) {  // 2 s at 120 MB/s, 7 s of nothing: 26.7 MB/s
    total = produce(pacer, t, milliseconds{2'000}, 120 * mb, total);
    total = produce(pacer, t + milliseconds{2'000}, milliseconds{7'000}, 0, total);  // the ticks
    t += milliseconds{9'000};
  }
  EXPECT_NEAR(pacer.rate(t), 26.7 * mb, 0.1 * mb);
  pacer.produced(t + milliseconds{60'000}, total);  // a minute of nothing
  EXPECT_NEAR(pacer.rate(t + milliseconds{60'000}), FeedPacer::floor_margin * 17.7 * mb, 0.01 * mb);
}

TEST(FeedPacer, WritesGoAtTheRateWithABurstOfAQuarterSecondAtMost) {
  const auto t0 = Clock::now();
  FeedPacer pacer{static_cast<std::uint64_t>(20 * mb), milliseconds{10'000}, t0};
  const double rate = FeedPacer::floor_margin * 20 * mb;  // nothing produced: the floor
  const auto sent = bytes_let_through(pacer, t0, milliseconds{10'000}, 0.5);
  EXPECT_NEAR(static_cast<double>(sent), 10 * rate, 0.25 * rate + block);
  // Credit does not pile up while nothing is sent: after 5 s idle, a quarter second's worth.
  const auto after_idle = bytes_let_through(pacer, t0 + milliseconds{15'000}, milliseconds{0}, 0.5);
  EXPECT_LE(static_cast<double>(after_idle), 0.25 * rate + block);
  EXPECT_GE(static_cast<double>(after_idle), 0.25 * rate - block);
}

TEST(FeedPacer, APoolThreeQuartersFullIsNeverHeldBack) {
  const auto t0 = Clock::now();
  FeedPacer pacer{static_cast<std::uint64_t>(1 * mb), milliseconds{10'000}, t0};
  EXPECT_GT(bytes_let_through(pacer, t0, milliseconds{0}, 0.75), 1000 * std::uint64_t{block});
  EXPECT_FALSE(pacer.may_send(t0, block, 0.74)) << "the credit was spent, not overdrawn";
}

}  // namespace
}  // namespace tapestream::drive
