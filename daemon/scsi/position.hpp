// READ POSITION (short, long and extended forms) and READ BLOCK LIMITS responses.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.hpp"
#include "scsi/bytes.hpp"
#include "scsi/cdb.hpp"

namespace tapestream::scsi {

// Fields a form does not carry, or that the drive flags as unknown, are absent.
struct Position {
  bool beginning_of_partition = false;  // BOP
  bool end_of_partition = false;        // EOP: between early warning and end of partition
  bool beyond_early_warning = false;    // BPEW: beyond the programmable early warning
  bool position_overflow = false;       // PERR: a field was too small for the position
  bool mark_position_unknown = false;   // MPU (long form)
  std::optional<std::uint32_t> partition;
  std::optional<std::uint64_t> first_logical_object;  // the next object to be read/written
  std::optional<std::uint64_t> last_logical_object;   // the next one to reach the medium
  std::optional<std::uint64_t> logical_file;          // long form: filemarks before here
  std::optional<std::uint64_t> objects_in_buffer;
  std::optional<std::uint64_t> bytes_in_buffer;
};

Result<Position> parse_read_position(cdb::ReadPositionForm form, ByteView data);

struct BlockLimits {
  std::uint8_t granularity = 0;          // block lengths should be multiples of 2^granularity
  std::uint32_t maximum_block_length = 0;  // 0: no limit reported
  std::uint16_t minimum_block_length = 0;
  std::optional<std::uint64_t> maximum_logical_object_identifier;  // MLOC form

  bool fixed_only() const {
    return maximum_block_length != 0 && maximum_block_length == minimum_block_length;
  }
};

Result<BlockLimits> parse_block_limits(ByteView data);

}  // namespace tapestream::scsi
