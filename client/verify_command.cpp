// tapestream verify: the daemon reads files of the tape without sending them and checks each
// against its catalog; one line (or one JSON object) per file, every bad file named on standard
// error, and an exit code that says whether all of them read back as written.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"

namespace tapestream::cli {
namespace {


const char* verdict_name(std::uint8_t verdict) {
  static constexpr const char* names[] = {"?", "ok", "mismatch", "unrecorded", "unreadable"};
  return verdict <= TS_VERDICT_MAX ? names[verdict] : "?";
}

const char* catalog_status_name(std::uint8_t status) {
  static constexpr const char* names[] = {"none",   "writing", "complete",
                                          "interrupted", "failed", "overwritten",
                                          "scanned", "superseded"};
  return status <= TS_FILE_STATUS_MAX ? names[status] : "?";
}

// What VERIFY is asked: one file, or every file (TS_VERIFY_ALL with file number 0).
struct Request {
  std::uint32_t flags = 0;
  std::uint64_t file_number = 0;
};

Result<Request> request_of(const po::variables_map& vm) {
  const bool all = vm.count("all") != 0;
  const bool one = vm.count("file") != 0;
  if (all == one) {
    return Failure{TS_BAD_REQUEST, "verify: give either --file N or --all"};
  }
  Request request;
  if (all) {
    request.flags = TS_VERIFY_ALL;
    return request;
  }
  BOOST_OUTCOME_TRY(n, file_option(vm));
  request.file_number = n;
  return request;
}

// A verdict as the callback gives it, its texts copied (they live only during the call).
struct Verdict {
  std::uint64_t file_number = 0;
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  std::uint64_t catalog_bytes = 0;
  std::uint64_t catalog_blocks = 0;
  std::uint8_t verdict = 0;
  std::uint8_t catalog_status = 0;
  std::uint16_t condition = 0;
  std::string digest;          // hex, empty when none
  std::string catalog_digest;  // hex, empty when none
  std::string message;
};

Verdict verdict_of(const ts_verified& v) {
  Verdict d{v.file_number, v.bytes,          v.blocks,    v.catalog_bytes, v.catalog_blocks,
            v.verdict,     v.catalog_status, v.condition, {},              {},
            v.message != nullptr ? v.message : ""};
  // The digests are 1.1's: a library that gives an older struct has none.
  if (v.struct_size >= sizeof v && v.has_digest != 0) {
    d.digest = digest_text(v.sha256);
  }
  if (v.struct_size >= sizeof v && v.has_catalog_digest != 0) {
    d.catalog_digest = digest_text(v.catalog_sha256);
  }
  return d;
}

nlohmann::json optional_text(const std::string& s) { return s.empty() ? nlohmann::json{} : nlohmann::json(s); }

nlohmann::json file_json(const Verdict& v) {
  nlohmann::json catalog;
  if (v.catalog_status != 0) {
    catalog = {{"status", catalog_status_name(v.catalog_status)},
               {"bytes", v.catalog_bytes},
               {"blocks", v.catalog_blocks},
               {"sha256", optional_text(v.catalog_digest)}};
  }
  return {
      {"file", v.file_number},
      {"verdict", verdict_name(v.verdict)},
      {"bytes", v.bytes},
      {"blocks", v.blocks},
      {"sha256", optional_text(v.digest)},
      {"catalog", catalog},
      {"condition", v.verdict == TS_VERDICT_UNREADABLE ? nlohmann::json(status_name(v.condition))
                                                        : nlohmann::json{}},
      {"message", v.message.empty() ? nlohmann::json{} : nlohmann::json(v.message)},
  };
}

void print_line(const Verdict& v) {
  const auto amount = std::to_string(v.bytes) + " bytes in " + std::to_string(v.blocks) + " blocks";
  const auto digest = !v.digest.empty() ? ", sha256 " + v.digest.substr(0, 12) : std::string{};
  switch (v.verdict) {
    case TS_VERDICT_OK:
      std::printf("file %llu: ok, %s%s\n", static_cast<unsigned long long>(v.file_number),
                  amount.c_str(), digest.c_str());
      break;
    case TS_VERDICT_UNRECORDED:
      std::printf("file %llu: unrecorded (%s), %s%s\n",
                  static_cast<unsigned long long>(v.file_number),
                  v.catalog_status == 0 ? "not in the catalog" : v.message.c_str(), amount.c_str(),
                  digest.c_str());
      break;
    default:
      std::printf("file %llu: %s: %s\n", static_cast<unsigned long long>(v.file_number),
                  verdict_name(v.verdict), v.message.c_str());
      break;
  }
  std::fflush(stdout);
}

}  // namespace

// What the verify callback collects while the daemon reads.
struct Verifying {
  explicit Verifying(const Globals& globals) : g{globals} {}
  const Globals& g;
  Progress progress{"verify"};
  nlohmann::json files = nlohmann::json::array();
  std::vector<std::string> bad;
  std::uint64_t before = 0;  // bytes of the files already checked, for the progress line
};

Result<void> verify_command(ts_client* c, const Globals& g, const po::variables_map& vm) {
  BOOST_OUTCOME_TRY(request, request_of(vm));
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  Verifying state{g};
  if (state.progress.on()) {
    ts_set_progress(
        c,
        [](const ts_progress* p, void* context) {
          auto& s = *static_cast<Verifying*>(context);
          s.progress.set_offset(s.before);  // the files checked before this one
          s.progress.update(*p);
        },
        &state);
  }
  ts_verify_summary done;
  TS_INIT(ts_verify_summary, &done);
  const int r = ts_verify(
      c, drive.c_str(), request.file_number, request.flags,
      [](const ts_verified* verified, void* context) {
        auto& s = *static_cast<Verifying*>(context);
        const auto v = verdict_of(*verified);
        s.before += v.bytes;
        s.progress.update(s.before);
        if (s.g.json) {
          s.files.push_back(file_json(v));
        } else {
          print_line(v);
        }
        if (v.verdict == TS_VERDICT_MISMATCH || v.verdict == TS_VERDICT_UNREADABLE) {
          std::fprintf(stderr, "tapestream: file %llu is bad (%s): %s\n",
                       static_cast<unsigned long long>(v.file_number), verdict_name(v.verdict),
                       v.message.c_str());
          s.bad.push_back(std::to_string(v.file_number));
        }
      },
      &state, &done);
  if (r != 0) {
    return lib_failure(c, r, "verify");
  }
  state.progress.update(state.before, true);
  const auto& bad = state.bad;
  const bool end_of_data = (done.flags & TS_VERIFY_DONE_END_OF_DATA) != 0;
  const bool cut = (done.flags & TS_VERIFY_DONE_CUT) != 0;
  if (g.json) {
    const nlohmann::json out = {{"drive", drive},         {"files", state.files},
                                {"checked", done.checked}, {"ok", done.ok},
                                {"unrecorded", done.unrecorded}, {"bad", done.bad},
                                {"end_of_data", end_of_data}, {"cut", cut}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("verified %llu file%s: %llu ok, %llu unrecorded, %llu bad%s\n",
                static_cast<unsigned long long>(done.checked), done.checked == 1 ? "" : "s",
                static_cast<unsigned long long>(done.ok),
                static_cast<unsigned long long>(done.unrecorded),
                static_cast<unsigned long long>(done.bad),
                end_of_data ? "; end of data reached"
                            : (cut ? "; stopped before the end of data" : ""));
  }
  if (!bad.empty()) {
    std::string names;
    for (const auto& n : bad) {
      names += (names.empty() ? "" : ", ") + n;
    }
    return Failure{TS_MEDIUM_ERROR,
                   "verify: " + std::to_string(bad.size()) + " of " + std::to_string(done.checked) +
                       " files did not read back as written: file" + (bad.size() == 1 ? " " : "s ") +
                       names};
  }
  if (cut) {
    return Failure{TS_MEDIUM_ERROR,
                   "verify: stopped before the end of data (the drive could not reach the next "
                   "file); the files after it are not verified"};
  }
  return outcome::success();
}

// catalog rebuild: the daemon scans every file of the loaded tape and records what it found.
Result<void> catalog_rebuild_command(ts_client* c, const Globals& g) {
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  Progress progress{"scan"};
  progress.follow(c);
  ts_rebuilt done;
  TS_INIT(ts_rebuilt, &done);
  if (const int r = ts_catalog_rebuild(c, drive.c_str(), &done); r != 0) {
    return lib_failure(c, r, "catalog rebuild");
  }
  progress.update(0, true);
  const bool labelled = (done.flags & TS_REBUILT_LABELLED) != 0;
  const bool cut = (done.flags & TS_REBUILT_CUT) != 0;
  const std::string medium_serial = done.medium_serial;
  if (g.json) {
    const nlohmann::json out = {{"drive", drive},
                                {"files", done.files},
                                {"data_files", done.data_files},
                                {"confirmed", done.confirmed},
                                {"labelled", labelled},
                                {"cut", cut},
                                {"volume",
                                 {{"medium_serial", optional_text(medium_serial)},
                                  {"label", optional_text(done.label)},
                                  {"uuid", optional_text(done.uuid)}}}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("rebuilt the catalog of volume %s%s%s: %llu data file%s (%llu confirmed by their "
                "trailers) from %llu file%s on the tape\n",
                medium_serial.empty() ? "(no medium serial number)" : medium_serial.c_str(),
                labelled ? ", label " : "", done.label,
                static_cast<unsigned long long>(done.data_files), done.data_files == 1 ? "" : "s",
                static_cast<unsigned long long>(done.confirmed),
                static_cast<unsigned long long>(done.files), done.files == 1 ? "" : "s");
  }
  if (cut) {
    return Failure{TS_MEDIUM_ERROR,
                   "catalog rebuild: the scan stopped before the end of data (the drive could "
                   "not reach the next file); the files found before it are recorded"};
  }
  return outcome::success();
}

}  // namespace tapestream::cli
