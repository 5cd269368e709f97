// Finding tape drives in sysfs and choosing how to talk to each: the bsg node through io_uring
// commands where the kernel takes them (Linux 7.1 and later), else the sg node.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport/transport.hpp"
#include "uring/ring.hpp"

namespace tapestream::transport {

// One SCSI device of type 1 (sequential access) and the nodes of its drivers.
struct TapeDevice {
  std::string address;  // H:C:T:L
  std::string vendor;
  std::string model;
  std::string serial;     // VPD page 0x80 as sysfs keeps it; empty when the kernel has none
  std::string st_node;    // /dev/nstN (non-rewinding), empty without the st driver
  std::string bsg_node;   // /dev/bsg/H:C:T:L
  std::string sg_node;    // /dev/sgN, empty without the sg driver
};

// Reads /sys/bus/scsi/devices (or the same tree under `sysfs`). Devices whose files cannot be
// read are listed with what could be read.
std::vector<TapeDevice> discover_tapes(const std::filesystem::path& sysfs = "/sys");

// A drive named by its SCSI address, any of its device nodes, or its serial number.
std::optional<TapeDevice> find_tape(const std::vector<TapeDevice>& tapes, const std::string& name);

enum class TransportChoice { automatic, bsg, sg };

struct OpenedTransport {
  std::unique_ptr<ScsiTransport> transport;
  std::string reason;  // why this transport, for --probe and the log
};

// Opens the transport `choice` asks for; automatic tries bsg (one TEST UNIT READY through
// IORING_OP_URING_CMD) and falls back to sg when the kernel refuses it. The failure's message
// says what was tried and what each attempt answered.
Result<OpenedTransport, Failure> open_tape_transport(uring::Ring& ring, const TapeDevice& tape,
                                                     TransportChoice choice);

}  // namespace tapestream::transport
