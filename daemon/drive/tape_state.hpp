// Where a drive's tape stands and what the drive last said of its medium, in the drive's terms
// (the server turns them into the protocol's state flags, server/status_map.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "scsi/position.hpp"

namespace tapestream::drive {

struct TapePosition {
  bool beginning = false;      // at the beginning of the partition
  bool early_warning = false;  // between early warning and the end of the partition
  std::uint64_t block_number = 0;
  std::optional<std::uint64_t> file_number;  // unknown to drives without READ POSITION's long form

  static TapePosition from(const scsi::Position& p) {
    return {p.beginning_of_partition, p.end_of_partition, p.first_logical_object.value_or(0),
            p.logical_file};
  }
};

// From READ POSITION and MODE SENSE, asked at `when`.
struct KnownState {
  std::optional<TapePosition> position;  // empty: no cartridge, or the drive would not say
  bool write_protected = false;
  bool compression = false;
  std::uint32_t block_size = 0;  // 0: variable blocks
  std::uint32_t density_code = 0;
  std::optional<std::chrono::steady_clock::time_point> when;  // never asked yet: empty
};

}  // namespace tapestream::drive
