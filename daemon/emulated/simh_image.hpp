// The SIMH magtape image format, in which the emulated drive keeps its tape: each record is a
// 32-bit little-endian length, the data padded to even length, and the length again; 0 is a
// tape mark, FFFFFFFFh the end of medium, FFFFFFFEh an erase gap that readers skip, and
// FFFEFFFFh a forward half gap, after which readers move on by 2 bytes only (open-simh's
// sim_tape.c), which realigns gaps after an odd-length record. Tools that read SIMH tapes can
// read what the emulated drive writes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.hpp"

namespace tapestream::emulated {

inline constexpr std::uint32_t simh_tape_mark = 0x0000'0000;
inline constexpr std::uint32_t simh_erase_gap = 0xFFFF'FFFE;
inline constexpr std::uint32_t simh_end_of_medium = 0xFFFF'FFFF;
inline constexpr std::uint32_t simh_half_gap = 0xFFFE'FFFF;
// DESIGN.md bounds records to 24 bits, what READ(6)/WRITE(6) can move.
inline constexpr std::uint32_t simh_max_record = 0x00FF'FFFF;

// A length word as the image stores it: little-endian.
inline void simh_encode_word(std::uint8_t* at, std::uint32_t word) {
  at[0] = static_cast<std::uint8_t>(word);
  at[1] = static_cast<std::uint8_t>(word >> 8);
  at[2] = static_cast<std::uint8_t>(word >> 16);
  at[3] = static_cast<std::uint8_t>(word >> 24);
}

// Bytes a data record of `length` occupies in the image.
constexpr std::uint64_t simh_record_span(std::uint32_t length) {
  return 8U + length + (length & 1U);
}

// One logical object on the tape: a data block or a filemark.
struct TapeObject {
  std::uint64_t offset = 0;  // of the leading length word
  std::uint32_t length = 0;  // data bytes; 0 for a filemark
  bool filemark = false;

  std::uint64_t end() const { return offset + (filemark ? 4U : simh_record_span(length)); }
};

// Reads an image for the scan: words through a window whose size follows the access pattern
// (large while walking small records or zeros, small when jumping over large records), and runs of
// zero bytes, passing holes and allocated but unwritten extents (the drive allocates its image
// ahead) without reading them.
class ImageReader {
 public:
  ImageReader(int fd, std::uint64_t file_size);

  std::uint64_t file_size() const { return _size; }
  // The word at `offset`; nullopt when fewer than 4 bytes remain. `jump`: it lies far from the
  // last one read (a large record's trailing length), so read little around it.
  Result<std::optional<std::uint32_t>> word(std::uint64_t offset, bool jump = false);
  // How many bytes from `offset` on are zero.
  Result<std::uint64_t> zeros_from(std::uint64_t offset);
  // How many bytes from `offset` on are erase gap words (a page of them before each large
  // record the drive writes).
  Result<std::uint64_t> gaps_from(std::uint64_t offset);
  // The bytes from `offset`, at most `length` (fewer at the end of the file), up to 64 KiB.
  Result<std::span<const std::uint8_t>> bytes(std::uint64_t offset, std::size_t length);

 private:
  Result<void> fill(std::uint64_t offset, std::size_t length, bool jump = false);
  // Where the next byte at or after `offset` lies that may not be zero.
  std::uint64_t next_data(std::uint64_t offset);

  int _fd;
  std::uint64_t _size;
  std::vector<std::uint8_t> _window;
  std::uint64_t _start = 0;
  std::size_t _valid = 0;
  bool _extent_map = true;  // FIEMAP works here (not on tmpfs, for one)
  bool _synced = false;
};

}  // namespace tapestream::emulated
