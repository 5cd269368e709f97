// Logical Block Protection (SSC-4/5, method 2: CRC32C): where the CRC of a block goes and how
// it is checked and taken off, and the MODE SENSE/SELECT of the Control Data Protection page
// (0Ah/F0h) that each stream runs before its first data command. With LBP_W the drive checks
// the 4 bytes after each block's data on WRITE and stores only the data; with LBP_R it returns
// each block with its CRC, which the daemon checks and strips before the consumer sees a byte.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "drive/command_channel.hpp"
#include "scsi/mode_pages.hpp"

namespace tapestream::drive {

// What the daemon asks of a drive: `automatic` uses protection where the drive offers CRC32C,
// `off` never does (and turns it off where a drive has it on), `on` refuses streams on a drive
// without it.
enum class Protection : std::uint8_t { automatic, off, on };

std::optional<Protection> parse_protection(std::string_view text);  // auto, off, on
std::string_view protection_name(Protection protection);

inline constexpr std::uint32_t protection_bytes = 4;  // CRC32C, big-endian, after the data

// Writes the CRC32C of buffer[0, length) big-endian into buffer[length, length + 4); false when
// the buffer has no room for it.
bool append_block_crc(std::span<std::uint8_t> buffer, std::uint32_t length);
// A block as a drive with LBP_R returns it: its data length when its last 4 bytes are the
// CRC32C of the bytes before them; nothing when it is shorter than a CRC or the CRC differs.
std::optional<std::uint32_t> checked_block_length(std::span<const std::uint8_t> block);

// Whether the drive offers CRC32C protection, from the changeable values of its Control Data
// Protection page (MODE SENSE with PC=1): the method field and both LBP_W and LBP_R can be set.
// A drive without the page (scsi_debug, older drives) offers nothing.
bool offers_crc32c(const scsi::ModeParameters& changeable);
// Whether the page's current values are method 2, 4 bytes, LBP_W and LBP_R.
bool crc32c_on(const scsi::DataProtectionPage& page);
// Whether the page's current values have any protection on (method set, or either bit).
bool any_protection_on(const scsi::DataProtectionPage& page);

struct ProtectionOutcome {
  bool on = false;       // every block of the stream carries its CRC32C
  bool offered = false;  // the drive offers CRC32C (known only when it was asked)
  // Set when the stream must not start: the drive lacks protection that `on` requires, or
  // would not take the page; the message says which.
  std::optional<std::string> refusal;
  scsi::Classification condition;  // of the command that failed, when one did
};

// Confirms the drive's page for a stream, before its first WRITE or READ: senses the current
// values, and selects CRC32C with LBP_W and LBP_R (or method 0 for `off`) when they differ.
// Every command is resent after a unit attention, since a reset returns the drive to its
// defaults and the page must be read after it. `scratch` holds MODE SENSE data and the MODE
// SELECT list (at least 255 bytes); `done` runs once, from the ring's dispatch.
void confirm_protection(CommandChannel& channel, transport::DataBuffer scratch,
                        Protection wanted, std::function<void(const ProtectionOutcome&)> done);

}  // namespace tapestream::drive
