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

VerifyJob::VerifyJob(JobHost& host, DriveSlot& slot, const proto::CatalogRebuild& request,
                     catalog::Catalog* catalog)
    : StreamJob{host, slot, (request.flags & TS_REBUILD_PROGRESS) != 0},
      _request{TS_VERIFY_ALL, 0, request.drive},
      _rebuild{true},
      _catalog{catalog} {}

VerifyJob::~VerifyJob() = default;

// The catalog is asked before any file is read: the job has no client to keep fed meanwhile.
void VerifyJob::start() {
  fetch_volume_record(_catalog, _slot.home(), _slot.drive(), _alive, [] {},
                      [this](VolumeRecord record) { recorded(std::move(record)); });
}

void VerifyJob::recorded(VolumeRecord record) {
  _medium_serial = std::move(record.medium_serial);
  if (_rebuild) {
    spdlog::info("drive {}: {} rebuilds the catalog of the cartridge {}", _slot.name(), who(),
                 _medium_serial.value_or("without a medium serial number"));
  } else {
    _record = std::move(record.files);
    spdlog::info("drive {}: {} verifies {}{}", _slot.name(), who(),
                 (_request.flags & TS_VERIFY_ALL) != 0 ? "every file" : "file " + std::to_string(_file),
                 _record ? "" : " (the catalog knows nothing of this cartridge)");
  }
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
  _largest_block = 0;
  _single_block.reset();
  _blocks_seen = 0;
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
    if (_rebuild) {
      _largest_block = std::max(_largest_block, static_cast<std::uint32_t>(block->size()));
      // Only a file of one small block can be a label or a trailer: that block is kept.
      if (_blocks_seen++ == 0 && block->size() <= tape_label::max_block) {
        _single_block.emplace(block->begin(), block->end());
      } else {
        _single_block.reset();
      }
    }
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
    // The drive could not reach the file: nothing after it can be found either. Before any
    // file was checked that is the request's failure (no cartridge, a drive error), not a file's.
    if (!all || _done.checked == 0) {
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

void VerifyJob::scanned(const drive::StreamOutcome& outcome) {
  ScannedTapeFile f;
  f.file = _file;
  f.bytes = outcome.bytes;
  f.blocks = outcome.blocks;
  f.largest_block = _largest_block;
  if (outcome.complete()) {
    f.sha256 = outcome.sha256;
    f.single_block = std::move(_single_block);
  } else {
    f.failure = std::string{drive::ending_name(outcome.ending)} +
                (outcome.message.empty() ? "" : ": " + outcome.message);
  }
  _scan.push_back(std::move(f));
  ++_done.checked;
}

void VerifyJob::report_file(const drive::StreamOutcome& outcome) {
  if (_rebuild) {
    scanned(outcome);
    return;
  }
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
    if (v.verdict == TS_VERDICT_UNRECORDED && row != nullptr && !row->sha256 &&
        row->status == catalog::FileStatus::complete) {
      v.message = "written without a digest (--no-digest): nothing to compare it with; it reads "
                  "to its end";
    } else if (v.verdict == TS_VERDICT_UNRECORDED && row != nullptr) {
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
  if (_rebuild && !_cut && !_host.client_gone()) {
    finish_rebuild(flags);
    return;
  }
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

// Nothing is recorded of a scan that was cut by its owner: rows from half a tape would mark
// the whole volume's rows superseded.
void VerifyJob::finish_rebuild(std::uint32_t flags) {
  const auto now = std::chrono::system_clock::now();
  auto contents = interpret_scan(_scan, now);
  proto::CatalogRebuilt answer;
  answer.files = _scan.size();
  answer.data_files = contents.data_files.size();
  answer.confirmed = contents.confirmed;
  answer.flags = ((flags & TS_VERIFY_DONE_CUT) != 0 ? TS_REBUILT_CUT : 0U) |
                 (contents.volume ? TS_REBUILT_LABELLED : 0U);
  answer.medium_serial = _medium_serial.value_or("");
  catalog::VolumeRebuilt rebuilt;
  // A labelled tape is found by its label's uuid first, as a write on it finds it: a rebuild
  // must not make a second row for the same volume.
  rebuilt.volume = catalog::VolumeKey{
      _medium_serial, _slot.name(),
      contents.volume ? std::optional{contents.volume->uuid} : std::nullopt,
      contents.volume ? std::optional{contents.volume->label} : std::nullopt};
  rebuilt.when = now;
  if (contents.volume) {
    answer.label = contents.volume->label.substr(0, TS_MAX_VOLUME_TEXT);
    answer.uuid = contents.volume->uuid.substr(0, TS_MAX_VOLUME_TEXT);
    rebuilt.label = contents.volume->label;
    rebuilt.uuid = contents.volume->uuid;
  }
  rebuilt.files = std::move(contents.data_files);
  if ((flags & TS_VERIFY_DONE_CUT) != 0) {
    rebuilt.scanned_files = _scan.size();
  }
  _catalog->volume_rebuilt(std::move(rebuilt));
  spdlog::info("drive {}: {}: catalog rebuilt from {} files on the tape: {} data files, {} "
               "confirmed by their trailers{}",
               _slot.name(), who(), answer.files, answer.data_files, answer.confirmed,
               (flags & TS_VERIFY_DONE_CUT) != 0 ? " (the scan stopped before end of data)" : "");
  _phase = Phase::done;
  _host.reply(answer);
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
