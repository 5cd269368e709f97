#include "drive/command_channel.hpp"

#include <utility>

namespace tapestream::drive {

void CommandChannel::send(const scsi::Command& command, transport::DataBuffer data, Then then) {
  transport::ScsiRequest request;
  request.command = command;
  request.data = data;
  request.timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(_timeouts.timeout_for(command));
  _then = std::move(then);
  if (auto submitted = _drive.submit(request, *this); !submitted) {
    transport::ScsiResult refused;
    refused.host_status = static_cast<std::uint8_t>(scsi::HostStatus::error);
    on_scsi_complete(refused);
  }
}

void CommandChannel::on_scsi_complete(const transport::ScsiResult& result) {
  auto then = std::exchange(_then, nullptr);
  then(result);
}

}  // namespace tapestream::drive
