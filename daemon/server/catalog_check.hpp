// Reading back checked against what the catalog recorded when the file was written: the
// catalog's rows for the loaded cartridge are fetched from a drive's thread (its medium serial
// number first, as a write records it, then the catalog, which answers on its own thread and is
// brought back through the home's mailbox), and a file read whole is compared with the newest
// row of its file number. Used by READ (a damaged copy fails the read after its data) and by
// VERIFY (a verdict per file).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "catalog/catalog.hpp"
#include "codec.hpp"
#include "drive/drive.hpp"

namespace tapestream::server {

class Home;

// What the catalog says of the cartridge in a drive; nullopt: nothing to compare with (no
// catalog, no medium serial number, a volume the catalog does not know, a catalog that cannot
// be read). `medium_serial`: the cartridge's, as the drive read it.
struct VolumeRecord {
  std::optional<std::string> medium_serial;
  std::optional<catalog::VolumeFiles> files;
};

// Reads the cartridge's medium serial number on `drive`'s control path, then asks `catalog`
// for the volume's files; `done` runs on `home`'s thread, and only while `alive` still holds
// (its owner may be gone by then). `serial_read` runs once the drive's command is back, before
// the catalog answers: the owner may start using the drive from there on. Without a catalog,
// `done` runs at once with no serial number.
void fetch_volume_record(catalog::Catalog* catalog, Home& home, drive::Drive& drive,
                         std::weak_ptr<void> alive, std::function<void()> serial_read,
                         std::function<void(VolumeRecord)> done);

// The newest row (the last begun) recorded for `file` on the volume, or nullptr.
const catalog::FileRow* newest_row(const catalog::VolumeFiles& volume, std::uint64_t file);

// What a file read whole was, to compare with its row.
struct ReadBack {
  std::uint64_t file = 0;
  std::uint64_t bytes = 0;   // as given, the padding of a fixed-block last block included
  std::uint64_t blocks = 0;
  // Of the file's own bytes (without a fixed-block file's padding); nullopt: not known (then
  // only the size is compared).
  std::optional<catalog::Digest> digest;
};

struct FileCheck {
  std::uint8_t verdict = TS_VERDICT_UNRECORDED;  // ok, mismatch or unrecorded
  std::string message;  // for a mismatch: the file, both sizes or digest prefixes
};

// ok: the row is complete (or scanned by `catalog rebuild`) with a digest and size and digest
// match; mismatch: they differ; unrecorded: no row, or another status, or no digest.
FileCheck check_read_back(const catalog::FileRow* row, const ReadBack& read);

// The row's size as a read gives it back: its bytes and the padding of its last block.
inline std::uint64_t bytes_on_tape(const catalog::FileRow& row) { return row.bytes + row.padding; }

}  // namespace tapestream::server
