// Which positioning commands a drive takes, learned once at start-up. LTO drives take them
// all. Older drives, and scsi_debug's tape, have only SPACE(6), LOCATE(10) and the short form
// of READ POSITION, which gives block numbers but no file numbers; the daemon then finds files
// by spacing over filemarks from the beginning and counts them the same way.
#pragma once

#include <cstdint>
#include <optional>

#include "scsi/cdb.hpp"

namespace tapestream::drive {

struct PositioningCommands {
  bool long_position = true;  // READ POSITION long form: logical file numbers
  bool sixteen_byte = true;   // SPACE(16) and LOCATE(16), which can locate a file

  scsi::cdb::ReadPositionForm position_form() const {
    return long_position ? scsi::cdb::ReadPositionForm::long_form
                         : scsi::cdb::ReadPositionForm::short_block_id;
  }
  // SPACE(16), or SPACE(6) when the count fits its 24 bits; empty when it does not.
  std::optional<scsi::Command> space(scsi::cdb::SpaceCode code, std::int64_t count) const {
    if (sixteen_byte) {
      return scsi::cdb::space16(code, count);
    }
    if (const auto small = scsi::SignedCount24::from(count)) {
      return scsi::cdb::space6(code, *small);
    }
    return std::nullopt;
  }
  // LOCATE(16), or LOCATE(10) when the block number fits its 32 bits.
  std::optional<scsi::Command> locate_block(std::uint64_t block, bool immediate) const {
    if (sixteen_byte) {
      return scsi::cdb::locate16(scsi::cdb::LocateDestination::logical_object, block, {},
                                 immediate);
    }
    if (block <= UINT32_MAX) {
      return scsi::cdb::locate10(static_cast<std::uint32_t>(block), std::nullopt, immediate);
    }
    return std::nullopt;
  }
};

// The most filemarks one SPACE(6) passes: spacing this far from the beginning stops at end of
// data, and the residue then says how many files the tape holds.
inline constexpr std::int32_t space_to_end_count = scsi::SignedCount24::max;

}  // namespace tapestream::drive
