// One command at a time to a drive, with what to do when it completes: the plumbing a stream
// needs between itself and the transport, with timeouts from the drive's table.
#pragma once

#include <functional>

#include "scsi/timeouts.hpp"
#include "transport/transport.hpp"

namespace tapestream::drive {

class CommandChannel final : private transport::ScsiCallback {
 public:
  using Then = std::function<void(const transport::ScsiResult&)>;

  CommandChannel(transport::ScsiTransport& drive, const scsi::TimeoutTable& timeouts)
      : _drive{drive}, _timeouts{timeouts} {}
  CommandChannel(const CommandChannel&) = delete;
  CommandChannel& operator=(const CommandChannel&) = delete;

  // `then` runs once, from the ring's dispatch; if the transport refuses the command outright
  // it runs at once, with a host error.
  void send(const scsi::Command& command, transport::DataBuffer data, Then then);

 private:
  void on_scsi_complete(const transport::ScsiResult& result) override;

  transport::ScsiTransport& _drive;
  const scsi::TimeoutTable& _timeouts;
  Then _then;
};

}  // namespace tapestream::drive
