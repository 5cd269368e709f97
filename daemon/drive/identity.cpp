#include "drive/identity.hpp"

#include <utility>

#include "drive/block_protection.hpp"
#include "drive/command_channel.hpp"
#include "scsi/cdb.hpp"
#include "scsi/condition.hpp"
#include "scsi/inquiry.hpp"
#include "scsi/position.hpp"
#include "transport/blocking.hpp"

namespace tapestream::drive {

Result<DriveIdentity, Failure> identify(uring::Ring& ring, transport::ScsiTransport& drive,
                                        uring::BufferPool& pool, std::uint16_t buffer,
                                        const scsi::TimeoutTable& timeouts) {
  // The condition a command ends in, and the data-in that arrived.
  auto execute = [&](const scsi::Command& command) {
    transport::ScsiRequest request;
    request.command = command;
    request.data = {buffer, pool.buffer(buffer).first(command.transfer_length)};
    request.timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(timeouts.timeout_for(command));
    for (int attempt = 0;; ++attempt) {
      auto result = transport::run_blocking(ring, drive, request);
      if (!result) {
        return std::pair{scsi::TapeCondition::transport_failure, std::span<const std::uint8_t>{}};
      }
      const auto condition = scsi::classify(command, result.value().status()).condition;
      if (is_unit_attention(condition) && attempt < 2) {
        continue;
      }
      const auto arrived =
          request.data.bytes.first(request.data.bytes.size() - result.value().residue);
      return std::pair{condition, std::span<const std::uint8_t>{arrived}};
    }
  };
  auto run = [&](const scsi::Command& command) -> std::span<const std::uint8_t> {
    const auto [condition, data] = execute(command);
    return condition == scsi::TapeCondition::good ? data : std::span<const std::uint8_t>{};
  };
  // Whether the drive refuses a command as ILLEGAL REQUEST (it does not implement it).
  auto refused = [&](const scsi::Command& command) {
    return execute(command).first == scsi::TapeCondition::illegal_request;
  };
  DriveIdentity id;
  auto inquiry = scsi::parse_standard_inquiry(run(scsi::cdb::inquiry()));
  if (!inquiry) {
    return Failure{std::make_error_code(std::errc::io_error), "does not answer INQUIRY"};
  }
  if (!inquiry.value().is_tape()) {
    return Failure{std::make_error_code(std::errc::no_such_device),
                   "is not a tape drive (device type " +
                       std::to_string(inquiry.value().device_type) + ")"};
  }
  id.vendor = inquiry.value().vendor;
  id.product = inquiry.value().product;
  id.revision = inquiry.value().revision;
  if (auto serial = scsi::parse_unit_serial_number(run(scsi::cdb::inquiry_vpd(0x80)))) {
    id.serial = serial.value();
  }
  if (auto limits = scsi::parse_block_limits(run(scsi::cdb::read_block_limits()))) {
    id.max_block_length = limits.value().maximum_block_length;
  }
  // SPACE(16) over no blocks moves nothing.
  id.positioning.long_position =
      !refused(scsi::cdb::read_position(scsi::cdb::ReadPositionForm::long_form));
  id.positioning.sixteen_byte = !refused(scsi::cdb::space16(scsi::cdb::SpaceCode::blocks, 0));
  if (auto changeable = scsi::parse_mode_sense6(run(scsi::cdb::mode_sense6(
          scsi::DataProtectionPage::code, scsi::DataProtectionPage::subpage,
          scsi::cdb::PageControl::changeable, true)))) {
    id.offers_crc32c = offers_crc32c(changeable.value());
  }
  return id;
}

}  // namespace tapestream::drive
