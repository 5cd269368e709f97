// tapestream list: what the daemon's catalog knows of a volume's files, one line per file as
// ls -l shows them, or every field as JSON (nlohmann-json: no hand-made escaping).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "cli.hpp"

namespace tapestream::cli {
namespace {

const char* file_status_name(std::uint8_t status) {
  static constexpr const char* names[] = {"?",      "writing",     "complete",
                                          "interrupted", "failed", "overwritten",
                                          "scanned", "superseded"};
  return status <= TS_FILE_STATUS_MAX ? names[status] : "?";
}

// 1.5G, 300M, 12K: powers of 1024, as ls -lh.
std::string human_size(std::uint64_t bytes) {
  static constexpr const char* units = "BKMGTPE";
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 6) {
    v /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%llu", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(text, sizeof text, v < 10 ? "%.1f%c" : "%.0f%c", v, units[unit]);
  }
  return text;
}

std::string local_time(std::uint64_t ms) {
  if (ms == 0) {
    return "-";
  }
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &tm);
  return text;
}

std::string hex(const std::uint8_t (&d)[TS_DIGEST_SIZE], std::size_t bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < bytes && i < TS_DIGEST_SIZE; ++i) {
    text += digits[d[i] >> 4];
    text += digits[d[i] & 0xF];
  }
  return text;
}

nlohmann::json optional_text(const std::string& s) { return s.empty() ? nlohmann::json{} : nlohmann::json(s); }

// A catalog row as the callback gives it; its texts are copied, they live only during the call.
struct Row {
  ts_file file;
  std::string label;
  std::string failure;
};

bool has_digest(const ts_file& f) { return (f.flags & TS_FILE_HAS_DIGEST) != 0; }

nlohmann::json file_json(const Row& row) {
  const auto& f = row.file;
  return {
      {"file", f.file_number},
      {"label", row.label},
      {"bytes", f.bytes},
      {"blocks", f.blocks},
      {"block_size", f.block_size},
      {"mode", (f.flags & TS_FILE_FIXED) != 0 ? "fixed" : "variable"},
      {"padding", f.padding},
      {"sha256", has_digest(f) ? nlohmann::json(hex(f.sha256, TS_DIGEST_SIZE)) : nlohmann::json{}},
      {"start_ms", f.start_ms},
      {"end_ms", f.end_ms == 0 ? nlohmann::json{} : nlohmann::json(f.end_ms)},
      {"rate", f.rate},
      {"client_uid", f.client_uid},
      {"status", file_status_name(f.status)},
      {"failure", optional_text(row.failure)},
      // A part of a stream that spans volumes: which stream, which part, where in the stream.
      {"span", f.span_part == 0 ? nlohmann::json{}
                                : nlohmann::json{{"stream", f.span_stream},
                                                 {"part", f.span_part},
                                                 {"offset", f.span_offset},
                                                 {"last", (f.span_flags & TS_SPAN_LAST) != 0}}},
  };
}

}  // namespace

struct Listing {
  std::vector<Row> rows;
};

Result<void> list_command(ts_client* c, const Globals& g, const po::variables_map& vm) {
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  const auto wanted = vm.count("volume") != 0 ? vm["volume"].as<std::string>() : std::string{};
  if (wanted.size() > TS_MAX_VOLUME_TEXT) {
    return Failure{TS_BAD_REQUEST,
                           "--volume: at most " + std::to_string(TS_MAX_VOLUME_TEXT) + " bytes"};
  }
  Listing listing;
  ts_volume volume;
  TS_INIT(ts_volume, &volume);
  const int n = ts_list_volume(
      c, drive.c_str(), wanted.c_str(), &volume,
      [](const ts_volume*, const ts_file* f, void* context) {
        auto& l = *static_cast<Listing*>(context);
        l.rows.push_back({*f, f->label != nullptr ? f->label : "", f->failure != nullptr ? f->failure : ""});
        return 0;
      },
      &listing);
  if (n < 0) {
    return lib_failure(c, n, "list");
  }
  const std::string medium_serial = volume.medium_serial;
  const std::string label = volume.label;
  const std::string uuid = volume.uuid;
  if (g.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& row : listing.rows) {
      files.push_back(file_json(row));
    }
    const nlohmann::json out = {
        {"drive", drive},
        {"volume",
         {{"medium_serial", optional_text(medium_serial)},
          {"label", optional_text(label)},
          {"uuid", optional_text(uuid)},
          {"barcode", optional_text(volume.barcode)},
          {"first_seen_ms", volume.first_seen_ms},
          {"last_seen_ms", volume.last_seen_ms}}},
        {"files", files},
    };
    // Invalid UTF-8 cannot come (the codec refuses it); replace rather than throw anyway.
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return outcome::success();
  }
  std::printf("volume %s%s%s%s%s%s\n",
              medium_serial.empty() ? "(no medium serial number)" : medium_serial.c_str(),
              label.empty() ? "" : ", label ", label.c_str(),
              uuid.empty() ? "" : " (uuid ", uuid.c_str(),
              uuid.empty() ? "" : ")");
  for (const auto& row : listing.rows) {
    const auto& f = row.file;
    const auto span = f.span_part == 0
                          ? std::string{}
                          : " [stream " + std::to_string(f.span_stream) + " part " +
                                std::to_string(f.span_part) + " from byte " +
                                std::to_string(f.span_offset) +
                                ((f.span_flags & TS_SPAN_LAST) != 0 ? ", the last" : "") + "]";
    std::printf("%5llu %7s %9llu %s %-12s %-11s %s%s\n",
                static_cast<unsigned long long>(f.file_number), human_size(f.bytes).c_str(),
                static_cast<unsigned long long>(f.blocks),
                local_time(f.start_ms).c_str(),
                has_digest(f) ? hex(f.sha256, 6).c_str() : "-", file_status_name(f.status),
                row.label.c_str(), span.c_str());
  }
  return outcome::success();
}

}  // namespace tapestream::cli
