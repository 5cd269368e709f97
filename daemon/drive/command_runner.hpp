// Runs single SCSI commands on one drive for its control path (status, control operations), one
// at a time through the drive's control buffer: several clients may ask at once, and each
// command's data-in is read before the next command may overwrite the buffer (regression:
// STATUS and CONTROL sharing the buffer concurrently made controls fail and status replies
// impossible, "file 1 at block 0").
#pragma once

#include <functional>
#include <list>

#include "scsi/condition.hpp"
#include "scsi/timeouts.hpp"
#include "transport/transport.hpp"
#include "uring/buffer_pool.hpp"

namespace tapestream::drive {

struct CommandResult {
  transport::ScsiResult result;
  scsi::Classification classification;
  std::span<const std::uint8_t> data;  // data-in that arrived, valid only inside the callback
};

class CommandRunner {
 public:
  CommandRunner(transport::ScsiTransport& drive, uring::BufferPool& pool, std::uint16_t buffer,
                const scsi::TimeoutTable& timeouts)
      : _drive{drive}, _pool{pool}, _buffer{buffer}, _timeouts{timeouts} {}
  CommandRunner(const CommandRunner&) = delete;
  CommandRunner& operator=(const CommandRunner&) = delete;

  using Then = std::function<void(const CommandResult&)>;
  // Queues the command behind the ones already waiting. Data-out commands pass their parameter
  // list in `out`; data-in ones get the command's transfer length of the control buffer.
  void run(const scsi::Command& command, Then then, std::vector<std::uint8_t> out = {});
  // Called from a command's `then`: the follow-up runs before anything queued meanwhile, so
  // that an operation's commands (a command and the READ POSITION after it) are not split.
  void run_next(const scsi::Command& command, Then then);

 private:
  struct Pending final : transport::ScsiCallback {
    CommandRunner* runner = nullptr;
    scsi::Command command;
    std::vector<std::uint8_t> out;
    Then then;
    void on_scsi_complete(const transport::ScsiResult& result) override;
  };
  void start_next();
  void completed(const transport::ScsiResult& result);

  transport::ScsiTransport& _drive;
  uring::BufferPool& _pool;
  std::uint16_t _buffer;
  const scsi::TimeoutTable& _timeouts;
  std::list<Pending> _queue;  // the front one is with the drive while _running
  bool _running = false;
};

}  // namespace tapestream::drive
