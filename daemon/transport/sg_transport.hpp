// SCSI commands to /dev/sgN through the sg driver's v3 asynchronous interface, for kernels
// before 7.1 whose bsg nodes take no io_uring commands: a write(2) of an sg_io_hdr starts the
// command and a read(2) of one returns its completion. Both go through the ring as one linked
// pair, so the event loop never blocks. Data moves by direct I/O into the registered buffer
// when the sg module allows it (allow_dio=1), else through the driver's own buffer (one copy).
#pragma once

#include <scsi/sg.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "common/unique_fd.hpp"
#include "transport/serial_transport.hpp"

namespace tapestream::transport {

class SgTransport final : public SerialTransport {
 public:
  // Errors: the node cannot be opened or is not an sg v3 device.
  static Result<std::unique_ptr<SgTransport>> open(uring::Ring& ring, const std::string& node);
  ~SgTransport() override;

  std::string_view kind() const override { return "sg"; }
  // Whether this transport asks for direct I/O (the sg module's allow_dio).
  bool direct_io() const { return _direct_io; }
  // Commands whose data the driver moved directly and through its own buffer.
  std::uint64_t direct_transfers() const { return _direct_transfers; }
  std::uint64_t indirect_transfers() const { return _indirect_transfers; }

 private:
  struct Step final : uring::Completion {
    SgTransport* transport = nullptr;
    int result = 0;
    bool is_read = false;
    void on_complete(const io_uring_cqe& cqe) override;
  };

  SgTransport(uring::Ring& ring, UniqueFd fd, bool direct_io);
  Result<void> issue(const ScsiRequest& request) override;
  void read_done();

  UniqueFd _fd;
  bool _direct_io;
  CommandSlot _slot;
  sg_io_hdr_t _request{};
  sg_io_hdr_t _reply{};
  Step _write_step;
  Step _read_step;
  std::uint64_t _direct_transfers = 0;
  std::uint64_t _indirect_transfers = 0;
};

// Whether the sg module was loaded with allow_dio=1 (/sys/module/sg/parameters/allow_dio).
bool sg_allows_direct_io();

// The completion header of the sg driver, bounded by what was asked.
ScsiResult decode_sg_completion(const sg_io_hdr_t& reply, std::uint32_t transfer_length,
                                std::span<const std::uint8_t> sense_buffer);

}  // namespace tapestream::transport
