// The control operations a client may ask of a drive outside a stream (mt(1)'s verbs), each
// one SCSI command at most, followed by READ POSITION.
//
// Contract of Drive::control (drive.hpp): the operation's command runs once through the
// drive's command runner, with the timeout its class has in the drive's table; then READ
// POSITION says where the tape stands, which the outcome carries when the drive answered it.
// A command that fails ends the operation with its tape condition (and the residue, the part
// not done, for SPACE and WRITE FILEMARKS); an operation whose command succeeded but whose
// position the drive does not give (no cartridge after an unload) is complete without a
// position — except `tell`, whose whole point is the position.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "drive/identity.hpp"
#include "drive/stream_outcome.hpp"
#include "drive/tape_state.hpp"
#include "scsi/command.hpp"
#include "scsi/condition.hpp"

namespace tapestream::drive {

enum class ControlOp : std::uint8_t {
  rewind,
  load,
  unload,
  write_filemarks,      // argument: how many (0: the drive writes its buffer to the medium)
  space_files_forward,  // argument: how many filemarks
  space_files_back,
  space_blocks_forward,  // argument: how many blocks
  space_blocks_back,
  end_of_data,
  tell,                 // only the position
  locate_block,         // argument: the logical block
  erase,                // argument: 0 short, 1 long
  set_block_size,       // argument: the fixed block size, 0: variable blocks
  compression,          // argument: 0 off, 1 on
};

struct ControlRequest {
  ControlOp op = ControlOp::tell;
  std::int64_t argument = 0;
  bool immediate = false;  // the drive answers before it is done (rewind, load, unload, locate, erase)
};

// An operation checked against what the drive takes, turned into its command.
struct PreparedControl {
  ControlRequest request;
  std::optional<scsi::Command> command;  // none: nothing to do but report the position
  std::vector<std::uint8_t> parameters;  // data-out of MODE SELECT
};

// Fails (with the reason, for the client) when the argument is out of range for the operation
// or for the drive (a count SPACE(6) cannot carry, a block size beyond the drive's limit).
Result<PreparedControl, Failure> prepare_control(const ControlRequest& request,
                                                 const DriveIdentity& identity);

struct ControlOutcome {
  Ending ending = Ending::complete;
  scsi::TapeCondition condition = scsi::TapeCondition::good;  // of the command that failed
  bool timed_out = false;
  std::optional<std::uint64_t> residue;   // the part of a SPACE or WRITE FILEMARKS not done
  std::optional<TapePosition> position;   // after the operation, when the drive said
  bool compression_enabled = false;       // a compression operation that switched it on
  std::string message;                    // when not complete
};

}  // namespace tapestream::drive
