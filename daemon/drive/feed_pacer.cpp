#include "drive/feed_pacer.hpp"

#include <algorithm>

namespace tapestream::drive {
namespace {

constexpr auto sample_spacing = std::chrono::milliseconds{100};

}  // namespace

FeedPacer::FeedPacer(std::uint64_t min_rate, std::chrono::milliseconds window,
                     Clock::time_point start, std::uint64_t produced_before)
    : _min_rate{min_rate}, _window{window}, _total{produced_before}, _credit_at{start} {
  _samples.emplace_back(start, produced_before);
}

void FeedPacer::produced(Clock::time_point now, std::uint64_t total) {
  _total = std::max(_total, total);
  if (now - _samples.back().first >= sample_spacing) {
    _samples.emplace_back(now, _total);
  }
  // Keep the newest sample at or before the window's start: the mean spans the whole window.
  while (_samples.size() > 2 && _samples[1].first <= now - _window) {
    _samples.pop_front();
  }
}

// Over the whole window also while the stream is younger: a mean too low early costs nothing (a
// pool three quarters full is not held back), one too high (the first burst's) spends the pool
// before the first stall.
double FeedPacer::rate(Clock::time_point now) const {
  const auto& [since, before] = _samples.front();
  const auto span = std::max<Clock::duration>(now - since, _window);
  const double mean = static_cast<double>(_total - before) / std::chrono::duration<double>(span).count();
  return std::max(mean, floor_margin * static_cast<double>(_min_rate));
}

bool FeedPacer::may_send(Clock::time_point now, std::uint32_t bytes, double pool_fill) {
  const double r = rate(now);
  const double cap = r * std::chrono::duration<double>(burst).count() + bytes;
  if (now > _credit_at) {
    _credit = std::min(_credit + r * std::chrono::duration<double>(now - _credit_at).count(), cap);
    _credit_at = now;
  }
  if (pool_fill >= unpaced_fill) {
    _credit = std::max(0.0, _credit - bytes);
    return true;
  }
  if (_credit < bytes) {
    return false;
  }
  _credit -= bytes;
  return true;
}

}  // namespace tapestream::drive
