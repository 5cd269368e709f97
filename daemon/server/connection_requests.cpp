// The requests that run no stream: HELLO, LIST_DRIVES, STATUS and CONTROL.
#include <spdlog/spdlog.h>

#include "drive/write_stream.hpp"
#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/position.hpp"
#include "server/connection.hpp"
#include "server/drive_slot.hpp"
#include "server/server.hpp"

namespace tapestream::server {
namespace {

using scsi::TapeCondition;

// How long STATUS waits for the drive before it answers from the last known state.
constexpr std::chrono::seconds status_patience{1};

}  // namespace

void Connection::hello(const proto::Hello& m) {
  if (_hello_done) {
    refuse(proto::Status::out_of_sequence, "HELLO twice", true);
    return;
  }
  if (m.min_version > TS_PROTO_VERSION || m.max_version < TS_PROTO_VERSION) {
    refuse(proto::Status::bad_version, "this daemon speaks protocol version 1 only", true);
    return;
  }
  _hello_done = true;
  _fd_passing = (m.features & TS_FEATURE_FD_PASSING) != 0;
  spdlog::debug("connection {} (uid {}): hello from \"{}\"", _id, _uid, m.client);
  reply(proto::HelloOk{TS_PROTO_VERSION, _fd_passing ? TS_FEATURE_FD_PASSING : 0U,
                       _server.options().max_data, "tapestreamd " TAPESTREAM_VERSION});
  finish_request();
}

void Connection::list_drives() {
  proto::DriveList list;
  for (const auto& [name, slot] : _server.drives()) {
    list.drives.push_back(name);
  }
  reply(list);
  finish_request();
}

DriveSlot* Connection::drive_for(const std::string& name) {
  auto* slot = _server.drive(name);
  if (slot == nullptr) {
    refuse(proto::Status::unknown_drive, "no drive named \"" + name + "\"");
  }
  return slot;
}

// DRIVE_STATUS is always answered: from the drive when it answers within a second, otherwise
// (a command running long, or a drive hung in one) from the last known state, flagged stale.
void Connection::status(const proto::StatusRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  _request_active = true;
  const auto now = Clock::now();
  const auto busy_since = slot->watch().busy_since();
  if (busy_since && now - *busy_since > status_patience) {
    reply_status(*slot, true);
    finish_request();
    return;
  }
  _status_wait = StatusWait{slot, 0, now + status_patience};
  const auto ticket = slot->refresh_state([this, slot] {
    if (!_status_wait) {
      return;
    }
    _status_wait.reset();
    if (!_input_closed) {
      reply_status(*slot, false);
    }
    finish_request();
  });
  if (_status_wait) {
    _status_wait->ticket = ticket;
  }
}

void Connection::status_deadline(Clock::time_point now) {
  if (!_status_wait || now < _status_wait->deadline) {
    return;
  }
  auto* slot = _status_wait->slot;
  slot->withdraw_state_waiter(_status_wait->ticket);
  _status_wait.reset();
  reply_status(*slot, true);
  finish_request();
}

void Connection::reply_status(DriveSlot& slot, bool stale) {
  proto::DriveStatus answer;
  const auto& id = slot.identity();
  answer.drive = slot.name();
  answer.transport = std::string{slot.transport().kind()};
  answer.vendor = id.vendor;
  answer.product = id.product;
  answer.revision = id.revision;
  answer.serial = id.serial;
  answer.max_block_length = id.max_block_length;
  const auto& known = slot.known_state();
  answer.state = known.state | (slot.stream_owns() ? TS_STATE_BUSY : 0U);
  answer.block_size = known.block_size;
  answer.density_code = known.density_code;
  answer.block_number = known.block_number;
  answer.file_number = known.file_number;
  if (stale) {
    answer.state |= TS_STATE_STALE;
    if (known.when) {
      answer.state_age_ms = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *known.when).count());
    }
  }
  reply(answer);
}

void Connection::control(const proto::ControlRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  if (slot->wanted_by_stream()) {
    refuse(proto::Status::busy, "drive " + slot->name() + " is in use by a stream");
    return;
  }
  const bool immediate = (m.flags & TS_CONTROL_IMMEDIATE) != 0;
  const auto n = m.argument;
  std::optional<scsi::Command> command;
  std::vector<std::uint8_t> parameters;
  using Op = proto::ControlOp;
  using scsi::cdb::SpaceCode;
  bool valid = true;  // the argument is in range; a count of 0 moves nothing
  switch (m.op) {
    case Op::rewind:
      command = scsi::cdb::rewind(immediate);
      break;
    case Op::load:
      command = scsi::cdb::load_unload(scsi::cdb::LoadAction::load, immediate);
      break;
    case Op::eject:
      command = scsi::cdb::load_unload(scsi::cdb::LoadAction::unload, immediate);
      break;
    case Op::weof:  // 0 filemarks: the drive writes its buffer to the medium
      valid = n >= 0 && n <= scsi::Count24::max;
      if (valid) {
        command = scsi::cdb::write_filemarks6(
            scsi::Count24::from(static_cast<std::uint64_t>(n)).value(), false);
      }
      break;
    case Op::fsf:
    case Op::bsf:
    case Op::fsr:
    case Op::bsr:
      valid = n >= 0 && n <= INT32_MAX;
      if (valid && n > 0) {
        const bool files = m.op == Op::fsf || m.op == Op::bsf;
        const bool back = m.op == Op::bsf || m.op == Op::bsr;
        command = slot->identity().positioning.space(files ? SpaceCode::filemarks : SpaceCode::blocks,
                                                     back ? -n : n);
        valid = command.has_value();
      }
      break;
    case Op::eod:
      command = slot->identity().positioning.space(SpaceCode::end_of_data, 0);
      break;
    case Op::tell:
      break;  // only the position
    case Op::seek:
      valid = n >= 0;
      if (valid) {
        command = slot->identity().positioning.locate_block(static_cast<std::uint64_t>(n), immediate);
        valid = command.has_value();
      }
      break;
    case Op::erase:
      command = scsi::cdb::erase6(n != 0, immediate);
      break;
    case Op::setblk:
      valid = n >= 0 && (slot->identity().max_block_length == 0 ||
                         n <= slot->identity().max_block_length);
      if (valid) {
        if (auto list = scsi::mode_select6_parameters(
                scsi::BlockDescriptor{0, 0, static_cast<std::uint32_t>(n)}, {})) {
          parameters = list.value();
          command = scsi::cdb::mode_select6(static_cast<std::uint8_t>(parameters.size()));
        }
      }
      break;
    case Op::compression:
      valid = n == 0 || n == 1;
      if (valid) {
        const auto page = scsi::DataCompressionPage::make(n == 1);
        const std::span<const std::uint8_t> pages[] = {page.bytes()};
        if (auto list = scsi::mode_select6_parameters(std::nullopt, pages)) {
          parameters = list.value();
          command = scsi::cdb::mode_select6(static_cast<std::uint8_t>(parameters.size()));
        }
      }
      break;
  }
  if (!valid) {
    refuse(proto::Status::bad_request,
           "argument " + std::to_string(n) + " is out of range for this operation");
    return;
  }
  _request_active = true;
  _slot = slot;
  // Held for the operation; another control operation before it is waited for.
  _ticket = slot->acquire(DriveSlot::Owner::control,
                          [this, m, command, parameters = std::move(parameters)]() mutable {
    _ticket.reset();
    run_control(m, command, std::move(parameters));
  });
  read_more();
}

void Connection::run_control(const proto::ControlRequest& m, std::optional<scsi::Command> command,
                             std::vector<std::uint8_t> parameters) {
  ++_control_in_flight;
  if (!command) {
    control_done(m);
    return;
  }
  _slot->commands().run(
      *command,
      [this, m](const CommandResult& r) {
        const auto condition = r.classification.condition;
        if (condition == TapeCondition::good) {
          control_done(m);
          return;
        }
        --_control_in_flight;
        release_drive();
        auto status = drive::stream_status(r.classification, r.result.timed_out);
        if (condition == TapeCondition::end_of_data || condition == TapeCondition::beginning_of_medium ||
            condition == TapeCondition::filemark) {
          status = proto::Status::end_of_data;
        }
        std::string message = "the drive answered " + std::string{scsi::condition_name(condition)};
        if (r.classification.residue) {
          message += "; " + std::to_string(*r.classification.residue) + " not done";
        }
        if (!_input_closed) {
          refuse(status, message);
        } else {
          finish_request();
        }
      },
      std::move(parameters));
}

// CONTROL_DONE carries where the tape stands after the operation; a drive that cannot say
// (no cartridge) makes the operation fail rather than report a made-up position.
void Connection::control_done(const proto::ControlRequest& m) {
  const auto form = _slot->identity().positioning.position_form();
  _slot->commands().run(scsi::cdb::read_position(form), [this, form, op = m.op,
                                                        argument = m.argument](const CommandResult& r) {
    --_control_in_flight;
    release_drive();
    auto p = scsi::parse_read_position(form, r.data);
    if (r.classification.condition != TapeCondition::good || !p) {
      if (op != proto::ControlOp::tell) {  // done (an eject leaves no position to report)
        if (!_input_closed) {
          reply(proto::ControlDone{0, 0, TS_STATE_FILE_UNKNOWN});
        }
        finish_request();
        return;
      }
      const auto status = r.classification.condition == TapeCondition::good
                              ? proto::Status::drive_error
                              : drive::stream_status(r.classification, r.result.timed_out);
      if (!_input_closed) {
        refuse(status, "the drive does not say where the tape stands: " +
                           std::string{scsi::condition_name(r.classification.condition)});
      } else {
        finish_request();
      }
      return;
    }
    proto::ControlDone done;
    const auto& position = p.value();
    done.block_number = position.first_logical_object.value_or(0);
    done.file_number = position.logical_file.value_or(0);
    done.state = position_state(position);
    if (op == proto::ControlOp::compression && argument == 1) {
      done.state |= TS_STATE_COMPRESSION;  // the drive took the setting
    }
    if (!_input_closed) {
      reply(done);
    }
    finish_request();
  });
}

}  // namespace tapestream::server
