// The bytes the emulated drive answers with: fixed-format sense and the data-in responses of
// the commands it implements, laid out as SPC-4/SSC-4 define them (the SCSI layer's parsers
// read them back in the conformance suite).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "scsi/cdb.hpp"
#include "scsi/sense.hpp"

namespace tapestream::emulated {

using Bytes = std::vector<std::uint8_t>;

struct SenseFlags {
  bool filemark = false;
  bool end_of_medium = false;
  bool incorrect_length = false;
};

// Fixed format, 18 bytes; information sets VALID.
std::array<std::uint8_t, 18> fixed_sense(scsi::SenseKey key, std::uint16_t asc_ascq,
                                         SenseFlags flags = {},
                                         std::optional<std::int32_t> information = {});

struct Identity {
  std::string_view vendor;
  std::string_view product;
  std::string_view revision;
  std::string_view serial;
  std::uint8_t device_type = 0x01;  // SPC peripheral device type: 01h tape, 08h medium changer
};

Bytes standard_inquiry(const Identity& id);
// VPD 00h, 80h and 83h; nullopt for pages the drive does not have.
std::optional<Bytes> vpd_page(std::uint8_t page, const Identity& id);

Bytes block_limits(std::uint32_t maximum, std::uint16_t minimum);

struct PositionState {
  std::uint64_t object = 0;  // logical objects (blocks and filemarks) before the position
  std::uint64_t file = 0;    // filemarks before the position
  bool beginning = false;
  bool beyond_early_warning = false;
  // Written by the host but still in the drive's buffer (the drive model): the short and
  // extended forms report them, and the last object location is where the tape stands.
  std::uint64_t buffered_objects = 0;
  std::uint64_t buffered_bytes = 0;
};
Bytes read_position(scsi::cdb::ReadPositionForm form, const PositionState& p);

struct ModeState {
  bool write_protected = false;
  std::uint8_t buffered_mode = 1;
  std::uint8_t density_code = 0;
  std::uint32_t block_length = 0;  // 0: variable
  bool compression = false;
  std::uint8_t protection_method = 0;
  bool protect_write = false;
  bool protect_read = false;
  bool protection_page = true;  // the drive has the Control Data Protection page at all
};
// MODE SENSE(6) or (10) for a page (0Fh, 10h, 0Ah/F0h, or 3Fh for all); nullopt when the
// page is not one the drive has. `changeable` reports which bits MODE SELECT may change.
std::optional<Bytes> mode_sense(bool ten_byte, std::uint8_t page, std::uint8_t subpage,
                                bool changeable, bool disable_block_descriptors,
                                const ModeState& state);
// The mode parameter header of MODE SENSE(6) or (10) around a block descriptor (or none) and
// pages.
Bytes mode_parameter_list(bool ten_byte, std::uint8_t device_specific, const Bytes& descriptor,
                          const Bytes& pages);

struct LogCounters {
  std::uint64_t bytes_written = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t capacity_mb = 0;
  std::uint64_t used_mb = 0;
  std::uint64_t loads = 0;
  std::uint64_t mb_written_load = 0;  // megabytes (10^6) since the last load
  std::uint64_t mb_read_load = 0;
  // The drive model's (page 3Ch, only with the model on).
  struct Model {
    std::uint64_t backhitches = 0;
    std::uint64_t waited_ms = 0;
    std::uint64_t bytes_on_tape = 0;
  };
  std::optional<Model> model;
};
// LOG SENSE page 00h, 0Ch, 17h, 2Eh or (with the model) 3Ch; nullopt otherwise.
std::optional<Bytes> log_page(std::uint8_t page, const LogCounters& counters,
                              std::uint64_t tape_alerts, std::string_view medium_serial);

// READ ATTRIBUTE (attribute values) from `first`: remaining and maximum capacity, MAM serial.
Bytes attribute_values(std::uint16_t first, std::uint64_t remaining_mib, std::uint64_t maximum_mib,
                       std::string_view medium_serial);

Bytes density_support(std::uint64_t capacity_mb);

struct SupportedOpcode {
  std::uint8_t opcode;
  std::optional<std::uint16_t> service_action;
  std::uint16_t cdb_length;
  std::uint32_t timeout_seconds;
};
Bytes supported_operation_codes(const std::vector<SupportedOpcode>& ops, bool with_timeouts);

}  // namespace tapestream::emulated
