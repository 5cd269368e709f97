#include "transport/bsg_transport.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "scsi/status.hpp"

namespace tapestream::transport {
namespace {

// struct bsg_uring_cmd of include/uapi/linux/bsg.h (Linux 7.1). Debian 12's headers predate
// it, so the layout is kept here and pinned by the asserts below.
struct BsgUringCommand {
  std::uint64_t request;  // CDB address
  std::uint32_t request_len;
  std::uint32_t protocol;  // BSG_PROTOCOL_SCSI
  std::uint32_t subprotocol;  // BSG_SUB_PROTOCOL_SCSI_CMD
  std::uint32_t max_response_len;  // sense buffer size
  std::uint64_t response;  // sense buffer address
  std::uint64_t dout_xferp;
  std::uint32_t dout_xfer_len;
  std::uint32_t dout_iovec_count;
  std::uint64_t din_xferp;
  std::uint32_t din_xfer_len;
  std::uint32_t din_iovec_count;
  std::uint32_t timeout_ms;
  std::uint8_t reserved[12];
};
static_assert(sizeof(BsgUringCommand) == uring::uring_cmd_payload_size);
static_assert(offsetof(BsgUringCommand, response) == 24);
static_assert(offsetof(BsgUringCommand, din_xferp) == 48);
static_assert(offsetof(BsgUringCommand, timeout_ms) == 64);

std::uint64_t address_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace

ScsiResult decode_bsg_completion(std::uint64_t res2, std::uint32_t transfer_length,
                                 std::span<const std::uint8_t> sense_buffer) {
  ScsiResult result;
  result.scsi_status = static_cast<std::uint8_t>(res2 & 0xFF);
  result.driver_status = static_cast<std::uint8_t>((res2 >> 8) & 0xFF);
  result.host_status = static_cast<std::uint8_t>((res2 >> 16) & 0xFF);
  const std::size_t sense_written = (res2 >> 24) & 0xFF;
  result.residue = std::min(static_cast<std::uint32_t>(res2 >> 32), transfer_length);
  result.timed_out = result.host_status == static_cast<std::uint8_t>(scsi::HostStatus::time_out);
  const std::size_t sense_length =
      std::min({sense_written, sense_buffer.size(), result.sense.size()});
  std::copy_n(sense_buffer.begin(), sense_length, result.sense.begin());
  result.sense_length = static_cast<std::uint8_t>(sense_length);
  return result;
}

Result<std::unique_ptr<BsgTransport>> BsgTransport::open(uring::Ring& ring,
                                                         const std::string& node) {
  if (!ring.features().big_entries || !ring.supports(IORING_OP_URING_CMD)) {
    return std::make_error_code(std::errc::function_not_supported);
  }
  UniqueFd fd{::open(node.c_str(), O_RDWR | O_CLOEXEC)};
  if (!fd) {
    return std::error_code{errno, std::system_category()};
  }
  return std::unique_ptr<BsgTransport>{new BsgTransport{ring, std::move(fd)}};
}

BsgTransport::BsgTransport(uring::Ring& ring, UniqueFd fd)
    : SerialTransport{ring}, _fd{std::move(fd)} {}

BsgTransport::~BsgTransport() { shut_down({this}, _slot.timeout + std::chrono::seconds{5}); }

Result<void> BsgTransport::issue(const ScsiRequest& request) {
  const auto& command = request.command;
  const auto data = _slot.load(request);
  BsgUringCommand cmd{};
  cmd.request = address_of(_slot.cdb.data());
  cmd.request_len = command.cdb_length;
  cmd.protocol = 0;     // BSG_PROTOCOL_SCSI
  cmd.subprotocol = 0;  // BSG_SUB_PROTOCOL_SCSI_CMD
  cmd.response = address_of(_slot.sense.data());
  cmd.max_response_len = static_cast<std::uint32_t>(_slot.sense.size());
  cmd.timeout_ms = _slot.timeout_ms();
  if (command.direction == scsi::DataDirection::to_device) {
    cmd.dout_xferp = address_of(data.data());
    cmd.dout_xfer_len = _slot.transfer_length;
  } else if (command.direction == scsi::DataDirection::from_device) {
    cmd.din_xferp = address_of(data.data());
    cmd.din_xfer_len = _slot.transfer_length;
  }
  std::array<std::uint8_t, sizeof cmd> payload;
  std::memcpy(payload.data(), &cmd, sizeof cmd);
  std::optional<std::uint16_t> fixed;
  if (!data.empty() && command.direction != scsi::DataDirection::none) {
    fixed = request.data.index;
  }
  // The payload is copied into the SQE here: nothing of it has to outlive prepare().
  return ring().prepare(uring::UringCmd{_fd.get(), payload, fixed}, this);
}

void BsgTransport::on_complete(const io_uring_cqe& cqe) {
  if (cqe.res < 0) {
    finished(refused_result(-cqe.res));
    return;
  }
  finished(decode_bsg_completion(cqe.big_cqe[0], _slot.transfer_length, _slot.sense));
}

}  // namespace tapestream::transport
