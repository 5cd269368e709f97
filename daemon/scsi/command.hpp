// A SCSI command ready for a transport: the CDB bytes plus what the transport must know to
// run it (data direction, expected transfer length, timeout class).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tapestream::scsi {

enum class Opcode : std::uint8_t {
  test_unit_ready = 0x00,
  rewind = 0x01,
  request_sense = 0x03,
  read_block_limits = 0x05,
  initialize_element_status = 0x07,  // SMC: a changer takes its inventory
  read6 = 0x08,
  write6 = 0x0A,
  write_filemarks6 = 0x10,
  space6 = 0x11,
  inquiry = 0x12,
  mode_select6 = 0x15,
  erase6 = 0x19,
  mode_sense6 = 0x1A,
  load_unload = 0x1B,
  prevent_allow_medium_removal = 0x1E,
  locate10 = 0x2B,  // on a changer (SMC) the same opcode is POSITION TO ELEMENT
  initialize_element_status_with_range = 0x37,  // SMC
  read_position = 0x34,
  report_density_support = 0x44,
  log_sense = 0x4D,
  mode_select10 = 0x55,
  mode_sense10 = 0x5A,
  read_attribute = 0x8C,
  space16 = 0x91,
  locate16 = 0x92,
  maintenance_in = 0xA3,  // REPORT SUPPORTED OPERATION CODES is its service action 0x0C
  move_medium = 0xA5,           // SMC
  read_element_status = 0xB8,   // SMC
};

enum class DataDirection : std::uint8_t { none, from_device, to_device };

// Commands on tape take from milliseconds to many hours; each class has its own default in
// TimeoutTable (timeouts.hpp), which the drive's own figures may override.
enum class TimeoutClass : std::uint8_t {
  quick,        // inquiry, sense, mode and log pages, read position
  data,         // READ and WRITE of one transfer
  filemark,     // WRITE FILEMARKS with Immed=0 flushes the drive's whole buffer
  rewind,
  load,         // first load of new media can calibrate for a long time (LTO-9)
  unload,
  position,     // SPACE and LOCATE across a whole tape
  erase_short,
  erase_long,   // writes the whole tape
};
inline constexpr std::size_t timeout_class_count = 9;

// A 24-bit unsigned count (transfer lengths of READ(6)/WRITE(6), filemark counts).
// Constructed only through from(), so a builder can never truncate a length silently.
class Count24 {
 public:
  static constexpr std::uint32_t max = 0xFF'FFFF;
  static constexpr std::optional<Count24> from(std::uint64_t value) {
    if (value > max) {
      return std::nullopt;
    }
    return Count24{static_cast<std::uint32_t>(value)};
  }
  constexpr std::uint32_t value() const { return _value; }

 private:
  constexpr explicit Count24(std::uint32_t value) : _value{value} {}
  std::uint32_t _value;
};

// A 24-bit two's complement count (SPACE(6)); negative counts move towards BOP.
class SignedCount24 {
 public:
  static constexpr std::int32_t min = -0x80'0000;
  static constexpr std::int32_t max = 0x7F'FFFF;
  static constexpr std::optional<SignedCount24> from(std::int64_t value) {
    if (value < min || value > max) {
      return std::nullopt;
    }
    return SignedCount24{static_cast<std::int32_t>(value)};
  }
  constexpr std::int32_t value() const { return _value; }

 private:
  constexpr explicit SignedCount24(std::int32_t value) : _value{value} {}
  std::int32_t _value;
};

struct Command {
  std::array<std::uint8_t, 16> cdb{};
  std::uint8_t cdb_length = 0;
  DataDirection direction = DataDirection::none;
  // Bytes the command is expected to move; a transport sizes its buffer slice from this.
  std::uint64_t transfer_length = 0;
  TimeoutClass timeout_class = TimeoutClass::quick;

  constexpr Opcode opcode() const { return static_cast<Opcode>(cdb[0]); }
  // The service action, for the opcodes that carry one in byte 1 (REPORT SUPPORTED
  // OPERATION CODES reports timeouts per opcode and service action).
  constexpr std::optional<std::uint16_t> service_action() const {
    switch (opcode()) {
      case Opcode::read_position:
      case Opcode::read_attribute:
      case Opcode::maintenance_in:
        return static_cast<std::uint16_t>(cdb[1] & 0x1F);
      default:
        return std::nullopt;
    }
  }
  constexpr std::span<const std::uint8_t> bytes() const { return {cdb.data(), cdb_length}; }
};

}  // namespace tapestream::scsi

namespace tapestream::scsi {

// The standard's name of an opcode ("WRITE(6)"), or "UNKNOWN" for one tapestream never sends.
std::string_view opcode_name(Opcode opcode);

// Like opcode_name, but names service actions: "REPORT SUPPORTED OPERATION CODES".
std::string_view command_name(const Command& command);

}  // namespace tapestream::scsi
