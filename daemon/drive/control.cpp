#include "drive/control.hpp"

#include <cstdint>
#include <span>

#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"

namespace tapestream::drive {

Result<PreparedControl, Failure> prepare_control(const ControlRequest& request,
                                                 const DriveIdentity& identity) {
  using scsi::cdb::SpaceCode;
  PreparedControl prepared{request, std::nullopt, {}};
  const auto n = request.argument;
  const bool immediate = request.immediate;
  bool valid = true;  // the argument is in range; a count of 0 moves nothing
  switch (request.op) {
    case ControlOp::rewind:
      prepared.command = scsi::cdb::rewind(immediate);
      break;
    case ControlOp::load:
      prepared.command = scsi::cdb::load_unload(scsi::cdb::LoadAction::load, immediate);
      break;
    case ControlOp::unload:
      prepared.command = scsi::cdb::load_unload(scsi::cdb::LoadAction::unload, immediate);
      break;
    case ControlOp::write_filemarks:
      valid = n >= 0 && n <= scsi::Count24::max;
      if (valid) {
        prepared.command = scsi::cdb::write_filemarks6(
            scsi::Count24::from(static_cast<std::uint64_t>(n)).value(), false);
      }
      break;
    case ControlOp::space_files_forward:
    case ControlOp::space_files_back:
    case ControlOp::space_blocks_forward:
    case ControlOp::space_blocks_back:
      valid = n >= 0 && n <= INT32_MAX;
      if (valid && n > 0) {
        const bool files = request.op == ControlOp::space_files_forward ||
                           request.op == ControlOp::space_files_back;
        const bool back = request.op == ControlOp::space_files_back ||
                          request.op == ControlOp::space_blocks_back;
        prepared.command = identity.positioning.space(
            files ? SpaceCode::filemarks : SpaceCode::blocks, back ? -n : n);
        valid = prepared.command.has_value();
      }
      break;
    case ControlOp::end_of_data:
      prepared.command = identity.positioning.space(SpaceCode::end_of_data, 0);
      break;
    case ControlOp::tell:
      break;
    case ControlOp::locate_block:
      valid = n >= 0;
      if (valid) {
        prepared.command =
            identity.positioning.locate_block(static_cast<std::uint64_t>(n), immediate);
        valid = prepared.command.has_value();
      }
      break;
    case ControlOp::erase:
      prepared.command = scsi::cdb::erase6(n != 0, immediate);
      break;
    case ControlOp::set_block_size:
      valid = n >= 0 && (identity.max_block_length == 0 || n <= identity.max_block_length);
      if (valid) {
        if (auto list = scsi::mode_select6_parameters(
                scsi::BlockDescriptor{0, 0, static_cast<std::uint32_t>(n)}, {})) {
          prepared.parameters = list.value();
          prepared.command =
              scsi::cdb::mode_select6(static_cast<std::uint8_t>(prepared.parameters.size()));
        }
      }
      break;
    case ControlOp::compression:
      valid = n == 0 || n == 1;
      if (valid) {
        const auto page = scsi::DataCompressionPage::make(n == 1);
        const std::span<const std::uint8_t> pages[] = {page.bytes()};
        if (auto list = scsi::mode_select6_parameters(std::nullopt, pages)) {
          prepared.parameters = list.value();
          prepared.command =
              scsi::cdb::mode_select6(static_cast<std::uint8_t>(prepared.parameters.size()));
        }
      }
      break;
  }
  if (!valid) {
    return Failure{std::make_error_code(std::errc::invalid_argument),
                   "argument " + std::to_string(n) + " is out of range for this operation"};
  }
  return prepared;
}

}  // namespace tapestream::drive
