#include "server/stream_job.hpp"

#include <spdlog/spdlog.h>

#include "server/status_map.hpp"

namespace tapestream::server {

StreamJob::StreamJob(JobHost& host, DriveSlot& slot, bool progress_wanted)
    : _host{host}, _slot{slot}, _progress_wanted{progress_wanted} {}

StreamJob::~StreamJob() = default;

std::string StreamJob::who() const {
  return "connection " + std::to_string(_host.id()) + " (uid " + std::to_string(_host.uid()) + ")";
}

std::string StreamJob::amount_text(const drive::StreamOutcome& outcome) {
  return std::to_string(outcome.bytes) + " bytes in " + std::to_string(outcome.blocks) + " blocks";
}

void StreamJob::begin() {
  _lease = _slot.join(DriveSlot::Owner::stream);
  _lease.when_granted([this] {
    _phase = Phase::starting;
    start();
  });
}

void StreamJob::leave_line() { (void)_lease.end(); }

bool StreamJob::ended_in_line(std::optional<std::string> why) {
  if (_phase != Phase::waiting) {
    return false;
  }
  leave_line();
  stop_mover();
  _phase = Phase::done;
  if (why) {
    _host.refuse(proto::Status::shutting_down, *why);
  } else {
    _host.request_over(false);
  }
  return true;
}

void StreamJob::release_drive(drive::Ending ending) {
  if (_lease.holds()) {
    _slot.drive().stream_ended(ending);
  }
  leave_line();
}

void StreamJob::streaming() {
  _phase = Phase::streaming;
  _stall_mark = 0;
  _stall_since = Clock::now();
}

void StreamJob::outcome(const drive::StreamOutcome& outcome) {
  if (moving_buffers()) {
    _pending = outcome;
    stop_mover();
    return;
  }
  report(outcome);
}

void StreamJob::settle() {
  if (!_pending || moving_buffers()) {
    return;
  }
  const auto outcome = *_pending;
  _pending.reset();
  report(outcome);
}

void StreamJob::report_progress() {
  if (!_progress_wanted || _host.client_gone() || _phase == Phase::waiting ||
      _phase == Phase::done) {
    return;
  }
  const auto now = Clock::now();
  if (now - _progress_sent < std::chrono::milliseconds{500}) {
    return;
  }
  _progress_sent = now;
  _host.reply(to_progress(progress()));
}

void StreamJob::check_stall(Clock::time_point now, std::chrono::seconds timeout) {
  if (timeout.count() == 0 || _phase != Phase::streaming) {
    return;
  }
  const auto sample = stall_sample();
  if (sample.bytes != _stall_mark || !sample.waiting_for_client) {
    _stall_mark = sample.bytes;
    _stall_since = now;
    return;
  }
  if (now - _stall_since < timeout) {
    return;
  }
  _stall_since = now;
  stalled("no data moved for " + std::to_string(timeout.count()) + " s (the stream timeout)");
}

}  // namespace tapestream::server
