// Feeds a drive at the producer's pace rather than as fast as the drive takes data. A drive
// that matches its speed to the host's rate (an LTO-9 from 400 MB/s down to about 177 MB/s)
// runs as fast as it is fed: WRITEs sent as fast as it takes them run its tape at full speed,
// empty the pool and the drive's own buffer in the producer's bursts, and leave nothing for the
// producer's next stall, where the tape then stops and must reposition (a backhitch). Fed at the
// producer's mean rate over the last `window`, and never below a tenth above the drive's lowest
// speed, the same memory rides out every stall that a producer whose mean is at least that can
// cover (docs/PERFORMANCE.md, "Shoe-shining"). A pool three quarters full is not held back: the
// producer would wait for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <utility>

namespace tapestream::drive {

class FeedPacer {
 public:
  using Clock = std::chrono::steady_clock;

  // `min_rate`: the drive's lowest streaming speed, bytes/s (above 0); `produced_before`: what
  // the producer gave before `start` (the parts of a spanning stream before this one), which
  // is not part of the mean.
  FeedPacer(std::uint64_t min_rate, std::chrono::milliseconds window, Clock::time_point start,
            std::uint64_t produced_before = 0);

  // The producer has given `total` bytes of the stream so far.
  void produced(Clock::time_point now, std::uint64_t total);
  // Whether a WRITE of `bytes` may go now (and it is counted if so). `pool_fill`: the part of
  // the stream's buffers that hold data, 0 to 1.
  bool may_send(Clock::time_point now, std::uint32_t bytes, double pool_fill);
  // The rate the drive is fed at: the producer's mean over the window, at least a tenth above
  // min_rate.
  double rate(Clock::time_point now) const;

  // A burst of this much time at the rate may go at once: the ring's ticks come every 100 ms.
  static constexpr std::chrono::milliseconds burst{250};
  static constexpr double unpaced_fill = 0.75;
  // Fed at exactly its lowest speed a drive keeps its buffer where it is, and the feed's
  // jitter (ticks, bursts) empties it; a tenth more fills it slowly.
  static constexpr double floor_margin = 1.1;

 private:
  std::uint64_t _min_rate;
  std::chrono::milliseconds _window;
  // (when, bytes produced by then): the first at or before the window's start, then one per
  // 100 ms at most.
  std::deque<std::pair<Clock::time_point, std::uint64_t>> _samples;
  std::uint64_t _total = 0;
  double _credit = 0;
  Clock::time_point _credit_at;
};

}  // namespace tapestream::drive
