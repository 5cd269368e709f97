// tapestream read --span: a stream that spans volumes, restored whole. The catalog (FILE_LIST's
// span fields) says which files are its parts and on which cartridges; the CLI loads each
// cartridge into the drive with the library's ordinary moves, reads the part, checks its size
// against the catalog, and gives the parts in order on standard output.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cli.hpp"

namespace tapestream::cli {
namespace {

struct SpanRow {
  std::uint32_t index = 0;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  std::uint64_t file_number = 0;
  std::uint8_t status = 0;
  std::string barcode;
  bool last = false;  // the part the stream committed with
  std::string medium_serial;  // of the volume the catalog recorded the part on; empty: not known
};

const char* status_word(std::uint8_t status) {
  static const char* const names[] = {"?", "writing", "complete", "interrupted", "failed",
                                      "overwritten", "scanned", "superseded"};
  return status <= TS_FILE_STATUS_MAX ? names[status] : "?";
}

Result<std::vector<ts_element>> elements(ts_client* c) {
  std::vector<ts_element> all;
  const int n = ts_changer_status(c, nullptr, [](const char*, const ts_element* e, void* context) {
    static_cast<std::vector<ts_element>*>(context)->push_back(*e);
    return 0;
  }, &all);
  if (n < 0) {
    return lib_failure(c, n, "read --span: the library");
  }
  return all;
}

// The stream whose part is file `file` on the cartridge in `drive` (its newest catalog row).
Result<std::uint64_t> stream_of_file(ts_client* c, const std::string& drive, std::uint64_t file) {
  ts_drive_status status;
  TS_INIT(ts_drive_status, &status);
  if (const int r = ts_status(c, drive.c_str(), &status); r != 0) {
    return lib_failure(c, r, "read --span");
  }
  if (status.medium_serial[0] == '\0') {
    return Failure{TS_NO_MEDIUM, "read --span --file: the cartridge in " + drive +
                                     " has no medium serial number to find it in the catalog "
                                     "by (--stream names the stream)"};
  }
  struct Found {
    std::uint64_t file;
    std::optional<ts_file> row;
  } found{file, std::nullopt};
  const int n = ts_list_files(c, drive.c_str(), status.medium_serial,
                              [](const ts_volume*, const ts_file* f, void* context) {
                                auto& x = *static_cast<Found*>(context);
                                if (f->file_number == x.file) {
                                  x.row = *f;  // rows come oldest first: the last is the newest
                                }
                                return 0;
                              }, &found);
  if (n < 0) {
    return lib_failure(c, n, "read --span");
  }
  if (!found.row) {
    return Failure{TS_END_OF_DATA, "read --span: the catalog has no file " + std::to_string(file) +
                                       " on the cartridge in " + drive};
  }
  if (found.row->span_part == 0) {
    return Failure{TS_BAD_REQUEST, "read --span: file " + std::to_string(file) +
                                       " is no part of a stream that spans volumes (read it "
                                       "without --span)"};
  }
  return found.row->span_stream;
}

// The parts of `stream` on the library's cartridges, by index; one row per index (a complete
// one when there is one).
Result<std::vector<SpanRow>> parts_of(ts_client* c, const std::string& drive, std::uint64_t stream,
                                      const std::vector<ts_element>& all) {
  struct Gather {
    std::uint64_t stream;
    std::string barcode;
    std::map<std::uint32_t, SpanRow> parts;
  } g{stream, {}, {}};
  for (const auto& e : all) {
    if ((e.flags & TS_ELEMENT_FULL) == 0 || e.barcode[0] == '\0') {
      continue;
    }
    g.barcode = e.barcode;
    const int n = ts_list_volume(c, drive.c_str(), e.barcode, nullptr,
                                 [](const ts_volume* v, const ts_file* f, void* context) {
                                   auto& x = *static_cast<Gather*>(context);
                                   if (f->span_part == 0 || f->span_stream != x.stream) {
                                     return 0;
                                   }
                                   auto& kept = x.parts[f->span_part];
                                   if (kept.index == 0 || kept.status != TS_FILE_COMPLETE) {
                                     kept = SpanRow{f->span_part, f->span_offset, f->bytes,
                                                    f->file_number, f->status, x.barcode,
                                                    (f->span_flags & TS_SPAN_LAST) != 0,
                                                    v->medium_serial};
                                   }
                                   return 0;
                                 }, &g);
    if (n < 0 && TS_ERROR_STATUS(n) != TS_NO_MEDIUM) {  // a cartridge never written: no part
      return lib_failure(c, n, "read --span: the catalog of " + g.barcode);
    }
  }
  std::vector<SpanRow> parts;
  for (auto& [index, row] : g.parts) {
    parts.push_back(std::move(row));
  }
  return parts;
}

// Puts the cartridge `barcode` into `drive` (the one there back to its slot first).
Result<void> load_cartridge(ts_client* c, const std::string& drive, const std::string& barcode) {
  BOOST_OUTCOME_TRY(all, elements(c));
  const auto in_drive = std::find_if(all.begin(), all.end(), [&](const ts_element& e) {
    return e.kind == TS_ELEMENT_DRIVE && drive == e.drive;
  });
  if (in_drive == all.end()) {
    return Failure{TS_BAD_REQUEST, "read --span: " + drive + " is not a drive of the library"};
  }
  if ((in_drive->flags & TS_ELEMENT_FULL) != 0) {
    if (barcode == in_drive->barcode) {
      return outcome::success();
    }
    if (const int r = ts_changer_move(c, nullptr, TS_CHANGER_UNLOAD, 0, 0, drive.c_str(), nullptr,
                                      nullptr); r != 0) {
      return lib_failure(c, r, "read --span: unloading " + drive);
    }
  }
  const auto slot = std::find_if(all.begin(), all.end(), [&](const ts_element& e) {
    return e.kind != TS_ELEMENT_DRIVE && (e.flags & TS_ELEMENT_FULL) != 0 && barcode == e.barcode;
  });
  if (slot == all.end()) {
    return Failure{TS_NO_MEDIUM, "read --span: the cartridge " + barcode + " is in no slot of the library"};
  }
  if (const int r = ts_changer_move(c, nullptr, TS_CHANGER_LOAD, slot->number, 0, drive.c_str(),
                                    nullptr, nullptr); r != 0) {
    return lib_failure(c, r, "read --span: loading " + barcode);
  }
  return outcome::success();
}

// The library's barcodes say which cartridge went into the drive; the medium serial number the
// drive reads says which tape it is. A barcode label swapped between cartridges, or an inventory
// that no longer matches the slots, would otherwise read another tape's file of that number.
Result<void> check_loaded(ts_client* c, const std::string& drive, const SpanRow& part) {
  if (part.medium_serial.empty()) {
    return outcome::success();  // the catalog knows the volume by its barcode alone
  }
  ts_drive_status status;
  TS_INIT(ts_drive_status, &status);
  if (const int r = ts_status(c, drive.c_str(), &status); r != 0) {
    return lib_failure(c, r, "read --span");
  }
  if (status.medium_serial[0] == '\0') {
    return Failure{TS_MEDIUM_ERROR, "read --span: the drive reads no medium serial number for the "
                                        "cartridge loaded as " + part.barcode + " (the catalog "
                                        "recorded " + part.medium_serial + " for part " +
                                        std::to_string(part.index) + "): cannot tell it is that tape"};
  }
  if (part.medium_serial != status.medium_serial) {
    return Failure{TS_MEDIUM_ERROR, "read --span: the cartridge loaded as " + part.barcode +
                                        " has medium serial number " + status.medium_serial +
                                        ", but part " + std::to_string(part.index) +
                                        " is on the volume with serial " + part.medium_serial +
                                        " (a barcode label on the wrong cartridge?)"};
  }
  return outcome::success();
}

std::string restored(std::uint64_t bytes) {
  return std::to_string(bytes) + " bytes of the stream were restored to standard output";
}

}  // namespace

Result<void> read_span_command(ts_client* c, const Globals& g, const po::variables_map& vm,
                               const ReadPart& read_part) {
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  std::uint64_t stream = 0;
  if (vm.count("stream") != 0) {
    std::uint64_t n = 0;
    if (ts_parse_size(vm["stream"].as<std::string>().c_str(), &n) != 0 || n == 0 ||
        vm["stream"].as<std::string>().find_first_not_of("0123456789") != std::string::npos) {
      return Failure{TS_BAD_REQUEST, "--stream: expected a stream number above 0 (tapestream list shows it)"};
    }
    stream = n;
  } else {
    BOOST_OUTCOME_TRY(file, file_option(vm));
    if (file == TS_READ_CURRENT_FILE) {
      return Failure{TS_BAD_REQUEST, "read --span: name the stream (--stream S) or one of its parts (--file N)"};
    }
    BOOST_OUTCOME_TRY(found, stream_of_file(c, drive, file));
    stream = found;
  }
  BOOST_OUTCOME_TRY(all, elements(c));
  BOOST_OUTCOME_TRY(parts, parts_of(c, drive, stream, all));
  const auto name = "stream " + std::to_string(stream);
  if (parts.empty()) {
    return Failure{TS_NO_MEDIUM, "read --span: no cartridge of the library holds a part of " + name};
  }
  // Every part from 1, each beginning where the one before ended: checked before a byte is given.
  // With --incomplete the parts end at the first one missing or not complete (never at one that
  // does not begin where the one before ended: the catalog would contradict itself).
  const bool incomplete_asked = vm.count("incomplete") != 0;
  std::string stopped;
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    if (incomplete_asked && i > 0 &&
        (p.index != i + 1 || (p.status != TS_FILE_COMPLETE && p.offset == offset))) {
      stopped = "part " + std::to_string(i + 1) + (p.index != i + 1
                    ? std::string{" is on no cartridge of the library"}
                    : " is " + std::string{status_word(p.status)} + " in the catalog");
      parts.resize(i);
      break;
    }
    if (p.index != i + 1) {
      return Failure{TS_NO_MEDIUM, "read --span: part " + std::to_string(i + 1) + " of " + name +
                                       " is on no cartridge of the library; " + restored(0)};
    }
    if (p.status != TS_FILE_COMPLETE || p.offset != offset) {
      return Failure{TS_MEDIUM_ERROR,
                     "read --span: part " + std::to_string(p.index) + " of " + name + " (file " +
                         std::to_string(p.file_number) + " on " + p.barcode + ") is " +
                         (p.status != TS_FILE_COMPLETE ? std::string{status_word(p.status)}
                                                       : "at offset " + std::to_string(p.offset) +
                                                             ", not " + std::to_string(offset)) +
                         " in the catalog; " + restored(0)};
    }
    offset += p.bytes;
  }
  // Parts 1..K that are all there may still be a stream that failed after part K, or one whose
  // later parts are on cartridges outside the library: only the mark of the part it committed
  // with says the stream ends there.
  const bool whole = stopped.empty() && parts.back().last;
  if (!whole && !incomplete_asked) {
    return Failure{TS_INCOMPLETE,
                   "read --span: " + name + " is not known to be whole: the catalog marks none of "
                   "its " + std::to_string(parts.size()) + " parts in the library (" +
                   std::to_string(offset) + " bytes) as the one it committed with (it failed "
                   "after part " + std::to_string(parts.size()) + ", a later part's cartridge is "
                   "not in the library, or a daemon that did not record the mark wrote it); "
                   "--incomplete restores these parts; " + restored(0)};
  }
  std::uint64_t given = 0;
  for (const auto& p : parts) {
    auto loaded = load_cartridge(c, drive, p.barcode);
    if (loaded) {
      loaded = check_loaded(c, drive, p);
    }
    if (!loaded) {
      auto f = loaded.error();
      f.message += "; " + restored(given);
      return f;
    }
    auto got = read_part(c, drive, p.file_number);
    if (!got) {
      auto f = got.error();
      f.message += "; " + restored(given);
      return f;
    }
    given += got.value();
    if (got.value() != p.bytes) {
      return Failure{TS_MEDIUM_ERROR, "read --span: part " + std::to_string(p.index) + " (file " +
                                          std::to_string(p.file_number) + " on " + p.barcode +
                                          ") gave " + std::to_string(got.value()) +
                                          " bytes, the catalog records " + std::to_string(p.bytes) +
                                          "; " + restored(given)};
    }
    std::fprintf(stderr, "tapestream: part %u: %llu bytes of file %llu on %s\n", p.index,
                 static_cast<unsigned long long>(p.bytes),
                 static_cast<unsigned long long>(p.file_number), p.barcode.c_str());
  }
  if (g.json) {
    std::fprintf(stderr, "{\"drive\":%s,\"stream\":%llu,\"parts\":%zu,\"bytes\":%llu,\"whole\":%s}\n",
                 json_text(drive).c_str(), static_cast<unsigned long long>(stream), parts.size(),
                 static_cast<unsigned long long>(given), whole ? "true" : "false");
  } else {
    std::fprintf(stderr, "tapestream: read %llu bytes of %s in %zu %s%s\n",
                 static_cast<unsigned long long>(given), name.c_str(), parts.size(),
                 parts.size() == 1 ? "part" : "parts",
                 whole ? "" : (": not known to be whole (--incomplete" +
                               (stopped.empty() ? std::string{")"} : "; " + stopped + ")")).c_str());
  }
  return outcome::success();
}

}  // namespace tapestream::cli
