// One command at a time to a drive, with what to do when it completes: the plumbing a stream
// needs between itself and the transport, with timeouts from the drive's table.
#pragma once

#include <functional>

#include "scsi/condition.hpp"
#include "scsi/timeouts.hpp"
#include "transport/transport.hpp"

namespace tapestream::drive {

// A unit attention (reset, medium or parameters changed) reports something that happened
// before the command; the command itself was not executed.
bool is_unit_attention(scsi::TapeCondition condition);

class CommandChannel final : private transport::ScsiCallback {
 public:
  using Then = std::function<void(const transport::ScsiResult&)>;
  // Whether a command is sent once more after a unit attention: only commands whose effect
  // does not depend on where the tape stands (READ POSITION, MODE SENSE/SELECT, REWIND, SPACE
  // to end of data, LOCATE to an absolute place). A WRITE or a relative SPACE after a reset
  // would act at a position nobody chose.
  enum class Resend { never, after_unit_attention };

  CommandChannel(transport::ScsiTransport& drive, const scsi::TimeoutTable& timeouts)
      : _drive{drive}, _timeouts{timeouts} {}
  CommandChannel(const CommandChannel&) = delete;
  CommandChannel& operator=(const CommandChannel&) = delete;

  // `then` runs once, from the ring's dispatch; if the transport refuses the command outright
  // it runs at once, with a host error.
  void send(const scsi::Command& command, transport::DataBuffer data, Then then,
            Resend resend = Resend::never);
  // Whether a unit attention came back since the last call (also one a resend absorbed): the
  // drive may have been reset, and a position assumed before it may be wrong.
  bool take_unit_attention() { return std::exchange(_attention, false); }
  // Unit attentions seen since the channel was made, which take_unit_attention() does not
  // reset: what was set up on the drive before the count moved may be gone.
  std::uint64_t attentions() const { return _attentions; }

 private:
  void on_scsi_complete(const transport::ScsiResult& result) override;

  transport::ScsiTransport& _drive;
  const scsi::TimeoutTable& _timeouts;
  transport::ScsiRequest _request;
  Then _then;
  bool _resend = false;
  bool _attention = false;
  std::uint64_t _attentions = 0;
};

}  // namespace tapestream::drive
