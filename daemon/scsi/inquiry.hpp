// INQUIRY responses: the standard data and the VPD pages that identify a drive
// (00h supported pages, 80h unit serial number, 83h device identification).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::scsi {

inline constexpr std::uint8_t device_type_sequential_access = 0x01;

struct StandardInquiry {
  std::uint8_t peripheral_qualifier = 0;  // 0: a device is connected to this LUN
  std::uint8_t device_type = 0;           // 01h: sequential-access (tape)
  bool removable = false;
  std::uint8_t version = 0;               // 06h: SPC-4
  std::uint8_t response_data_format = 0;
  bool protect = false;                   // supports protection information
  bool command_queueing = false;
  std::string vendor;
  std::string product;
  std::string revision;
  std::string vendor_specific;            // bytes 36..55; several tape vendors put a serial here

  bool is_tape() const {
    return peripheral_qualifier == 0 && device_type == device_type_sequential_access;
  }
};

Result<StandardInquiry> parse_standard_inquiry(ByteView data);

Result<std::vector<std::uint8_t>> parse_supported_vpd_pages(ByteView data);

Result<std::string> parse_unit_serial_number(ByteView data);

struct Designator {
  std::uint8_t protocol_identifier = 0;
  std::uint8_t code_set = 0;     // 1 binary, 2 ASCII, 3 UTF-8
  bool protocol_identifier_valid = false;
  std::uint8_t association = 0;  // 0 logical unit, 1 target port, 2 target device
  std::uint8_t type = 0;         // 1 T10 vendor id, 2 EUI-64, 3 NAA, ...
  std::vector<std::uint8_t> value;

  // Text for logs and for naming a drive: ASCII designators as text, binary ones in hex.
  std::string to_string() const;
};

Result<std::vector<Designator>> parse_device_identification(ByteView data);

}  // namespace tapestream::scsi
