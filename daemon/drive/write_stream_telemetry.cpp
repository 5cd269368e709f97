// How well a write stream feeds its drive (PROTOCOL.md, PROGRESS telemetry): the time the drive
// stood without a WRITE while the stream was open, the lowest fill of the stream's pool, and the
// backhitches the drive itself counted during the stream, where it reports them (log page 3Ch
// of the emulated drive's model; a real drive's page 3Ch is some vendor's own and not asked).
#include <algorithm>

#include "drive/write_stream.hpp"
#include "scsi/cdb.hpp"
#include "scsi/log_pages.hpp"

namespace tapestream::drive {
namespace {

using scsi::TapeCondition;

// Between WRITEs: often enough for a rate shown each half second, rare enough to cost the drive
// nothing it would notice (one short command a second).
constexpr std::chrono::seconds model_poll_interval{1};
// Parameter 0001h of page 3Ch: stops for want of data that cost a backhitch.
constexpr std::uint16_t backhitch_parameter = 0x0001;

}  // namespace

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

bool WriteStream::watch_drive_model(bool ending) {
  if (!_options.model_page || _outcome.ending != Ending::complete || _free.empty()) {
    return false;
  }
  const auto now = Clock::now();
  const bool baseline = !_model_baseline_done;
  const bool due = baseline ? !ending
                 : ending   ? !_model_final_done
                            : now - _model_polled >= model_poll_interval;
  if (!due) {
    return false;
  }
  _model_polled = now;
  _model_baseline_done = true;  // once, whatever the drive answers: a poll never repeats at once
  _model_final_done = _model_final_done || ending;
  const auto buffer = _free.front();
  _free.pop_front();
  _polling = true;
  const transport::DataBuffer data{buffer, _pool.buffer(buffer).first(4 + 4 * 12)};
  const auto command = scsi::cdb::log_sense(scsi::log_page::drive_model, 0,
                                            scsi::cdb::LogPageControl::current_cumulative, 0,
                                            static_cast<std::uint16_t>(data.bytes.size()));
  _channel.send(command, data, [this, command, data, buffer, baseline](const auto& r) {
    _polling = false;
    _free.push_front(buffer);
    const auto c = scsi::classify(command, r.status());
    if (c.condition == TapeCondition::good) {
      if (auto page = scsi::parse_log_page(data.bytes)) {
        if (const auto* p = page.value().find(backhitch_parameter)) {
          _backhitches_now = p->as_integer();
          if (baseline) {
            _backhitches_at_start = _backhitches_now;
          }
        }
      }
    }
    // A reset or a changed cartridge that the poll met ends the stream as a WRITE meeting it
    // would (the condition is reported once, so nothing else would hear of it).
    if (is_unit_attention(c.condition) || c.condition == TapeCondition::no_medium) {
      stop(ending_for(c, false), "LOG SENSE (drive model) failed: " + describe_condition(c),
           {c.condition != TapeCondition::no_medium, true});
    } else if (_outcome.ending != Ending::complete) {
      close();  // stopped while the poll ran
    } else {
      pump();
    }
  });
  return true;
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
