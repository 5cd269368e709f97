// Sense data normalised from the fixed (0x70/0x71) and descriptor (0x72/0x73) formats into one
// structure, so that nothing else in the daemon reads sense bytes at fixed offsets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::scsi {

enum class SenseKey : std::uint8_t {
  no_sense = 0x0,
  recovered_error = 0x1,
  not_ready = 0x2,
  medium_error = 0x3,
  hardware_error = 0x4,
  illegal_request = 0x5,
  unit_attention = 0x6,
  data_protect = 0x7,
  blank_check = 0x8,
  vendor_specific = 0x9,
  copy_aborted = 0xA,
  aborted_command = 0xB,
  reserved_c = 0xC,
  volume_overflow = 0xD,
  miscompare = 0xE,
  completed = 0xF,
};

// The sense-key specific field (SPC-4 4.5.2.4); its meaning depends on the sense key.
struct SenseKeySpecific {
  std::array<std::uint8_t, 3> raw{};

  // ILLEGAL REQUEST: which byte (and bit) of the CDB or parameter list is wrong.
  struct FieldPointer {
    bool in_cdb;  // C/D: the CDB rather than the parameter list
    std::optional<std::uint8_t> bit;
    std::uint16_t byte;
  };
  FieldPointer field_pointer() const;
  // NOT READY and NO SENSE: progress of a long operation, 0 .. 65536 meaning 0 .. 100 %.
  std::uint16_t progress() const { return load_be16(raw, 1); }
  // RECOVERED ERROR, MEDIUM ERROR, HARDWARE ERROR: retries the drive needed.
  std::uint16_t actual_retry_count() const { return load_be16(raw, 1); }
};

struct Sense {
  bool deferred = false;        // reports an earlier command (e.g. a buffered write failed)
  bool descriptor_format = false;
  SenseKey key = SenseKey::no_sense;
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
  bool filemark = false;
  bool end_of_medium = false;   // EOM: early warning, or end/beginning of partition
  bool incorrect_length = false;  // ILI
  // The INFORMATION field when VALID is set. For READ/WRITE/SPACE it is the residue: the
  // requested count minus the count done; negative when a block was longer than requested.
  std::optional<std::int64_t> information;
  std::optional<std::uint64_t> command_specific;
  std::optional<SenseKeySpecific> key_specific;
  std::uint8_t field_replaceable_unit = 0;

  std::uint16_t asc_ascq() const { return static_cast<std::uint16_t>((asc << 8) | ascq); }
};

// Normalises `data`, of which only the first `data.size()` bytes are valid (a transport
// reports how many sense bytes the device actually wrote). Fields that the data is too short
// to hold are absent; a response code that is neither fixed nor descriptor format is an error.
Result<Sense> normalise_sense(ByteView data);

std::string_view sense_key_name(SenseKey key);

}  // namespace tapestream::scsi
