// The T10 TapeAlert table for tape drives (SSC-4, flags 1..64): each flag's name and
// severity. Pure data shared by the daemon's SCSI layer and the client, which names the flags
// DRIVE_STATUS carries as bits.
#pragma once

#include <cstdint>
#include <string_view>

namespace tapestream::common {

enum class TapeAlertSeverity : std::uint8_t { information, warning, critical };

// "Unknown TapeAlert flag" / information outside 1..64.
std::string_view tape_alert_name(unsigned flag);
TapeAlertSeverity tape_alert_severity(unsigned flag);
// "critical", "warning", "information".
std::string_view severity_name(TapeAlertSeverity severity);

}  // namespace tapestream::common
