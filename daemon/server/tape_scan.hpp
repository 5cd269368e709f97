// What `catalog rebuild` makes of a scan of every file on a tape: which files are data, which are
// the volume label and trailers of the labelled layout (docs/TAPE_FORMAT.md, "How a reader tells
// a trailer from data"), and the catalog rows of the data files. Pure: the scan itself is the
// verify job's (verify_job.hpp); this only reads what it found.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "server/tape_label.hpp"

namespace tapestream::server {

// One file as the scan read it.
struct ScannedTapeFile {
  std::uint64_t file = 0;
  std::uint64_t bytes = 0;   // as read: a fixed-block file's padding included
  std::uint64_t blocks = 0;
  std::uint32_t largest_block = 0;
  std::optional<catalog::Digest> sha256;  // of the bytes as read, when the file was read whole
  // The file's only block, when it has exactly one of at most tape_label::max_block bytes: the
  // one shape a volume label or a trailer can have.
  std::optional<std::vector<std::uint8_t>> single_block;
  std::string failure;  // the condition that ended the reading, when it was not read whole
};

struct TapeContents {
  std::optional<tape_label::VolumeLabel> volume;  // file 0, when it is a volume label
  std::vector<catalog::FileRow> data_files;       // status complete/interrupted/failed, or scanned
  std::uint64_t confirmed = 0;                    // data files whose trailer describes them
};

// A data file with a trailer that describes it takes the trailer's label, uid, times, mode,
// padding, status and digest; any other data file is `scanned` (or `failed` when the scan could
// not read it) with what the scan found, in variable mode (a scan cannot tell fixed blocks from
// equal variable ones) with its largest block as the block size. `when` stamps scanned rows.
TapeContents interpret_scan(const std::vector<ScannedTapeFile>& files, catalog::TimePoint when);

}  // namespace tapestream::server
