// Runs single SCSI commands on a drive for the server's control path (STATUS, CONTROL), each
// with its own completion, so that several clients may ask at once.
#pragma once

#include <functional>
#include <list>

#include "scsi/condition.hpp"
#include "scsi/timeouts.hpp"
#include "server/drive_slot.hpp"
#include "uring/buffer_pool.hpp"

namespace tapestream::server {

struct CommandResult {
  transport::ScsiResult result;
  scsi::Classification classification;
  std::span<const std::uint8_t> data;  // data-in that arrived, in the drive's control buffer
};

class CommandRunner {
 public:
  CommandRunner(uring::BufferPool& pool, const scsi::TimeoutTable& timeouts)
      : _pool{pool}, _timeouts{timeouts} {}
  CommandRunner(const CommandRunner&) = delete;
  CommandRunner& operator=(const CommandRunner&) = delete;

  using Then = std::function<void(const CommandResult&)>;
  // Data-out commands pass their parameter list in `out`; data-in ones get the command's
  // transfer length of the drive's control buffer.
  void run(DriveSlot& drive, const scsi::Command& command, Then then,
           std::span<const std::uint8_t> out = {});

 private:
  struct Pending final : transport::ScsiCallback {
    CommandRunner* runner = nullptr;
    scsi::Command command;
    std::span<std::uint8_t> buffer;
    Then then;
    std::list<Pending>::iterator self;
    void on_scsi_complete(const transport::ScsiResult& result) override;
  };
  uring::BufferPool& _pool;
  const scsi::TimeoutTable& _timeouts;
  std::list<Pending> _pending;
};

}  // namespace tapestream::server
