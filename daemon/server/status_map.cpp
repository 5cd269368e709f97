#include "server/status_map.hpp"

#include "scsi/density.hpp"

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
  return {progress.bytes, progress.on_tape, progress.buffers_full, progress.buffers, {}};
}

void fill_health(proto::DriveStatus& answer, const drive::KnownState& known, bool health) {
  std::uint32_t mask = 0;
  if (known.tape_alerts) {
    answer.tape_alerts = known.tape_alerts->to_ullong();
    mask |= TS_KNOWN_TAPE_ALERTS;
  }
  if (known.health.capacity_mib) {
    answer.capacity_mib = *known.health.capacity_mib;
    mask |= TS_KNOWN_CAPACITY;
  }
  if (known.health.remaining_mib) {
    answer.remaining_mib = *known.health.remaining_mib;
    mask |= TS_KNOWN_REMAINING;
  }
  // A string's own emptiness says "not known": no mask bit, and v1 clients see it too.
  if (known.health.medium_serial) {
    answer.medium_serial = known.health.medium_serial->substr(0, TS_MAX_STATUS_TEXT);
  }
  if (!health) {
    return;
  }
  mask |= known.density_known ? TS_KNOWN_DENSITY : 0U;
  mask |= known.position ? TS_KNOWN_POSITION : 0U;
  answer.known = static_cast<std::uint8_t>(mask);
  proto::DriveHealth h;
  const auto& s = known.health.statistics;
  auto put = [&h](const std::optional<std::uint64_t>& value, std::uint64_t& field, std::uint32_t bit) {
    if (value) {
      field = *value;
      h.known |= bit;
    }
  };
  put(s.loads, h.loads, TS_HEALTH_LOADS);
  put(s.mb_written_load, h.mb_written_load, TS_HEALTH_MB_WRITTEN_LOAD);
  put(s.mb_read_load, h.mb_read_load, TS_HEALTH_MB_READ_LOAD);
  put(s.mb_written_life, h.mb_written_life, TS_HEALTH_MB_WRITTEN_LIFE);
  put(s.mb_read_life, h.mb_read_life, TS_HEALTH_MB_READ_LIFE);
  put(s.write_retries, h.write_retries, TS_HEALTH_WRITE_RETRIES);
  put(s.read_retries, h.read_retries, TS_HEALTH_READ_RETRIES);
  put(s.write_errors, h.write_errors, TS_HEALTH_WRITE_ERRORS);
  put(s.read_errors, h.read_errors, TS_HEALTH_READ_ERRORS);
  put(known.block_in_file, h.block_in_file, TS_HEALTH_BLOCK_IN_FILE);
  // A cleaning is asked for by the TapeAlert flags or by the Sequential-Access page; it is
  // known not to be asked for only when both were read and neither asks.
  const bool by_alerts = known.tape_alerts && drive::cleaning_requested(*known.tape_alerts);
  const bool by_page = known.health.cleaning_action_required.value_or(false);
  if (by_alerts || by_page || (known.tape_alerts && known.health.cleaning_action_required)) {
    h.cleaning = (by_alerts || by_page) ? 1 : 0;
    h.known |= TS_HEALTH_CLEANING;
  }
  if (known.density_known) {
    h.density_name = scsi::density_code_name(static_cast<std::uint8_t>(known.density_code));
  }
  answer.health = std::move(h);
}

}  // namespace tapestream::server
