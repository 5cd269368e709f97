// tapestream status: the drive's identity, position, flags and health, as text or JSON. A value
// the drive did not give reads "unknown" (text) or null (JSON), never 0: the daemon's `health`
// feature says which fields are known (PROTOCOL.md, DRIVE_STATUS).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <optional>
#include <string>

#include "cli.hpp"

namespace tapestream::cli {
namespace {

using Json = nlohmann::ordered_json;

// DRIVE_STATUS's drive state in words; a daemon before the field reports none.
const char* drive_state_text(std::uint8_t state) {
  static constexpr const char* names[] = {nullptr,   "no medium", "loaded",           "positioned",
                                          "writing", "reading",   "at early warning", "failed"};
  return state >= 1 && state <= TS_DRIVE_STATE_MAX ? names[state] : nullptr;
}

// What a DRIVE_STATUS says is known: with `health`, byte 65 and the extension's mask; from a
// daemon without it, a TapeAlert, capacity or remaining field of 0 is not known.
struct Known {
  const ts_drive_status& s;
  bool base(std::uint8_t bit, std::uint64_t value) const {
    return s.has_health != 0 ? (s.known & bit) != 0 : value != 0;
  }
  std::optional<std::uint64_t> field(std::uint8_t bit, std::uint64_t value) const {
    return base(bit, value) ? std::optional{value} : std::nullopt;
  }
  std::optional<std::uint64_t> extra(std::uint32_t bit, std::uint64_t value) const {
    return s.has_health != 0 && (s.health_known & bit) != 0 ? std::optional{value} : std::nullopt;
  }
};

Json json_or_null(const std::optional<std::uint64_t>& v) { return v ? Json(*v) : Json(nullptr); }
std::string text_or_unknown(const std::optional<std::uint64_t>& v, const char* unit = "") {
  return v ? std::to_string(*v) + unit : std::string{"unknown"};
}

struct Health {
  std::optional<std::uint64_t> tape_alerts, capacity, remaining, file, block_in_file, loads,
      mb_written_load, mb_read_load, mb_written_life, mb_read_life, write_retries, read_retries,
      write_errors, read_errors, cleaning, density;
  std::string density_name;
};

Health health_of(const ts_drive_status& s) {
  const Known k{s};
  Health h;
  h.tape_alerts = k.field(TS_KNOWN_TAPE_ALERTS, s.tape_alerts);
  h.capacity = k.field(TS_KNOWN_CAPACITY, s.capacity_mib);
  h.remaining = k.field(TS_KNOWN_REMAINING, s.remaining_mib);
  if ((s.state & TS_STATE_FILE_UNKNOWN) == 0 && (s.has_health == 0 || (s.known & TS_KNOWN_POSITION) != 0)) {
    h.file = s.file_number;
  }
  if (s.has_health == 0 || (s.known & TS_KNOWN_DENSITY) != 0) {
    h.density = s.density_code;
  }
  h.block_in_file = k.extra(TS_HEALTH_BLOCK_IN_FILE, s.block_in_file);
  if (s.has_health != 0) {
    const auto& x = s;
    h.loads = k.extra(TS_HEALTH_LOADS, x.loads);
    h.mb_written_load = k.extra(TS_HEALTH_MB_WRITTEN_LOAD, x.mb_written_load);
    h.mb_read_load = k.extra(TS_HEALTH_MB_READ_LOAD, x.mb_read_load);
    h.mb_written_life = k.extra(TS_HEALTH_MB_WRITTEN_LIFE, x.mb_written_life);
    h.mb_read_life = k.extra(TS_HEALTH_MB_READ_LIFE, x.mb_read_life);
    h.write_retries = k.extra(TS_HEALTH_WRITE_RETRIES, x.write_retries);
    h.read_retries = k.extra(TS_HEALTH_READ_RETRIES, x.read_retries);
    h.write_errors = k.extra(TS_HEALTH_WRITE_ERRORS, x.write_errors);
    h.read_errors = k.extra(TS_HEALTH_READ_ERRORS, x.read_errors);
    h.cleaning = k.extra(TS_HEALTH_CLEANING, x.cleaning);
    h.density_name = x.density_name;
  }
  return h;
}

Json alerts_json(std::uint64_t alerts) {
  Json list = Json::array();
  for (unsigned flag = 1; flag <= 64; ++flag) {
    if (((alerts >> (flag - 1)) & 1U) != 0) {
      list.push_back({{"flag", flag},
                      {"name", ts_tape_alert_name(flag)},
                      {"severity", ts_tape_alert_severity(flag)}});
    }
  }
  return list;
}

void print_json(const ts_drive_status& s, const Health& h) {
  auto flag = [&s](std::uint32_t f) { return (s.state & f) != 0; };
  const auto* doing = drive_state_text(s.drive_state);
  Json j{{"drive", s.drive},
         {"transport", s.transport},
         {"vendor", s.vendor},
         {"product", s.product},
         {"revision", s.revision},
         {"serial", s.serial},
         {"medium_serial", s.medium_serial[0] == '\0' ? Json(nullptr) : Json(s.medium_serial)},
         {"loaded", flag(TS_STATE_LOADED)},
         {"write_protected", flag(TS_STATE_WRITE_PROTECTED)},
         {"bop", flag(TS_STATE_BOP)},
         {"early_warning", flag(TS_STATE_EARLY_WARNING)},
         {"busy", flag(TS_STATE_BUSY)},
         {"compression", flag(TS_STATE_COMPRESSION)},
         {"block_size", s.block_size},
         {"max_block_length", s.max_block_length},
         {"density_code", json_or_null(h.density)},
         {"density_name", h.density_name.empty() ? Json(nullptr) : Json(h.density_name)},
         {"block", s.block_number},
         {"file", json_or_null(h.file)},
         {"block_in_file", json_or_null(h.block_in_file)},
         {"stale", flag(TS_STATE_STALE)},
         {"state_age_ms", s.state_age_ms},
         {"drive_state", doing != nullptr ? Json(doing) : Json(nullptr)},
         {"tape_alerts", h.tape_alerts ? alerts_json(*h.tape_alerts) : Json(nullptr)},
         {"cleaning_requested", h.cleaning ? Json(*h.cleaning != 0) : Json(nullptr)},
         {"capacity_mib", json_or_null(h.capacity)},
         {"remaining_mib", json_or_null(h.remaining)},
         {"volume_statistics",
          {{"loads", json_or_null(h.loads)},
           {"mb_written_this_load", json_or_null(h.mb_written_load)},
           {"mb_read_this_load", json_or_null(h.mb_read_load)},
           {"mb_written_lifetime", json_or_null(h.mb_written_life)},
           {"mb_read_lifetime", json_or_null(h.mb_read_life)},
           {"write_retries", json_or_null(h.write_retries)},
           {"read_retries", json_or_null(h.read_retries)},
           {"unrecovered_write_errors", json_or_null(h.write_errors)},
           {"unrecovered_read_errors", json_or_null(h.read_errors)}}}};
  std::printf("%s\n", j.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
}

void print_text(const ts_drive_status& s, const Health& h) {
  auto flag = [&s](std::uint32_t f) { return (s.state & f) != 0; };
  std::printf("drive:        %s (%s)\n", s.drive, s.transport);
  std::printf("device:       %s %s %s, serial %s\n", s.vendor, s.product, s.revision, s.serial);
  if (const auto* doing = drive_state_text(s.drive_state)) {
    std::printf("doing:        %s\n", doing);
  }
  if (flag(TS_STATE_STALE)) {
    std::printf("state:        not answering now (a command is running or hung); below is what "
                "it said %.1f s ago\n",
                static_cast<double>(s.state_age_ms) / 1000.0);
  }
  std::printf("medium:       %s%s%s\n", flag(TS_STATE_LOADED) ? "loaded" : "none",
              flag(TS_STATE_WRITE_PROTECTED) ? ", write protected" : "",
              flag(TS_STATE_EARLY_WARNING) ? ", beyond early warning" : "");
  if (s.medium_serial[0] != '\0') {
    std::printf("cartridge:    medium serial %s\n", s.medium_serial);
  }
  std::printf("position:     File number=%s, block number=%s; absolute block %llu%s\n",
              text_or_unknown(h.file).c_str(), text_or_unknown(h.block_in_file).c_str(),
              static_cast<unsigned long long>(s.block_number), flag(TS_STATE_BOP) ? " (BOP)" : "");
  std::printf("block size:   %s (drive maximum %u)\n",
              s.block_size == 0 ? "variable" : std::to_string(s.block_size).c_str(),
              s.max_block_length);
  if (h.density) {
    std::printf("density:      %02llXh%s%s\n", static_cast<unsigned long long>(*h.density),
                h.density_name.empty() ? "" : " ", h.density_name.c_str());
  } else {
    std::printf("density:      unknown\n");
  }
  std::printf("compression:  %s\n", flag(TS_STATE_COMPRESSION) ? "on" : "off");
  std::printf("in use:       %s\n", flag(TS_STATE_BUSY) ? "yes, by a stream" : "no");
  std::printf("capacity:     %s, remaining %s\n", text_or_unknown(h.capacity, " MiB").c_str(),
              text_or_unknown(h.remaining, " MiB").c_str());
  if (!h.tape_alerts) {
    std::printf("tapealert:    unknown\n");
  } else if (*h.tape_alerts == 0) {
    std::printf("tapealert:    none\n");
  } else {
    for (unsigned f = 1; f <= 64; ++f) {
      if (((*h.tape_alerts >> (f - 1)) & 1U) != 0) {
        std::printf("tapealert:    %u %s (%s)\n", f, ts_tape_alert_name(f), ts_tape_alert_severity(f));
      }
    }
  }
  std::printf("cleaning:     %s\n", !h.cleaning ? "unknown" : *h.cleaning != 0 ? "requested" : "not requested");
  std::printf("loads:        %s\n", text_or_unknown(h.loads).c_str());
  std::printf("this load:    %s written, %s read\n", text_or_unknown(h.mb_written_load, " MB").c_str(),
              text_or_unknown(h.mb_read_load, " MB").c_str());
  std::printf("lifetime:     %s written, %s read\n", text_or_unknown(h.mb_written_life, " MB").c_str(),
              text_or_unknown(h.mb_read_life, " MB").c_str());
  std::printf("soft errors:  write %s, read %s\n", text_or_unknown(h.write_retries).c_str(),
              text_or_unknown(h.read_retries).c_str());
  std::printf("hard errors:  write %s, read %s\n", text_or_unknown(h.write_errors).c_str(),
              text_or_unknown(h.read_errors).c_str());
}

}  // namespace

Result<void> status_command(ts_client* c, const Globals& g) {
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  ts_drive_status s;
  TS_INIT(ts_drive_status, &s);
  if (const int r = ts_status(c, drive.c_str(), &s); r != 0) {
    return lib_failure(c, r, "status");
  }
  const auto h = health_of(s);
  if (g.json) {
    print_json(s, h);
  } else {
    print_text(s, h);
  }
  return outcome::success();
}

}  // namespace tapestream::cli
