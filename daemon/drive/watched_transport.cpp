#include "drive/watched_transport.hpp"

#include "drive/command_channel.hpp"
#include "scsi/cdb.hpp"

namespace tapestream::drive {
namespace {

// Commands that put the tape at a place that does not depend on where it stood.
bool positions_absolutely(const scsi::Command& c) {
  using scsi::Opcode;
  switch (c.opcode()) {
    case Opcode::rewind:
    case Opcode::locate10:
    case Opcode::locate16:
      return true;
    case Opcode::load_unload:
      return (c.cdb[4] & 0x01) != 0;  // a load leaves the tape at its beginning
    case Opcode::space6:
    case Opcode::space16:
      return static_cast<scsi::cdb::SpaceCode>(c.cdb[1] & 0x0F) ==
             scsi::cdb::SpaceCode::end_of_data;
    default:
      return false;
  }
}

}  // namespace

Result<void> WatchedTransport::submit(const transport::ScsiRequest& request,
                                      transport::ScsiCallback& callback) {
  auto& f = _in_flight.emplace_back();
  f.owner = this;
  f.target = &callback;
  f.command = request.command;
  f.started = Clock::now();
  f.self = std::prev(_in_flight.end());
  auto submitted = _drive->submit(request, f);
  if (!submitted) {
    _in_flight.erase(f.self);
  }
  return submitted;
}

void WatchedTransport::Forward::on_scsi_complete(const transport::ScsiResult& result) {
  auto* target_callback = target;
  auto* watcher = owner;
  const auto done_command = command;
  watcher->_in_flight.erase(self);  // `this` is gone from here on
  watcher->observe(done_command, result);
  target_callback->on_scsi_complete(result);
}

void WatchedTransport::observe(const scsi::Command& command, const transport::ScsiResult& result) {
  const auto condition = scsi::classify(command, result.status()).condition;
  // A timed-out command may have been aborted with a device reset by the kernel.
  if (condition == scsi::TapeCondition::reset || condition == scsi::TapeCondition::medium_changed ||
      result.timed_out) {
    _position_trusted = false;
    ++_medium_epoch;
  } else if (condition == scsi::TapeCondition::good && positions_absolutely(command)) {
    _position_trusted = true;
  }
  const bool load = command.opcode() == scsi::Opcode::load_unload && (command.cdb[4] & 0x01) != 0;
  const bool absent = condition == scsi::TapeCondition::no_medium;
  if (condition == scsi::TapeCondition::medium_changed || (absent && !_medium_absent) ||
      (load && condition == scsi::TapeCondition::good)) {
    ++_medium_generation;
    ++_medium_epoch;
  }
  if (absent || condition == scsi::TapeCondition::good) {
    _medium_absent = absent;
  }
}

}  // namespace tapestream::drive
