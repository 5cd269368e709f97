// A cartridge in an emulated drive: its image opened as the drive's own (locked for as long as
// the cartridge is in the drive), indexed, with what the drive needs to append to it. A drive
// opened on an image holds one from the start; a library's drive receives one from the robot
// and gives it back (library_drive.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/unique_fd.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/image_layout.hpp"
#include "emulated/tape_index.hpp"

namespace tapestream::emulated {

struct Cartridge {
  std::filesystem::path image;
  UniqueFd fd;         // reads, and writes outside the data path; holds the image's lock
  UniqueFd append_fd;  // appends: O_DIRECT where the file system takes it
  bool direct = false;
  std::uint64_t reserved = 0;  // the file's size: allocated ahead of the tail
  TapeIndex index;
  ImageTail tail;
  bool tail_on_disk = false;  // the file holds `tail` as it is, and only zeros after it
  bool write_protected = false;
  std::string medium_serial;
  std::uint64_t early_warning = 0;  // offset in the image
};

// Opens spec.image as a cartridge (creating an empty tape when it does not exist) without
// writing to it unless the spec says damaged=cut. Throws StartupError naming the image.
Cartridge open_cartridge(const DriveSpec& spec);

}  // namespace tapestream::emulated
