#include "server/write_job.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/status_map.hpp"

namespace tapestream::server {
WriteJob::WriteJob(JobHost& host, DriveSlot& slot, const proto::WriteRequest& request,
                   std::unique_ptr<FdSource> source, StreamRecord record)
    : StreamJob{host, slot, (request.flags & TS_WRITE_PROGRESS) != 0},
      _request{request},
      _source{std::move(source)},
      _record{std::move(record)} {}

WriteJob::~WriteJob() = default;

// The catalog names the cartridge by its medium serial number, read now: one loaded since
// start-up, or since the last stream, must not get the files of the one before. A stream that
// spans volumes names each part's volume by it in PART too, with or without a catalog.
void WriteJob::start() {
  if (!_record.wanted() && !_spanning) {
    prepare_volume();
    return;
  }
  _commanding = true;
  read_medium_serial(_slot.drive(), [this](std::optional<std::string> serial) {
    _commanding = false;
    if (!serial && _spanning && _spanning->changer == nullptr) {
      refuse_start(drive::Ending::drive_error, no_serial_to_span);
      return;
    }
    _record.volume(std::move(serial));
    prepare_volume();
  });
}

void WriteJob::begin_stream() {
  if (by_shared_buffers() && !make_slots()) {
    return;
  }
  start_stream();
  if (!_stream) {
    return;  // refused before it began (a spanning write on a labelled tape)
  }
  if (_gone_before_stream) {
    _stream->abandon();
  } else if (_cut_before_stream) {
    cut(_cut_before_stream->first, _cut_before_stream->second);
  }
}

drive::WriteStream::Options WriteJob::stream_options(bool append) {
  drive::WriteStream::Options options;
  options.block_size = _request.block_size;
  options.fixed = (_request.flags & TS_WRITE_FIXED) != 0;
  options.append = append;
  options.expected_length = _request.expected_length;
  // The stream's own marks (0: the drive's, filled in by the drive).
  options.start_percent = _request.start_mark;
  options.restart_percent = _request.restart_mark;
  options.tape_alert_interval = _tape_alert_interval;
  options.tape_alerts_seen = [this](const scsi::TapeAlerts& alerts) { log_tape_alerts(alerts); };
  if (_slots) {
    options.shared_buffers = _slots->buffers();
  }
  options.span = _spanning.has_value();
  options.digest = (_request.flags & TS_WRITE_NO_DIGEST) == 0;
  return options;
}

void WriteJob::start_stream() {
  if (_spanning && _layout.kind == TapeLayout::Kind::labelled) {
    refuse_start(drive::Ending::drive_error,
                 "this tape carries a volume label: a stream that spans volumes is written on "
                 "unlabelled tapes only (for now); nothing was written");
    return;
  }
  _stream = _slot.drive().write_stream(stream_options((_request.flags & TS_WRITE_APPEND) != 0),
                                       [this](const drive::StreamOutcome& o) { outcome(o); });
  if (_slots) {
    _stream->on_written([this](std::uint16_t buffer) {
      const auto slot = _slots->slot_of(buffer);
      _slots->give_back(slot);
      _host.reply(proto::SlotFree{slot});
      report_progress();
    });
  }
  _stream->on_space([this] {
    report_progress();
    if (_source) {
      _source->resume();
    } else {
      _host.read_more();  // a client that waited for room on the socket
    }
  });
  _stream->start([this](std::uint64_t file) { ready(file); });
}

// Each flag once per stream: a drive that keeps raising it must not flood the log.
void WriteJob::log_tape_alerts(const scsi::TapeAlerts& alerts) {
  for (unsigned flag = 1; flag <= alerts.size(); ++flag) {
    if (!alerts.test(flag - 1) || _alerts_logged.test(flag - 1)) {
      continue;
    }
    _alerts_logged.set(flag - 1);
    const auto severity = scsi::tape_alert_severity(flag);
    if (severity == scsi::TapeAlertSeverity::critical) {
      spdlog::error("drive {}: {}: critical TapeAlert flag {} ({}); the stream ends", _slot.name(),
                    who(), flag, scsi::tape_alert_name(flag));
    } else if (severity == scsi::TapeAlertSeverity::warning) {
      spdlog::warn("drive {}: {}: TapeAlert flag {} ({}), warning", _slot.name(), who(), flag,
                   scsi::tape_alert_name(flag));
    } else {
      spdlog::info("drive {}: {}: TapeAlert flag {} ({}), information", _slot.name(), who(), flag,
                   scsi::tape_alert_name(flag));
    }
  }
}

void WriteJob::ready(std::uint64_t file) {
  spdlog::info("drive {}: {} writes file {}{}{}{}", _slot.name(), who(), file,
               _source ? (_source->direct() ? " from a passed file (O_DIRECT)"
                                            : " from a passed descriptor")
                       : "",
               _request.label.empty() ? "" : ", label \"" + _request.label + "\"",
               _stream->protected_blocks() ? ", CRC32C on every block" : "");
  // From here the stream stands where it writes: a reset after this (absorbed by a command sent
  // again) means the tape may not stand after its filemark when the trailer is due. A reset
  // before it was met while the stream placed itself, and positioned from scratch.
  _stream_epoch = _slot.drive().watch().medium_epoch();
  streaming(file);
  _started_at = std::chrono::system_clock::now();
  if (_spanning) {
    _record.span_part(1, 0);
  }
  _record.begun(file, _request);
  if (_spanning && _spanning->changer != nullptr) {
    record_first_barcode();
  }
  const auto fixed = (_request.flags & TS_WRITE_FIXED) != 0 ? TS_READY_FIXED : 0U;
  if (_slots) {
    _host.reply_with_fd(proto::Ready{file, _request.block_size, fixed | TS_READY_SHARED,
                                     _slots->count(), _slots->stride()},
                        _slots->take_fd());
  } else {
    _host.reply(proto::Ready{file, _request.block_size, fixed});
  }
  if (_source) {
    _source->start(*_stream, [this](const Result<void, Failure>& how) {
      if (done()) {
        return;
      }
      if (how) {
        _stream->finish();
      } else {
        _stream->cut(drive::Ending::internal, how.error().what() + "; the stream was not committed");
      }
    });
  }
  _host.read_more();  // DATA and END (or ABORT) may come now
}

bool WriteJob::end_of_data(const proto::End& end) {
  if (_send_away && _phase == Phase::ending) {
    return true;  // crossed the daemon's cut: the stream's account is on its way
  }
  if (!reads_frames() || by_descriptor()) {  // END ends a stream by DATA or by SUBMIT
    return false;
  }
  if (_phase == Phase::reported) {  // the stream had already failed and said so; it ends clean
    _phase = Phase::done;
    _host.request_over(false);
    return true;
  }
  _phase = Phase::ending;
  if (_changing_volume || (_stream->closed() && _stream->parting())) {
    // Between two parts: the count is checked against everything taken, and the next part
    // finishes the stream (or, from next_part_ready(), cuts it).
    if (end.bytes != _stream->bytes_received()) {
      _cut_between_parts.emplace(drive::Ending::bad_end,
                                 "END says " + std::to_string(end.bytes) + " bytes but " +
                                     std::to_string(_stream->bytes_received()) +
                                     " arrived; the stream was not committed");
    } else {
      _finish_pending = true;
    }
    return true;
  }
  if (_stream->closed()) {  // a failure stopped the stream; its outcome, on its way, reports it
    return true;
  }
  if (end.bytes != _stream->bytes_received()) {
    _stream->cut(drive::Ending::bad_end,
                 "END says " + std::to_string(end.bytes) + " bytes but " +
                     std::to_string(_stream->bytes_received()) +
                     " arrived; the stream was not committed");
    return true;
  }
  _stream->finish();
  return true;
}

bool WriteJob::submit(const proto::Submit& submit) {
  if (_slots && _send_away && _phase == Phase::ending) {
    return true;  // crossed the daemon's cut: the stream's account is on its way
  }
  if (!_slots || !reads_frames()) {
    return false;
  }
  if (_phase == Phase::reported || _stream->closed()) {
    return true;  // the stream's end is said or on its way; END or ABORT is due
  }
  if (auto refused = _slots->take(submit.slot, submit.length)) {
    _stream->cut(drive::Ending::bad_end, *refused + "; the stream was not committed");
    return true;
  }
  if (!_stream->submit(_slots->buffer_of(submit.slot), submit.length)) {
    _slots->give_back(submit.slot);
  }
  return true;
}

// The client's producer failed (or the client says so for another reason): the stream must not
// be committed, and the client hears exactly what of it is on the tape.
bool WriteJob::abort(const proto::Abort& abort) {
  if (_send_away && _phase == Phase::ending) {
    return true;  // crossed the daemon's cut: the stream's account is on its way
  }
  if (!reads_frames()) {
    return false;
  }
  spdlog::warn("drive {}: {} aborts its stream: {}", _slot.name(), who(), abort.reason);
  if (_phase == Phase::reported) {
    _phase = Phase::done;
    _host.request_over(false);
    return true;
  }
  _phase = Phase::ending;
  stop_mover();
  const auto why = "the client aborted the stream (" + abort.reason + "); it was not committed";
  if (between_parts()) {
    _cut_between_parts.emplace(drive::Ending::incomplete, why);
    return true;
  }
  _stream->cut(drive::Ending::incomplete, why);
  return true;
}

void WriteJob::client_gone() {
  if (ended_in_line(std::nullopt)) {
    return;
  }
  if (_phase == Phase::reported) {  // the stream ended and said so; the client leaves without END
    _phase = Phase::done;
    _host.request_over(false);
    return;
  }
  if (between_parts()) {
    _cut_between_parts.emplace(drive::Ending::client_gone,
                               "the client went away before the end of its stream");
  } else if (_stream) {
    _stream->abandon();
  } else {
    _gone_before_stream = true;
  }
  stop_mover();
  // Between two polls of a drive threading its new cartridge no command is in flight to see
  // the cut, and a connection whose client left is ticked no more: the stream ends here.
  if (_ready_poll_at) {
    _ready_poll_at.reset();
    (void)ended_by_cut();
  }
}

void WriteJob::cut(drive::Ending ending, const std::string& message) {
  if (!_stream) {
    _cut_before_stream.emplace(ending, message);
    return;
  }
  _phase = Phase::ending;
  if (_source) {
    stop_mover();
  } else {
    _send_away = true;
  }
  if (between_parts()) {
    _cut_between_parts.emplace(ending, message);
    return;
  }
  _stream->cut(ending, message);
}

void WriteJob::cut_for_stop() {
  const std::string why = "the daemon is stopping and its stop timeout passed";
  if (ended_in_line(why + " before the drive was free")) {
    return;
  }
  if (_phase == Phase::starting || _phase == Phase::streaming || _phase == Phase::ending) {
    cut(drive::Ending::shutting_down, why + "; the stream was cut");
  }
}

void WriteJob::stalled(const std::string& why) {
  spdlog::warn("{}: its write stream stalled: {}; ending it", who(), why);
  cut(drive::Ending::stalled, why + "; the stream was not committed");
}

WriteJob::Sample WriteJob::stall_sample() const {
  return {_stream->bytes_received(), _stream->wants_data()};
}

bool WriteJob::moving_buffers() const {
  return _host.receiving_payload() || (_source && !_source->idle());
}

void WriteJob::stop_mover() {
  if (_source) {
    _source->stop([this] { settle(); });
  }
}

void WriteJob::report(const drive::StreamOutcome& outcome) {
  // A next part that could not start ends here too: the client's frames are read again (and
  // its DATA dropped), and the job can become idle.
  _changing_volume = false;
  _next_part_starting = false;
  if (outcome.continues) {
    part_committed(outcome);
    return;
  }
  if (wants_trailer(outcome)) {
    write_trailer(outcome);
    return;
  }
  finish_report(outcome);
}

// For the summary: how often the client left the drive without data (the pool ran dry) and
// the restart mark then held the drive back until the pool had refilled.
std::string WriteJob::pool_detail() const {
  if (!_stream || _stream->pool_ran_dry() == 0) {
    return {};
  }
  return "; the pool ran dry " + std::to_string(_stream->pool_ran_dry()) +
         " times, each time refilled to " + std::to_string(_stream->restart_watermark()) +
         " buffers before the drive went on";
}

void WriteJob::finish_report(const drive::StreamOutcome& outcome) {
  _record.ended(outcome);
  // No WRITE uses the slots any more; the next stream on the drive registers its own.
  _slots.reset();
  release_drive(outcome.ending);
  const auto& name = _slot.name();
  if (outcome.closed_unfinished_file) {
    spdlog::warn("drive {}: the last file on the tape had no filemark (an earlier stream was cut "
                 "off); it got one before this stream, file {}",
                 name, outcome.file_number);
  }
  if (outcome.mode_not_restored) {
    spdlog::error("drive {}: variable blocks could not be set again after the fixed-block stream; "
                  "the next stream sets its own block mode",
                  name);
  }
  const auto filemark = outcome.filemark_written ? ", closed by a filemark" : ", not closed by a filemark";
  const auto file_text = "file " + std::to_string(outcome.file_number);
  const auto fed = _stream ? std::optional{_stream->progress()} : std::nullopt;
  if (fed) {
    final_progress(*fed);
  }
  if (outcome.complete()) {
    log_summary(outcome, file_text + " committed", "committed", _request.label, pool_detail(),
                fed.has_value() ? &*fed : nullptr);
    _host.reply(proto::Committed{outcome.bytes, outcome.blocks, outcome.file_number,
                                 _request.block_size,
                                 outcome.early_warning ? TS_COMMITTED_EARLY_WARNING : 0U,
                                 committed_digest(outcome)});
  } else if (outcome.ending == drive::Ending::client_gone) {
    spdlog::warn("drive {}: the client of file {} went away; {} are on the tape{}", name,
                 outcome.file_number, amount_text(outcome), outcome.blocks > 0 ? filemark : "");
  } else {
    spdlog::error("drive {}: file {} failed ({}): {}; {} are on the tape{}", name,
                  outcome.file_number, drive::ending_name(outcome.ending), outcome.message,
                  amount_text(outcome), outcome.blocks > 0 ? filemark : "");
    if (!_host.client_gone()) {
      _host.reply(proto::StreamFailed{
          to_status(outcome.ending),
          static_cast<std::uint16_t>(outcome.filemark_written ? TS_FAILED_FILEMARK_WRITTEN : 0),
          outcome.bytes, outcome.blocks, outcome.file_number,
          outcome.message.substr(0, TS_MAX_MESSAGE)});
    }
  }
  if (!outcome.complete()) {
    const auto ending = drive::ending_name(outcome.ending);
    log_summary(outcome, file_text + " not committed (" + std::string{ending} + ")", ending,
                _request.label, pool_detail(), fed.has_value() ? &*fed : nullptr);
  }
  // A client still sending DATA hears of the failure first; its END (or ABORT) then ends the
  // request. With fd passing no END comes, and a stream that failed before READY has no data
  // phase at all: the stream's end is the request's.
  if (_phase == Phase::streaming && !_source && !outcome.complete() && !_host.client_gone()) {
    _phase = Phase::reported;
    if (_spanning) {
      _host.read_more();  // DATA that waited for the next part is read and dropped now
    }
    return;
  }
  _phase = Phase::done;
  _host.request_over(_send_away);
}

std::optional<proto::Digest> WriteJob::committed_digest(const drive::StreamOutcome& outcome) const {
  if (!_host.digest_granted()) {
    return std::nullopt;
  }
  return outcome.sha256 ? *outcome.sha256 : proto::Digest{};
}

bool WriteJob::make_slots() {
  auto slots = SharedSlots::for_stream(_slot.drive().pool(), _request.block_size);
  if (!slots) {
    refuse_start(drive::Ending::internal,
                 "cannot set up shared buffers: " + slots.error().what() + "; nothing was written");
    return false;
  }
  _slots = std::move(slots.value());
  return true;
}

}  // namespace tapestream::server
