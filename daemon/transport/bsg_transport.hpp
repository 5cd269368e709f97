// SCSI commands to /dev/bsg/H:C:T:L as io_uring driver commands (IORING_OP_URING_CMD, Linux
// 7.1 and later): the CDB and sense buffer of the command slot and the data slice of a
// registered buffer go to the kernel by address; the SCSI status, host and driver bytes, sense
// length and residue come back packed in the 32-byte CQE. No copy and no system call per
// command beyond the ring's.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "common/unique_fd.hpp"
#include "transport/serial_transport.hpp"

namespace tapestream::transport {

class BsgTransport final : public SerialTransport, private uring::Completion {
 public:
  // Opens the node read-write (WRITE is refused with EPERM on a read-only open). Errors: the
  // node cannot be opened, or the ring lacks big entries or IORING_OP_URING_CMD.
  static Result<std::unique_ptr<BsgTransport>> open(uring::Ring& ring, const std::string& node);
  ~BsgTransport() override;

  std::string_view kind() const override { return "bsg"; }

 private:
  BsgTransport(uring::Ring& ring, UniqueFd fd);
  Result<void> issue(const ScsiRequest& request) override;
  void on_complete(const io_uring_cqe& cqe) override;

  UniqueFd _fd;
  CommandSlot _slot;
};

// The second CQE word of a bsg command, unpacked (include/uapi/linux/bsg.h, Linux 7.1):
// bits 0-7 SCSI status, 8-15 driver status, 16-23 host status, 24-31 sense bytes written,
// 32-63 residue. Bounded by what was asked: a residue beyond the transfer and sense beyond the
// buffer are cut.
ScsiResult decode_bsg_completion(std::uint64_t res2, std::uint32_t transfer_length,
                                 std::span<const std::uint8_t> sense_buffer);

}  // namespace tapestream::transport
