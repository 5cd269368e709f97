#include "drive/command_channel.hpp"

#include <utility>

namespace tapestream::drive {

bool is_unit_attention(scsi::TapeCondition condition) {
  using scsi::TapeCondition;
  return condition == TapeCondition::reset || condition == TapeCondition::medium_changed ||
         condition == TapeCondition::parameters_changed ||
         condition == TapeCondition::unit_attention;
}

void CommandChannel::send(const scsi::Command& command, transport::DataBuffer data, Then then,
                          Resend resend) {
  _request = {};
  _request.command = command;
  _request.data = data;
  _request.timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(_timeouts.timeout_for(command));
  _then = std::move(then);
  _resend = resend == Resend::after_unit_attention;
  if (auto submitted = _drive.submit(_request, *this); !submitted) {
    transport::ScsiResult refused;
    refused.host_status = static_cast<std::uint8_t>(scsi::HostStatus::error);
    on_scsi_complete(refused);
  }
}

void CommandChannel::on_scsi_complete(const transport::ScsiResult& result) {
  if (is_unit_attention(scsi::classify(_request.command, result.status()).condition)) {
    _attention = true;
    ++_attentions;
    if (std::exchange(_resend, false)) {
      if (_drive.submit(_request, *this)) {
        return;
      }
    }
  }
  auto then = std::exchange(_then, nullptr);
  then(result);
}

}  // namespace tapestream::drive
