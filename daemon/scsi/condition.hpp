// The tape conditions the drive layer acts on, derived from one completed command. Filemarks,
// early warning and short blocks are data, not errors; which conditions are expected depends
// on the command (a filemark ends a READ normally but would be news to a WRITE).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "scsi/command.hpp"
#include "scsi/sense.hpp"
#include "scsi/status.hpp"

namespace tapestream::scsi {

enum class TapeCondition : std::uint8_t {
  good,
  filemark,             // READ or SPACE stopped at a filemark
  early_warning,        // EOM with NO SENSE: the write succeeded, the tape is nearly full
  end_of_data,          // BLANK CHECK: nothing recorded beyond this point
  beginning_of_medium,  // a backward motion reached BOP
  short_block,          // the block on tape was shorter than requested (ILI, or SILI residue)
  long_block,           // the block on tape was longer than requested: data was cut off
  end_of_medium,        // a READ or SPACE ran into the physical end of the partition
  volume_overflow,      // a WRITE past end of medium: part of the data was not written
  medium_error,
  hardware_error,
  no_medium,
  becoming_ready,
  not_ready,            // needs a LOAD, an operator, or cleaning
  medium_changed,       // unit attention: a (possibly different) cartridge was loaded
  reset,                // unit attention: power on or reset; the position is lost
  parameters_changed,   // unit attention: mode or log parameters changed by someone else
  unit_attention,       // any other unit attention
  write_protected,
  data_protect,         // other DATA PROTECT, e.g. encryption keys
  illegal_request,
  aborted_command,
  busy,
  reservation_conflict,
  transport_failure,    // timeout, host or driver error, or CHECK CONDITION without sense
  unclassified,         // a sense key tape does not use (MISCOMPARE, vendor specific, ...)
};
inline constexpr std::size_t tape_condition_count = 26;

struct Classification {
  TapeCondition condition = TapeCondition::good;
  // The sense reports an earlier command, e.g. buffered data the drive failed to write.
  bool deferred = false;
  // Transient: the same command may succeed when sent again. For commands that move the tape,
  // the drive layer re-reads the position before sending it again.
  bool retryable = false;
  std::optional<Sense> sense;
  // The residue in the command's own units (bytes in variable mode, blocks in fixed mode,
  // marks for WRITE FILEMARKS and SPACE): requested minus done. Negative when a block was
  // longer than requested.
  std::optional<std::int64_t> residue;
  // short_block and long_block in variable mode: the length of the block on tape.
  std::optional<std::uint64_t> block_length;
};

Classification classify(const Command& command, const CompletionStatus& status);

// Whether `condition` is a normal outcome of `opcode` rather than a failure.
bool is_expected(Opcode opcode, TapeCondition condition);

std::string_view condition_name(TapeCondition condition);

}  // namespace tapestream::scsi
