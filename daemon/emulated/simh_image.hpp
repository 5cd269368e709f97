// The SIMH magtape image format, in which the emulated drive keeps its tape: each record is a
// 32-bit little-endian length, the data padded to even length, and the length again; 0 is a
// tape mark, FFFFFFFFh the end of medium, FFFFFFFEh an erase gap that readers skip, and
// FFFEFFFFh a forward half gap, after which readers move on by 2 bytes only (open-simh's
// sim_tape.c), which realigns gaps after an odd-length record. Tools that read SIMH tapes can
// read what the emulated drive writes.
#pragma once

#include <cstdint>
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

struct ImageIndex {
  std::vector<TapeObject> objects;
  std::uint64_t end_offset = 0;  // where the end-of-medium marker is, and the next object goes
};

// Scans an image and indexes its objects. It stops at the end-of-medium marker, at the end of
// the file, or at the first record that is not intact (leading and trailing lengths differ,
// the record runs past the end of the file, or a length beyond simh_max_record): after a
// crash, the image is readable up to the last record that was completely written.
Result<ImageIndex> scan_image(int fd);

}  // namespace tapestream::emulated
