// tapestream mtx: mtx's command line and output on a library of tapestreamd, so that scripts
// written for mtx (Bareos's mtx-changer, Amanda's chg-robot) drive it unchanged. The library's
// elements as mtx sees them, mtx's status text, and the command loop.
#pragma once

#include <string>
#include <vector>

#include "cli.hpp"

namespace tapestream::cli {

// A library's elements in mtx's numbering: drives from 0 in element order; storage elements
// from 1, the storage slots first and the import/export slots after them (mtx counts both as
// "Slots" and marks the latter IMPORT/EXPORT).
struct MtxLibrary {
  std::string name;                  // the daemon's name for the library
  std::vector<ts_element> drives;    // drives[i] is Data Transfer Element i
  std::vector<ts_element> storage;   // storage[i] is Storage Element i + 1
  std::size_t import_export = 0;     // how many of `storage` (its last ones) are mail slots

  // Storage elements that are not import/export slots: first, last, next and previous stop
  // before the mail slots, as mtx's do.
  std::size_t storage_slots() const { return storage.size() - import_export; }
};

// The elements the daemon reports for `library` (empty: its only library), in mtx's order.
Result<MtxLibrary> read_mtx_library(ts_client* c, const std::string& library);

// mtx's "status" text for `device` (the name the user gave with -f): volume tags padded to the
// 32 characters of the SCSI field, as mtx prints them, unless `barcodes` is false (nobarcode).
std::string mtx_status_text(const MtxLibrary& library, const std::string& device, bool barcodes);

// `tapestream mtx ARGS...` and `tapestream-mtx ARGS...`: runs mtx's commands in order and
// returns mtx's exit status (0, or 1 after "mtx: WHY" on standard error).
int mtx_main(const std::string& socket, const std::vector<std::string>& args);

}  // namespace tapestream::cli
