// The one interface every path to a tape drive implements: bsg io_uring commands, the sg
// fallback, and the emulated drive. The drive layer and the conformance suite see only this.
//
// Contract of every implementation:
//  - submit() queues one command and returns at once. It fails only when the command cannot be
//    queued at all (the transport is shut down, the buffer is not registered); anything the
//    drive says arrives as a ScsiResult.
//  - Each submitted command completes exactly once, through its callback, from the ring's
//    dispatch (Ring::run_once) and never from inside submit().
//  - Commands reach the drive in submission order and complete in that order. Nothing is
//    submitted with IOSQE_ASYNC, which reorders commands.
//  - Data moves only through the registered buffer slice of the request; the slice must stay
//    valid until completion. A command's transfer length is the slice's size.
//  - A command that outlives its timeout completes with timed_out set and host status
//    DID_TIME_OUT; the drive's position is then unknown until READ POSITION says otherwise.
//  - ScsiResult::sense holds only the bytes the drive wrote (sense_length of them).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "common/result.hpp"
#include "scsi/command.hpp"
#include "scsi/status.hpp"

namespace tapestream::transport {

// A slice of one registered buffer of the pool.
struct DataBuffer {
  std::uint16_t index = 0;
  std::span<std::uint8_t> bytes;
};

struct ScsiRequest {
  scsi::Command command;
  DataBuffer data;  // empty for commands without data
  std::chrono::milliseconds timeout{60'000};
};

inline constexpr std::size_t max_sense_length = 252;

struct ScsiResult {
  std::uint8_t scsi_status = 0;
  std::uint8_t host_status = 0;
  std::uint8_t driver_status = 0;
  bool timed_out = false;
  std::uint32_t residue = 0;  // bytes of the slice that did not move
  std::uint8_t sense_length = 0;
  std::array<std::uint8_t, max_sense_length> sense{};
  // Nonzero when the kernel refused the command before it reached the drive (EFAULT: a buffer
  // outside the registered region; EPERM: the device node is open read-only; EINVAL); the
  // host status is then DID_ERROR.
  int submission_errno = 0;

  // The view the SCSI layer classifies; valid while this result lives.
  scsi::CompletionStatus status() const {
    scsi::CompletionStatus s;
    s.scsi_status = scsi_status;
    s.host_status = host_status;
    s.driver_status = driver_status;
    s.residue = residue;
    s.sense = std::span<const std::uint8_t>{sense.data(), sense_length};
    s.timed_out = timed_out;
    return s;
  }
};

class ScsiCallback {
 public:
  virtual void on_scsi_complete(const ScsiResult& result) = 0;

 protected:
  ~ScsiCallback() = default;
};

class ScsiTransport {
 public:
  virtual ~ScsiTransport() = default;

  virtual Result<void> submit(const ScsiRequest& request, ScsiCallback& callback) = 0;

  // A short name for logs: "emulated", "bsg", "sg".
  virtual std::string_view kind() const = 0;
};

}  // namespace tapestream::transport
