// Builders for every SPC/SSC command tapestream sends. Each returns a complete Command;
// field layouts follow SPC-4 and SSC-4, and tests/unit/cdb_test.cpp pins every byte.
#pragma once

#include <cstdint>
#include <optional>

#include "scsi/bytes.hpp"
#include "scsi/command.hpp"

namespace tapestream::scsi::cdb {

namespace detail {
constexpr Command make(Opcode op, std::uint8_t length, DataDirection direction,
                       std::uint64_t transfer_length, TimeoutClass timeout_class) {
  Command c;
  c.cdb[0] = static_cast<std::uint8_t>(op);
  c.cdb_length = length;
  c.direction = direction;
  c.transfer_length = transfer_length;
  c.timeout_class = timeout_class;
  return c;
}
constexpr std::span<std::uint8_t> writable(Command& c) { return {c.cdb.data(), c.cdb.size()}; }
constexpr std::uint8_t bit(bool set, unsigned position) {
  return static_cast<std::uint8_t>(set ? (1U << position) : 0U);
}
}  // namespace detail

enum class PageControl : std::uint8_t { current = 0, changeable = 1, defaults = 2, saved = 3 };

constexpr Command test_unit_ready() {
  return detail::make(Opcode::test_unit_ready, 6, DataDirection::none, 0, TimeoutClass::quick);
}

constexpr Command inquiry(std::uint16_t allocation_length = 96) {
  auto c = detail::make(Opcode::inquiry, 6, DataDirection::from_device, allocation_length,
                        TimeoutClass::quick);
  store_be(detail::writable(c), 3, allocation_length, 2);
  return c;
}

// Vital product data page: 0x00 supported pages, 0x80 unit serial, 0x83 identification.
constexpr Command inquiry_vpd(std::uint8_t page, std::uint16_t allocation_length = 255) {
  auto c = inquiry(allocation_length);
  c.cdb[1] = 0x01;  // EVPD
  c.cdb[2] = page;
  return c;
}

constexpr Command request_sense(std::uint8_t allocation_length = 252,
                                bool descriptor_format = false) {
  auto c = detail::make(Opcode::request_sense, 6, DataDirection::from_device,
                        allocation_length, TimeoutClass::quick);
  c.cdb[1] = detail::bit(descriptor_format, 0);
  c.cdb[4] = allocation_length;
  return c;
}

// Every supported command; with_timeouts (RCTD) asks for the drive's own timeouts.
constexpr Command report_supported_operation_codes(bool with_timeouts,
                                                   std::uint32_t allocation_length = 65536) {
  auto c = detail::make(Opcode::maintenance_in, 12, DataDirection::from_device,
                        allocation_length, TimeoutClass::quick);
  c.cdb[1] = 0x0C;
  c.cdb[2] = detail::bit(with_timeouts, 7);  // reporting options 000b: all commands
  store_be(detail::writable(c), 6, allocation_length, 4);
  return c;
}

// One command; reporting options 001b (no service action) or 010b (with one).
constexpr Command report_supported_operation_code(Opcode requested,
                                                  std::optional<std::uint16_t> service_action,
                                                  bool with_timeouts,
                                                  std::uint32_t allocation_length = 512) {
  auto c = report_supported_operation_codes(with_timeouts, allocation_length);
  c.cdb[2] = static_cast<std::uint8_t>(c.cdb[2] | (service_action ? 0x02 : 0x01));
  c.cdb[3] = static_cast<std::uint8_t>(requested);
  store_be(detail::writable(c), 4, service_action.value_or(0), 2);
  return c;
}

// With maximum_logical_object (MLOC, SSC-4) the drive returns 20 bytes instead of 6.
constexpr Command read_block_limits(bool maximum_logical_object = false) {
  auto c = detail::make(Opcode::read_block_limits, 6, DataDirection::from_device,
                        maximum_logical_object ? 20U : 6U, TimeoutClass::quick);
  c.cdb[1] = detail::bit(maximum_logical_object, 0);
  return c;
}

constexpr Command mode_sense6(std::uint8_t page, std::uint8_t subpage = 0,
                              PageControl control = PageControl::current,
                              bool disable_block_descriptors = false,
                              std::uint8_t allocation_length = 255) {
  auto c = detail::make(Opcode::mode_sense6, 6, DataDirection::from_device, allocation_length,
                        TimeoutClass::quick);
  c.cdb[1] = detail::bit(disable_block_descriptors, 3);
  c.cdb[2] = static_cast<std::uint8_t>((static_cast<unsigned>(control) << 6) | (page & 0x3F));
  c.cdb[3] = subpage;
  c.cdb[4] = allocation_length;
  return c;
}

constexpr Command mode_sense10(std::uint8_t page, std::uint8_t subpage = 0,
                               PageControl control = PageControl::current,
                               bool disable_block_descriptors = false,
                               bool long_lba_accepted = false,
                               std::uint16_t allocation_length = 1024) {
  auto c = detail::make(Opcode::mode_sense10, 10, DataDirection::from_device,
                        allocation_length, TimeoutClass::quick);
  c.cdb[1] = static_cast<std::uint8_t>(detail::bit(long_lba_accepted, 4) |
                                       detail::bit(disable_block_descriptors, 3));
  c.cdb[2] = static_cast<std::uint8_t>((static_cast<unsigned>(control) << 6) | (page & 0x3F));
  c.cdb[3] = subpage;
  store_be(detail::writable(c), 7, allocation_length, 2);
  return c;
}

// PF=1 always: the parameter list carries SPC-format pages (mode_pages.hpp builds them).
constexpr Command mode_select6(std::uint8_t parameter_list_length, bool save_pages = false) {
  auto c = detail::make(Opcode::mode_select6, 6, DataDirection::to_device,
                        parameter_list_length, TimeoutClass::quick);
  c.cdb[1] = static_cast<std::uint8_t>(0x10 | detail::bit(save_pages, 0));
  c.cdb[4] = parameter_list_length;
  return c;
}

constexpr Command mode_select10(std::uint16_t parameter_list_length, bool save_pages = false) {
  auto c = detail::make(Opcode::mode_select10, 10, DataDirection::to_device,
                        parameter_list_length, TimeoutClass::quick);
  c.cdb[1] = static_cast<std::uint8_t>(0x10 | detail::bit(save_pages, 0));
  store_be(detail::writable(c), 7, parameter_list_length, 2);
  return c;
}

// Variable-block mode: one block of exactly `bytes`.
constexpr Command write6_variable(Count24 bytes) {
  auto c = detail::make(Opcode::write6, 6, DataDirection::to_device, bytes.value(),
                        TimeoutClass::data);
  store_be(detail::writable(c), 2, bytes.value(), 3);
  return c;
}

// Fixed-block mode: `blocks` blocks of the block length set by MODE SELECT.
constexpr Command write6_fixed(Count24 blocks, std::uint32_t block_length) {
  auto c = detail::make(Opcode::write6, 6, DataDirection::to_device,
                        std::uint64_t{blocks.value()} * block_length, TimeoutClass::data);
  c.cdb[1] = 0x01;  // FIXED
  store_be(detail::writable(c), 2, blocks.value(), 3);
  return c;
}

// Variable-block mode: at most `bytes`; with suppress_ili (SILI) a shorter block completes
// with GOOD status and the residue, instead of CHECK CONDITION with ILI.
constexpr Command read6_variable(Count24 bytes, bool suppress_ili) {
  auto c = detail::make(Opcode::read6, 6, DataDirection::from_device, bytes.value(),
                        TimeoutClass::data);
  c.cdb[1] = detail::bit(suppress_ili, 1);
  store_be(detail::writable(c), 2, bytes.value(), 3);
  return c;
}

// Fixed-block mode. SSC forbids SILI together with FIXED, so there is no such parameter.
constexpr Command read6_fixed(Count24 blocks, std::uint32_t block_length) {
  auto c = detail::make(Opcode::read6, 6, DataDirection::from_device,
                        std::uint64_t{blocks.value()} * block_length, TimeoutClass::data);
  c.cdb[1] = 0x01;  // FIXED
  store_be(detail::writable(c), 2, blocks.value(), 3);
  return c;
}

// With immediate=false the command returns only when buffered data and the filemarks are on
// the medium: the durability point of every stream. A count of 0 with immediate=false just
// flushes the buffer.
constexpr Command write_filemarks6(Count24 count, bool immediate) {
  auto c = detail::make(Opcode::write_filemarks6, 6, DataDirection::none, 0,
                        TimeoutClass::filemark);
  c.cdb[1] = detail::bit(immediate, 0);
  store_be(detail::writable(c), 2, count.value(), 3);
  return c;
}

enum class SpaceCode : std::uint8_t {
  blocks = 0x0,
  filemarks = 0x1,
  sequential_filemarks = 0x2,
  end_of_data = 0x3,
};

constexpr Command space6(SpaceCode code, SignedCount24 count) {
  auto c = detail::make(Opcode::space6, 6, DataDirection::none, 0, TimeoutClass::position);
  c.cdb[1] = static_cast<std::uint8_t>(code);
  store_be(detail::writable(c), 2, static_cast<std::uint32_t>(count.value()) & 0xFF'FFFF, 3);
  return c;
}

constexpr Command space16(SpaceCode code, std::int64_t count) {
  auto c = detail::make(Opcode::space16, 16, DataDirection::none, 0, TimeoutClass::position);
  c.cdb[1] = static_cast<std::uint8_t>(code);
  store_be(detail::writable(c), 4, static_cast<std::uint64_t>(count), 8);
  return c;
}

constexpr Command rewind(bool immediate) {
  auto c = detail::make(Opcode::rewind, 6, DataDirection::none, 0, TimeoutClass::rewind);
  c.cdb[1] = detail::bit(immediate, 0);
  return c;
}

enum class LoadAction : std::uint8_t {
  load,         // LOAD=1: thread and position at BOP
  unload,       // LOAD=0: rewind and eject
  retension,    // LOAD=1 RETEN=1: wind to end and back before positioning at BOP
  load_hold,    // LOAD=1 HOLD=1: load into the drive, do not thread (MAM becomes readable)
  unload_hold,  // LOAD=0 HOLD=1: unthread, keep the cartridge in the drive
};

constexpr Command load_unload(LoadAction action, bool immediate) {
  const bool unloading = action == LoadAction::unload || action == LoadAction::unload_hold;
  auto c = detail::make(Opcode::load_unload, 6, DataDirection::none, 0,
                        unloading ? TimeoutClass::unload : TimeoutClass::load);
  c.cdb[1] = detail::bit(immediate, 0);
  const bool hold = action == LoadAction::load_hold || action == LoadAction::unload_hold;
  c.cdb[4] = static_cast<std::uint8_t>(detail::bit(hold, 3) |
                                       detail::bit(action == LoadAction::retension, 1) |
                                       detail::bit(!unloading, 0));
  return c;
}

enum class ReadPositionForm : std::uint8_t {
  short_block_id = 0x00,  // 20 bytes, 32-bit block numbers
  short_vendor = 0x01,    // 20 bytes, vendor-specific block addresses
  long_form = 0x06,       // 32 bytes, 64-bit object and file numbers
  extended = 0x08,        // 32 bytes, 64-bit object numbers and buffer contents
};

constexpr Command read_position(ReadPositionForm form) {
  const bool extended = form == ReadPositionForm::extended;
  const std::uint64_t length = form == ReadPositionForm::long_form || extended ? 32 : 20;
  auto c = detail::make(Opcode::read_position, 10, DataDirection::from_device, length,
                        TimeoutClass::quick);
  c.cdb[1] = static_cast<std::uint8_t>(form);
  // SSC-4: the allocation length is zero for the short and long forms.
  if (extended) {
    store_be(detail::writable(c), 7, length, 2);
  }
  return c;
}

// `partition` set means: change to that partition first (CP=1).
constexpr Command locate10(std::uint32_t logical_object, std::optional<std::uint8_t> partition,
                           bool immediate) {
  auto c = detail::make(Opcode::locate10, 10, DataDirection::none, 0, TimeoutClass::position);
  c.cdb[1] = static_cast<std::uint8_t>(detail::bit(partition.has_value(), 2) |
                                       detail::bit(immediate, 0));
  store_be(detail::writable(c), 3, logical_object, 4);
  c.cdb[8] = partition.value_or(0);
  return c;
}

enum class LocateDestination : std::uint8_t {
  logical_object = 0b000,
  logical_file = 0b001,
  end_of_data = 0b011,
};

constexpr Command locate16(LocateDestination destination, std::uint64_t identifier,
                           std::optional<std::uint8_t> partition, bool immediate) {
  auto c = detail::make(Opcode::locate16, 16, DataDirection::none, 0, TimeoutClass::position);
  c.cdb[1] = static_cast<std::uint8_t>((static_cast<unsigned>(destination) << 3) |
                                       detail::bit(partition.has_value(), 1) |
                                       detail::bit(immediate, 0));
  c.cdb[3] = partition.value_or(0);
  store_be(detail::writable(c), 4, identifier, 8);
  return c;
}

// A short erase writes end of data at the current position; a long erase erases from
// there to the end of the partition, which on LTO means writing the whole remaining tape.
constexpr Command erase6(bool long_erase, bool immediate) {
  auto c = detail::make(Opcode::erase6, 6, DataDirection::none, 0,
                        long_erase ? TimeoutClass::erase_long : TimeoutClass::erase_short);
  c.cdb[1] = static_cast<std::uint8_t>(detail::bit(immediate, 1) | detail::bit(long_erase, 0));
  return c;
}

constexpr Command prevent_allow_medium_removal(bool prevent) {
  auto c = detail::make(Opcode::prevent_allow_medium_removal, 6, DataDirection::none, 0,
                        TimeoutClass::quick);
  c.cdb[4] = detail::bit(prevent, 0);
  return c;
}

enum class LogPageControl : std::uint8_t {
  current_threshold = 0,
  current_cumulative = 1,
  default_threshold = 2,
  default_cumulative = 3,
};

constexpr Command log_sense(std::uint8_t page, std::uint8_t subpage = 0,
                            LogPageControl control = LogPageControl::current_cumulative,
                            std::uint16_t parameter_pointer = 0,
                            std::uint16_t allocation_length = 0xFFFF) {
  auto c = detail::make(Opcode::log_sense, 10, DataDirection::from_device, allocation_length,
                        TimeoutClass::quick);
  c.cdb[2] = static_cast<std::uint8_t>((static_cast<unsigned>(control) << 6) | (page & 0x3F));
  c.cdb[3] = subpage;
  store_be(detail::writable(c), 5, parameter_pointer, 2);
  store_be(detail::writable(c), 7, allocation_length, 2);
  return c;
}

enum class ReadAttributeAction : std::uint8_t {
  values = 0x00,
  list = 0x01,
  logical_volume_list = 0x02,
  partition_list = 0x03,
  supported = 0x05,
};

// Medium auxiliary memory (MAM) attributes, starting at first_attribute.
constexpr Command read_attribute(ReadAttributeAction action, std::uint8_t partition,
                                 std::uint16_t first_attribute,
                                 std::uint32_t allocation_length = 8192) {
  auto c = detail::make(Opcode::read_attribute, 16, DataDirection::from_device,
                        allocation_length, TimeoutClass::quick);
  c.cdb[1] = static_cast<std::uint8_t>(action);
  c.cdb[7] = partition;
  store_be(detail::writable(c), 8, first_attribute, 2);
  store_be(detail::writable(c), 10, allocation_length, 4);
  return c;
}

// current_medium_only (MEDIA=1): densities the loaded medium supports, not the drive.
// medium_types (MEDIUM TYPE=1): medium type descriptors instead of density descriptors.
constexpr Command report_density_support(bool current_medium_only, bool medium_types,
                                         std::uint16_t allocation_length = 8192) {
  auto c = detail::make(Opcode::report_density_support, 10, DataDirection::from_device,
                        allocation_length, TimeoutClass::quick);
  c.cdb[1] = static_cast<std::uint8_t>(detail::bit(medium_types, 1) |
                                       detail::bit(current_medium_only, 0));
  store_be(detail::writable(c), 7, allocation_length, 2);
  return c;
}

}  // namespace tapestream::scsi::cdb
