// How well a write stream feeds its drive: at the producer's pace when the drive's lowest speed
// is known (feed_pacer.hpp); and what PROGRESS telemetry says of it (PROTOCOL.md): the time the drive
// stood without a WRITE while the stream was open, the lowest fill of the stream's pool, and the
// backhitches the drive itself counted during the stream, where it reports them (log page 3Ch
// of the emulated drive's model; a real drive's page 3Ch is some vendor's own and not asked;
// the poll that reads it is in write_stream_polls.cpp).
#include <algorithm>

#include "drive/write_stream.hpp"

namespace tapestream::drive {

// Called before every turn of pump(). The drive waits for data from the moment it has no WRITE
// (the first one went out, the producer has not finished) and no data to be given: an empty
// pool, or one the restart mark holds back, until the next WRITE goes (drive_busy()) or data
// is there. A WRITE the feed's pace holds back is not a wait: the drive streams from its own
// buffer at the pace it is fed.
void WriteStream::note_drive() {
  const bool mid_stream = _phase == Phase::streaming && !_producer_done && _blocks_sent > 0;
  if (!mid_stream) {
    drive_busy();  // the end of the data, or a stop: the drive waits for nothing more
    return;
  }
  const auto full = static_cast<std::uint32_t>(_full.size() + (_in_flight ? 1 : 0));
  _full_min = std::min(_full_min.value_or(full), full);
  if (_in_flight || _polling) {
    return;
  }
  const bool starved = _full.empty() || (!_writing && _full.size() < _options.restart_watermark);
  if (!starved) {
    drive_busy();
  } else if (!_drive_idle_since) {
    _drive_idle_since = Clock::now();
  }
}

// From the constructors (again from a next part's, once it took over the stream's count), and
// again once the medium's speed is known (learn_min_rate), which sets the window anew.
void WriteStream::start_pacing() {
  if (_options.min_rate == 0) {
    return;
  }
  // The mean over the time the pool lasts at the drive's lowest speed: a window shorter than
  // the producer's cycle of bursts and stalls would pace its bursts, not its mean.
  const auto pool = double(_buffer_count) * _fill_size;
  const auto lasts = std::chrono::duration<double>(pool / double(_options.min_rate));
  const auto window = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(lasts),
                                 std::chrono::milliseconds{10'000}, std::chrono::milliseconds{60'000});
  _pacer.emplace(_options.min_rate, window, Clock::now(), _bytes_received);
}

void WriteStream::feed_produced() {
  if (_pacer) {
    _pacer->produced(Clock::now(), _bytes_received);
  }
}

// Only while the producer sends: the data's end, and a stream stopping, go as fast as the drive
// takes them.
bool WriteStream::held_for_pace() {
  if (!_pacer || _phase != Phase::streaming || _producer_done || _full.empty()) {
    return false;
  }
  const double fill = double(_full.size()) / double(std::max<std::uint32_t>(_buffer_count, 1));
  return !_pacer->may_send(Clock::now(), _full.front().length, fill);
}

void WriteStream::drive_busy() {
  if (_drive_idle_since) {
    _drive_waited += Clock::now() - *_drive_idle_since;
    _drive_idle_since.reset();
  }
}

StreamProgress WriteStream::progress() const {
  StreamProgress p{_bytes_received, _bytes_before + bytes_in_blocks(_blocks_accepted),
                   static_cast<std::uint32_t>(_full.size() + (_in_flight ? 1 : 0)), _buffer_count, {}, {}, {}, {}};
  auto waited = _drive_waited;
  if (_drive_idle_since) {
    waited += Clock::now() - *_drive_idle_since;
  }
  p.drive_waited_ns = static_cast<std::uint64_t>(waited.count());
  if (_backhitches_at_start && _backhitches_now && *_backhitches_now >= *_backhitches_at_start) {
    p.backhitches = *_backhitches_now - *_backhitches_at_start;
  }
  p.buffers_full_min = _full_min;
  if (_pacer) {
    p.paced_from = _options.min_rate;
  }
  return p;
}

}  // namespace tapestream::drive
