#include "scsi/log_pages.hpp"

#include <algorithm>
#include <array>

#include "common/tape_alert.hpp"
#include "scsi/parse_error.hpp"
#include "scsi/text.hpp"

namespace tapestream::scsi {
namespace {

struct ParameterName {
  std::uint8_t page;
  std::uint16_t code;
  std::string_view name;
};

constexpr std::array parameter_names{
    ParameterName{log_page::sequential_access, 0x0000, "Data bytes received with WRITE commands"},
    ParameterName{log_page::sequential_access, 0x0001, "Data bytes written to media by WRITE commands"},
    ParameterName{log_page::sequential_access, 0x0002, "Data bytes read from media by READ commands"},
    ParameterName{log_page::sequential_access, 0x0003, "Data bytes transferred by READ commands"},
    ParameterName{log_page::sequential_access, 0x0004, "Native capacity from BOP to EOD (MB)"},
    ParameterName{log_page::sequential_access, 0x0005, "Native capacity from BOP to EW of current partition (MB)"},
    ParameterName{log_page::sequential_access, 0x0006, "Minimum native capacity from EW to EOP of current partition (MB)"},
    ParameterName{log_page::sequential_access, 0x0007, "Native capacity from BOP to current position (MB)"},
    ParameterName{log_page::sequential_access, 0x0008, "Maximum native capacity in device object buffer (MB)"},
    ParameterName{log_page::sequential_access, 0x0100, "Cleaning action required"},
    ParameterName{log_page::volume_statistics, 0x0000, "Page valid"},
    ParameterName{log_page::volume_statistics, 0x0001, "Thread count"},
    ParameterName{log_page::volume_statistics, 0x0002, "Total data sets written"},
    ParameterName{log_page::volume_statistics, 0x0003, "Total write retries"},
    ParameterName{log_page::volume_statistics, 0x0004, "Total unrecovered write errors"},
    ParameterName{log_page::volume_statistics, 0x0005, "Total suspended writes"},
    ParameterName{log_page::volume_statistics, 0x0006, "Total fatal suspended writes"},
    ParameterName{log_page::volume_statistics, 0x0007, "Total data sets read"},
    ParameterName{log_page::volume_statistics, 0x0008, "Total read retries"},
    ParameterName{log_page::volume_statistics, 0x0009, "Total unrecovered read errors"},
    ParameterName{log_page::volume_statistics, 0x000A, "Total suspended reads"},
    ParameterName{log_page::volume_statistics, 0x000B, "Total fatal suspended reads"},
    ParameterName{log_page::volume_statistics, 0x000C, "Last mount unrecovered write errors"},
    ParameterName{log_page::volume_statistics, 0x000D, "Last mount unrecovered read errors"},
    ParameterName{log_page::volume_statistics, 0x000E, "Last mount megabytes written"},
    ParameterName{log_page::volume_statistics, 0x000F, "Last mount megabytes read"},
    ParameterName{log_page::volume_statistics, 0x0010, "Lifetime megabytes written"},
    ParameterName{log_page::volume_statistics, 0x0011, "Lifetime megabytes read"},
    ParameterName{log_page::volume_statistics, 0x0012, "Last load write compression ratio"},
    ParameterName{log_page::volume_statistics, 0x0013, "Last load read compression ratio"},
    ParameterName{log_page::volume_statistics, 0x0014, "Medium mount time"},
    ParameterName{log_page::volume_statistics, 0x0015, "Medium ready time"},
    ParameterName{log_page::volume_statistics, 0x0016, "Total native capacity (MB)"},
    ParameterName{log_page::volume_statistics, 0x0017, "Total used native capacity (MB)"},
    ParameterName{log_page::volume_statistics, 0x0040, "Volume serial number"},
    ParameterName{log_page::volume_statistics, 0x0041, "Tape lot identifier"},
    ParameterName{log_page::volume_statistics, 0x0042, "Volume barcode"},
    ParameterName{log_page::volume_statistics, 0x0043, "Volume manufacturer"},
    ParameterName{log_page::volume_statistics, 0x0044, "Volume license code"},
    ParameterName{log_page::volume_statistics, 0x0045, "Volume personality"},
    ParameterName{log_page::volume_statistics, 0x0080, "Write protect"},
    ParameterName{log_page::volume_statistics, 0x0081, "WORM"},
    ParameterName{log_page::volume_statistics, 0x0082, "Maximum recommended tape path temperature exceeded"},
    ParameterName{log_page::volume_statistics, 0x0101, "Beginning of medium passes"},
    ParameterName{log_page::volume_statistics, 0x0102, "Middle of tape passes"},
    ParameterName{log_page::volume_statistics, 0x0200, "First encrypted logical object identifiers"},
    ParameterName{log_page::volume_statistics, 0x0201, "First unencrypted logical object on each partition"},
    ParameterName{log_page::volume_statistics, 0x0202, "Approximate native capacity of partitions"},
    ParameterName{log_page::volume_statistics, 0x0203, "Approximate used native capacity of partitions"},
    ParameterName{log_page::volume_statistics, 0x0204, "Remaining capacity to early warning of partitions"},
};

}  // namespace

std::optional<std::uint64_t> LogParameter::as_integer() const {
  if (value.size() > 8) {
    return std::nullopt;
  }
  return load_be(value, 0, value.size());
}

std::string LogParameter::as_text() const { return printable_ascii(value); }

const LogParameter* LogPage::find(std::uint16_t parameter_code) const {
  for (const auto& p : parameters) {
    if (p.code == parameter_code) {
      return &p;
    }
  }
  return nullptr;
}

Result<LogPage> parse_log_page(ByteView data) {
  if (data.size() < 4) {
    return ParseError::truncated;
  }
  LogPage page;
  page.code = data[0] & 0x3F;
  page.subpage = (data[0] & 0x40) != 0 ? data[1] : 0;
  // A page longer than the allocation length arrives cut off; keep its complete parameters.
  const std::size_t end = std::min<std::size_t>(data.size(), 4U + load_be16(data, 2));
  std::size_t at = 4;
  while (at + 4 <= end) {
    const std::size_t length = data[at + 3];
    if (at + 4 + length > end) {
      break;
    }
    LogParameter p;
    p.code = load_be16(data, at);
    p.control = data[at + 2];
    const auto first = data.begin() + static_cast<std::ptrdiff_t>(at + 4);
    p.value.assign(first, first + static_cast<std::ptrdiff_t>(length));
    page.parameters.push_back(std::move(p));
    at += 4 + length;
  }
  return page;
}

Result<TapeAlerts> parse_tape_alerts(const LogPage& page) {
  if (page.code != log_page::tape_alert) {
    return ParseError::wrong_page;
  }
  TapeAlerts alerts;
  for (const auto& p : page.parameters) {
    if (p.code >= 1 && p.code <= 64 && !p.value.empty() && (p.value[0] & 0x01) != 0) {
      alerts.set(p.code - 1U);
    }
  }
  return alerts;
}

std::string_view tape_alert_name(unsigned flag) { return common::tape_alert_name(flag); }

TapeAlertSeverity tape_alert_severity(unsigned flag) { return common::tape_alert_severity(flag); }

std::string_view log_parameter_name(std::uint8_t page, std::uint16_t parameter_code) {
  for (const auto& n : parameter_names) {
    if (n.page == page && n.code == parameter_code) {
      return n.name;
    }
  }
  return {};
}

}  // namespace tapestream::scsi
