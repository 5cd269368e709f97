// The LOG SENSE polls a write stream sends between its WRITEs: TapeAlert (page 2Eh) and the
// drive model's backhitch count (page 3Ch, telemetry). A poll is a command of the stream like
// its WRITEs: a reset, a timeout or a deferred error that it meets ends the stream exactly as
// on a WRITE, since the drive reports each of them once, to whichever command comes next, and
// a buffered drive may have lost data it had acknowledged.
#include "drive/write_stream.hpp"
#include "scsi/cdb.hpp"
#include "scsi/log_pages.hpp"

namespace tapestream::drive {
namespace {

using scsi::TapeCondition;

// Parameter 0001h of page 3Ch: stops for want of data that cost a backhitch.
constexpr std::uint16_t backhitch_parameter = 0x0001;

}  // namespace

// The drive's command buffer when the stream has one (nothing else of the stream's is with
// the drive while a poll is), else a free pool buffer: a poll never waits for, nor is skipped
// for want of, a buffer the producer is filling, so that the stream's commands do not depend
// on how fast its producer is.
std::optional<std::uint16_t> WriteStream::take_poll_buffer() {
  if (_options.command_buffer) {
    return _scratch;
  }
  if (_free.empty()) {
    return std::nullopt;
  }
  const auto buffer = _free.front();
  _free.pop_front();
  return buffer;
}

void WriteStream::give_back_poll_buffer(std::uint16_t buffer) {
  if (!_options.command_buffer) {
    _free.push_front(buffer);
  }
}

// Only an answer about the page itself leaves the stream going: the page, an ILLEGAL REQUEST
// for a page the drive does not have, or early warning (which the next WRITE reports too).
// Everything else is about the drive, and ends the stream as a WRITE meeting it would: a
// reset (which rewinds, and may have dropped buffered blocks) or a timeout is counted at end
// of data; a deferred error reports an earlier WRITE that did not reach the medium. True when
// the stream was stopped.
bool WriteStream::poll_ended_stream(std::string_view what, const scsi::Classification& c,
                                    bool timed_out) {
  const bool deferred = c.deferred;
  if (!timed_out && !deferred &&
      (c.condition == TapeCondition::good || c.condition == TapeCondition::early_warning ||
       c.condition == TapeCondition::illegal_request)) {
    return false;
  }
  const bool moved = is_unit_attention(c.condition) || timed_out;
  const bool writable = c.condition != TapeCondition::no_medium &&
                        c.condition != TapeCondition::write_protected &&
                        c.condition != TapeCondition::data_protect;
  stop(ending_for(c, timed_out),
       timed_out ? "LOG SENSE (" + std::string{what} + ") timed out: the drive did not answer"
                 : "LOG SENSE (" + std::string{what} + ") failed: " + describe_condition(c) +
                       (deferred ? ", reported for an earlier WRITE" : ""),
       {writable && !timed_out, moved});
  return true;
}

// The TapeAlert poll, when due: true while it runs (pump() goes on after).
bool WriteStream::watch_tape_alerts(bool ending) {
  if (_outcome.ending != Ending::complete || !_alerts.due(ending)) {
    return false;
  }
  const auto buffer = take_poll_buffer();
  if (!buffer) {
    return false;
  }
  _polling = true;
  _alerts.poll(_channel, {*buffer, _pool.buffer(*buffer).first(4 + 64 * 5)}, ending,
               [this, buffer = *buffer](const scsi::Classification& c, bool timed_out,
                                        std::optional<std::string> critical) {
                 _polling = false;
                 give_back_poll_buffer(buffer);
                 if (poll_ended_stream("TapeAlert", c, timed_out)) {
                   return;
                 }
                 if (critical) {
                   stop(Ending::drive_error, *critical + "; the stream ends here", {});
                 } else if (_outcome.ending != Ending::complete) {
                   close();  // stopped while the poll ran
                 } else {
                   pump();
                 }
               });
  return true;
}

// The page 3Ch poll: before the first WRITE, then by the data sent rather than by the clock,
// and once at the end. A poll on a timer would put the Nth command of a stream on a different
// WRITE from run to run (the fault matrix's unit_attention=N counts commands), and the count
// is only read between WRITEs anyway. True while it runs (pump() goes on after).
bool WriteStream::watch_drive_model(bool ending) {
  if (!_options.model_page || _outcome.ending != Ending::complete) {
    return false;
  }
  const bool baseline = !_model_baseline_done;
  const bool due = baseline ? !ending
                 : ending   ? !_model_final_done
                            : (_blocks_sent - _model_polled_at) * _options.block_size >=
                                  _options.model_poll_bytes;
  if (!due) {
    return false;
  }
  const auto buffer = take_poll_buffer();
  if (!buffer) {
    return false;
  }
  _model_polled_at = _blocks_sent;
  _model_baseline_done = true;  // once, whatever the drive answers: a poll never repeats at once
  _model_final_done = _model_final_done || ending;
  _polling = true;
  const transport::DataBuffer data{*buffer, _pool.buffer(*buffer).first(4 + 4 * 12)};
  const auto command = scsi::cdb::log_sense(scsi::log_page::drive_model, 0,
                                            scsi::cdb::LogPageControl::current_cumulative, 0,
                                            static_cast<std::uint16_t>(data.bytes.size()));
  _channel.send(command, data, [this, command, data, baseline](const auto& r) {
    _polling = false;
    give_back_poll_buffer(data.index);
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
    if (poll_ended_stream("drive model", c, r.timed_out)) {
      return;
    }
    if (baseline && (c.condition == TapeCondition::good || c.condition == TapeCondition::illegal_request)) {
      // Without the page (an emulated drive without its model) the stream asks no more, and
      // the drive's owner need not ask in the next stream either.
      _options.model_page = c.condition == TapeCondition::good;
      _options.model_page_answered(_options.model_page);
    }
    if (_outcome.ending != Ending::complete) {
      close();  // stopped while the poll ran
    } else {
      pump();
    }
  });
  return true;
}

}  // namespace tapestream::drive
