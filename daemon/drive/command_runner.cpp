#include "drive/command_runner.hpp"

#include <algorithm>

namespace tapestream::drive {

void CommandRunner::run(const scsi::Command& command, Then then, std::vector<std::uint8_t> out) {
  auto& p = _queue.emplace_back();
  p.runner = this;
  p.command = command;
  p.out = std::move(out);
  p.then = std::move(then);
  start_next();
}

void CommandRunner::run_next(const scsi::Command& command, Then then) {
  // The front entry is the command whose `then` is running (completed() popped it already);
  // inserting at the front puts this one ahead of everything that waits.
  auto& p = _queue.emplace_front();
  p.runner = this;
  p.command = command;
  p.then = std::move(then);
  start_next();
}

void CommandRunner::start_next() {
  if (_running || _queue.empty()) {
    return;
  }
  _running = true;
  auto& p = _queue.front();
  const auto whole = _pool.buffer(_buffer);
  const auto length = std::min<std::size_t>(p.out.empty() ? p.command.transfer_length : p.out.size(),
                                            whole.size());
  std::copy_n(p.out.begin(), std::min(p.out.size(), length), whole.begin());
  transport::ScsiRequest request;
  request.command = p.command;
  request.data = {_buffer, whole.first(length)};
  request.timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(_timeouts.timeout_for(p.command));
  if (!_drive.submit(request, p)) {
    transport::ScsiResult refused;
    refused.host_status = static_cast<std::uint8_t>(scsi::HostStatus::error);
    refused.residue = static_cast<std::uint32_t>(length);
    completed(refused);
  }
}

void CommandRunner::Pending::on_scsi_complete(const transport::ScsiResult& result) {
  runner->completed(result);
}

void CommandRunner::completed(const transport::ScsiResult& result) {
  auto done = std::move(_queue.front());
  _queue.pop_front();
  const auto whole = _pool.buffer(_buffer);
  const auto length = std::min<std::size_t>(done.out.empty() ? done.command.transfer_length
                                                             : done.out.size(),
                                            whole.size());
  CommandResult r;
  r.result = result;
  r.classification = scsi::classify(done.command, result.status());
  r.data = whole.first(length - std::min<std::size_t>(result.residue, length));
  // The callback reads the data before the next command may overwrite the buffer.
  done.then(r);
  _running = false;
  start_next();
}

}  // namespace tapestream::drive
