// What the daemon remembers of the tapes it wrote: every volume it saw and every stream it put
// on one. The server records changes without waiting (they are applied in order, off every
// drive's data path) and asks for a volume's files with a callback; SqliteCatalog keeps them in
// a local file, and a shared catalog (PostgreSQL) can implement the same interface later.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace tapestream::catalog {

using TimePoint = std::chrono::system_clock::time_point;
using Digest = std::array<std::uint8_t, 32>;

enum class FileStatus : std::uint8_t {
  writing = 1,      // begun, not ended
  complete = 2,     // committed: on the tape and closed by a filemark
  interrupted = 3,  // the client, its producer or the daemon stopped it
  failed = 4,       // a drive or medium condition ended it (named in `failure`)
  overwritten = 5,  // a later write at an earlier position, a WEOF or an erase ended the tape before it
  scanned = 6,      // found on the tape by a rebuild; nothing on the tape confirms it (no trailer)
  superseded = 7,   // a later rebuild of the volume recorded the tape's files anew
};
inline constexpr std::uint8_t file_status_max = 7;
const char* status_name(FileStatus status);

// A cartridge as far as it can be told apart: by its volume label's UUID when the tape carries
// one (the same in every state directory), then by its medium serial number (MAM attribute
// 0401h) when the drive reads one; without either, "the cartridge last seen in `drive`". A key
// with a UUID gives the volume it finds (or makes) that UUID and `label`.
struct VolumeKey {
  std::optional<std::string> medium_serial;
  std::string drive;
  std::optional<std::string> uuid;
  std::optional<std::string> label;
};

// A part of a stream that spans volumes: `first` is the daemon's stream number of its first
// part (which is the part itself when `index` is 1).
struct SpanPart {
  std::uint64_t first = 0;
  std::uint32_t index = 1;
  std::uint64_t offset = 0;  // bytes of the stream before this part
};

// A stream that took a position on a volume; `stream` is the daemon's own number for it, which
// its end names.
struct StreamBegun {
  std::uint64_t stream = 0;
  VolumeKey volume;
  std::uint64_t file_number = 0;
  std::string label;
  std::uint32_t block_size = 0;
  bool fixed = false;
  std::uint32_t client_uid = 0;
  TimePoint start{};
  std::optional<SpanPart> span;
};

struct StreamEnded {
  std::uint64_t stream = 0;
  FileStatus status = FileStatus::complete;
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  std::uint64_t padding = 0;  // bytes of zeros that filled the last fixed block
  std::optional<Digest> sha256;
  TimePoint end{};
  std::uint64_t rate = 0;  // bytes per second, from READY to the end
  std::string failure;     // the drive condition or message, when not complete
  // A stream without blocks is a file on the tape only when its filemark is (an empty stream
  // committed: the next stream's file number is one higher).
  bool filemark_written = false;
  // The last part of a spanning stream (the daemon's number of its first part): the stream is
  // over, and the catalog forgets how to find its first part's row.
  std::optional<std::uint64_t> span_ended;
  // That last part is the one with which the stream committed (its filemark on the medium and
  // the client told COMMITTED): the parts up to it are the whole stream.
  bool span_committed = false;
};

// An erase, or a write at `from_file` on the volume, ended the tape there.
struct FilesVoided {
  VolumeKey volume;
  std::uint64_t from_file = 0;
};

struct Volume {
  std::int64_t id = 0;
  std::optional<std::string> medium_serial;
  std::optional<std::string> label;
  std::optional<std::string> uuid;
  std::optional<std::string> barcode;
  TimePoint first_seen{};
  TimePoint last_seen{};
};

struct FileRow {
  std::uint64_t file_number = 0;
  std::string label;
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  std::uint32_t block_size = 0;
  bool fixed = false;
  std::uint64_t padding = 0;
  std::optional<Digest> sha256;
  TimePoint start{};
  std::optional<TimePoint> end;
  std::uint64_t rate = 0;
  std::uint32_t client_uid = 0;
  FileStatus status = FileStatus::writing;
  std::string failure;
  // A part of a spanning stream: the row id of its first part, its index, its stream offset.
  std::optional<std::int64_t> span_stream;
  std::uint32_t span_part = 0;
  std::uint64_t span_offset = 0;
  bool span_last = false;  // the part with which the stream committed (schema 4 on)
};

// The files a scan of a whole tape found (`catalog rebuild`): they replace the volume's rows in
// the sense that every row it had is marked superseded and these are added; nothing is deleted.
struct VolumeRebuilt {
  VolumeKey volume;
  std::optional<std::string> label;  // from the tape's volume label, when it has one
  std::optional<std::string> uuid;
  TimePoint when{};
  std::vector<FileRow> files;  // status complete, scanned, interrupted or failed
  // A scan that stopped before end of data reached files 0 to scanned_files - 1: the rows of
  // files beyond stay as they are.
  std::optional<std::uint64_t> scanned_files;
};

struct VolumeFiles {
  Volume volume;
  std::vector<FileRow> files;  // by file number, then by when they began
};

// Which volume: `selector` matches a label, a volume UUID, a medium serial number or (after
// those) a barcode; empty
// means the cartridge last seen in `drive`.
struct VolumeQuery {
  std::string drive;
  std::string selector;
};

// Whether the catalog keeps up: the first error of each kind since start-up, for status.
struct Health {
  bool ok = true;
  std::uint64_t failed_changes = 0;
  std::string last_error;
};

class Catalog {
 public:
  using ListAnswer = std::function<void(Result<VolumeFiles, Failure>)>;

  virtual ~Catalog() = default;

  // Changes: queued, never waited for; applied in the order given, each in its own
  // transaction. A failure is logged and counted (health()), never reported to the caller.
  virtual void volume_seen(VolumeKey volume, TimePoint when) = 0;
  // The library's barcode of the cartridge that holds `volume` (a barcode belongs to one volume:
  // another that had it loses it). By default ignored, for catalogs that keep no barcodes.
  virtual void volume_barcode(VolumeKey /*volume*/, std::string /*barcode*/, TimePoint /*when*/) {}
  virtual void stream_begun(StreamBegun begun) = 0;
  virtual void stream_ended(StreamEnded ended) = 0;
  virtual void files_voided(FilesVoided voided) = 0;
  virtual void volume_rebuilt(VolumeRebuilt rebuilt) = 0;

  // Queries: the answer reflects every change queued before. `answer` runs on the catalog's
  // own thread (or at once on the caller's, when there is nothing to ask): the caller moves the
  // answer to its own thread.
  virtual void list_files(VolumeQuery query, ListAnswer answer) = 0;

  virtual Health health() const = 0;
};

}  // namespace tapestream::catalog
