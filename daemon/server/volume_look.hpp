// What the beginning of the tape in a drive holds: nothing, a volume label, or data. Read before
// a label is written (to refuse a tape that holds something) and before the first write on a
// cartridge (whether its streams get trailers): variable blocks, REWIND, one READ of file 0's
// first block (drive/label_block.hpp), parsed by tape_label. The tape is left after that block.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "drive/drive.hpp"
#include "drive/stream_outcome.hpp"
#include "server/drive_slot.hpp"
#include "server/tape_label.hpp"

namespace tapestream::server {

struct VolumeLook {
  enum class Holds {
    nothing,       // BLANK CHECK at the beginning, or a lone filemark with nothing after it
    volume_label,  // file 0 is a volume label: `volume`
    data,          // anything else: `what`
  };
  bool read = false;  // false: the drive failed (`ending`, `message`), nothing is known
  drive::Ending ending = drive::Ending::complete;
  std::string message;
  Holds holds = Holds::nothing;
  std::optional<tape_label::VolumeLabel> volume;
  // What is there, for a refusal: "the tape is labelled "weekly-07" (uuid ...)".
  std::string what;

  TapeLayout layout() const {
    if (!read) {
      return {};
    }
    if (holds == Holds::volume_label) {
      return {TapeLayout::Kind::labelled, volume};
    }
    return {TapeLayout::Kind::plain, std::nullopt};
  }
};

void look_at_volume(drive::Drive& drive, std::function<void(const VolumeLook&)> then);

}  // namespace tapestream::server
