// The SQLite catalog on a real file: its schema and migrations, the files it refuses (and leaves
// alone), WAL mode, the life of a file row, and changes queued while a query runs.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "base/startup_error.hpp"
#include "catalog/sqlite_catalog.hpp"
#include "temp_dir.hpp"

namespace tapestream::catalog {
namespace {

namespace fs = std::filesystem;

class CatalogTest : public ::testing::Test {
 protected:

  // A statement's single integer or text answer, from an independent connection.
  std::string ask(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    std::string answer;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(q, 0);
      answer = t != nullptr ? reinterpret_cast<const char*>(t) : "NULL";
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return answer;
  }

  static VolumeFiles listing(SqliteCatalog& c, VolumeQuery query) {
    std::promise<Result<VolumeFiles, Failure>> promise;
    c.list_files(std::move(query), [&](Result<VolumeFiles, Failure> r) { promise.set_value(std::move(r)); });
    auto r = promise.get_future().get();
    EXPECT_TRUE(r) << (r ? "" : r.error().what());
    return r ? std::move(r).value() : VolumeFiles{};
  }

  static StreamBegun begun(std::uint64_t stream, std::uint64_t file, std::string label) {
    StreamBegun b;
    b.stream = stream;
    b.volume = VolumeKey{"SERIAL01", "emu0"};
    b.file_number = file;
    b.label = std::move(label);
    b.block_size = 65536;
    b.client_uid = 1000;
    b.start = std::chrono::system_clock::now();
    return b;
  }
  static StreamEnded ended(std::uint64_t stream, FileStatus status, std::uint64_t blocks) {
    StreamEnded e;
    e.stream = stream;
    e.status = status;
    e.bytes = blocks * 65536;
    e.blocks = blocks;
    e.end = std::chrono::system_clock::now();
    return e;
  }

  test::TempDir _tmp{"catalog_test"};
  fs::path _dir = _tmp.path();
  fs::path _path = _dir / "catalog.sqlite";
};

TEST_F(CatalogTest, NewDatabaseGetsTheCurrentSchemaInWalMode) {
  { SqliteCatalog c{_path}; EXPECT_TRUE(c.health().ok); }
  EXPECT_EQ(ask("SELECT version FROM schema"), "4");
  EXPECT_EQ(ask("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(ask("SELECT count(*) FROM sqlite_master WHERE name IN ('volumes', 'files')"), "2");
}

TEST_F(CatalogTest, FutureSchemaVersionIsRefusedAndLeftAlone) {
  { SqliteCatalog c{_path}; }
  ASSERT_EQ(sqlite3_threadsafe() != 0, true);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    SqliteCatalog c{_path};
    FAIL() << "a catalog from the future was opened";
  } catch (const StartupError& e) {
    EXPECT_NE(std::string{e.what()}.find("version 99"), std::string::npos) << e.what();
    EXPECT_NE(std::string{e.what()}.find("newer"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ask("SELECT version FROM schema"), "99");
}

TEST_F(CatalogTest, GarbageFileIsRefusedNeverTruncated) {
  const std::string garbage(8192, 'x');
  std::ofstream{_path} << garbage;
  EXPECT_THROW(SqliteCatalog{_path}, StartupError);
  EXPECT_EQ(fs::file_size(_path), garbage.size());
  std::ifstream in{_path};
  std::string back{std::istreambuf_iterator<char>{in}, {}};
  EXPECT_EQ(back, garbage);
}

TEST_F(CatalogTest, AnotherProgramsDatabaseIsRefused) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE mine (x); INSERT INTO mine VALUES (1)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THROW(SqliteCatalog{_path}, StartupError);
  EXPECT_EQ(ask("SELECT x FROM mine"), "1");
}

TEST_F(CatalogTest, StreamsBecomeFileRowsAndAnEmptyStreamOnlyWithItsFilemark) {
  SqliteCatalog c{_path};
  c.stream_begun(begun(1, 0, "first"));
  c.stream_ended(ended(1, FileStatus::complete, 3));
  c.stream_begun(begun(2, 1, "nothing"));
  c.stream_ended(ended(2, FileStatus::interrupted, 0));
  c.stream_begun(begun(3, 1, "second"));
  auto e = ended(3, FileStatus::failed, 2);
  e.failure = "medium error";
  e.sha256 = Digest{};
  e.sha256->fill(0xAB);
  c.stream_ended(e);
  // An empty stream committed: its filemark made file 2 (review6 #12: it had no row).
  c.stream_begun(begun(4, 2, "empty"));
  auto empty = ended(4, FileStatus::complete, 0);
  empty.filemark_written = true;
  c.stream_ended(empty);
  const auto v = listing(c, {"emu0", ""});
  EXPECT_EQ(v.volume.medium_serial, "SERIAL01");
  ASSERT_EQ(v.files.size(), 3U);
  EXPECT_EQ(v.files[2].label, "empty");
  EXPECT_EQ(v.files[2].file_number, 2U);
  EXPECT_EQ(v.files[2].status, FileStatus::complete);
  EXPECT_EQ(v.files[2].bytes, 0U);
  EXPECT_EQ(v.files[0].label, "first");
  EXPECT_EQ(v.files[0].status, FileStatus::complete);
  EXPECT_EQ(v.files[0].blocks, 3U);
  EXPECT_FALSE(v.files[0].sha256);
  EXPECT_EQ(v.files[1].label, "second");
  EXPECT_EQ(v.files[1].status, FileStatus::failed);
  EXPECT_EQ(v.files[1].failure, "medium error");
  ASSERT_TRUE(v.files[1].sha256);
  EXPECT_EQ((*v.files[1].sha256)[31], 0xAB);
  EXPECT_EQ(listing(c, {"other", "SERIAL01"}).files.size(), 3U);
}

// A spanning stream's swap in one millisecond (integration.span_cli.write failed once in CI):
// a part begins on one cartridge and the next part on the next cartridge a few emulated
// commands later, at the same `when`. The volume in the drive is the newer row.
TEST_F(CatalogTest, OfTwoVolumesSeenInTheSameMillisecondTheNewerIsInTheDrive) {
  SqliteCatalog c{_path};
  const auto now = std::chrono::system_clock::now();
  auto two = begun(1, 0, "part2");
  two.volume = VolumeKey{"SERIAL02", "emu0"};
  two.start = now;
  c.stream_begun(two);
  c.stream_ended(ended(1, FileStatus::complete, 1));
  c.volume_barcode(VolumeKey{"SERIAL02", "emu0"}, "VOL002", now);
  auto three = begun(2, 0, "part3");
  three.volume = VolumeKey{"SERIAL03", "emu0"};
  three.start = now;
  c.stream_begun(three);
  c.stream_ended(ended(2, FileStatus::complete, 1));
  const auto in_drive = listing(c, {"emu0", ""});
  EXPECT_EQ(in_drive.volume.medium_serial, "SERIAL03");
}

// A barcode learned from the changer after the next cartridge was loaded (the inventory of a
// busy changer comes late) names the volume; it does not make it the one in the drive.
TEST_F(CatalogTest, ABarcodeLearnedLaterDoesNotPutTheVolumeBackInTheDrive) {
  SqliteCatalog c{_path};
  const auto now = std::chrono::system_clock::now();
  auto one = begun(1, 0, "part1");
  one.volume = VolumeKey{"SERIAL01", "emu0"};
  one.start = now - std::chrono::seconds{2};
  c.stream_begun(one);
  c.stream_ended(ended(1, FileStatus::complete, 1));
  auto two = begun(2, 0, "part2");
  two.volume = VolumeKey{"SERIAL02", "emu0"};
  two.start = now - std::chrono::seconds{1};
  c.stream_begun(two);
  c.volume_barcode(VolumeKey{"SERIAL01", "emu0"}, "VOL001", now);
  c.stream_ended(ended(2, FileStatus::complete, 1));
  const auto in_drive = listing(c, {"emu0", ""});
  EXPECT_EQ(in_drive.volume.medium_serial, "SERIAL02");
  const auto named = listing(c, {"emu0", "VOL001"});
  EXPECT_EQ(named.volume.medium_serial, "SERIAL01") << "the barcode names the volume";
}

TEST_F(CatalogTest, WriteAtAnEarlierFileMarksTheLaterOnesOverwritten) {
  SqliteCatalog c{_path};
  for (std::uint64_t f = 0; f < 3; ++f) {
    c.stream_begun(begun(f + 1, f, "f" + std::to_string(f)));
    c.stream_ended(ended(f + 1, FileStatus::complete, 1));
  }
  c.stream_begun(begun(9, 1, "again"));
  c.stream_ended(ended(9, FileStatus::complete, 1));
  const auto v = listing(c, {"emu0", ""});
  ASSERT_EQ(v.files.size(), 4U);  // rows are kept, never deleted
  EXPECT_EQ(v.files[0].status, FileStatus::complete);
  EXPECT_EQ(v.files[1].label, "f1");
  EXPECT_EQ(v.files[1].status, FileStatus::overwritten);
  EXPECT_EQ(v.files[2].label, "again");
  EXPECT_EQ(v.files[2].status, FileStatus::complete);
  EXPECT_EQ(v.files[3].status, FileStatus::overwritten);
  c.files_voided({VolumeKey{"SERIAL01", "emu0"}, 0});
  for (const auto& f : listing(c, {"emu0", ""}).files) {
    EXPECT_EQ(f.status, FileStatus::overwritten) << f.label;
  }
}

// A labelled tape is one volume wherever it is met: its uuid finds it before its serial number
// or the drive, a label written on a known cartridge gives that volume the uuid, and a tape
// without a serial number is not taken for another labelled one last seen in the drive.
TEST_F(CatalogTest, VolumesAreFoundByTheirLabelsUuidFirst) {
  SqliteCatalog c{_path};
  c.stream_begun(begun(1, 0, "plain"));
  c.stream_ended(ended(1, FileStatus::complete, 1));
  c.files_voided({VolumeKey{"SERIAL01", "emu0", std::nullopt, std::nullopt}, 0});
  c.volume_seen({"SERIAL01", "emu0", std::string{"uuid-a"}, std::string{"weekly-07"}},
                std::chrono::system_clock::now());
  auto b = begun(2, 1, "labelled");
  b.volume = VolumeKey{std::nullopt, "emu1", std::string{"uuid-a"}, std::string{"weekly-07"}};
  c.stream_begun(b);  // met in another drive, which reads no serial: still the same volume
  c.stream_ended(ended(2, FileStatus::complete, 1));
  const auto v = listing(c, {"emu0", "weekly-07"});
  EXPECT_EQ(v.volume.uuid, "uuid-a");
  EXPECT_EQ(v.volume.medium_serial, "SERIAL01");
  ASSERT_EQ(v.files.size(), 2U);
  EXPECT_EQ(v.files[0].status, FileStatus::overwritten);
  EXPECT_EQ(v.files[1].label, "labelled");
  EXPECT_EQ(listing(c, {"emu0", "uuid-a"}).volume.id, v.volume.id);
  EXPECT_EQ(ask("SELECT count(*) FROM volumes"), "1");

  // Another labelled tape without a serial number in emu1 is a volume of its own.
  c.volume_seen({std::nullopt, "emu1", std::string{"uuid-b"}, std::string{"monthly"}},
                std::chrono::system_clock::now());
  EXPECT_EQ(listing(c, {"emu1", "monthly"}).volume.uuid, "uuid-b");
  EXPECT_EQ(ask("SELECT count(*) FROM volumes"), "2");

  // Labelled again (--force): the cartridge keeps its volume and takes the new identity.
  c.volume_seen({"SERIAL01", "emu0", std::string{"uuid-c"}, std::string{"weekly-08"}},
                std::chrono::system_clock::now());
  EXPECT_EQ(listing(c, {"emu0", "weekly-08"}).volume.id, v.volume.id);
  EXPECT_EQ(ask("SELECT count(*) FROM volumes WHERE uuid = 'uuid-a'"), "0");
}

TEST_F(CatalogTest, RowsLeftWritingAreInterruptedAtTheNextStart) {
  {
    SqliteCatalog c{_path};
    c.stream_begun(begun(1, 0, "cut"));
    c.flush();
  }
  SqliteCatalog again{_path};
  const auto v = listing(again, {"emu0", ""});
  ASSERT_EQ(v.files.size(), 1U);
  EXPECT_EQ(v.files[0].status, FileStatus::interrupted);
  EXPECT_NE(v.files[0].failure.find("daemon stopped"), std::string::npos);
}

// Issue 15: a stream that spans volumes is a row per part on each volume, the parts naming the
// first part's row, their index and offset; a part left writing by a daemon killed mid-part is
// interrupted at the next start, and the parts before it stay complete.
TEST_F(CatalogTest, SpanningPartsNameTheirStreamAndALeftPartIsInterrupted) {
  {
    SqliteCatalog c{_path};
    auto one = begun(7, 0, "big");
    one.span = SpanPart{7, 1, 0};
    c.stream_begun(one);
    c.stream_ended(ended(7, FileStatus::complete, 3));
    auto two = begun(8, 0, "big");
    two.volume = VolumeKey{"SERIAL02", "emu0"};
    two.span = SpanPart{7, 2, 3 * 65536};
    c.stream_begun(two);
    c.flush();
  }
  SqliteCatalog again{_path};
  const auto first = listing(again, {"", "SERIAL01"});
  ASSERT_EQ(first.files.size(), 1U);
  EXPECT_EQ(first.files[0].status, FileStatus::complete);
  ASSERT_TRUE(first.files[0].span_stream);
  EXPECT_EQ(first.files[0].span_part, 1U);
  EXPECT_EQ(first.files[0].span_offset, 0U);
  const auto second = listing(again, {"", "SERIAL02"});
  ASSERT_EQ(second.files.size(), 1U);
  EXPECT_EQ(second.files[0].status, FileStatus::interrupted);
  EXPECT_EQ(second.files[0].span_stream, first.files[0].span_stream);
  EXPECT_EQ(second.files[0].span_part, 2U);
  EXPECT_EQ(second.files[0].span_offset, 3U * 65536);
  EXPECT_EQ(ask("SELECT count(*) FROM files WHERE span_stream IS NULL"), "0");
}

// Issue 15 item 5: the catalog's map from a spanning stream to its first part's row is emptied
// when the stream's last part ends (it grew for the daemon's life before): a part that claimed
// that stream afterwards finds no row to name.
TEST_F(CatalogTest, ASpanningStreamIsForgottenWhenItsLastPartEnds) {
  SqliteCatalog c{_path};
  auto one = begun(7, 0, "big");
  one.span = SpanPart{7, 1, 0};
  c.stream_begun(one);
  auto last = ended(7, FileStatus::complete, 3);
  last.span_ended = 7;
  c.stream_ended(last);
  auto late = begun(8, 0, "late");
  late.volume = VolumeKey{"SERIAL02", "emu0"};
  late.span = SpanPart{7, 2, 3 * 65536};
  c.stream_begun(late);
  c.flush();
  EXPECT_EQ(ask("SELECT count(*) FROM files WHERE span_stream IS NULL"), "1");
}

// review5 #2: the part with which a spanning stream committed is marked; a stream that failed
// after part K with nothing in part K + 1 (its row goes) leaves parts 1..K unmarked, and a stream
// that committed with an empty last part marks the part before it.
TEST_F(CatalogTest, TheLastPartOfACommittedSpanningStreamIsMarked) {
  SqliteCatalog c{_path};
  const auto stream = [&](std::uint64_t first, std::uint32_t parts, FileStatus last_status,
                          std::uint64_t last_blocks, std::uint32_t unrecorded = 0) {
    for (std::uint32_t i = 1; i <= parts; ++i) {
      if (i == unrecorded) {
        continue;  // as if recording its start had failed
      }
      const auto number = first + i - 1;
      auto b = begun(number, i - 1, "s" + std::to_string(first));
      b.volume = VolumeKey{"SERIAL" + std::to_string(number), "emu0"};
      b.span = SpanPart{first, i, (i - 1) * 3 * 65536};
      c.stream_begun(b);
      auto e = ended(number, i < parts ? FileStatus::complete : last_status,
                     i < parts ? 3 : last_blocks);
      // Every part but a failed last one was closed by its filemark.
      e.filemark_written = i < parts || last_status == FileStatus::complete;
      if (i == parts) {
        e.span_ended = first;
        e.span_committed = last_status == FileStatus::complete;
      }
      c.stream_ended(e);
    }
  };
  stream(10, 2, FileStatus::complete, 2);  // committed in part 2
  stream(20, 3, FileStatus::failed, 0);    // failed in part 3 before a block: parts 1, 2 left
  stream(30, 3, FileStatus::complete, 0);  // committed with an empty part 3
  stream(40, 3, FileStatus::complete, 0, 2);  // the same, part 2's row never recorded
  stream(50, 1, FileStatus::complete, 0);  // an empty stream, committed on its first volume
  c.flush();
  const auto marked = [&](std::uint64_t first) {
    return ask("SELECT group_concat(span_part || ':' || span_last, ' ') FROM (SELECT span_part, "
               "span_last FROM files WHERE label = 's" + std::to_string(first) + "' ORDER BY id)");
  };
  EXPECT_EQ(marked(10), "1:0 2:1");
  EXPECT_EQ(marked(20), "1:0 2:0");
  EXPECT_EQ(marked(30), "1:0 2:1");
  EXPECT_EQ(marked(40), "1:0") << "part 1 is not the stream's last: part 2 is missing";
  EXPECT_EQ(marked(50), "1:1") << "its filemark made a file: write --span </dev/null";
  const auto listed = listing(c, {"", "SERIAL11"});
  ASSERT_EQ(listed.files.size(), 1U);
  EXPECT_TRUE(listed.files[0].span_last);
}

TEST_F(CatalogTest, ChangesQueuedWhileAQueryRunsAreAppliedAfterIt) {
  SqliteCatalog c{_path};
  c.stream_begun(begun(1, 0, "one"));
  c.stream_ended(ended(1, FileStatus::complete, 1));
  std::promise<void> release;
  auto released = release.get_future();
  std::atomic<bool> answered{false};
  c.list_files({"emu0", ""}, [&](Result<VolumeFiles, Failure> r) {
    released.wait();  // the catalog's thread is busy with this query
    EXPECT_TRUE(r);
    answered = true;
  });
  const auto before = std::chrono::steady_clock::now();
  for (std::uint64_t s = 2; s < 50; ++s) {  // never waits for the busy thread
    c.stream_begun(begun(s, s - 1, "more"));
    c.stream_ended(ended(s, FileStatus::complete, 1));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds{500});
  EXPECT_FALSE(answered);
  release.set_value();
  EXPECT_EQ(listing(c, {"emu0", ""}).files.size(), 49U);
  EXPECT_TRUE(answered);
}

TEST_F(CatalogTest, AnUnwritableCatalogCountsItsLossesAndAnswersWithAnError) {
  // A directory that is not there fails like a read-only one, also for root.
  SqliteCatalog c{_dir / "missing" / "catalog.sqlite"};
  EXPECT_FALSE(c.health().ok);
  c.stream_begun(begun(1, 0, "lost"));
  EXPECT_EQ(c.health().failed_changes, 2U);
  std::promise<bool> ok;
  c.list_files({"emu0", ""}, [&](Result<VolumeFiles, Failure> r) { ok.set_value(bool(r)); });
  EXPECT_FALSE(ok.get_future().get());
}

// Issue 12, item 3: a version-1 catalog (before `catalog rebuild`) is migrated to version 2 with
// every row kept, and then takes the statuses scanned and superseded.
TEST_F(CatalogTest, VersionOneIsMigratedWithItsRows) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(_path.c_str(), &db), SQLITE_OK);
  const char* version_one = R"sql(
CREATE TABLE volumes (id INTEGER PRIMARY KEY, medium_serial TEXT UNIQUE, last_drive TEXT NOT NULL,
  label TEXT, uuid TEXT, barcode TEXT, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
CREATE TABLE files (id INTEGER PRIMARY KEY, volume_id INTEGER NOT NULL REFERENCES volumes(id),
  file_number INTEGER NOT NULL, label TEXT NOT NULL DEFAULT '', bytes INTEGER NOT NULL DEFAULT 0,
  blocks INTEGER NOT NULL DEFAULT 0, block_size INTEGER NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('variable', 'fixed')), padding INTEGER NOT NULL DEFAULT 0,
  sha256 BLOB CHECK (sha256 IS NULL OR length(sha256) = 32), start_time INTEGER NOT NULL,
  end_time INTEGER, rate INTEGER NOT NULL DEFAULT 0, client_uid INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('writing', 'complete', 'interrupted', 'failed', 'overwritten')),
  failure TEXT NOT NULL DEFAULT '');
CREATE INDEX files_by_volume ON files (volume_id, file_number);
CREATE TABLE schema (version INTEGER NOT NULL); INSERT INTO schema VALUES (1);
INSERT INTO volumes VALUES (1, 'SERIAL01', 'emu0', NULL, NULL, NULL, 10, 20);
INSERT INTO files (volume_id, file_number, label, bytes, blocks, block_size, mode, start_time,
  client_uid, status) VALUES (1, 0, 'old', 100, 1, 65536, 'variable', 10, 1000, 'complete');
)sql";
  ASSERT_EQ(sqlite3_exec(db, version_one, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  SqliteCatalog c{_path};
  EXPECT_EQ(ask("SELECT version FROM schema"), "4");
  EXPECT_EQ(ask("SELECT label || ':' || status FROM files"), "old:complete");

  VolumeRebuilt rebuilt;
  rebuilt.volume = VolumeKey{"SERIAL01", "emu0"};
  rebuilt.label = "OFFSITE-7";
  rebuilt.uuid = "0b8f5a0c-1d2e-4f3a-8b4c-5d6e7f8a9b0c";
  rebuilt.when = std::chrono::system_clock::now();
  for (std::uint64_t n = 0; n < 2; ++n) {
    FileRow f;
    f.file_number = n;
    f.bytes = 1000 + n;
    f.blocks = 1;
    f.block_size = 1000;
    f.sha256 = Digest{};
    f.start = rebuilt.when;
    f.status = n == 0 ? FileStatus::scanned : FileStatus::complete;
    rebuilt.files.push_back(f);
  }
  c.volume_rebuilt(rebuilt);
  const auto v = listing(c, VolumeQuery{"emu0", "OFFSITE-7"});
  EXPECT_EQ(v.volume.uuid, rebuilt.uuid);
  ASSERT_EQ(v.files.size(), 3U);
  EXPECT_EQ(v.files[0].label, "old");
  EXPECT_EQ(v.files[0].status, FileStatus::superseded);  // kept, marked
  EXPECT_EQ(v.files[1].status, FileStatus::scanned);
  EXPECT_EQ(v.files[1].bytes, 1000U);
  EXPECT_TRUE(v.files[1].sha256);
  EXPECT_EQ(v.files[2].status, FileStatus::complete);

  // A scan cut after file 0 replaces that file's rows only: the rows beyond stay as they are.
  VolumeRebuilt cut;
  cut.volume = VolumeKey{"SERIAL01", "emu0"};
  cut.when = std::chrono::system_clock::now();
  cut.files = {rebuilt.files[0]};
  cut.scanned_files = 1;
  c.volume_rebuilt(cut);
  const auto after = listing(c, VolumeQuery{"emu0", "OFFSITE-7"});
  ASSERT_EQ(after.files.size(), 4U);
  std::size_t live_file0 = 0;
  for (const auto& f : after.files) {
    if (f.file_number == 1) {
      EXPECT_EQ(f.status, FileStatus::complete) << "beyond the cut scan: untouched";
    } else if (f.status != FileStatus::superseded) {
      ++live_file0;
    }
  }
  EXPECT_EQ(live_file0, 1U) << "file 0: the new row, the others superseded";
}

}  // namespace
}  // namespace tapestream::catalog
