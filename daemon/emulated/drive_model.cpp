#include "emulated/drive_model.hpp"

#include <algorithm>
#include <cmath>

namespace tapestream::emulated {
namespace {

using Seconds = std::chrono::duration<double>;

DriveModel::Duration after(double seconds) {
  return std::chrono::duration_cast<DriveModel::Duration>(Seconds{std::max(0.0, seconds)});
}

}  // namespace

void DriveModel::advance(Clock::time_point now) {
  if (!_started) {
    _started = true;
    _now = now;
    return;
  }
  if (now <= _now) {
    return;  // the model's time never goes back (a WRITE acknowledged late moved it ahead)
  }
  auto from = _now;
  _now = now;
  if (_state == State::repositioning) {
    if (now < _resume_at) {
      return;
    }
    from = _resume_at;
    _state = State::streaming;
  }
  if (_state != State::streaming) {
    return;
  }
  const double can = _speed * Seconds{now - from}.count();
  if (can < _buffered) {
    take_from_buffer(can);
    return;
  }
  // Empty before `now`: the tape stops there, mid-stream until the host says otherwise.
  const auto empty_at = from + after(_buffered / _speed);
  take_from_buffer(_buffered);
  _state = State::stopped;
  _stopped_at = empty_at;
}

void DriveModel::take_from_buffer(double bytes) {
  _buffered -= bytes;
  _on_tape += bytes;
  _front_taken += bytes;
  while (!_objects.empty() && _front_taken + 0.5 >= static_cast<double>(_objects.front())) {
    _front_taken -= static_cast<double>(_objects.front());
    _objects.pop_front();
  }
  if (_objects.empty() || _buffered < 0.5) {
    _objects.clear();
    _buffered = 0;
    _front_taken = 0;
  }
}

double DriveModel::host_rate(Clock::time_point now) {
  const auto window = std::chrono::seconds{1};
  while (!_arrivals.empty() && _arrivals.front().first < now - window) {
    _arrivals.pop_front();
  }
  std::uint64_t bytes = 0;
  for (const auto& a : _arrivals) {
    bytes += a.second;
  }
  // Over the whole window also while the stream is younger: a drive starts slow and speeds up
  // as its buffer fills, rather than run ahead of the first blocks and stop.
  return static_cast<double>(bytes) / Seconds{window}.count();
}

DriveModel::Duration DriveModel::write(Clock::time_point now, std::uint64_t bytes) {
  advance(now);
  Duration wait{0};
  const double over = _buffered + static_cast<double>(bytes) - static_cast<double>(_spec.buffer);
  if (over > 0 && _buffered > 0) {
    // Full: acknowledged once the tape took enough (a block larger than the buffer, once the
    // buffer is empty).
    const double needed = std::min(over, _buffered);
    double seconds = needed / _speed;
    if (_state == State::repositioning) {
      seconds += Seconds{_resume_at - _now}.count();
    }
    wait = after(seconds);
    advance(_now + wait);
  }
  switch (_state) {
    case State::idle:
      _state = State::streaming;  // the start of a run: the tape stands where it must
      break;
    case State::stopped:
      ++_counters.backhitches;
      _resume_at = _now + _spec.backhitch;
      _counters.waited += std::chrono::duration_cast<Duration>(_resume_at - _stopped_at);
      _state = State::repositioning;
      break;
    case State::repositioning:
    case State::streaming:
      break;
  }
  _objects.push_back(bytes);
  _buffered += static_cast<double>(bytes);
  _arrivals.emplace_back(_now, bytes);
  // Speed matching: a little below the host's rate, so that the buffer fills slowly rather
  // than run dry, within what the drive can do; a buffer more than half full is written at
  // full speed.
  _speed = _buffered * 2 > static_cast<double>(_spec.buffer)
               ? _spec.rate
               : std::clamp(0.9 * host_rate(_now), _spec.min_rate, _spec.rate);
  return wait;
}

DriveModel::Duration DriveModel::drain(Clock::time_point now) {
  advance(now);
  Duration wait{0};
  if (_buffered > 0) {
    double seconds = _buffered / _speed;
    if (_state == State::repositioning) {
      seconds += Seconds{_resume_at - _now}.count();
    }
    wait = after(seconds);
    advance(_now + wait);
  }
  // The host asked for it: the stop that follows owes no backhitch.
  _state = State::idle;
  _objects.clear();
  _buffered = 0;
  _front_taken = 0;
  return wait;
}

std::pair<std::uint64_t, std::uint64_t> DriveModel::buffered(Clock::time_point now) {
  advance(now);
  return {_objects.size(), static_cast<std::uint64_t>(std::ceil(_buffered))};
}

DriveModel::Counters DriveModel::counters(Clock::time_point now) {
  advance(now);
  auto c = _counters;
  c.bytes_on_tape = static_cast<std::uint64_t>(std::llround(_on_tape));
  return c;
}

}  // namespace tapestream::emulated
