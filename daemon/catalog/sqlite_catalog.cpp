#include "catalog/sqlite_catalog.hpp"

#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <system_error>

#include "catalog/schema.hpp"

namespace tapestream::catalog {
namespace {

std::int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t as_int(std::uint64_t v) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(v, INT64_MAX));
}

}  // namespace

const char* status_name(FileStatus status) {
  switch (status) {
    case FileStatus::writing: return "writing";
    case FileStatus::complete: return "complete";
    case FileStatus::interrupted: return "interrupted";
    case FileStatus::failed: return "failed";
    case FileStatus::overwritten: return "overwritten";
    case FileStatus::scanned: return "scanned";
    case FileStatus::superseded: return "superseded";
  }
  return "failed";
}

SqliteCatalog::SqliteCatalog(std::filesystem::path path) : _path{std::move(path)} {
  try {
    _db = std::make_unique<Database>(_path, true);
    prepare_schema(*_db, _path.string());
    recover_interrupted(*_db);
  } catch (const SqliteError& e) {
    _db.reset();
    failed("opening", e.code, e.message);
  }
  _thread = std::thread{[this] { run(); }};
}

SqliteCatalog::~SqliteCatalog() {
  {
    const std::lock_guard lock{_mutex};
    _stopping = true;
  }
  _wake.notify_one();
  _thread.join();
}

void SqliteCatalog::recover_interrupted(Database& db) {
  std::int64_t count = 0;
  db.transaction([&] {
    auto q = db.prepare(
        "UPDATE files SET status = 'interrupted', "
        "failure = 'the daemon stopped before the stream ended' WHERE status = 'writing'");
    q.run();
    count = sqlite3_changes(db.raw());
  });
  if (count > 0) {
    spdlog::warn("catalog {}: {} file(s) still marked writing from an earlier run are now "
                 "interrupted (the daemon stopped before their streams ended)",
                 _path.string(), count);
  }
}

void SqliteCatalog::failed(const std::string& what, int code, const std::string& message) {
  bool first = false;
  {
    const std::lock_guard lock{_mutex};
    ++_health.failed_changes;
    _health.ok = false;
    _health.last_error = what + ": " + message;
    first = _logged_kinds.insert(code & 0xFF).second;
  }
  if (first) {  // once per kind: a full disk must not log a line per stream
    spdlog::error("catalog {}: {}: {} (the daemon goes on; streams are not affected, and "
                  "further errors of this kind are counted, not logged)",
                  _path.string(), what, message);
  }
}

void SqliteCatalog::enqueue(Work work, bool is_change) {
  {
    const std::lock_guard lock{_mutex};
    if (!_db && is_change) {
      ++_health.failed_changes;
      return;
    }
    _queue.push_back(std::move(work));
  }
  _wake.notify_one();
}

void SqliteCatalog::run() {
  // Signals are the control thread's (it reads SIGTERM to stop in order); "ts:catalog" in
  // ps -L and /proc/PID/task/*/comm.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  pthread_setname_np(pthread_self(), "ts:catalog");
  std::unique_lock lock{_mutex};
  for (;;) {
    _wake.wait(lock, [this] { return _stopping || !_queue.empty(); });
    if (_queue.empty()) {
      return;  // stopping, and everything queued was applied
    }
    auto work = std::move(_queue.front());
    _queue.pop_front();
    _busy = true;
    lock.unlock();
    work(*_db);
    lock.lock();
    _busy = false;
    if (_queue.empty()) {
      _idle.notify_all();
    }
  }
}

void SqliteCatalog::flush() {
  std::unique_lock lock{_mutex};
  _idle.wait(lock, [this] { return _queue.empty() && !_busy; });
}

Health SqliteCatalog::health() const {
  const std::lock_guard lock{_mutex};
  return _health;
}

std::int64_t SqliteCatalog::volume_id(Database& db, const VolumeKey& key, TimePoint when,
                                      bool seen) {
  std::optional<std::int64_t> found;
  if (key.uuid) {
    auto find = db.prepare("SELECT id FROM volumes WHERE uuid = ?");
    find.bind(1, std::string_view{*key.uuid});
    if (find.step()) {
      found = find.integer(0);
    }
  }
  if (!found && key.medium_serial) {
    auto find = db.prepare("SELECT id FROM volumes WHERE medium_serial = ?");
    find.bind(1, std::string_view{*key.medium_serial});
    if (find.step()) {
      found = find.integer(0);
    }
  }
  if (!found && !key.medium_serial) {
    // Without a serial number, the cartridge last seen in the drive; a labelled tape is taken
    // for it only when that volume had no label of another identity.
    auto find = db.prepare(key.uuid ? "SELECT id FROM volumes WHERE medium_serial IS NULL AND "
                                      "last_drive = ? AND uuid IS NULL ORDER BY last_seen DESC, "
                                      "id DESC LIMIT 1"
                                    : "SELECT id FROM volumes WHERE medium_serial IS NULL AND "
                                      "last_drive = ? ORDER BY last_seen DESC, id DESC LIMIT 1");
    find.bind(1, std::string_view{key.drive});
    if (find.step()) {
      found = find.integer(0);
    }
  }
  if (found && seen) {
    db.prepare("UPDATE volumes SET last_seen = max(last_seen, ?), last_drive = ? WHERE id = ?")
        .bind(1, to_ms(when))
        .bind(2, std::string_view{key.drive})
        .bind(3, *found)
        .run();
  }
  if (found) {
    if (key.uuid) {  // a label written (or rewritten) on this cartridge, or met again
      db.prepare("UPDATE volumes SET uuid = ?, label = ? WHERE id = ?")
          .bind(1, key.uuid)
          .bind(2, key.label)
          .bind(3, *found)
          .run();
    }
    return *found;
  }
  db.prepare("INSERT INTO volumes (medium_serial, last_drive, first_seen, last_seen, label, uuid) "
             "VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, key.medium_serial)
      .bind(2, std::string_view{key.drive})
      .bind(3, to_ms(when))
      .bind(4, to_ms(when))
      .bind(5, key.label)
      .bind(6, key.uuid)
      .run();
  return sqlite3_last_insert_rowid(db.raw());
}

void SqliteCatalog::volume_seen(VolumeKey volume, TimePoint when) {
  enqueue([this, volume = std::move(volume), when](Database& db) {
    try {
      db.transaction([&] { (void)volume_id(db, volume, when); });
    } catch (const SqliteError& e) {
      failed("recording a volume", e.code, e.message);
    }
  }, true);
}

void SqliteCatalog::volume_barcode(VolumeKey volume, std::string barcode, TimePoint when) {
  enqueue([this, volume = std::move(volume), barcode = std::move(barcode), when](Database& db) {
    try {
      db.transaction([&] {
        const auto id = volume_id(db, volume, when, false);
        db.prepare("UPDATE volumes SET barcode = NULL WHERE barcode = ? AND id != ?")
            .bind(1, std::string_view{barcode})
            .bind(2, id)
            .run();
        db.prepare("UPDATE volumes SET barcode = ? WHERE id = ?")
            .bind(1, std::string_view{barcode})
            .bind(2, id)
            .run();
      });
    } catch (const SqliteError& e) {
      failed("recording a volume's barcode", e.code, e.message);
    }
  }, true);
}

void SqliteCatalog::stream_begun(StreamBegun begun) {
  enqueue([this, begun = std::move(begun)](Database& db) {
    try {
      db.transaction([&] {
        const auto volume = volume_id(db, begun.volume, begun.start);
        db.prepare("INSERT INTO files (volume_id, file_number, label, block_size, mode, "
                   "start_time, client_uid, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'writing')")
            .bind(1, volume)
            .bind(2, as_int(begun.file_number))
            .bind(3, std::string_view{begun.label})
            .bind(4, std::int64_t{begun.block_size})
            .bind(5, std::string_view{begun.fixed ? "fixed" : "variable"})
            .bind(6, to_ms(begun.start))
            .bind(7, std::int64_t{begun.client_uid})
            .run();
        const auto row = sqlite3_last_insert_rowid(db.raw());
        _stream_rows[begun.stream] = row;
        if (begun.span) {
          record_span_part(db, row, *begun.span);
        }
      });
    } catch (const SqliteError& e) {
      failed("recording the start of a stream", e.code, e.message);
    }
  }, true);
}

// The first part is its own stream's row; a later part finds the first part's row by the
// daemon's number for it (kept until the stream's last part ends: a part after a restart would
// be a new stream anyway).
void SqliteCatalog::record_span_part(Database& db, std::int64_t row, const SpanPart& part) {
  std::int64_t first_row = row;
  if (part.index == 1) {
    _span_rows[part.first] = row;
  } else if (const auto found = _span_rows.find(part.first); found != _span_rows.end()) {
    first_row = found->second;
  } else {
    return;  // the first part's row could not be recorded; that failure was counted
  }
  db.prepare("UPDATE files SET span_stream = ?, span_part = ?, span_offset = ? WHERE id = ?")
      .bind(1, first_row)
      .bind(2, std::int64_t{part.index})
      .bind(3, as_int(part.offset))
      .bind(4, row)
      .run();
}

void SqliteCatalog::stream_ended(StreamEnded ended) {
  enqueue([this, ended = std::move(ended)](Database& db) {
    std::optional<std::int64_t> first_part_row;
    if (ended.span_ended) {
      if (const auto first = _span_rows.find(*ended.span_ended); first != _span_rows.end()) {
        first_part_row = first->second;
        _span_rows.erase(first);  // no later part will ask for it
      }
    }
    const auto found = _stream_rows.find(ended.stream);
    if (found == _stream_rows.end()) {
      return;  // its start could not be recorded; that failure was counted
    }
    const auto row = found->second;
    _stream_rows.erase(found);
    try {
      db.transaction([&] {
        std::int64_t part = 0;
        if (ended.blocks == 0 && first_part_row) {
          auto index = db.prepare("SELECT span_part FROM files WHERE id = ?");
          index.bind(1, row);
          if (index.step() && !index.is_null(0)) {
            part = index.integer(0);
          }
        }
        // Without a block and a filemark nothing reached the tape: the next stream takes the
        // same file number, so this never was a file. An empty stream committed by its filemark
        // is a file and keeps its row (`list` must show what `read --file` finds), spanning or
        // not; the empty last part of a spanning stream (part 2 or later) does not: the part
        // before it is the stream's last, and `read --stream` needs no empty part.
        if (ended.blocks == 0 && (!ended.filemark_written || part > 1)) {
          db.prepare("DELETE FROM files WHERE id = ?").bind(1, row).run();
          if (part > 1 && ended.span_committed) {
            // A stream that committed with an empty last part (its data ended exactly where
            // the volume before filled): the part before it, when the catalog holds it complete,
            // is the last of the stream. Not "the newest part": one whose row was never
            // recorded would leave the part before it marked, the stream short.
            db.prepare("UPDATE files SET span_last = 1 WHERE span_stream = ? AND span_part = ? "
                       "AND status = 'complete'")
                .bind(1, *first_part_row)
                .bind(2, part - 1)
                .run();
          }
          return;
        }
        auto update = db.prepare(
            "UPDATE files SET status = ?, bytes = ?, blocks = ?, padding = ?, sha256 = ?, "
            "end_time = ?, rate = ?, failure = ?, span_last = ? WHERE id = ?");
        update.bind(1, std::string_view{status_name(ended.status)})
            .bind(2, as_int(ended.bytes))
            .bind(3, as_int(ended.blocks))
            .bind(4, as_int(ended.padding));
        if (ended.sha256) {
          update.bind(5, std::span<const std::uint8_t>{*ended.sha256});
        } else {
          update.bind_null(5);
        }
        update.bind(6, to_ms(ended.end))
            .bind(7, as_int(ended.rate))
            .bind(8, std::string_view{ended.failure})
            .bind(9, std::int64_t{ended.span_committed ? 1 : 0})
            .bind(10, row)
            .run();
        // Data at this file number ended the tape here: what an earlier stream left at or
        // after it cannot be read any more. The rows stay, marked.
        db.prepare("UPDATE files SET status = 'overwritten' WHERE id < ?1 AND status NOT IN "
                   "('overwritten', 'superseded') AND volume_id = (SELECT volume_id FROM files "
                   "WHERE id = ?1) "
                   "AND file_number >= (SELECT file_number FROM files WHERE id = ?1)")
            .bind(1, row)
            .run();
      });
    } catch (const SqliteError& e) {
      failed("recording the end of a stream", e.code, e.message);
    }
  }, true);
}

void SqliteCatalog::files_voided(FilesVoided voided) {
  enqueue([this, voided = std::move(voided)](Database& db) {
    try {
      db.transaction([&] {
        const auto volume = volume_id(db, voided.volume, std::chrono::system_clock::now());
        db.prepare("UPDATE files SET status = 'overwritten' WHERE volume_id = ? AND "
                   "file_number >= ? AND status NOT IN ('overwritten', 'writing', 'superseded')")
            .bind(1, volume)
            .bind(2, as_int(voided.from_file))
            .run();
      });
    } catch (const SqliteError& e) {
      failed("recording an erase", e.code, e.message);
    }
  }, true);
}

void SqliteCatalog::volume_rebuilt(VolumeRebuilt rebuilt) {
  enqueue([this, rebuilt = std::move(rebuilt)](Database& db) {
    try {
      db.transaction([&] {
        const auto volume = volume_id(db, rebuilt.volume, rebuilt.when);
        if (rebuilt.label || rebuilt.uuid) {
          db.prepare("UPDATE volumes SET label = coalesce(?, label), uuid = coalesce(?, uuid) "
                     "WHERE id = ?")
              .bind(1, rebuilt.label)
              .bind(2, rebuilt.uuid)
              .bind(3, volume)
              .run();
        }
        // The rows the scan replaces: those of files it reached (a cut scan says how far),
        // never the history of overwritten files or a stream still writing.
        db.prepare("UPDATE files SET status = 'superseded' WHERE volume_id = ? AND "
                   "status NOT IN ('superseded', 'overwritten', 'writing') AND file_number < ?")
            .bind(1, volume)
            .bind(2, rebuilt.scanned_files ? as_int(*rebuilt.scanned_files)
                                           : std::numeric_limits<std::int64_t>::max())
            .run();
        for (const auto& f : rebuilt.files) {
          auto insert = db.prepare(
              "INSERT INTO files (volume_id, file_number, label, bytes, blocks, block_size, mode, "
              "padding, sha256, start_time, end_time, client_uid, status, failure) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
          insert.bind(1, volume)
              .bind(2, as_int(f.file_number))
              .bind(3, std::string_view{f.label})
              .bind(4, as_int(f.bytes))
              .bind(5, as_int(f.blocks))
              .bind(6, std::int64_t{f.block_size})
              .bind(7, std::string_view{f.fixed ? "fixed" : "variable"})
              .bind(8, as_int(f.padding));
          if (f.sha256) {
            insert.bind(9, std::span<const std::uint8_t>{*f.sha256});
          } else {
            insert.bind_null(9);
          }
          insert.bind(10, to_ms(f.start));
          if (f.end) {
            insert.bind(11, to_ms(*f.end));
          } else {
            insert.bind_null(11);
          }
          insert.bind(12, std::int64_t{f.client_uid})
              .bind(13, std::string_view{status_name(f.status)})
              .bind(14, std::string_view{f.failure})
              .run();
        }
      });
    } catch (const SqliteError& e) {
      failed("recording a rebuilt volume", e.code, e.message);
    }
  }, true);
}

}  // namespace tapestream::catalog
