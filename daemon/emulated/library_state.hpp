// Where each cartridge of an emulated library is, kept across restarts in the library's
// directory, as a real library remembers its inventory: a cartridge left in a drive is still in
// that drive when the daemon starts again. The record is rewritten after every move (a new
// file, synced, renamed over the old one), so a crash leaves the old record or the new one.
//
// The record is checked against the directory at start-up and never "repaired": a cartridge it
// names whose image is gone, an element it names that the library's shape lacks, or a line it
// cannot read stops the start with the line or the file at fault. Images that appear in the
// directory and are in no record (an operator added a cartridge) go to the first free mail
// slot, as imported cartridges do, or to a free slot when the library has no free mail slot.
#pragma once

#include <filesystem>
#include <string_view>

#include "emulated/library_model.hpp"

namespace tapestream::emulated {

inline constexpr std::string_view library_record_name = "library.state";

// Fills `model` (empty) from the record and the directory's images (BARCODE.tap). Throws
// StartupError.
void restore_library(LibraryModel& model, const std::filesystem::path& directory);
// Writes the record of `model`. Throws std::system_error (the move that made it is then
// reported failed by the changer: its record would otherwise lie after a restart).
void save_library(const LibraryModel& model, const std::filesystem::path& directory);

}  // namespace tapestream::emulated
