// Builders for the SMC-3 commands tapestream sends to a medium changer (a tape library's
// robot). Layouts follow SMC-3; tests/unit/smc_test.cpp pins every byte. The changer's
// commands reuse the drive's timeout classes: a move is as slow as a rewind, an inventory of a
// large library (it may scan every barcode) as slow as a long positioning; the changer's own
// REPORT SUPPORTED OPERATION CODES figures override them as for a drive.
#pragma once

#include <cstdint>
#include <optional>

#include "scsi/cdb.hpp"
#include "scsi/smc.hpp"

namespace tapestream::scsi::cdb {

// READ ELEMENT STATUS (B8h). `allocation_length` is 24 bits: a larger one is refused (nullopt).
// VolTag asks for the barcodes; DvcID for the device identifier of data transfer elements (the
// drive's serial number), by which drives are matched to elements — never by their order.
constexpr std::optional<Command> read_element_status(ElementType type, std::uint16_t first,
                                                     std::uint16_t count,
                                                     std::uint32_t allocation_length,
                                                     bool volume_tags, bool device_ids) {
  if (allocation_length > 0xFF'FFFF) {
    return std::nullopt;
  }
  auto c = detail::make(Opcode::read_element_status, 12, DataDirection::from_device,
                        allocation_length, TimeoutClass::quick);
  auto b = detail::writable(c);
  b[1] = static_cast<std::uint8_t>(detail::bit(volume_tags, 4) |
                                   (static_cast<std::uint8_t>(type) & 0x0F));
  store_be(b, 2, first, 2);
  store_be(b, 4, count, 2);
  b[6] = detail::bit(device_ids, 0);  // CURDATA stays 0: a changer may move to give fresh data
  store_be(b, 7, allocation_length, 3);
  return c;
}

// MOVE MEDIUM (A5h): the medium in `source` to `destination`, carried by `transport` (0: the
// changer's default transport element).
constexpr Command move_medium(std::uint16_t transport, std::uint16_t source,
                              std::uint16_t destination, bool invert = false) {
  auto c = detail::make(Opcode::move_medium, 12, DataDirection::none, 0, TimeoutClass::rewind);
  auto b = detail::writable(c);
  store_be(b, 2, transport, 2);
  store_be(b, 4, source, 2);
  store_be(b, 6, destination, 2);
  b[10] = detail::bit(invert, 0);
  return c;
}

// INITIALIZE ELEMENT STATUS (07h): the changer checks every element (and reads barcodes).
constexpr Command initialize_element_status() {
  return detail::make(Opcode::initialize_element_status, 6, DataDirection::none, 0,
                      TimeoutClass::position);
}

// INITIALIZE ELEMENT STATUS WITH RANGE (37h): only `count` elements from `first`; `fast` asks
// the changer to check only whether each holds a medium, not to read its barcode.
constexpr Command initialize_element_status_with_range(std::uint16_t first, std::uint16_t count,
                                                       bool fast = false) {
  auto c = detail::make(Opcode::initialize_element_status_with_range, 10, DataDirection::none, 0,
                        TimeoutClass::position);
  auto b = detail::writable(c);
  b[1] = static_cast<std::uint8_t>(detail::bit(fast, 1) | detail::bit(true, 0));  // RANGE
  store_be(b, 2, first, 2);
  store_be(b, 6, count, 2);
  return c;
}

// POSITION TO ELEMENT (2Bh on a changer; the same opcode is LOCATE(10) on a tape drive).
constexpr Command position_to_element(std::uint16_t transport, std::uint16_t destination,
                                      bool invert = false) {
  auto c = detail::make(Opcode::locate10, 10, DataDirection::none, 0, TimeoutClass::rewind);
  auto b = detail::writable(c);
  store_be(b, 2, transport, 2);
  store_be(b, 4, destination, 2);
  b[8] = detail::bit(invert, 0);
  return c;
}

// PREVENT ALLOW MEDIUM REMOVAL for a changer: PREVENT 01b locks the import/export elements (and
// the doors where the changer ties them to it) so that no operator takes a cartridge from under
// a running job; 00b allows removal again.
constexpr Command prevent_allow_changer_removal(bool prevent) {
  return prevent_allow_medium_removal(prevent);
}

}  // namespace tapestream::scsi::cdb
