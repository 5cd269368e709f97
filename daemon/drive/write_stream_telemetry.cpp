// How well a write stream feeds its drive (PROTOCOL.md, PROGRESS telemetry): the time the drive
// stood without a WRITE while the stream was open, the lowest fill of the stream's pool, and the
// backhitches the drive itself counted during the stream, where it reports them (log page 3Ch
// of the emulated drive's model; a real drive's page 3Ch is some vendor's own and not asked;
// the poll that reads it is in write_stream_polls.cpp).
#include <algorithm>

#include "drive/write_stream.hpp"

namespace tapestream::drive {

// Called before every turn of pump(). The drive waits for data from the moment it has no WRITE
// (the first one went out, the producer has not finished) until the next WRITE goes
// (drive_busy()): an empty pool, or one the restart mark holds back. A turn that sends at once
// ends the wait it began.
void WriteStream::note_drive() {
  const bool mid_stream = _phase == Phase::streaming && !_producer_done && _blocks_sent > 0;
  if (!mid_stream) {
    drive_busy();  // the end of the data, or a stop: the drive waits for nothing more
    return;
  }
  const auto full = static_cast<std::uint32_t>(_full.size() + (_in_flight ? 1 : 0));
  _full_min = std::min(_full_min.value_or(full), full);
  if (!_in_flight && !_polling && !_drive_idle_since) {
    _drive_idle_since = Clock::now();
  }
}

void WriteStream::drive_busy() {
  if (_drive_idle_since) {
    _drive_waited += Clock::now() - *_drive_idle_since;
    _drive_idle_since.reset();
  }
}

StreamProgress WriteStream::progress() const {
  StreamProgress p{_bytes_received, _bytes_before + bytes_in_blocks(_blocks_accepted),
                   static_cast<std::uint32_t>(_full.size() + (_in_flight ? 1 : 0)), _buffer_count, {}, {}, {}};
  auto waited = _drive_waited;
  if (_drive_idle_since) {
    waited += Clock::now() - *_drive_idle_since;
  }
  p.drive_waited_ns = static_cast<std::uint64_t>(waited.count());
  if (_backhitches_at_start && _backhitches_now && *_backhitches_now >= *_backhitches_at_start) {
    p.backhitches = *_backhitches_now - *_backhitches_at_start;
  }
  p.buffers_full_min = _full_min;
  return p;
}

}  // namespace tapestream::drive
