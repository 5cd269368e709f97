// The part the kernel transports (bsg, sg) share: one command in flight per drive, the rest
// queued in submission order. A tape executes commands in the order they reach it, and the
// kernel keeps that order only for one command at a time: with more in flight than the
// device's queue or the host's free tags, or with IOSQE_ASYNC, writes were seen to reach
// scsi_debug's tape out of order (docs/SCSI.md, "Ordering").
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <deque>
#include <initializer_list>
#include <optional>

#include "transport/transport.hpp"
#include "uring/ring.hpp"

namespace tapestream::transport {

// What the kernel reads and writes while one command runs: its CDB and sense buffer (96 bytes,
// SCSI_SENSE_BUFFERSIZE: the most bsg and sg return), and what the completion is bounded by.
struct CommandSlot {
  std::array<std::uint8_t, 16> cdb{};
  std::array<std::uint8_t, 96> sense{};
  std::uint32_t transfer_length = 0;
  std::chrono::milliseconds timeout{};

  // Takes the request's CDB, clears the sense; returns the data slice.
  std::span<std::uint8_t> load(const ScsiRequest& request) {
    cdb = request.command.cdb;
    sense.fill(0);
    transfer_length = static_cast<std::uint32_t>(request.data.bytes.size());
    timeout = request.timeout;
    return request.data.bytes;
  }
  // The timeout in the kernel's milliseconds, at least 1.
  std::uint32_t timeout_ms() const;
};

class SerialTransport : public ScsiTransport {
 public:
  Result<void> submit(const ScsiRequest& request, ScsiCallback& callback) final;

  SerialTransport(const SerialTransport&) = delete;
  SerialTransport& operator=(const SerialTransport&) = delete;

 protected:
  explicit SerialTransport(uring::Ring& ring) : _ring{ring} {}
  ~SerialTransport() override = default;

  // Queues the SQEs of one command; the implementation calls finished() once it completes.
  virtual Result<void> issue(const ScsiRequest& request) = 0;
  // Delivers the in-flight command's result and issues the next queued command.
  void finished(const ScsiResult& result);
  // For destructors: drops queued commands, asks the kernel to cancel `in_flight` and waits
  // until the command in flight has completed (the kernel still writes into its buffers).
  void shut_down(std::initializer_list<const uring::Completion*> in_flight,
                 std::chrono::milliseconds patience);

  uring::Ring& ring() { return _ring; }

 private:
  struct Pending {
    ScsiRequest request;
    ScsiCallback* callback;
  };
  void issue_next();

  uring::Ring& _ring;
  std::deque<Pending> _queue;
  std::optional<Pending> _in_flight;
  bool _closing = false;
};

// The result of a command the kernel refused (-errno in the CQE): no SCSI status, the host
// byte says DID_ERROR and `submission_errno` why.
ScsiResult refused_result(int error);

}  // namespace tapestream::transport
