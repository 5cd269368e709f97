#include "server/status_map.hpp"

namespace tapestream::server {

using drive::Ending;
using proto::Status;

proto::Status to_status(Ending ending) {
  switch (ending) {
    case Ending::complete: return Status::ok;
    case Ending::end_of_data: return Status::end_of_data;
    case Ending::volume_full: return Status::volume_full;
    case Ending::medium_error: return Status::medium_error;
    case Ending::write_protected: return Status::write_protected;
    case Ending::no_medium: return Status::no_medium;
    case Ending::medium_changed: return Status::medium_changed;
    case Ending::timeout: return Status::timeout;
    case Ending::drive_error: return Status::drive_error;
    case Ending::not_at_boundary: return Status::bad_request;
    case Ending::client_gone: return Status::client_gone;
    case Ending::incomplete: return Status::incomplete;
    case Ending::bad_end: return Status::bad_request;
    case Ending::stalled: return Status::stalled;
    case Ending::shutting_down: return Status::shutting_down;
    case Ending::internal: return Status::internal;
  }
  return Status::internal;
}

std::uint32_t state_flags(const drive::TapePosition& p) {
  return TS_STATE_LOADED | (p.beginning ? TS_STATE_BOP : 0U) |
         (p.early_warning ? TS_STATE_EARLY_WARNING : 0U) |
         (p.file_number ? 0U : TS_STATE_FILE_UNKNOWN);
}

std::uint32_t state_flags(const drive::KnownState& state) {
  return (state.position ? state_flags(*state.position) : 0U) |
         (state.write_protected ? TS_STATE_WRITE_PROTECTED : 0U) |
         (state.compression ? TS_STATE_COMPRESSION : 0U);
}

std::uint8_t to_drive_state(drive::DriveState state) {
  using drive::DriveState;
  switch (state) {
    case DriveState::no_medium: return TS_DRIVE_NO_MEDIUM;
    case DriveState::loaded: return TS_DRIVE_LOADED;
    case DriveState::positioned: return TS_DRIVE_POSITIONED;
    case DriveState::writing: return TS_DRIVE_WRITING;
    case DriveState::reading: return TS_DRIVE_READING;
    case DriveState::at_early_warning: return TS_DRIVE_EARLY_WARNING;
    case DriveState::failed: return TS_DRIVE_FAILED;
  }
  return 0;
}

drive::ControlRequest to_control(const proto::ControlRequest& request) {
  using drive::ControlOp;
  ControlOp op = ControlOp::tell;
  switch (request.op) {
    case proto::ControlOp::rewind: op = ControlOp::rewind; break;
    case proto::ControlOp::load: op = ControlOp::load; break;
    case proto::ControlOp::eject: op = ControlOp::unload; break;
    case proto::ControlOp::weof: op = ControlOp::write_filemarks; break;
    case proto::ControlOp::fsf: op = ControlOp::space_files_forward; break;
    case proto::ControlOp::bsf: op = ControlOp::space_files_back; break;
    case proto::ControlOp::fsr: op = ControlOp::space_blocks_forward; break;
    case proto::ControlOp::bsr: op = ControlOp::space_blocks_back; break;
    case proto::ControlOp::eod: op = ControlOp::end_of_data; break;
    case proto::ControlOp::tell: op = ControlOp::tell; break;
    case proto::ControlOp::seek: op = ControlOp::locate_block; break;
    case proto::ControlOp::erase: op = ControlOp::erase; break;
    case proto::ControlOp::setblk: op = ControlOp::set_block_size; break;
    case proto::ControlOp::compression: op = ControlOp::compression; break;
  }
  return {op, request.argument, (request.flags & TS_CONTROL_IMMEDIATE) != 0};
}

proto::Progress to_progress(const drive::StreamProgress& progress) {
  return {progress.bytes, progress.on_tape, progress.buffers_full, progress.buffers};
}

}  // namespace tapestream::server
