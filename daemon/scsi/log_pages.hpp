// LOG SENSE responses: the generic parameter list, TapeAlert (2Eh), Sequential-Access Device
// (0Ch) and Volume Statistics (17h).
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/tape_alert.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::scsi {

struct LogParameter {
  std::uint16_t code = 0;
  std::uint8_t control = 0;  // DU, TSD, ETC, TMC, FORMAT AND LINKING
  std::vector<std::uint8_t> value;

  // The value as an unsigned counter; absent when it is wider than 8 bytes.
  std::optional<std::uint64_t> as_integer() const;
  // The value as text (ASCII parameters such as a volume serial number), trimmed.
  std::string as_text() const;
};

struct LogPage {
  std::uint8_t code = 0;
  std::uint8_t subpage = 0;
  std::vector<LogParameter> parameters;

  const LogParameter* find(std::uint16_t parameter_code) const;
};

Result<LogPage> parse_log_page(ByteView data);

namespace log_page {
inline constexpr std::uint8_t supported_pages = 0x00;
inline constexpr std::uint8_t write_errors = 0x02;
inline constexpr std::uint8_t read_errors = 0x03;
inline constexpr std::uint8_t sequential_access = 0x0C;
inline constexpr std::uint8_t volume_statistics = 0x17;
inline constexpr std::uint8_t tape_alert = 0x2E;
// Vendor-specific: the emulated drive's model (TAPESTRM only; docs/EMULATED_DRIVE.md).
inline constexpr std::uint8_t drive_model = 0x3C;
}  // namespace log_page

using TapeAlertSeverity = common::TapeAlertSeverity;

// Flags 1..64; bit n-1 is flag n.
using TapeAlerts = std::bitset<64>;

// The flags set in a TapeAlert page; an error if the page is another one.
Result<TapeAlerts> parse_tape_alerts(const LogPage& page);
// The T10 TapeAlert table (common/tape_alert.hpp, shared with the client).
std::string_view tape_alert_name(unsigned flag);
TapeAlertSeverity tape_alert_severity(unsigned flag);

// The standard's name of a parameter of the pages above, or an empty view.
std::string_view log_parameter_name(std::uint8_t page, std::uint16_t parameter_code);

}  // namespace tapestream::scsi
