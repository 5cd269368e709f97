// Between the drive's terms and the catalog's: the cartridge's medium serial number (read when a
// stream starts, since a cartridge may have been loaded since), a stream's ending as a file
// status, and the catalog's answer for a volume as FILE_LIST frames.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "codec.hpp"
#include "drive/drive.hpp"
#include "drive/stream_outcome.hpp"

namespace tapestream::server {

// READ ATTRIBUTE 0401h on the drive's control path; nullopt when the drive or cartridge has
// no medium auxiliary memory. A unit attention (a cartridge just loaded) is answered by asking
// again, once, so the value is never one from before the load.
void read_medium_serial(drive::Drive& drive,
                        std::function<void(std::optional<std::string>)> done);

catalog::FileStatus file_status_for(drive::Ending ending);

// One write stream's rows in the catalog: the volume it went to, its start once READY named
// its file, its end. Every call queues a change and returns; without a catalog it does nothing.
class StreamRecord {
 public:
  StreamRecord() = default;
  StreamRecord(catalog::Catalog* catalog, std::uint64_t stream, std::string drive,
               std::uint32_t client_uid)
      : _catalog{catalog}, _stream{stream}, _drive{std::move(drive)}, _client_uid{client_uid} {}

  bool wanted() const { return _catalog != nullptr; }
  void volume(std::optional<std::string> medium_serial) { _medium_serial = std::move(medium_serial); }
  // The tape carries a volume label: its uuid names the volume first (in any state directory).
  void volume_label(std::string uuid, std::string label) {
    _uuid = std::move(uuid);
    _label = std::move(label);
  }
  void begun(std::uint64_t file, const proto::WriteRequest& request);
  // A committed part of a spanning stream (outcome.continues) ends its row complete.
  void ended(const drive::StreamOutcome& outcome);
  const std::optional<std::string>& medium_serial() const { return _medium_serial; }
  // The library's barcode of this record's cartridge, for the catalog (so that a spanning
  // stream's parts can be found by the cartridges a library holds); "" is ignored.
  void volume_barcode(const std::string& barcode) const {
    if (_catalog != nullptr && !barcode.empty()) {
      _catalog->volume_barcode(catalog::VolumeKey{_medium_serial, _drive, _uuid, _label}, barcode,
                               std::chrono::system_clock::now());
    }
  }
  // A spanning stream: this record is its part `index` (from 1), `offset` bytes into it.
  void span_part(std::uint32_t index, std::uint64_t offset) { _span = {_first_stream.value_or(_stream), index, offset}; }
  // The record of the stream's next part, a stream of the daemon's own (`stream`), on a
  // volume not known yet.
  StreamRecord next_part(std::uint64_t stream) const {
    StreamRecord next{_catalog, stream, _drive, _client_uid};
    next._first_stream = _first_stream.value_or(_stream);
    return next;
  }

 private:
  catalog::Catalog* _catalog = nullptr;
  std::uint64_t _stream = 0;
  std::string _drive;
  std::uint32_t _client_uid = 0;
  std::optional<std::string> _medium_serial;
  std::optional<std::string> _uuid;
  std::optional<std::string> _label;
  bool _begun = false;
  std::uint32_t _block_size = 0;
  bool _fixed = false;
  std::chrono::steady_clock::time_point _since{};
  std::optional<std::uint64_t> _first_stream;  // a later part: the stream of the first part
  std::optional<catalog::SpanPart> _span;
};

// The files of a volume, 64 to a frame, every frame but the last flagged "more".
// `span_fields`: the client was granted `span_list`, and each entry carries its span fields.
std::vector<proto::FileList> file_list_frames(const catalog::VolumeFiles& volume, bool span_fields);

}  // namespace tapestream::server
