// The timing of a real tape drive's buffer, for the emulated and the null drive (spec options
// rate=, min_rate=, buffer=, backhitch=; docs/EMULATED_DRIVE.md, "The drive model"): a WRITE is
// acknowledged once its data is in the drive's buffer, as in buffered mode; the tape takes the
// buffer's data at a speed between min_rate and rate that matches what the host sends; when the
// buffer runs empty the tape stops, and before it moves again it must reposition (a backhitch,
// seconds each), during which nothing is written. Backhitches and the time the drive stood
// waiting for data are counted.
//
// Pure arithmetic on times the caller gives (the drive passes its clock's now, unit tests a
// clock of their own): nothing here waits. The drive turns the delays it returns into timeouts
// on its own ring, so that a modelled drive never blocks the thread of another.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <utility>

namespace tapestream::emulated {

struct DriveModelSpec {
  double rate = 0;      // bytes per second, the tape's full speed
  double min_rate = 0;  // the slowest speed it can match (at most rate)
  std::uint64_t buffer = 0;  // bytes
  std::chrono::nanoseconds backhitch{0};
};

class DriveModel {
 public:
  using Clock = std::chrono::steady_clock;
  using Duration = std::chrono::nanoseconds;

  struct Counters {
    std::uint64_t backhitches = 0;  // stops for want of data that data then ended
    Duration waited{0};             // from such a stop until the tape moved again
    std::uint64_t bytes_on_tape = 0;
  };

  explicit DriveModel(DriveModelSpec spec) : _spec{spec} {}

  // A WRITE of `bytes` (one object) arrives at `now`: how long after `now` the drive
  // acknowledges it (zero while its buffer has room).
  Duration write(Clock::time_point now, std::uint64_t bytes);
  // How long from `now` until everything buffered is on the tape (WRITE FILEMARKS with
  // Immed=0, and what a drive does before it repositions); the buffer is empty after it.
  Duration drain(Clock::time_point now);
  // What the buffer holds at `now`: objects (as READ POSITION reports them) and bytes.
  std::pair<std::uint64_t, std::uint64_t> buffered(Clock::time_point now);
  Counters counters(Clock::time_point now);
  // The speed the tape moves at now, bytes per second (0 while it stands).
  double speed() const { return _state == State::streaming ? _speed : 0; }
  const DriveModelSpec& spec() const { return _spec; }

 private:
  enum class State {
    idle,           // nothing to write, and no stream cut short: no backhitch owed
    stopped,        // ran empty mid-stream at _stopped_at: the next data costs a backhitch
    repositioning,  // a backhitch under way, the tape moves again at _resume_at
    streaming,
  };
  // Moves the model's time to `now` (never back): the tape takes what it can.
  void advance(Clock::time_point now);
  void take_from_buffer(double bytes);
  // The host's rate over the last second, from the data that arrived.
  double host_rate(Clock::time_point now);

  DriveModelSpec _spec;
  State _state = State::idle;
  Clock::time_point _now{};
  bool _started = false;
  Clock::time_point _stopped_at{};
  Clock::time_point _resume_at{};
  double _speed = 0;
  double _buffered = 0;
  std::deque<std::uint64_t> _objects;  // lengths, oldest first; the front partly on tape
  double _front_taken = 0;             // bytes of the front object already on tape
  double _on_tape = 0;
  std::deque<std::pair<Clock::time_point, std::uint64_t>> _arrivals;  // the last second's
  Counters _counters;
};

}  // namespace tapestream::emulated
