// The catalog in a local SQLite file (normally <state-dir>/catalog.sqlite). Every SQLite call
// runs on the catalog's own thread: changes wait in a queue and are applied in order, one
// transaction each, so a slow fsync or a full disk never reaches a drive's data path. An I/O
// failure is logged once per kind and counted in health(), never thrown at the server.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "catalog/catalog.hpp"
#include "catalog/sqlite_db.hpp"

namespace tapestream::catalog {

class SqliteCatalog final : public Catalog {
 public:
  // Opens (or creates) the database and brings its schema up to date, then marks the rows a
  // daemon left `writing` as `interrupted`. Throws StartupError when the file is not a catalog
  // this daemon may use (garbage, another program's database, a newer schema); an I/O failure
  // (a read-only or full file system) leaves a catalog that records nothing and says so in
  // health().
  explicit SqliteCatalog(std::filesystem::path path);
  ~SqliteCatalog() override;

  void volume_seen(VolumeKey volume, TimePoint when) override;
  void volume_barcode(VolumeKey volume, std::string barcode, TimePoint when) override;
  void stream_begun(StreamBegun begun) override;
  void stream_ended(StreamEnded ended) override;
  void files_voided(FilesVoided voided) override;
  void volume_rebuilt(VolumeRebuilt rebuilt) override;
  void list_files(VolumeQuery query, ListAnswer answer) override;
  Health health() const override;

  // Waits until everything queued so far is applied (tests, and the daemon's orderly stop).
  void flush();
  const std::filesystem::path& path() const { return _path; }

 private:
  using Work = std::function<void(Database&)>;
  void enqueue(Work work, bool is_change);
  void run();
  void failed(const std::string& what, int code, const std::string& message);
  void recover_interrupted(Database& db);

  // On the catalog's thread only.
  // The volume's row, made when there is none. `seen` (the volume is in key.drive at `when`)
  // moves its last sighting forward; a barcode learned from the changer is no sighting, and
  // would make a cartridge already unloaded look like the one in the drive.
  std::int64_t volume_id(Database& db, const VolumeKey& key, TimePoint when, bool seen = true);
  VolumeFiles list(Database& db, const VolumeQuery& query);
  std::map<std::uint64_t, std::int64_t> _stream_rows;  // the daemon's stream -> its file row
  // A spanning stream's first part (the daemon's stream number) -> its file row.
  std::map<std::uint64_t, std::int64_t> _span_rows;
  void record_span_part(Database& db, std::int64_t row, const SpanPart& part);

  std::filesystem::path _path;
  std::unique_ptr<Database> _db;  // null when it could not be opened: changes are counted lost

  mutable std::mutex _mutex;
  std::condition_variable _wake;
  std::condition_variable _idle;
  std::deque<Work> _queue;
  bool _busy = false;
  bool _stopping = false;
  Health _health;
  std::set<int> _logged_kinds;  // SQLite primary codes already logged
  std::thread _thread;
};

}  // namespace tapestream::catalog
