#include "server/catalog_record.hpp"

#include <algorithm>

#include "scsi/attribute.hpp"
#include "scsi/cdb.hpp"

namespace tapestream::server {
namespace {

using scsi::TapeCondition;

bool unit_attention(TapeCondition c) {
  return c == TapeCondition::medium_changed || c == TapeCondition::reset ||
         c == TapeCondition::parameters_changed || c == TapeCondition::unit_attention;
}

void ask_medium_serial(drive::Drive& drive, int tries_left,
                       std::function<void(std::optional<std::string>)> done) {
  const auto command = scsi::cdb::read_attribute(scsi::cdb::ReadAttributeAction::values, 0,
                                                 scsi::attribute_id::medium_serial_number, 512);
  drive.commands().run(command, [&drive, tries_left, done = std::move(done)](
                                    const drive::CommandResult& r) mutable {
    const auto condition = r.classification.condition;
    if (condition != TapeCondition::good) {
      if (unit_attention(condition) && tries_left > 0) {
        ask_medium_serial(drive, tries_left - 1, std::move(done));
        return;
      }
      done(std::nullopt);
      return;
    }
    const auto attributes = scsi::parse_attribute_values(r.data);
    const auto* serial = attributes ? scsi::find_attribute(attributes.value(),
                                                           scsi::attribute_id::medium_serial_number)
                                    : nullptr;
    // as_text() drops MAM's padding (spaces, or NULs on some drives).
    auto text = serial != nullptr ? serial->as_text() : std::string{};
    if (text.empty() || text.size() > TS_MAX_VOLUME_TEXT) {
      done(std::nullopt);
      return;
    }
    done(std::move(text));
  });
}

std::uint64_t ms_of(catalog::TimePoint t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return ms > 0 ? static_cast<std::uint64_t>(ms) : 0;
}

std::string cut(const std::optional<std::string>& text, std::size_t max) {
  return text ? text->substr(0, max) : std::string{};
}

}  // namespace

void read_medium_serial(drive::Drive& drive, std::function<void(std::optional<std::string>)> done) {
  ask_medium_serial(drive, 1, std::move(done));
}

catalog::FileStatus file_status_for(drive::Ending ending) {
  using drive::Ending;
  switch (ending) {
    case Ending::complete:
      return catalog::FileStatus::complete;
    case Ending::client_gone:
    case Ending::incomplete:
    case Ending::bad_end:
    case Ending::stalled:
    case Ending::shutting_down:
    case Ending::internal:
      return catalog::FileStatus::interrupted;
    default:
      return catalog::FileStatus::failed;  // a drive or medium condition
  }
}

void StreamRecord::begun(std::uint64_t file, const proto::WriteRequest& request) {
  if (_catalog == nullptr) {
    return;
  }
  _begun = true;
  _block_size = request.block_size;
  _fixed = (request.flags & TS_WRITE_FIXED) != 0;
  _since = std::chrono::steady_clock::now();
  catalog::StreamBegun b;
  b.stream = _stream;
  b.volume = catalog::VolumeKey{_medium_serial, _drive, _uuid, _label};
  b.file_number = file;
  b.label = request.label;
  b.block_size = request.block_size;
  b.fixed = _fixed;
  b.client_uid = _client_uid;
  b.start = std::chrono::system_clock::now();
  b.span = _span;
  _catalog->stream_begun(std::move(b));
}

void StreamRecord::ended(const drive::StreamOutcome& outcome) {
  if (_catalog == nullptr || !_begun) {
    return;  // a stream that never got a file (refused before READY) makes no row
  }
  _begun = false;
  catalog::StreamEnded e;
  e.stream = _stream;
  e.status = outcome.continues ? catalog::FileStatus::complete : file_status_for(outcome.ending);
  e.bytes = outcome.bytes;
  e.blocks = outcome.blocks;
  e.filemark_written = outcome.filemark_written;
  if (_fixed && _block_size > 0) {
    const auto whole = outcome.blocks * std::uint64_t{_block_size};
    e.padding = whole > outcome.bytes ? whole - outcome.bytes : 0;
  }
  e.end = std::chrono::system_clock::now();
  if (_span && !outcome.continues) {
    e.span_ended = _span->first;
    e.span_committed = outcome.complete();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - _since).count();
  e.rate = seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(outcome.bytes) / seconds) : 0;
  if (outcome.complete()) {
    // Of exactly the bytes on the tape only when committed; a cut stream's digest covers what
    // the producer gave, which may be more.
    // A spanning stream's digest is of the whole stream, not of a later part's file: a read of
    // the file checks the digest its row holds. A stream committed in its first part is that
    // file, and keeps it.
    e.sha256 = _span && _span->index > 1 ? std::nullopt : outcome.sha256;
  } else if (!outcome.continues) {
    e.failure = std::string{drive::ending_name(outcome.ending)} +
                (outcome.message.empty() ? "" : ": " + outcome.message);
  }
  _catalog->stream_ended(std::move(e));
}

std::vector<proto::FileList> file_list_frames(const catalog::VolumeFiles& volume, bool span_fields) {
  proto::FileList head;
  head.first_seen_ms = ms_of(volume.volume.first_seen);
  head.last_seen_ms = ms_of(volume.volume.last_seen);
  head.medium_serial = cut(volume.volume.medium_serial, TS_MAX_VOLUME_TEXT);
  head.label = cut(volume.volume.label, TS_MAX_VOLUME_TEXT);
  head.uuid = cut(volume.volume.uuid, TS_MAX_VOLUME_TEXT);
  head.barcode = cut(volume.volume.barcode, TS_MAX_VOLUME_TEXT);
  std::vector<proto::FileList> frames;
  std::size_t at = 0;
  do {
    auto& frame = frames.emplace_back(head);
    const auto end = std::min(volume.files.size(), at + TS_MAX_FILES_PER_FRAME);
    for (; at < end; ++at) {
      const auto& f = volume.files[at];
      proto::FileEntry e;
      e.file_number = f.file_number;
      e.bytes = f.bytes;
      e.blocks = f.blocks;
      e.padding = f.padding;
      e.start_ms = ms_of(f.start);
      e.end_ms = f.end ? ms_of(*f.end) : 0;
      e.rate = f.rate;
      e.block_size = f.block_size;
      e.client_uid = f.client_uid;
      e.status = static_cast<std::uint8_t>(f.status);
      e.flags = f.fixed ? TS_FILE_FIXED : 0;
      e.digest = f.sha256;
      e.label = f.label.substr(0, TS_MAX_LABEL);
      e.failure = f.failure.substr(0, TS_MAX_FILE_FAILURE);
      // A row the catalog holds with a stream but a bad index or offset (never written so by
      // this daemon) is listed as no part rather than breaking the answer.
      if (span_fields && f.span_stream && *f.span_stream > 0 && f.span_part >= 1 &&
          (f.span_part != 1 || f.span_offset == 0)) {
        e.span_stream = static_cast<std::uint64_t>(*f.span_stream);
        e.span_part = f.span_part;
        e.span_offset = f.span_offset;
        e.span_flags = f.span_last ? TS_SPAN_LAST : 0U;
      }
      frame.files.push_back(std::move(e));
    }
  } while (at < volume.files.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    frames[i].flags = (i + 1 < frames.size() ? TS_FILE_LIST_MORE : 0U) |
                      (span_fields ? TS_FILE_LIST_SPAN : 0U);
  }
  return frames;
}

}  // namespace tapestream::server
