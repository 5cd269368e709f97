// Where a drive's tape stands and what the drive last said of its medium, in the drive's terms
// (the server turns them into the protocol's state flags, server/status_map.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "drive/health.hpp"
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
  bool no_medium = false;                // the drive said so (NOT READY, MEDIUM NOT PRESENT)
  bool write_protected = false;
  bool compression = false;
  std::uint32_t block_size = 0;  // 0: variable blocks
  std::uint32_t density_code = 0;
  bool density_known = false;  // MODE SENSE gave a block descriptor
  MediumHealth health;
  std::optional<scsi::TapeAlerts> tape_alerts;  // kept since the cartridge was loaded
  std::optional<std::uint64_t> block_in_file;   // blocks since the current file's first
  std::optional<std::chrono::steady_clock::time_point> when;  // never asked yet: empty
};

// What a drive is doing, as the Drive that owns it keeps track (Drive::state()): a stream owns
// it (writing, reading); its last command failed and none has succeeded since (failed); or what
// its last answer said of the medium and the position.
enum class DriveState {
  no_medium,
  loaded,            // a cartridge; where the tape stands is not known (or not trusted)
  positioned,
  writing,
  reading,
  at_early_warning,  // positioned beyond early warning: a write soon runs out of tape
  failed,            // a drive error, a medium error or a timeout
};

constexpr std::string_view drive_state_name(DriveState state) {
  switch (state) {
    case DriveState::no_medium: return "no medium";
    case DriveState::loaded: return "loaded";
    case DriveState::positioned: return "positioned";
    case DriveState::writing: return "writing";
    case DriveState::reading: return "reading";
    case DriveState::at_early_warning: return "at early warning";
    case DriveState::failed: return "failed";
  }
  return "unknown";
}

}  // namespace tapestream::drive
