// The catalog's answers to LIST_FILES: a volume found by drive or by name, and its files, read
// on the catalog's thread like every change.
#include <algorithm>
#include <system_error>

#include "catalog/sqlite_catalog.hpp"

namespace tapestream::catalog {
namespace {

TimePoint from_ms(std::int64_t ms) { return TimePoint{std::chrono::milliseconds{ms}}; }

// No volume matches a query: an answer, not a failure of the catalog.
struct NoSuchVolume {
  std::string message;
};

FileStatus status_from(const std::string& name) {
  for (std::uint8_t s = 1; s <= file_status_max; ++s) {
    if (name == status_name(static_cast<FileStatus>(s))) {
      return static_cast<FileStatus>(s);
    }
  }
  return FileStatus::failed;
}

}  // namespace

void SqliteCatalog::list_files(VolumeQuery query, ListAnswer answer) {
  if (!_db) {  // set once, in the constructor
    answer(Failure{std::make_error_code(std::errc::io_error),
                   "the catalog " + _path.string() + " could not be opened: " + health().last_error});
    return;
  }
  enqueue([this, query = std::move(query), answer = std::move(answer)](Database& db) {
    try {
      answer(list(db, query));
    } catch (const SqliteError& e) {
      answer(Failure{std::make_error_code(std::errc::io_error), "the catalog: " + e.message});
    } catch (const NoSuchVolume& e) {
      answer(Failure{std::make_error_code(std::errc::no_such_file_or_directory), e.message});
    }
  }, false);
}

VolumeFiles SqliteCatalog::list(Database& db, const VolumeQuery& query) {
  // Two volumes seen in the same millisecond (a spanning stream's swap on an emulated library,
  // a few commands apart): the newer row is the one in the drive.
  auto find = query.selector.empty()
                  ? db.prepare("SELECT id, medium_serial, label, uuid, barcode, first_seen, "
                               "last_seen FROM volumes WHERE last_drive = ? "
                               "ORDER BY last_seen DESC, id DESC LIMIT 1")
                  // A barcode names a volume too (a library's cartridges are known by it), but
                  // only after a label, UUID or serial that is the same text.
                  : db.prepare("SELECT id, medium_serial, label, uuid, barcode, first_seen, "
                               "last_seen FROM volumes WHERE label = ?1 OR uuid = ?1 OR "
                               "medium_serial = ?1 OR barcode = ?1 "
                               "ORDER BY (label = ?1 OR uuid = ?1 OR medium_serial = ?1) DESC, "
                               "last_seen DESC LIMIT 1");
  find.bind(1, std::string_view{query.selector.empty() ? query.drive : query.selector});
  if (!find.step()) {
    throw NoSuchVolume{
        query.selector.empty()
            ? "the catalog knows no volume in drive " + query.drive + " (nothing written there yet)"
            : "the catalog knows no volume with label, UUID, medium serial or barcode \"" + query.selector + "\""};
  }
  VolumeFiles result;
  auto& v = result.volume;
  v.id = find.integer(0);
  v.medium_serial = find.optional_text(1);
  v.label = find.optional_text(2);
  v.uuid = find.optional_text(3);
  v.barcode = find.optional_text(4);
  v.first_seen = from_ms(find.integer(5));
  v.last_seen = from_ms(find.integer(6));
  auto files = db.prepare(
      "SELECT file_number, label, bytes, blocks, block_size, mode, padding, sha256, start_time, "
      "end_time, rate, client_uid, status, failure, span_stream, span_part, span_offset, "
      "span_last FROM files WHERE volume_id = ? ORDER BY file_number, id");
  files.bind(1, v.id);
  while (files.step()) {
    FileRow f;
    f.file_number = static_cast<std::uint64_t>(files.integer(0));
    f.label = files.text(1);
    f.bytes = static_cast<std::uint64_t>(files.integer(2));
    f.blocks = static_cast<std::uint64_t>(files.integer(3));
    f.block_size = static_cast<std::uint32_t>(files.integer(4));
    f.fixed = files.text(5) == "fixed";
    f.padding = static_cast<std::uint64_t>(files.integer(6));
    if (const auto digest = files.blob(7); digest.size() == 32) {
      f.sha256.emplace();
      std::copy(digest.begin(), digest.end(), f.sha256->begin());
    }
    f.start = from_ms(files.integer(8));
    if (!files.is_null(9)) {
      f.end = from_ms(files.integer(9));
    }
    f.rate = static_cast<std::uint64_t>(files.integer(10));
    f.client_uid = static_cast<std::uint32_t>(files.integer(11));
    f.status = status_from(files.text(12));
    f.failure = files.text(13);
    if (!files.is_null(14)) {
      f.span_stream = files.integer(14);
      f.span_part = static_cast<std::uint32_t>(files.integer(15));
      f.span_offset = static_cast<std::uint64_t>(files.integer(16));
      f.span_last = files.integer(17) != 0;
    }
    result.files.push_back(std::move(f));
  }
  return result;
}

}  // namespace tapestream::catalog
