#include "server/commands.hpp"

#include <algorithm>

namespace tapestream::server {

void CommandRunner::run(DriveSlot& drive, const scsi::Command& command, Then then,
                        std::span<const std::uint8_t> out) {
  auto& p = _pending.emplace_back();
  p.runner = this;
  p.command = command;
  p.then = std::move(then);
  p.self = std::prev(_pending.end());
  const auto whole = _pool.buffer(drive.control_buffer());
  const auto length = std::min<std::size_t>(out.empty() ? command.transfer_length : out.size(),
                                            whole.size());
  p.buffer = whole.first(length);
  std::copy_n(out.begin(), std::min(out.size(), length), p.buffer.begin());
  transport::ScsiRequest request;
  request.command = command;
  request.data = {drive.control_buffer(), p.buffer};
  request.timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(_timeouts.timeout_for(command));
  if (!drive.transport().submit(request, p)) {
    transport::ScsiResult refused;
    refused.host_status = static_cast<std::uint8_t>(scsi::HostStatus::error);
    p.on_scsi_complete(refused);
  }
}

void CommandRunner::Pending::on_scsi_complete(const transport::ScsiResult& result) {
  CommandResult r;
  r.result = result;
  r.classification = scsi::classify(command, result.status());
  const auto moved = buffer.size() - std::min<std::size_t>(result.residue, buffer.size());
  r.data = std::span<const std::uint8_t>{buffer.data(), moved};
  auto next = std::move(then);
  auto* owner = runner;
  auto me = self;
  next(r);
  owner->_pending.erase(me);
}

}  // namespace tapestream::server
