// The emulated drive's image file: opening it as the drive's own (a regular file, not through a
// symbolic link unless allowed, locked for the drive's life), indexing it, and deciding what to do
// when its tape does not end cleanly. Opening never writes unless the spec says damaged=cut.
#pragma once

#include <cstdint>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/image_layout.hpp"
#include "emulated/tape_index.hpp"

namespace tapestream::emulated {

struct OpenedImage {
  UniqueFd fd;  // holds the lock
  TapeIndex index;
  ImageTail tail;  // the open end after the index's last object
  // The file holds `tail` as it is and nothing but zeros after it: an append can link to it.
  bool tail_on_disk = false;
  std::uint64_t file_size = 0;
  bool write_protected = false;  // by the spec, or by damaged=readonly on a damaged image
};

// Throws StartupError naming the image and what to do.
OpenedImage open_image(const DriveSpec& spec);
// Another descriptor of the image `fd` is open on, with `flags` (O_DIRECT, say): the same file
// whatever its path names meanwhile. Empty, with errno set, when it cannot be had.
UniqueFd reopen_image(int fd, const DriveSpec& spec, int flags);

// The open end the writer puts after data ending at `end_of_data`, from the bytes on file.
Result<ImageTail> read_tail(int fd, std::uint64_t end_of_data);
// Makes the image end at `end_of_data`: writes its open end there, cuts the file after it and
// syncs, so that nothing after it can ever read as tape again.
Result<ImageTail> end_image_at(int fd, std::uint64_t end_of_data);

}  // namespace tapestream::emulated
