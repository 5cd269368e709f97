// A stream's rate over the last second and since it began, from byte counts sampled as the
// stream moves (PROGRESS telemetry, the journal summary).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace tapestream::server {

class RateMeter {
 public:
  using Clock = std::chrono::steady_clock;

  void begin(Clock::time_point now) {
    _since = now;
    _samples.clear();
    _samples.push_back({now, 0});
  }
  // Samples closer than a tenth of the window add nothing but memory.
  void sample(std::uint64_t bytes, Clock::time_point now) {
    if (!_since) {
      begin(now);
    }
    if (now - _samples.back().at >= window / 10) {
      _samples.push_back({now, bytes});
    } else {
      _samples.back().bytes = bytes;
    }
    // Keep one sample at or before the window's start, the base of the rate over it.
    while (_samples.size() > 2 && now - _samples[1].at >= window) {
      _samples.pop_front();
    }
  }
  // Bytes per second over about the last second (since the oldest sample kept, when the stream
  // is younger than that, or moved nothing for a while).
  std::uint64_t now_rate(std::uint64_t bytes, Clock::time_point now) const {
    if (_samples.empty()) {
      return 0;
    }
    const auto& base = _samples.front();
    return per_second(bytes - std::min(bytes, base.bytes), now - base.at);
  }
  std::uint64_t average(std::uint64_t bytes, Clock::time_point now) const {
    return _since ? per_second(bytes, now - *_since) : 0;
  }

 private:
  static constexpr std::chrono::seconds window{1};
  struct Sample {
    Clock::time_point at;
    std::uint64_t bytes;
  };
  static std::uint64_t per_second(std::uint64_t bytes, Clock::duration elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    return seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(bytes) / seconds) : 0;
  }
  std::optional<Clock::time_point> _since;
  std::deque<Sample> _samples;
};

}  // namespace tapestream::server
