#include "scsi/command.hpp"

namespace tapestream::scsi {

std::string_view opcode_name(Opcode opcode) {
  switch (opcode) {
    case Opcode::test_unit_ready:
      return "TEST UNIT READY";
    case Opcode::rewind:
      return "REWIND";
    case Opcode::request_sense:
      return "REQUEST SENSE";
    case Opcode::read_block_limits:
      return "READ BLOCK LIMITS";
    case Opcode::read6:
      return "READ(6)";
    case Opcode::write6:
      return "WRITE(6)";
    case Opcode::write_filemarks6:
      return "WRITE FILEMARKS(6)";
    case Opcode::space6:
      return "SPACE(6)";
    case Opcode::inquiry:
      return "INQUIRY";
    case Opcode::mode_select6:
      return "MODE SELECT(6)";
    case Opcode::erase6:
      return "ERASE(6)";
    case Opcode::mode_sense6:
      return "MODE SENSE(6)";
    case Opcode::load_unload:
      return "LOAD UNLOAD";
    case Opcode::prevent_allow_medium_removal:
      return "PREVENT ALLOW MEDIUM REMOVAL";
    case Opcode::locate10:
      return "LOCATE(10)";
    case Opcode::read_position:
      return "READ POSITION";
    case Opcode::report_density_support:
      return "REPORT DENSITY SUPPORT";
    case Opcode::log_sense:
      return "LOG SENSE";
    case Opcode::mode_select10:
      return "MODE SELECT(10)";
    case Opcode::mode_sense10:
      return "MODE SENSE(10)";
    case Opcode::read_attribute:
      return "READ ATTRIBUTE";
    case Opcode::space16:
      return "SPACE(16)";
    case Opcode::locate16:
      return "LOCATE(16)";
    case Opcode::maintenance_in:
      return "MAINTENANCE IN";
    case Opcode::initialize_element_status:
      return "INITIALIZE ELEMENT STATUS";
    case Opcode::initialize_element_status_with_range:
      return "INITIALIZE ELEMENT STATUS WITH RANGE";
    case Opcode::move_medium:
      return "MOVE MEDIUM";
    case Opcode::read_element_status:
      return "READ ELEMENT STATUS";
  }
  return "UNKNOWN";
}

std::string_view command_name(const Command& command) {
  if (command.opcode() == Opcode::maintenance_in && command.service_action() == 0x0C) {
    return "REPORT SUPPORTED OPERATION CODES";
  }
  return opcode_name(command.opcode());
}

}  // namespace tapestream::scsi
