#include "transport/sg_transport.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "scsi/status.hpp"

namespace tapestream::transport {

bool sg_allows_direct_io() {
  std::ifstream parameter{"/sys/module/sg/parameters/allow_dio"};
  int allowed = 0;
  return parameter >> allowed && allowed == 1;
}

ScsiResult decode_sg_completion(const sg_io_hdr_t& reply, std::uint32_t transfer_length,
                                std::span<const std::uint8_t> sense_buffer) {
  ScsiResult result;
  result.scsi_status = reply.status;
  result.host_status = static_cast<std::uint8_t>(reply.host_status);
  result.driver_status = static_cast<std::uint8_t>(reply.driver_status);
  result.residue = static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(reply.resid, 0, std::int64_t{transfer_length}));
  result.timed_out = result.host_status == static_cast<std::uint8_t>(scsi::HostStatus::time_out);
  const std::size_t sense_length =
      std::min({std::size_t{reply.sb_len_wr}, sense_buffer.size(), result.sense.size()});
  std::copy_n(sense_buffer.begin(), sense_length, result.sense.begin());
  result.sense_length = static_cast<std::uint8_t>(sense_length);
  return result;
}

Result<std::unique_ptr<SgTransport>> SgTransport::open(uring::Ring& ring, const std::string& node) {
  UniqueFd fd{::open(node.c_str(), O_RDWR | O_CLOEXEC)};
  if (!fd) {
    return std::error_code{errno, std::system_category()};
  }
  int version = 0;
  if (::ioctl(fd.get(), SG_GET_VERSION_NUM, &version) < 0 || version < 30000) {
    return std::make_error_code(std::errc::not_supported);
  }
  return std::unique_ptr<SgTransport>{new SgTransport{ring, std::move(fd), sg_allows_direct_io()}};
}

SgTransport::SgTransport(uring::Ring& ring, UniqueFd fd, bool direct_io)
    : SerialTransport{ring}, _fd{std::move(fd)}, _direct_io{direct_io} {
  _write_step.transport = this;
  _read_step.transport = this;
  _read_step.is_read = true;
}

SgTransport::~SgTransport() {
  shut_down({&_write_step, &_read_step}, _slot.timeout + std::chrono::seconds{5});
}

Result<void> SgTransport::issue(const ScsiRequest& request) {
  const auto& command = request.command;
  const auto data = _slot.load(request);
  _request = sg_io_hdr_t{};
  _request.interface_id = 'S';
  _request.cmd_len = command.cdb_length;
  _request.cmdp = _slot.cdb.data();
  _request.mx_sb_len = static_cast<unsigned char>(_slot.sense.size());
  _request.sbp = _slot.sense.data();
  _request.timeout = _slot.timeout_ms();
  _request.dxfer_direction = SG_DXFER_NONE;
  if (!data.empty() && command.direction == scsi::DataDirection::to_device) {
    _request.dxfer_direction = SG_DXFER_TO_DEV;
  } else if (!data.empty() && command.direction == scsi::DataDirection::from_device) {
    _request.dxfer_direction = SG_DXFER_FROM_DEV;
  }
  if (_request.dxfer_direction != SG_DXFER_NONE) {
    _request.dxferp = data.data();
    _request.dxfer_len = _slot.transfer_length;
    _request.flags = _direct_io ? SG_FLAG_DIRECT_IO : 0;
  }
  _reply = sg_io_hdr_t{};
  _write_step.result = 0;
  _read_step.result = 0;

  const auto header = [](sg_io_hdr_t& h) {
    return std::span<std::uint8_t>{reinterpret_cast<std::uint8_t*>(&h), sizeof h};
  };
  // Linked: the read that collects the completion starts only after the write started it.
  BOOST_OUTCOME_TRY(ring().prepare(uring::Write{_fd.get(), header(_request), uring::kCurrentPosition},
                                   &_write_step, IOSQE_IO_LINK));
  return ring().prepare(uring::Read{_fd.get(), header(_reply), uring::kCurrentPosition},
                        &_read_step);
}

void SgTransport::Step::on_complete(const io_uring_cqe& cqe) {
  result = cqe.res;
  if (is_read) {
    transport->read_done();
  }
}

void SgTransport::read_done() {
  // Each step must move a whole sg_io_hdr; a failed write cancels the linked read.
  const auto failure = [](int result, std::size_t expected) {
    return result < 0 ? -result : result != static_cast<int>(expected) ? EIO : 0;
  };
  if (const int error = failure(_write_step.result, sizeof _request)) {
    finished(refused_result(error));
    return;
  }
  if (const int error = failure(_read_step.result, sizeof _reply)) {
    finished(refused_result(error));
    return;
  }
  if (_request.dxfer_direction != SG_DXFER_NONE) {
    ((_reply.info & SG_INFO_DIRECT_IO_MASK) == SG_INFO_DIRECT_IO ? _direct_transfers
                                                                   : _indirect_transfers)++;
  }
  finished(decode_sg_completion(_reply, _slot.transfer_length, _slot.sense));
}

}  // namespace tapestream::transport
