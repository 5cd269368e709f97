#include "transport/serial_transport.hpp"

#include <algorithm>
#include <system_error>

#include "scsi/status.hpp"

namespace tapestream::transport {

std::uint32_t CommandSlot::timeout_ms() const {
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(timeout.count(), 1, UINT32_MAX));
}

ScsiResult refused_result(int error) {
  ScsiResult result;
  result.host_status = static_cast<std::uint8_t>(scsi::HostStatus::error);
  result.submission_errno = error;
  return result;
}

Result<void> SerialTransport::submit(const ScsiRequest& request, ScsiCallback& callback) {
  if (_closing) {
    return std::make_error_code(std::errc::operation_canceled);
  }
  if (_in_flight) {
    _queue.push_back({request, &callback});
    return outcome::success();
  }
  // The first command's refusal is the caller's to hear now; it has not been queued.
  BOOST_OUTCOME_TRY(issue(request));
  _in_flight = Pending{request, &callback};
  return outcome::success();
}

void SerialTransport::finished(const ScsiResult& result) {
  if (!_in_flight) {
    return;
  }
  ScsiCallback* callback = _in_flight->callback;
  _in_flight.reset();
  if (!_closing) {
    callback->on_scsi_complete(result);
  }
  issue_next();
}

void SerialTransport::issue_next() {
  while (!_in_flight && !_queue.empty() && !_closing) {
    Pending next = _queue.front();
    _queue.pop_front();
    if (auto issued = issue(next.request); issued) {
      _in_flight = next;
      return;
    } else {
      next.callback->on_scsi_complete(refused_result(issued.error().value()));
    }
  }
}

void SerialTransport::shut_down(std::initializer_list<const uring::Completion*> in_flight,
                                std::chrono::milliseconds patience) {
  _closing = true;
  _queue.clear();
  if (!_in_flight) {
    return;
  }
  // SCSI passthrough commands are rarely cancelable; the wait is bounded by their timeout.
  for (const auto* completion : in_flight) {
    (void)_ring.prepare(uring::Cancel{completion}, nullptr);
  }
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (_in_flight && std::chrono::steady_clock::now() < deadline) {
    if (!_ring.run_once(std::chrono::milliseconds{100})) {
      break;
    }
  }
}

}  // namespace tapestream::transport
