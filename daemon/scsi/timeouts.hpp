// How long each command may take before the transport gives up: defaults per timeout class
// suited to LTO drives, replaced per command by the drive's own recommendation when it reports
// one through REPORT SUPPORTED OPERATION CODES.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "scsi/bytes.hpp"
#include "scsi/command.hpp"

namespace tapestream::scsi {

// One entry of REPORT SUPPORTED OPERATION CODES (all commands form).
struct SupportedCommand {
  std::uint8_t opcode = 0;
  std::optional<std::uint16_t> service_action;
  std::uint16_t cdb_length = 0;
  // From the command timeouts descriptor, in seconds; 0 means the drive does not say.
  std::optional<std::uint32_t> nominal_timeout;
  std::optional<std::uint32_t> recommended_timeout;
};

Result<std::vector<SupportedCommand>> parse_supported_operation_codes(ByteView data);

class TimeoutTable {
 public:
  using Seconds = std::chrono::seconds;

  // Defaults for LTO: minutes for a rewind, most of an hour for a locate across the tape,
  // hours for the first load of new media and for a long erase.
  static TimeoutTable lto_defaults();

  Seconds timeout_for(const Command& command) const;
  Seconds class_default(TimeoutClass timeout_class) const;
  void set_class_default(TimeoutClass timeout_class, Seconds timeout);

  // Adopts every recommended timeout the drive reported; returns how many it adopted.
  std::size_t adopt_drive_timeouts(std::span<const SupportedCommand> commands);

 private:
  struct Override {
    std::uint8_t opcode;
    std::optional<std::uint16_t> service_action;
    Seconds timeout;
  };
  std::array<Seconds, timeout_class_count> _by_class{};
  std::vector<Override> _overrides;
};

}  // namespace tapestream::scsi
