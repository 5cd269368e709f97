#include "server/read_job.hpp"

#include <spdlog/spdlog.h>

#include "server/send_queue.hpp"
#include "server/status_map.hpp"

namespace tapestream::server {

static_assert(TS_READ_CURRENT_FILE == drive::file_where_the_tape_stands);

ReadJob::ReadJob(JobHost& host, DriveSlot& slot, std::uint32_t request_id,
                 const proto::ReadRequest& request, std::unique_ptr<FdSink> sink,
                 catalog::Catalog* catalog)
    : StreamJob{host, slot, (request.flags & TS_READ_PROGRESS) != 0},
      _request_id{request_id},
      _request{request},
      _sink{std::move(sink)},
      _catalog{catalog} {}

ReadJob::~ReadJob() = default;

// The medium serial number is read before the stream takes the drive (a command of its own);
// the catalog's answer may come at any time after.
void ReadJob::start() {
  if (_catalog == nullptr || _request.file_number == TS_READ_CURRENT_FILE) {
    begin_stream();
    return;
  }
  _asking = true;
  fetch_volume_record(_catalog, _slot.home(), _slot.drive(), _alive, [this] { begin_stream(); },
                      [this](VolumeRecord record) { recorded(std::move(record)); });
}

void ReadJob::begin_stream() {
  if (by_shared_buffers()) {
    auto& pool = _slot.drive().pool();
    // Each READ asks for a whole pool buffer: a slot holds as much.
    auto slots = SharedSlots::for_stream(pool, static_cast<std::uint32_t>(pool.buffer_size()));
    if (!slots) {
      _phase = Phase::done;
      leave_line();
      const auto message = "cannot set up shared buffers: " + slots.error().what();
      spdlog::warn("drive {}: {}: the read did not start: {}", _slot.name(), who(), message);
      if (!_host.client_gone()) {
        _host.reply(proto::StreamFailed{proto::Status::internal, 0, 0, 0, 0, message.substr(0, TS_MAX_MESSAGE)});
      }
      _host.request_over(false);
      return;
    }
    _slots = std::move(slots.value());
    _slots->hold_all();
    _stream = _slot.drive().read_stream([this](const drive::StreamOutcome& o) { outcome(o); },
                                        _slots->buffers());
  } else {
    _stream = _slot.drive().read_stream([this](const drive::StreamOutcome& o) { outcome(o); });
  }
  _stream->on_data([this] { pump(); });
  _stream->start(_request.file_number, [this] { ready(); });
  if (_host.client_gone()) {
    _stream->abandon();
  } else if (_cut_early) {
    _stream->cut(_cut_early->first, _cut_early->second);
  }
}

void ReadJob::recorded(VolumeRecord record) {
  _asking = false;
  _record = std::move(record.files);
  if (_held) {
    auto outcome = std::move(*_held);
    _held.reset();
    deliver(std::move(outcome));
  }
}

void ReadJob::ready() {
  spdlog::info("drive {}: {} reads file {}{}{}", _slot.name(), who(), _request.file_number,
               _sink ? " into a passed descriptor" : "",
               _stream->protected_blocks() ? ", CRC32C checked on every block" : "");
  streaming(_request.file_number == TS_READ_CURRENT_FILE
                ? std::nullopt
                : std::optional<std::uint64_t>{_request.file_number});
  if (_slots) {
    _host.reply_with_fd(proto::Ready{_request.file_number, 0, TS_READY_SHARED, _slots->count(),
                                     _slots->stride()},
                        _slots->take_fd());
    _host.read_more();  // RETURN may come now
  } else {
    _host.reply(proto::Ready{_request.file_number, 0, 0});
  }
  if (_sink) {
    _sink->start(*_stream, [this](const Result<void, Failure>& how) {
      if (done()) {
        return;
      }
      if (_sink->consumer_gone()) {
        _stream->cut(drive::Ending::client_gone,
                     "the reader of the passed descriptor went away (EPIPE); the read ended");
      } else {
        _stream->cut(drive::Ending::internal, how ? std::string{} : how.error().what());
      }
    });
  }
}

// One block at a time goes out: its DATA header, then the block from the registered buffer.
void ReadJob::pump() {
  report_progress();
  if (_sink) {
    _sink->resume();
    return;
  }
  if (_slots) {
    pump_shared();
    return;
  }
  if (done() || _sending || _host.client_gone()) {
    return;
  }
  auto block = _stream->next();
  if (!block) {
    return;
  }
  _sending = true;
  const auto header = proto::data_header(_request_id, static_cast<std::uint32_t>(block->size()));
  auto& send = _host.send_queue();
  send.push({header.begin(), header.end()});
  send.push_view(*block, [this] {
    _sending = false;
    if (!done()) {
      _stream->consumed();  // may report the outcome
    }
    pump();
  });
}

// Each block read into a slot goes to the client as FILLED, hashed as given; the slot is the
// client's until its RETURN. FILLED goes out before hand_over(), which may end the stream (END).
void ReadJob::pump_shared() {
  while (_slots && !done() && _phase == Phase::streaming && !_host.client_gone()) {
    const auto buffer = _stream->next_buffer();
    if (!buffer) {
      return;
    }
    const auto slot = _slots->slot_of(*buffer);
    _slots->give_back(slot);
    _host.reply(proto::Filled{slot, static_cast<std::uint32_t>(_stream->next()->size())});
    _stream->hand_over();
  }
}

void ReadJob::slot_returned(const proto::SlotReturn& returned) {
  if (!_slots || done() || _phase != Phase::streaming) {
    return;  // late: the stream's end is said or on its way
  }
  if (auto refused = _slots->take_back(returned.slot)) {
    _stream->cut(drive::Ending::bad_end, *refused + "; the read was cut");
    return;
  }
  _stream->give_back(_slots->buffer_of(returned.slot));
}

void ReadJob::client_gone() {
  if (ended_in_line(std::nullopt)) {
    return;
  }
  if (_held) {  // nobody is left to tell of a comparison
    _asking = false;
    recorded(VolumeRecord{});
    return;
  }
  stop_mover();
  if (_stream) {
    _stream->abandon();
  }
}

void ReadJob::cut_for_stop() {
  const std::string why = "the daemon is stopping and its stop timeout passed";
  if (ended_in_line(why + " before the drive was free")) {
    return;
  }
  if (_held) {  // the data is out: the catalog's answer is not waited for
    recorded(VolumeRecord{});
    return;
  }
  if (!_stream) {
    _cut_early = {drive::Ending::shutting_down, why + "; the read was cut"};
    return;
  }
  if (!done()) {
    stop_mover();
    _stream->cut(drive::Ending::shutting_down, why + "; the read was cut");
  }
}

ReadJob::Sample ReadJob::stall_sample() const {
  return {_stream->progress().bytes, _stream->next().has_value()};
}

void ReadJob::stalled(const std::string& why) {
  spdlog::warn("{}: its read stream stalled: {}; ending it", who(), why);
  if (_sink || _slots) {
    stop_mover();
    _stream->cut(drive::Ending::stalled, why);
    return;
  }
  _host.hang_up();  // a send to the client waits on its full socket: only closing ends it
}

bool ReadJob::moving_buffers() const { return (_sink && !_sink->idle()) || _sending; }

void ReadJob::stop_mover() {
  if (_sink) {
    _sink->stop([this] { settle(); });
  }
}

// The drive goes to the next in line at once; only the reply may wait for the catalog.
void ReadJob::report(const drive::StreamOutcome& outcome) {
  _slots.reset();  // no READ uses them any more; the next stream on the drive registers its own
  release_drive(outcome.ending);
  if (_asking && outcome.complete() && !_host.client_gone()) {
    _held = outcome;
    return;
  }
  deliver(outcome);
}

void ReadJob::deliver(drive::StreamOutcome outcome) {
  if (outcome.complete() && _record) {
    const auto* row = newest_row(*_record, outcome.file_number);
    // What the client got includes a fixed-block file's padding, which the written digest
    // does not: such a file is compared by its size only (verify compares its digest).
    const bool padded = row != nullptr && row->padding > 0;
    const auto check = check_read_back(
        row, ReadBack{outcome.file_number, outcome.bytes, outcome.blocks,
                      padded ? std::nullopt : outcome.sha256});
    if (check.verdict == TS_VERDICT_MISMATCH) {
      spdlog::error("drive {}: {}", _slot.name(), check.message);
      outcome.ending = drive::Ending::medium_error;
      outcome.message = check.message;
    }
  }
  if (!_host.client_gone()) {
    if (outcome.complete()) {
      _host.reply(proto::End{outcome.bytes, outcome.blocks,
                             _host.digest_granted() ? outcome.sha256 : std::nullopt});
    } else {
      _host.reply(proto::StreamFailed{to_status(outcome.ending), 0, outcome.bytes, outcome.blocks,
                                      outcome.file_number,
                                      outcome.message.substr(0, TS_MAX_MESSAGE)});
    }
  }
  const auto ending = drive::ending_name(outcome.ending);
  log_summary(outcome,
              "read of file " + std::to_string(outcome.file_number) + " ended (" +
                  std::string{ending} + ")",
              ending, {}, outcome.message.empty() ? "" : "; " + outcome.message);
  _phase = Phase::done;
  _host.request_over(false);
}

}  // namespace tapestream::server

