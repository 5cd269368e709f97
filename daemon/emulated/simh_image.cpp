#include "emulated/simh_image.hpp"

#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <system_error>

namespace tapestream::emulated {
namespace {

constexpr std::size_t large_window = std::size_t{1} << 20;
// Reaches from a large record's trailing length over the gaps to the next one's header.
constexpr std::size_t small_window = std::size_t{8} << 10;
// A read this close after the window continues a walk over small objects: read ahead widely.
constexpr std::uint64_t nearby = std::uint64_t{64} << 10;


std::uint32_t little_endian(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

// Zero bytes at the start of `b`, a machine word at a time: a file of zeros is millions of
// tape marks, and looking at them one word each is what made opening one take seconds.
std::size_t leading_zeros(std::span<const std::uint8_t> b) {
  std::size_t i = 0;
  for (; i + 64 <= b.size(); i += 64) {
    std::uint64_t w[8];
    std::memcpy(w, b.data() + i, sizeof w);
    if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0) {
      break;
    }
  }
  for (; i + 8 <= b.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, b.data() + i, sizeof w);
    if (w != 0) {
      break;
    }
  }
  while (i < b.size() && b[i] == 0) {
    ++i;
  }
  return i;
}

}  // namespace

ImageReader::ImageReader(int fd, std::uint64_t file_size)
    : _fd{fd}, _size{file_size}, _window(large_window) {}

Result<void> ImageReader::fill(std::uint64_t offset, std::size_t length, bool jump) {
  const bool walking = !jump && offset >= _start && offset <= _start + _valid + nearby;
  auto want = std::min(std::max(length, walking ? large_window : small_window), _window.size());
  want = static_cast<std::size_t>(std::min<std::uint64_t>(want, _size - std::min(offset, _size)));
  std::size_t got = 0;
  while (got < want) {
    const auto n = pread(_fd, _window.data() + got, want - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return std::error_code{errno, std::system_category()};
    }
    if (n == 0) {
      break;  // the file shrank under us: it ends here
    }
    got += static_cast<std::size_t>(n);
  }
  _start = offset;
  _valid = got;
  return outcome::success();
}

Result<std::optional<std::uint32_t>> ImageReader::word(std::uint64_t offset, bool jump) {
  if (offset + 4 > _size) {
    return std::optional<std::uint32_t>{};
  }
  if (offset < _start || offset + 4 > _start + _valid) {
    BOOST_OUTCOME_TRYV(fill(offset, 4, jump));
    if (_valid < 4) {
      return std::optional<std::uint32_t>{};
    }
  }
  return std::optional<std::uint32_t>{little_endian(_window.data() + (offset - _start))};
}

Result<std::span<const std::uint8_t>> ImageReader::bytes(std::uint64_t offset, std::size_t length) {
  length = static_cast<std::size_t>(
      std::min<std::uint64_t>({length, _size - std::min(offset, _size), nearby}));
  if (offset < _start || offset + length > _start + _valid) {
    BOOST_OUTCOME_TRYV(fill(offset, length));
    length = std::min(length, _valid);
  }
  return std::span<const std::uint8_t>{_window.data() + (offset - _start), length};
}

Result<std::uint64_t> ImageReader::gaps_from(std::uint64_t offset) {
  auto at = offset;
  while (at + 4 <= _size) {
    if (at < _start || at + 4 > _start + _valid) {
      BOOST_OUTCOME_TRYV(fill(at, 4));
      if (_valid < 4) {
        break;
      }
    }
    const auto* p = _window.data() + (at - _start);
    const auto* const end = _window.data() + _valid;
    while (p + 4 <= end && little_endian(p) == simh_erase_gap) {
      p += 4;
    }
    at = _start + static_cast<std::uint64_t>(p - _window.data());
    if (p + 4 <= end) {
      break;  // a word that is no gap
    }
  }
  return at - offset;
}

std::uint64_t ImageReader::next_data(std::uint64_t offset) {
  // The extent map tells unwritten extents from data, where SEEK_DATA counts them as data as soon
  // as a read (or the readahead after it) has put their pages in the cache.
  constexpr std::uint32_t slots = 32;
  while (_extent_map && offset < _size) {
    const std::unique_ptr<fiemap, decltype(&std::free)> m{
        static_cast<fiemap*>(std::calloc(1, sizeof(fiemap) + slots * sizeof(fiemap_extent))),
        &std::free};
    if (!m) {
      break;
    }
    m->fm_start = offset;
    m->fm_length = _size - offset;
    m->fm_flags = _synced ? 0 : FIEMAP_FLAG_SYNC;  // data still in the cache is data too
    m->fm_extent_count = slots;
    if (ioctl(_fd, FS_IOC_FIEMAP, m.get()) != 0) {
      _extent_map = false;
      break;
    }
    _synced = true;
    const auto mapped = std::min(m->fm_mapped_extents, slots);
    for (std::uint32_t i = 0; i < mapped; ++i) {
      const auto& e = m->fm_extents[i];
      if ((e.fe_flags & FIEMAP_EXTENT_UNWRITTEN) == 0 && e.fe_logical + e.fe_length > offset) {
        return std::max<std::uint64_t>(offset, e.fe_logical);
      }
    }
    if (mapped == 0 || (m->fm_extents[mapped - 1].fe_flags & FIEMAP_EXTENT_LAST) != 0) {
      return _size;  // holes and unwritten extents to the end
    }
    const auto& last = m->fm_extents[mapped - 1];
    offset = std::max<std::uint64_t>(offset + 1, last.fe_logical + last.fe_length);
  }
  const auto data = lseek(_fd, static_cast<off_t>(offset), SEEK_DATA);
  if (data < 0) {
    return errno == ENXIO ? _size : offset;  // no more data, or no way to tell: read it
  }
  return std::min(static_cast<std::uint64_t>(data), _size);
}

Result<std::uint64_t> ImageReader::zeros_from(std::uint64_t offset) {
  auto at = offset;
  while (at < _size) {
    if (at < _start || at >= _start + _valid) {
      // A hole reads as zeros: pass it without reading (a sparse image of any size is instant).
      if (const auto data = next_data(at); data > at) {
        at = data;
        continue;
      }
      BOOST_OUTCOME_TRYV(fill(at, large_window));
      if (_valid == 0) {
        break;
      }
    }
    const auto skip = static_cast<std::size_t>(at - _start);
    const auto window = std::span<const std::uint8_t>{_window}.first(_valid);
    const auto n = leading_zeros(window.subspan(skip));
    at += n;
    if (n < window.size() - skip) {
      break;
    }
  }
  return at - offset;
}

}  // namespace tapestream::emulated
