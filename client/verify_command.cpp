// tapestream verify: the daemon reads files of the tape without sending them and checks each
// against its catalog; one line (or one JSON object) per file, every bad file named on standard
// error, and an exit code that says whether all of them read back as written.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "cli.hpp"

namespace tapestream::cli {
namespace {

using client::Failure;

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

client::Result<proto::VerifyRequest> request_of(const po::variables_map& vm) {
  const bool all = vm.count("all") != 0;
  const bool one = vm.count("file") != 0;
  if (all == one) {
    return Failure{proto::Status::bad_request, "verify: give either --file N or --all"};
  }
  proto::VerifyRequest request;
  if (all) {
    request.flags = TS_VERIFY_ALL;
    return request;
  }
  BOOST_OUTCOME_TRY(n, file_option(vm));
  request.file_number = n;
  return request;
}

nlohmann::json file_json(const proto::Verified& v) {
  nlohmann::json catalog;
  if (v.catalog_status != 0) {
    catalog = {{"status", catalog_status_name(v.catalog_status)},
               {"bytes", v.catalog_bytes},
               {"blocks", v.catalog_blocks},
               {"sha256", v.catalog_digest ? nlohmann::json(digest_text(v.catalog_digest))
                                           : nlohmann::json{}}};
  }
  return {
      {"file", v.file_number},
      {"verdict", verdict_name(v.verdict)},
      {"bytes", v.bytes},
      {"blocks", v.blocks},
      {"sha256", v.digest ? nlohmann::json(digest_text(v.digest)) : nlohmann::json{}},
      {"catalog", catalog},
      {"condition", v.verdict == TS_VERDICT_UNREADABLE
                        ? nlohmann::json(std::string{proto::status_name(v.condition)})
                        : nlohmann::json{}},
      {"message", v.message.empty() ? nlohmann::json{} : nlohmann::json(v.message)},
  };
}

void print_line(const proto::Verified& v) {
  const auto amount = std::to_string(v.bytes) + " bytes in " + std::to_string(v.blocks) + " blocks";
  const auto digest = v.digest ? ", sha256 " + digest_text(v.digest).substr(0, 12) : std::string{};
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

client::Result<void> verify_command(client::Connection& c, const Globals& g,
                                    const po::variables_map& vm) {
  BOOST_OUTCOME_TRY(request, request_of(vm));
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  request.drive = drive;
  Progress progress{"verify"};
  if (progress.on()) {
    request.flags |= TS_VERIFY_PROGRESS;
  }
  BOOST_OUTCOME_TRY(c.send(request));
  nlohmann::json files = nlohmann::json::array();
  std::vector<std::string> bad;
  std::uint64_t before = 0;  // bytes of the files already checked, for the progress line
  for (;;) {
    BOOST_OUTCOME_TRY(reply, c.receive());
    if (auto* p = std::get_if<proto::Progress>(&reply.message)) {
      p->bytes += before;
      progress.update(*p);
      continue;
    }
    if (const auto* v = std::get_if<proto::Verified>(&reply.message)) {
      before += v->bytes;
      progress.update(before);
      if (g.json) {
        files.push_back(file_json(*v));
      } else {
        print_line(*v);
      }
      if (v->verdict == TS_VERDICT_MISMATCH || v->verdict == TS_VERDICT_UNREADABLE) {
        std::fprintf(stderr, "tapestream: file %llu is bad (%s): %s\n",
                     static_cast<unsigned long long>(v->file_number), verdict_name(v->verdict),
                     v->message.c_str());
        bad.push_back(std::to_string(v->file_number));
      }
      continue;
    }
    const auto* done = std::get_if<proto::VerifyDone>(&reply.message);
    if (done == nullptr) {
      return failed(reply.message, "verify");
    }
    progress.update(before, true);
    const bool end_of_data = (done->flags & TS_VERIFY_DONE_END_OF_DATA) != 0;
    const bool cut = (done->flags & TS_VERIFY_DONE_CUT) != 0;
    if (g.json) {
      const nlohmann::json out = {{"drive", drive},         {"files", files},
                                  {"checked", done->checked}, {"ok", done->ok},
                                  {"unrecorded", done->unrecorded}, {"bad", done->bad},
                                  {"end_of_data", end_of_data}, {"cut", cut}};
      std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::printf("verified %llu file%s: %llu ok, %llu unrecorded, %llu bad%s\n",
                  static_cast<unsigned long long>(done->checked), done->checked == 1 ? "" : "s",
                  static_cast<unsigned long long>(done->ok),
                  static_cast<unsigned long long>(done->unrecorded),
                  static_cast<unsigned long long>(done->bad),
                  end_of_data ? "; end of data reached"
                              : (cut ? "; stopped before the end of data" : ""));
    }
    if (!bad.empty()) {
      std::string names;
      for (const auto& n : bad) {
        names += (names.empty() ? "" : ", ") + n;
      }
      return Failure{proto::Status::medium_error,
                     "verify: " + std::to_string(bad.size()) + " of " +
                         std::to_string(done->checked) + " files did not read back as written: file" +
                         (bad.size() == 1 ? " " : "s ") + names};
    }
    if (cut) {
      return Failure{proto::Status::medium_error,
                     "verify: stopped before the end of data (the drive could not reach the next "
                     "file); the files after it are not verified"};
    }
    return outcome::success();
  }
}

// catalog rebuild: the daemon scans every file of the loaded tape and records what it found.
client::Result<void> catalog_rebuild_command(client::Connection& c, const Globals& g) {
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  proto::CatalogRebuild request{0, drive};
  Progress progress{"scan"};
  if (progress.on()) {
    request.flags |= TS_REBUILD_PROGRESS;
  }
  BOOST_OUTCOME_TRY(c.send(request));
  for (;;) {
    BOOST_OUTCOME_TRY(reply, c.receive());
    if (const auto* p = std::get_if<proto::Progress>(&reply.message)) {
      progress.update(*p);
      continue;
    }
    const auto* done = std::get_if<proto::CatalogRebuilt>(&reply.message);
    if (done == nullptr) {
      return failed(reply.message, "catalog rebuild");
    }
    progress.update(0, true);
    const bool labelled = (done->flags & TS_REBUILT_LABELLED) != 0;
    const bool cut = (done->flags & TS_REBUILT_CUT) != 0;
    if (g.json) {
      const auto text = [](const std::string& s) { return s.empty() ? nlohmann::json{} : nlohmann::json(s); };
      const nlohmann::json out = {{"drive", drive},
                                  {"files", done->files},
                                  {"data_files", done->data_files},
                                  {"confirmed", done->confirmed},
                                  {"labelled", labelled},
                                  {"cut", cut},
                                  {"volume",
                                   {{"medium_serial", text(done->medium_serial)},
                                    {"label", text(done->label)},
                                    {"uuid", text(done->uuid)}}}};
      std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::printf("rebuilt the catalog of volume %s%s%s: %llu data file%s (%llu confirmed by their "
                  "trailers) from %llu file%s on the tape\n",
                  done->medium_serial.empty() ? "(no medium serial number)" : done->medium_serial.c_str(),
                  labelled ? ", label " : "", done->label.c_str(),
                  static_cast<unsigned long long>(done->data_files), done->data_files == 1 ? "" : "s",
                  static_cast<unsigned long long>(done->confirmed),
                  static_cast<unsigned long long>(done->files), done->files == 1 ? "" : "s");
    }
    if (cut) {
      return Failure{proto::Status::medium_error,
                     "catalog rebuild: the scan stopped before the end of data (the drive could "
                     "not reach the next file); the files found before it are recorded"};
    }
    return outcome::success();
  }
}

}  // namespace tapestream::cli
