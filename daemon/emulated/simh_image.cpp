#include "emulated/simh_image.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace tapestream::emulated {
namespace {

std::uint32_t little_endian(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

// Length words read through a window of the file: the erase gaps that align records to pages
// put a thousand words between two records, which one pread each would make slow to open.
class WordReader {
 public:
  explicit WordReader(int fd) : _fd{fd}, _window(64 * 1024) {}

  // False at the end of the file.
  Result<bool> read(std::uint64_t offset, std::uint32_t& word) {
    if (offset < _start || offset + 4 > _start + _valid) {
      const auto n = pread(_fd, _window.data(), _window.size(), static_cast<off_t>(offset));
      if (n < 0) {
        return std::error_code{errno, std::system_category()};
      }
      _start = offset;
      _valid = static_cast<std::size_t>(n);
      if (_valid < 4) {
        return false;
      }
    }
    word = little_endian(_window.data() + (offset - _start));
    return true;
  }

 private:
  int _fd;
  std::vector<std::uint8_t> _window;
  std::uint64_t _start = 0;
  std::size_t _valid = 0;
};

}  // namespace

Result<ImageIndex> scan_image(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    return std::error_code{errno, std::system_category()};
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  WordReader reader{fd};
  ImageIndex index;
  std::uint64_t at = 0;
  while (true) {
    std::uint32_t word = 0;
    BOOST_OUTCOME_TRY(more, reader.read(at, word));
    if (!more || word == simh_end_of_medium) {
      break;
    }
    if (word == simh_erase_gap) {
      at += 4;
      continue;
    }
    if (word == simh_half_gap) {
      at += 2;
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
    BOOST_OUTCOME_TRY(has_trailer, reader.read(at + 4 + word + (word & 1U), trailer));
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
