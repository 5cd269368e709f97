#include "emulated/simh_image.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace tapestream::emulated {
namespace {

std::uint32_t little_endian(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

// Reads a length word; false at the end of the file or on a short read.
Result<bool> read_word(int fd, std::uint64_t offset, std::uint32_t& word) {
  std::uint8_t bytes[4];
  const auto n = pread(fd, bytes, sizeof bytes, static_cast<off_t>(offset));
  if (n < 0) {
    return std::error_code{errno, std::system_category()};
  }
  if (n != sizeof bytes) {
    return false;
  }
  word = little_endian(bytes);
  return true;
}

}  // namespace

Result<ImageIndex> scan_image(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    return std::error_code{errno, std::system_category()};
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  ImageIndex index;
  std::uint64_t at = 0;
  while (true) {
    std::uint32_t word = 0;
    BOOST_OUTCOME_TRY(more, read_word(fd, at, word));
    if (!more || word == simh_end_of_medium) {
      break;
    }
    if (word == simh_erase_gap) {
      at += 4;
      continue;
    }
    if (word == simh_tape_mark) {
      index.objects.push_back({at, 0, true});
      at += 4;
      continue;
    }
    if (word > simh_max_record || at + simh_record_span(word) > file_size) {
      break;  // a class bit, an impossible length, or a record cut off by a crash
    }
    std::uint32_t trailer = 0;
    BOOST_OUTCOME_TRY(has_trailer, read_word(fd, at + 4 + word + (word & 1U), trailer));
    if (!has_trailer || trailer != word) {
      break;
    }
    index.objects.push_back({at, word, false});
    at += simh_record_span(word);
  }
  index.end_offset = at;
  return index;
}

}  // namespace tapestream::emulated
