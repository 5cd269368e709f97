// Drives any ScsiTransport one command at a time, synchronously, for the conformance suite:
// a ring, a registered buffer pool, and a wait for each command's single completion. It knows
// nothing of the transport behind the interface, so the same tests can run against a real
// drive's transport.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "scsi/command.hpp"
#include "scsi/condition.hpp"
#include "transport/transport.hpp"
#include "uring/buffer_pool.hpp"
#include "uring/ring.hpp"

namespace tapestream::test {

struct Exchange {
  transport::ScsiResult result;
  scsi::Classification classification;
  std::vector<std::uint8_t> data;  // data-in bytes that arrived (slice minus residue)

  // The sense as the SCSI layer normalises it; an empty optional when there is none.
  std::optional<scsi::Sense> sense() const { return classification.sense; }
};

class Harness {
 public:
  using Factory = std::function<std::unique_ptr<transport::ScsiTransport>(uring::Ring&)>;

  explicit Harness(const Factory& make, std::size_t buffer_size = 1 << 20);
  ~Harness();

  // Runs one command; `out` is the data-out payload, `in` the data-in length to offer.
  Exchange run(const scsi::Command& command, std::span<const std::uint8_t> out = {},
               std::size_t in = 0, std::chrono::milliseconds timeout = std::chrono::seconds{30});
  // Data-in commands: offers the command's own transfer length.
  Exchange query(const scsi::Command& command) {
    return run(command, {}, static_cast<std::size_t>(command.transfer_length));
  }

  transport::ScsiTransport& transport() { return *_transport; }
  uring::Ring& ring() { return _ring; }
  // Replaces the transport (to reopen an image, say): the old one is destroyed first.
  void reopen(const Factory& make);

 private:
  uring::Ring _ring;
  uring::BufferPool _pool;
  std::unique_ptr<transport::ScsiTransport> _transport;
};

// A deterministic block: byte i of block `block` of stream `stream`.
std::vector<std::uint8_t> pattern_block(std::uint32_t stream, std::uint32_t block,
                                        std::size_t length);

}  // namespace tapestream::test
