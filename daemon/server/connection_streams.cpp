// The requests that run a stream: WRITE (with its DATA, END and ABORT) and READ, their data by
// the socket or by a passed descriptor, their endings, and the deadlines that cut them.
#include <spdlog/spdlog.h>

#include "server/connection.hpp"
#include "server/drive_slot.hpp"
#include "server/server.hpp"
#include "server/status_map.hpp"

namespace tapestream::server {

static_assert(TS_READ_CURRENT_FILE == drive::file_where_the_tape_stands);
namespace {

std::string position_text(const drive::StreamOutcome& o) {
  return std::to_string(o.bytes) + " bytes in " + std::to_string(o.blocks) + " blocks";
}

}  // namespace

DriveSlot* Connection::release_drive() {
  _slot = nullptr;
  return _lease.end();
}

// A stream's outcome waits while a read into its buffers (or a write out of them) is still in
// flight: once the drive is released, those buffers belong to the next stream.
bool Connection::outcome_waits_for_buffers(const drive::StreamOutcome& outcome) {
  if (!filling_buffers()) {
    return false;
  }
  _pending_outcome = outcome;
  if (_source) {
    _source->stop([this] { settle_pending_stream(); });
  }
  if (_sink) {
    _sink->stop([this] { settle_pending_stream(); });
  }
  return true;
}

void Connection::write(const proto::WriteRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  auto data_fd = claim_passed_fd((m.flags & TS_WRITE_FD) != 0, true);
  if (!data_fd) {
    return;
  }
  const auto block = m.block_size == 0 ? _server.options().default_block_size : m.block_size;
  const auto buffer_size = slot->drive().pool().buffer_size();
  if (block > buffer_size ||
      (slot->drive().identity().max_block_length != 0 && block > slot->drive().identity().max_block_length)) {
    refuse(proto::Status::bad_request,
           "block size " + std::to_string(block) + " is larger than the daemon's buffers (" +
               std::to_string(buffer_size) + ") or the drive's limit");
    return;
  }
  if (_server.stopping()) {
    refuse(proto::Status::shutting_down, "the daemon is stopping");
    return;
  }
  if ((m.flags & TS_WRITE_APPEND) == 0 && !slot->drive().identity().positioning.long_position) {
    refuse(proto::Status::bad_request,
           "this drive reports no file numbers (no READ POSITION long form), so a stream "
           "written where the tape stands could not say which file it is; append instead");
    return;
  }
  if (slot->busy() && (m.flags & TS_WRITE_NO_WAIT) != 0) {
    refuse(proto::Status::busy, "drive " + slot->name() + " is in use");
    return;
  }
  _request_active = true;
  _slot = slot;
  _block_size = block;
  _progress_wanted = (m.flags & TS_WRITE_PROGRESS) != 0;
  if (*data_fd) {
    _source = std::make_unique<FdSource>(ring(), std::move(*data_fd));
  }
  auto request = m;
  request.block_size = block;
  _lease = slot->join(DriveSlot::Owner::stream);
  _lease.when_granted([this, request] { start_write(request); });
  read_more();  // nothing is read until READY; a client that leaves meanwhile is noticed
}

void Connection::start_write(const proto::WriteRequest& m) {
  _slot->drive().stream_began(true);
  drive::WriteStream::Options options;
  options.block_size = m.block_size;
  options.fixed = (m.flags & TS_WRITE_FIXED) != 0;
  options.positioning = _slot->drive().identity().positioning;
  options.append = (m.flags & TS_WRITE_APPEND) != 0;
  options.position_trusted = _slot->drive().watch().position_trusted();
  options.expected_length = m.expected_length;
  _write = std::make_unique<drive::WriteStream>(
      _slot->drive().transport(), _slot->drive().pool(), _slot->drive().timeouts(), _slot->drive().stream_buffers(), options,
      [this](const drive::StreamOutcome& o) { write_done(o); });
  _write->on_space([this] {
    report_progress();
    if (_source) {
      _source->resume();
    } else if (_waiting_for_space) {
      _waiting_for_space = false;
      read_more();
    }
  });
  _write->start([this, block = m.block_size, fixed = options.fixed, label = m.label](std::uint64_t file) {
    spdlog::info("drive {}: connection {} (uid {}) writes file {}{}{}", _slot->name(), _id, _uid,
                 file,
                 _source ? (_source->direct() ? " from a passed file (O_DIRECT)"
                                              : " from a passed descriptor")
                         : "",
                 label.empty() ? "" : ", label \"" + label + "\"");
    _stream_ready = true;
    _stall_mark = 0;
    _stall_since = Clock::now();
    reply(proto::Ready{file, block, fixed ? TS_READY_FIXED : 0U});
    if (_source) {
      _source->start(*_write, [this](const Result<void, Failure>& how) {
        if (!_write) {
          return;
        }
        if (how) {
          _write->finish();
        } else {
          _write->cut(drive::Ending::internal,
                      how.error().what() + "; the stream was not committed");
        }
      });
    }
    read_more();  // DATA and END (or ABORT) may come now
  });
}

void Connection::end_of_write(const proto::End& m) {
  if (!_write || !_stream_ready || _end_received || _source) {
    refuse(proto::Status::out_of_sequence, "END outside a write stream", true);
    return;
  }
  _end_received = true;
  if (_write_reported) {  // the stream had already failed and said so; its end is now clean
    _ended_writes.push_back(std::move(_write));
    _write_reported = false;
    finish_request();
    return;
  }
  if (_write->closed()) {  // a failure stopped the stream; its outcome, on its way, reports it
    return;
  }
  if (m.bytes != _write->bytes_received()) {
    _write->cut(drive::Ending::bad_end,
                "END says " + std::to_string(m.bytes) + " bytes but " +
                    std::to_string(_write->bytes_received()) +
                    " arrived; the stream was not committed");
    return;
  }
  _write->finish();
}

// The client's producer failed (or the client says so for another reason): the stream must not
// be committed, and the client hears exactly what of it is on the tape.
void Connection::abort_write(const proto::Abort& m) {
  if (!_write || !_stream_ready || _end_received) {
    refuse(proto::Status::out_of_sequence, "ABORT outside a write stream", true);
    return;
  }
  _end_received = true;
  spdlog::warn("drive {}: connection {} (uid {}) aborts its stream: {}", _slot ? _slot->name() : "?",
               _id, _uid, m.reason);
  if (_write_reported) {
    _ended_writes.push_back(std::move(_write));
    _write_reported = false;
    finish_request();
    return;
  }
  if (_source) {
    _source->stop([this] { settle_pending_stream(); });
  }
  _write->cut(drive::Ending::incomplete,
              "the client aborted the stream (" + m.reason + "); it was not committed");
}

void Connection::write_done(const drive::StreamOutcome& outcome) {
  if (outcome_waits_for_buffers(outcome)) {
    return;
  }
  if (_slot != nullptr) {  // before the drive goes to the next in line, whose stream begins
    _slot->drive().stream_ended(outcome.ending);
  }
  auto* slot = release_drive();
  const auto name = slot != nullptr ? slot->name() : std::string{"?"};
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
  if (outcome.complete()) {
    spdlog::info("drive {}: file {} committed: {} (uid {})", name, outcome.file_number,
                 position_text(outcome), _uid);
    reply(proto::Committed{outcome.bytes, outcome.blocks, outcome.file_number, _block_size,
                           outcome.early_warning ? TS_COMMITTED_EARLY_WARNING : 0U, {}});
  } else if (outcome.ending == drive::Ending::client_gone) {
    spdlog::warn("drive {}: the client of file {} went away; {} are on the tape{}", name,
                 outcome.file_number, position_text(outcome), outcome.blocks > 0 ? filemark : "");
  } else {
    spdlog::error("drive {}: file {} failed ({}): {}; {} are on the tape{}", name,
                  outcome.file_number, drive::ending_name(outcome.ending), outcome.message,
                  position_text(outcome), outcome.blocks > 0 ? filemark : "");
    if (!_input_closed) {
      reply(proto::StreamFailed{to_status(outcome.ending),
                                static_cast<std::uint16_t>(outcome.filemark_written
                                                               ? TS_FAILED_FILEMARK_WRITTEN
                                                               : 0),
                                outcome.bytes, outcome.blocks, outcome.file_number,
                                outcome.message.substr(0, TS_MAX_MESSAGE)});
    }
  }
  _write_reported = true;
  // With fd passing no END comes: the stream's end is the request's (finish_request lets the
  // source go; it is idle, checked above).
  if (_end_received || _input_closed || outcome.complete() || _source) {
    _ended_writes.push_back(std::move(_write));
    _write_reported = false;
    finish_request();
  }
}

void Connection::read(const proto::ReadRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  auto out_fd = claim_passed_fd((m.flags & TS_READ_FD) != 0, false);
  if (!out_fd) {
    return;
  }
  if (_server.stopping()) {
    refuse(proto::Status::shutting_down, "the daemon is stopping");
    return;
  }
  _request_active = true;
  _slot = slot;
  _progress_wanted = (m.flags & TS_READ_PROGRESS) != 0;
  if (*out_fd) {
    _sink = std::make_unique<FdSink>(ring(), std::move(*out_fd));
  }
  _lease = slot->join(DriveSlot::Owner::stream);
  _lease.when_granted([this, m] { start_read(m); });
  read_more();
}

void Connection::start_read(const proto::ReadRequest& m) {
  _slot->drive().stream_began(false);
  _read = std::make_unique<drive::ReadStream>(
      _slot->drive().transport(), _slot->drive().pool(), _slot->drive().timeouts(), _slot->drive().stream_buffers(),
      _slot->drive().identity().positioning, [this](const drive::StreamOutcome& o) { read_done(o); });
  _read->on_data([this] { pump_read(); });
  _read->start(m.file_number, [this, file = m.file_number] {
    spdlog::info("drive {}: connection {} (uid {}) reads file {}{}", _slot->name(), _id, _uid,
                 file, _sink ? " into a passed descriptor" : "");
    _stream_ready = true;
    _stall_mark = 0;
    _stall_since = Clock::now();
    reply(proto::Ready{file, 0, 0});
    if (_sink) {
      _sink->start(*_read, [this](const Result<void, Failure>& how) {
        if (!_read) {
          return;
        }
        if (_sink->consumer_gone()) {
          _read->cut(drive::Ending::client_gone,
                     "the reader of the passed descriptor went away (EPIPE); the read ended");
        } else {
          _read->cut(drive::Ending::internal, how ? std::string{} : how.error().what());
        }
      });
    }
  });
}

// One block at a time goes out: its DATA header, then the block from the registered buffer.
void Connection::pump_read() {
  report_progress();
  if (_sink) {
    _sink->resume();
    return;
  }
  if (!_read || _read_sending || _input_closed) {
    return;
  }
  auto block = _read->next();
  if (!block) {
    return;
  }
  _read_sending = true;
  const auto header = proto::data_header(_request_id, static_cast<std::uint32_t>(block->size()));
  _send.push({header.begin(), header.end()});
  _send.push_view(*block, [this] {
    _read_sending = false;
    if (_read) {
      _read->consumed();  // may report the outcome
    }
    pump_read();
  });
}

void Connection::read_done(const drive::StreamOutcome& outcome) {
  if (outcome_waits_for_buffers(outcome)) {
    return;
  }
  if (_slot != nullptr) {  // before the drive goes to the next in line, whose stream begins
    _slot->drive().stream_ended(outcome.ending);
  }
  auto* slot = release_drive();
  if (!_input_closed) {
    if (outcome.complete()) {
      reply(proto::End{outcome.bytes, outcome.blocks, {}});
    } else {
      reply(proto::StreamFailed{to_status(outcome.ending), 0, outcome.bytes, outcome.blocks,
                                outcome.file_number, outcome.message.substr(0, TS_MAX_MESSAGE)});
    }
  }
  spdlog::info("drive {}: read of file {} ended ({}): {}{}", slot != nullptr ? slot->name() : "?",
               outcome.file_number, drive::ending_name(outcome.ending), position_text(outcome),
               outcome.message.empty() ? "" : "; " + outcome.message);
  _ended_reads.push_back(std::move(_read));
  finish_request();
}

// About twice a second while a stream moves, if its request asked for it.
void Connection::report_progress() {
  if (!_progress_wanted || _input_closed || (!_write && !_read)) {
    return;
  }
  const auto now = Clock::now();
  if (now - _progress_sent < std::chrono::milliseconds{500}) {
    return;
  }
  _progress_sent = now;
  reply(to_progress(_write ? _write->progress() : _read->progress()));
}

// A stream whose client neither sends (write) nor takes (read) data for the stream timeout is
// ended, so that a silent client cannot hold a drive forever. Waiting for the drive is not the
// client's stall: only time in which the stream could have moved counts.
void Connection::check_stall(Clock::time_point now) {
  const auto timeout = _server.options().stream_timeout;
  if (timeout.count() == 0 || !_stream_ready) {
    return;
  }
  std::uint64_t mark = 0;
  bool waiting = false;
  if (_write && !_end_received && !_write_reported) {
    mark = _write->bytes_received();
    waiting = _write->wants_data();
  } else if (_read) {
    mark = _read->progress().bytes;
    waiting = _read->next().has_value();
  } else {
    return;
  }
  if (mark != _stall_mark || !waiting) {
    _stall_mark = mark;
    _stall_since = now;
    return;
  }
  if (now - _stall_since < timeout) {
    return;
  }
  _stall_since = now;
  const auto why = "no data moved for " + std::to_string(timeout.count()) +
                   " s (the stream timeout)";
  spdlog::warn("connection {} (uid {}): its {} stream stalled: {}; ending it", _id, _uid,
               _write ? "write" : "read", why);
  if (_write) {
    _end_received = true;  // nothing more is taken from this client for the stream
    if (_source) {
      _source->stop([this] { settle_pending_stream(); });
    } else {
      _close_when_reported = true;  // its socket may hold half a frame: send it away after
    }
    _write->cut(drive::Ending::stalled, why + "; the stream was not committed");
    return;
  }
  if (_sink) {
    _sink->stop([this] { settle_pending_stream(); });
    _read->cut(drive::Ending::stalled, why);
    return;
  }
  peer_gone();  // a send to the client waits on its full socket: only closing ends it
}

void Connection::cut_for_stop() {
  const std::string why = "the daemon is stopping and its stop timeout passed";
  if (_lease.waiting()) {
    (void)_lease.end();
    _slot = nullptr;
    _source.reset();
    _sink.reset();
    refuse(proto::Status::shutting_down, why + " before the drive was free");
    return;
  }
  if (_write && !_write_reported) {
    _end_received = true;
    if (_source) {
      _source->stop([this] { settle_pending_stream(); });
    } else {
      _close_when_reported = true;
    }
    _write->cut(drive::Ending::shutting_down, why + "; the stream was cut");
  }
  if (_read) {
    if (_sink) {
      _sink->stop([this] { settle_pending_stream(); });
    }
    _read->cut(drive::Ending::shutting_down, why + "; the read was cut");
  }
}

}  // namespace tapestream::server
