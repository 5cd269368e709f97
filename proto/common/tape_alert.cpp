#include "common/tape_alert.hpp"

#include <array>

namespace tapestream::common {
namespace {

struct TapeAlertInfo {
  std::string_view name;
  TapeAlertSeverity severity;
};

constexpr auto I = TapeAlertSeverity::information;
constexpr auto W = TapeAlertSeverity::warning;
constexpr auto C = TapeAlertSeverity::critical;

// SSC-4 Annex (TapeAlert log page parameters): flags 01h..40h. 28h..2Eh are obsolete (the
// autoloader flags of TapeAlert 3.0, now the media changer's), 3Dh..40h reserved. Names follow
// SSC-4; checked against the TapeAlert 3.0 table (T10 document 02-142r0) and drive makers'
// manuals (IBM LTO, HPE), whose severities agree.
constexpr std::array<TapeAlertInfo, 64> tape_alert_table{{
    {"Read warning", W},
    {"Write warning", W},
    {"Hard error", W},
    {"Medium", C},
    {"Read failure", C},
    {"Write failure", C},
    {"Medium life", W},
    {"Not data grade", W},
    {"Write protect", C},
    {"Volume removal prevented", I},
    {"Cleaning volume", I},
    {"Unsupported format", I},
    {"Recoverable mechanical cartridge failure", C},
    {"Unrecoverable mechanical cartridge failure", C},
    {"Memory chip in cartridge failure", W},
    {"Forced eject", C},
    {"Read only format", W},
    {"Tape directory corrupted on load", W},
    {"Nearing medium life", I},
    {"Cleaning required", C},
    {"Cleaning requested", W},
    {"Expired cleaning volume", C},
    {"Invalid cleaning volume", C},
    {"Retension requested", W},
    {"Multi-port interface error on a primary port", W},
    {"Cooling fan failure", W},
    {"Power supply failure", W},
    {"Power consumption", W},
    {"Drive preventive maintenance required", W},
    {"Hardware A", C},
    {"Hardware B", C},
    {"Primary interface", W},
    {"Eject volume", C},
    {"Microcode update fail", W},
    {"Drive humidity", W},
    {"Drive temperature", W},
    {"Drive voltage", W},
    {"Predictive failure", C},
    {"Diagnostics required", W},
    {"Obsolete (28h)", I},
    {"Obsolete (29h)", I},
    {"Obsolete (2Ah)", I},
    {"Obsolete (2Bh)", I},
    {"Obsolete (2Ch)", I},
    {"Obsolete (2Dh)", I},
    {"Obsolete (2Eh)", I},
    {"External data encryption control - communication failure", W},
    {"External data encryption control - key manager returned an error", W},
    {"Diminished native capacity", W},
    {"Lost statistics", W},
    {"Tape directory invalid at unload", W},
    {"Tape system area write failure", C},
    {"Tape system area read failure", C},
    {"No start of data", C},
    {"Loading or threading failure", C},
    {"Unrecoverable unload failure", C},
    {"Automation interface failure", C},
    {"Microcode failure", W},
    {"WORM volume - integrity check failed", W},
    {"WORM volume - overwrite attempted", W},
    {"Reserved (3Dh)", I},
    {"Reserved (3Eh)", I},
    {"Reserved (3Fh)", I},
    {"Reserved (40h)", I},
}};

}  // namespace

std::string_view tape_alert_name(unsigned flag) {
  if (flag < 1 || flag > tape_alert_table.size()) {
    return "Unknown TapeAlert flag";
  }
  return tape_alert_table[flag - 1].name;
}

TapeAlertSeverity tape_alert_severity(unsigned flag) {
  if (flag < 1 || flag > tape_alert_table.size()) {
    return TapeAlertSeverity::information;
  }
  return tape_alert_table[flag - 1].severity;
}

std::string_view severity_name(TapeAlertSeverity severity) {
  switch (severity) {
    case TapeAlertSeverity::critical: return "critical";
    case TapeAlertSeverity::warning: return "warning";
    case TapeAlertSeverity::information: return "information";
  }
  return "information";
}

}  // namespace tapestream::common
