#include "catalog/schema.hpp"

#include <array>
#include <string>

#include "base/startup_error.hpp"

namespace tapestream::catalog {
namespace {

// Migration n takes the schema from version n to n + 1. Append only: a released migration is
// never edited, because databases out there already ran it.
constexpr std::array<const char*, schema_version> migrations{{
    R"sql(
CREATE TABLE volumes (
  id            INTEGER PRIMARY KEY,
  medium_serial TEXT UNIQUE,          -- MAM attribute 0401h; NULL when the drive reads none
  last_drive    TEXT NOT NULL,        -- where it was last seen
  label         TEXT,                 -- the tape's volume label, once one is written
  uuid          TEXT,
  barcode       TEXT,                 -- NULL until a changer reports one
  first_seen    INTEGER NOT NULL,     -- milliseconds since the epoch
  last_seen     INTEGER NOT NULL
);
CREATE TABLE files (
  id          INTEGER PRIMARY KEY,
  volume_id   INTEGER NOT NULL REFERENCES volumes(id),
  file_number INTEGER NOT NULL,
  label       TEXT NOT NULL DEFAULT '',
  bytes       INTEGER NOT NULL DEFAULT 0,
  blocks      INTEGER NOT NULL DEFAULT 0,
  block_size  INTEGER NOT NULL,
  mode        TEXT NOT NULL CHECK (mode IN ('variable', 'fixed')),
  padding     INTEGER NOT NULL DEFAULT 0,
  sha256      BLOB CHECK (sha256 IS NULL OR length(sha256) = 32),
  start_time  INTEGER NOT NULL,
  end_time    INTEGER,
  rate        INTEGER NOT NULL DEFAULT 0,
  client_uid  INTEGER NOT NULL,
  status      TEXT NOT NULL
              CHECK (status IN ('writing', 'complete', 'interrupted', 'failed', 'overwritten')),
  failure     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX files_by_volume ON files (volume_id, file_number);
)sql",
    // 1 -> 2: `catalog rebuild` records files a scan found (scanned) and marks the rows it
    // replaces (superseded). SQLite cannot change a CHECK constraint in place: the table is
    // copied into one with the wider constraint, every row kept.
    R"sql(
CREATE TABLE files_v2 (
  id          INTEGER PRIMARY KEY,
  volume_id   INTEGER NOT NULL REFERENCES volumes(id),
  file_number INTEGER NOT NULL,
  label       TEXT NOT NULL DEFAULT '',
  bytes       INTEGER NOT NULL DEFAULT 0,
  blocks      INTEGER NOT NULL DEFAULT 0,
  block_size  INTEGER NOT NULL,
  mode        TEXT NOT NULL CHECK (mode IN ('variable', 'fixed')),
  padding     INTEGER NOT NULL DEFAULT 0,
  sha256      BLOB CHECK (sha256 IS NULL OR length(sha256) = 32),
  start_time  INTEGER NOT NULL,
  end_time    INTEGER,
  rate        INTEGER NOT NULL DEFAULT 0,
  client_uid  INTEGER NOT NULL,
  status      TEXT NOT NULL
              CHECK (status IN ('writing', 'complete', 'interrupted', 'failed', 'overwritten',
                                'scanned', 'superseded')),
  failure     TEXT NOT NULL DEFAULT ''
);
INSERT INTO files_v2 SELECT id, volume_id, file_number, label, bytes, blocks, block_size, mode,
  padding, sha256, start_time, end_time, rate, client_uid, status, failure FROM files;
DROP TABLE files;
ALTER TABLE files_v2 RENAME TO files;
CREATE INDEX files_by_volume ON files (volume_id, file_number);
)sql",
    // 2 -> 3: a stream that spans volumes is a file row per part (each on its own volume, with
    // its own status, bytes and blocks); the parts name the row of the first part as their
    // stream, their index from 1, and the bytes of the stream before them.
    R"sql(
ALTER TABLE files ADD COLUMN span_stream INTEGER REFERENCES files(id);
ALTER TABLE files ADD COLUMN span_part INTEGER CHECK (span_part IS NULL OR span_part >= 1);
ALTER TABLE files ADD COLUMN span_offset INTEGER CHECK (span_offset IS NULL OR span_offset >= 0);
CREATE INDEX files_by_span ON files (span_stream, span_part);
)sql",
    // 3 -> 4: the part with which a spanning stream committed says so. Without the mark, parts
    // 1..K of a stream that failed after part K (the next part wrote nothing, so it left no
    // row) looked like a whole stream of K parts. Rows from before stay 0: not known.
    R"sql(
ALTER TABLE files ADD COLUMN span_last INTEGER NOT NULL DEFAULT 0 CHECK (span_last IN (0, 1));
)sql",
}};

int table_count(Database& db) {
  auto q = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
  q.step();
  return static_cast<int>(q.integer(0));
}

bool has_schema_table(Database& db) {
  auto q = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema'");
  return q.step();
}

int stored_version(Database& db, const std::string& where) {
  if (!has_schema_table(db)) {
    if (table_count(db) == 0) {
      return 0;  // a new, empty database
    }
    throw StartupError{where + " is an SQLite database but not a tapestream catalog (it has "
                             "no schema table); it is left as it is: move it away or name "
                             "another catalog path"};
  }
  auto q = db.prepare("SELECT version FROM schema");
  if (!q.step() || q.is_null(0)) {
    throw StartupError{where + ": its schema table holds no version; it is left as it is"};
  }
  return static_cast<int>(q.integer(0));
}

}  // namespace

void prepare_schema(Database& db, const std::string& where) {
  db.exec("PRAGMA busy_timeout = 5000");
  try {
    // The first read of the file: a file that is not SQLite fails here, before any write.
    (void)table_count(db);
  } catch (const SqliteError& e) {
    if (e.primary() == SQLITE_NOTADB || e.primary() == SQLITE_CORRUPT) {
      throw StartupError{where + " is not an SQLite database (" + e.message +
                               "); it is left as it is: move it away or name another catalog path"};
    }
    throw;
  }
  const int version = stored_version(db, where);
  if (version > schema_version) {
    throw StartupError{where + " has catalog schema version " + std::to_string(version) +
                             ", newer than this daemon's " + std::to_string(schema_version) +
                             " (written by a later tapestreamd); it is left as it is"};
  }
  // WAL: a query never waits for the writer, and a commit appends instead of rewriting pages.
  // synchronous=FULL: a committed stream's row is on the disk before the change returns.
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  for (int v = version; v < schema_version; ++v) {
    db.transaction([&] {
      db.exec(migrations[static_cast<std::size_t>(v)]);
      if (v == 0) {
        db.exec("CREATE TABLE schema (version INTEGER NOT NULL); INSERT INTO schema VALUES (0)");
      }
      db.prepare("UPDATE schema SET version = ?").bind(1, std::int64_t{v + 1}).run();
    });
  }
}

}  // namespace tapestream::catalog
