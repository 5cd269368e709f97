// Reading a SIMH image into the emulated drive's index, and telling what ends its tape: a clean
// end (the writer's open end, or the end of the file), a link write a crash cut short, damage the
// format can see (a length word that cannot be, two lengths that differ, a stray end-of-medium
// word), or a file that is no SIMH image at all. The scan never writes; what to do about damage
// is the caller's choice (image_file.hpp).
#pragma once

#include <optional>
#include <string>

#include "common/result.hpp"
#include "emulated/tape_index.hpp"

namespace tapestream::emulated {

struct ImageScan {
  enum class End {
    clean,          // an end-of-medium marker with the writer's open end after it, or end of file
    torn,           // a crash cut short the write linking an append: the tape ends before it
    damaged,        // a word the format says cannot be there: the tape ends at it
    not_simh,       // damage at offset 0, with nothing before it
    too_many_runs,  // the index would need more than TapeIndex::max_runs runs
  };

  TapeIndex index;  // the intact objects; index.end_offset() is where the tape ends
  End end = End::clean;
  std::string what;  // what lies at the end when it is not clean
  std::uint64_t file_size = 0;
  // Where the bytes that are not tape begin: after the open end, or at the damage.
  std::uint64_t beyond = 0;
  // The first byte from `beyond` on that is not zero: what a crash left unlinked, or damage.
  std::optional<std::uint64_t> data_beyond;
  // The writer's open end is in the file in full, so an append can link to it as it is.
  bool open_end_intact = false;
  // Bytes of erase gaps (and half gaps) between the tape's objects, which the aligned layout
  // puts before large records: readers without gap support (Debian's mtdump) stop at the first.
  std::uint64_t gap_bytes = 0;
};

Result<ImageScan> scan_image(int fd);

}  // namespace tapestream::emulated
