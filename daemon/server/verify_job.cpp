#include "server/verify_job.hpp"

#include <spdlog/spdlog.h>

#include "server/home.hpp"
#include "server/status_map.hpp"

namespace tapestream::server {
namespace {

std::uint8_t status_number(catalog::FileStatus status) { return static_cast<std::uint8_t>(status); }

}  // namespace

VerifyJob::VerifyJob(JobHost& host, DriveSlot& slot, const proto::VerifyRequest& request,
                     catalog::Catalog* catalog)
    : StreamJob{host, slot, (request.flags & TS_VERIFY_PROGRESS) != 0},
      _request{request},
      _catalog{catalog},
      _file{request.file_number} {}

VerifyJob::~VerifyJob() = default;

// The catalog is asked before any file is read: the job has no client to keep fed meanwhile.
void VerifyJob::start() {
  fetch_volume_record(_catalog, _slot.home(), _slot.drive(), _alive, [] {},
                      [this](VolumeRecord record) { recorded(std::move(record)); });
}

void VerifyJob::recorded(VolumeRecord record) {
  _record = std::move(record);
  spdlog::info("drive {}: {} verifies {}{}", _slot.name(), who(),
               (_request.flags & TS_VERIFY_ALL) != 0 ? "every file" : "file " + std::to_string(_file),
               _record ? "" : " (the catalog knows nothing of this cartridge)");
  if (_host.client_gone() || _cut) {
    finish(0);
    return;
  }
  next_file();
}

void VerifyJob::later(std::function<void()> work) {
  auto mailbox = _slot.home().mailbox();
  if (!mailbox) {
    fail(proto::Status::internal, "the daemon cannot hand work to the drive's thread",
         drive::Ending::internal);
    return;
  }
  mailbox->post([alive = std::weak_ptr<int>{_alive}, work = std::move(work)] {
    if (!alive.expired()) {
      work();
    }
  });
}

void VerifyJob::next_file() {
  _stream.reset();
  if (_host.client_gone() || _cut) {
    finish(TS_VERIFY_DONE_CUT);
    return;
  }
  if (_done.checked >= verify_max_files) {
    spdlog::warn("drive {}: verify stopped after {} files without finding the end of data",
                 _slot.name(), _done.checked);
    finish(TS_VERIFY_DONE_CUT);
    return;
  }
  _positioned = false;
  _unpadded.reset();
  const auto* row = _record ? newest_row(*_record, _file) : nullptr;
  if (row != nullptr && row->padding > 0) {
    _unpadded.emplace();
    _unpadded_left = row->bytes;
  }
  _stream = _slot.drive().read_stream([this](const drive::StreamOutcome& o) { file_read(o); });
  _stream->on_data([this] { consume(); });
  _stream->start(_file, [this] {
    _positioned = true;
    streaming(_file);
  });
}

void VerifyJob::consume() {
  while (auto block = _stream->next()) {
    if (_unpadded && _unpadded_left > 0) {
      const auto take = std::min<std::uint64_t>(_unpadded_left, block->size());
      _unpadded->update(block->first(static_cast<std::size_t>(take)));
      _unpadded_left -= take;
    }
    _stream->consumed();  // may report the file's outcome: nothing of the stream is used after
    if (_phase == Phase::done || !_stream) {
      return;
    }
  }
  report_progress();
}

drive::StreamProgress VerifyJob::progress() const {
  return _stream ? _stream->progress() : drive::StreamProgress{};
}

void VerifyJob::file_read(const drive::StreamOutcome& outcome) {
  using drive::Ending;
  const bool all = (_request.flags & TS_VERIFY_ALL) != 0;
  switch (outcome.ending) {
    case Ending::client_gone:
    case Ending::shutting_down:
      later([this] { finish(TS_VERIFY_DONE_CUT); });
      return;
    case Ending::end_of_data:
      if (all) {
        later([this] { finish(TS_VERIFY_DONE_END_OF_DATA); });
      } else {
        later([this, message = outcome.message] {
          fail(proto::Status::end_of_data, message, Ending::end_of_data);
        });
      }
      return;
    default:
      break;
  }
  if (!_positioned) {
    // The drive could not reach the file: nothing after it can be found either.
    if (!all) {
      later([this, outcome] { fail(to_status(outcome.ending), outcome.message, outcome.ending); });
      return;
    }
    report_file(outcome);
    later([this] { finish(TS_VERIFY_DONE_CUT); });
    return;
  }
  report_file(outcome);
  if (!all) {
    later([this] { finish(0); });
    return;
  }
  ++_file;
  later([this] { next_file(); });
}

void VerifyJob::report_file(const drive::StreamOutcome& outcome) {
  proto::Verified v;
  v.file_number = _file;
  v.bytes = outcome.bytes;
  v.blocks = outcome.blocks;
  const auto* row = _record ? newest_row(*_record, _file) : nullptr;
  if (row != nullptr) {
    v.catalog_bytes = bytes_on_tape(*row);
    v.catalog_blocks = row->blocks;
    v.catalog_status = status_number(row->status);
    v.catalog_digest = row->sha256;
  }
  if (outcome.complete()) {
    v.digest = _unpadded ? _unpadded->finish() : outcome.sha256;
    const auto check = check_read_back(row, ReadBack{_file, outcome.bytes, outcome.blocks, v.digest});
    v.verdict = check.verdict;
    v.message = check.message;
    if (v.verdict == TS_VERDICT_UNRECORDED && row != nullptr) {
      v.message = std::string{"the catalog's row is "} + catalog::status_name(row->status) +
                  (row->sha256 ? "" : ", without a digest");
    }
  } else {
    v.verdict = TS_VERDICT_UNREADABLE;
    v.condition = to_status(outcome.ending);
    if (v.condition == proto::Status::ok) {
      v.condition = proto::Status::internal;
    }
    v.message = "file " + std::to_string(_file) + ": " + outcome.message + " after " +
                std::to_string(outcome.bytes) + " bytes";
  }
  ++_done.checked;
  switch (v.verdict) {
    case TS_VERDICT_OK:
      ++_done.ok;
      break;
    case TS_VERDICT_UNRECORDED:
      ++_done.unrecorded;
      break;
    default:
      ++_done.bad;
      spdlog::error("drive {}: verify: {}", _slot.name(), v.message);
      break;
  }
  if (!_host.client_gone()) {
    v.message = v.message.substr(0, TS_MAX_MESSAGE);
    _host.reply(v);
  }
}

void VerifyJob::finish(std::uint32_t flags) {
  _stream.reset();
  release_drive(drive::Ending::complete);
  _done.flags = flags;
  spdlog::info("drive {}: {}: verify ended: {} files checked, {} ok, {} unrecorded, {} bad{}",
               _slot.name(), who(), _done.checked, _done.ok, _done.unrecorded, _done.bad,
               (flags & TS_VERIFY_DONE_CUT) != 0 ? " (stopped before end of data)" : "");
  _phase = Phase::done;
  if (!_host.client_gone() && !_cut) {
    _host.reply(_done);
  }
  if (_cut && !_host.client_gone()) {
    _host.refuse(proto::Status::shutting_down, _cut->second);
    return;
  }
  _host.request_over(false);
}

void VerifyJob::fail(proto::Status status, const std::string& message, drive::Ending ending) {
  _stream.reset();
  release_drive(ending);
  _phase = Phase::done;
  if (_host.client_gone()) {
    _host.request_over(false);
    return;
  }
  _host.refuse(status, message);
}

void VerifyJob::client_gone() {
  if (ended_in_line(std::nullopt)) {
    return;
  }
  if (_stream) {
    _stream->abandon();
  }
}

void VerifyJob::cut_for_stop() {
  const std::string why = "the daemon is stopping and its stop timeout passed";
  if (ended_in_line(why + " before the drive was free")) {
    return;
  }
  if (_cut) {
    return;
  }
  _cut = {drive::Ending::shutting_down, why + "; the verify was cut"};
  if (_stream) {
    _stream->cut(drive::Ending::shutting_down, _cut->second);
  }
}

}  // namespace tapestream::server
