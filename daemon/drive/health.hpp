// What a drive says of its own health and its cartridge's: TapeAlert flags, volume statistics
// (LOG SENSE 17h), the cleaning request of the Sequential-Access page (0Ch) and the capacity in
// the cartridge's memory (READ ATTRIBUTE). Every field is empty until the drive gave it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scsi/attribute.hpp"
#include "scsi/log_pages.hpp"

namespace tapestream::drive {

struct VolumeStatistics {
  std::optional<std::uint64_t> loads;
  std::optional<std::uint64_t> mb_written_load;
  std::optional<std::uint64_t> mb_read_load;
  std::optional<std::uint64_t> mb_written_life;
  std::optional<std::uint64_t> mb_read_life;
  std::optional<std::uint64_t> write_retries;
  std::optional<std::uint64_t> read_retries;
  std::optional<std::uint64_t> write_errors;
  std::optional<std::uint64_t> read_errors;
};

struct MediumHealth {
  VolumeStatistics statistics;
  std::optional<bool> cleaning_action_required;  // page 0Ch parameter 0100h
  std::optional<std::uint64_t> capacity_mib;     // MAM maximum capacity
  std::optional<std::uint64_t> remaining_mib;    // MAM remaining capacity
  std::optional<std::string> medium_serial;      // MAM medium serial number
  // The emulated drive's model (log page 3Ch of a TAPESTRM drive): stops for want of data that
  // cost a backhitch, and the time the tape stood waiting for data, since the drive opened.
  std::optional<std::uint64_t> backhitches;
  std::optional<std::uint64_t> starved_ms;
};

// The parts of each answer this type knows; an answer that lacks a parameter leaves it empty.
void take_volume_statistics(const scsi::LogPage& page, MediumHealth& health);
void take_sequential_access(const scsi::LogPage& page, MediumHealth& health);
void take_drive_model(const scsi::LogPage& page, MediumHealth& health);
void take_attributes(const std::vector<scsi::Attribute>& attributes, MediumHealth& health);

// TapeAlert flags the drive raised since its cartridge was loaded. Reading the page clears the
// flags on the drive, so every read is kept here (PROTOCOL.md, "TapeAlert flags are kept"):
// `medium_generation` counts the loads and medium changes the transport saw, and flags read
// under another generation than the kept ones are a new cartridge's.
class KeptTapeAlerts {
 public:
  void add(scsi::TapeAlerts read, std::uint64_t medium_generation);
  // Nothing read yet for this cartridge: empty.
  std::optional<scsi::TapeAlerts> current(std::uint64_t medium_generation) const;

 private:
  scsi::TapeAlerts _flags;
  std::optional<std::uint64_t> _generation;
};

// Whether any of `alerts` asks for a cleaning (flags 20 "Cleaning required", 21 "Cleaning
// requested"; 22 "Expired cleaning volume" asks for a new cleaning cartridge, also a request).
bool cleaning_requested(const scsi::TapeAlerts& alerts);

}  // namespace tapestream::drive
