// Helpers shared by the SCSI unit tests: byte vectors and sense in both formats.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <vector>

#include "scsi/command.hpp"

namespace tapestream::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes cdb_bytes(const scsi::Command& c) { return {c.bytes().begin(), c.bytes().end()}; }

struct SenseSpec {
  std::uint8_t key = 0;
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
  bool filemark = false;
  bool eom = false;
  bool ili = false;
  std::optional<std::int32_t> information;
  bool deferred = false;
};

// Fixed format (70h/71h), 18 bytes.
inline Bytes fixed_sense(const SenseSpec& s) {
  Bytes b(18, 0);
  b[0] = static_cast<std::uint8_t>((s.deferred ? 0x71 : 0x70) | (s.information ? 0x80 : 0));
  b[2] = static_cast<std::uint8_t>((s.filemark ? 0x80 : 0) | (s.eom ? 0x40 : 0) |
                                   (s.ili ? 0x20 : 0) | (s.key & 0x0F));
  if (s.information) {
    const auto v = static_cast<std::uint32_t>(*s.information);
    b[3] = static_cast<std::uint8_t>(v >> 24);
    b[4] = static_cast<std::uint8_t>(v >> 16);
    b[5] = static_cast<std::uint8_t>(v >> 8);
    b[6] = static_cast<std::uint8_t>(v);
  }
  b[7] = 10;
  b[12] = s.asc;
  b[13] = s.ascq;
  return b;
}

// Descriptor format (72h/73h): an information descriptor when information is set, and a
// stream commands descriptor when any of FILEMARK, EOM, ILI is set.
inline Bytes descriptor_sense(const SenseSpec& s) {
  Bytes b{static_cast<std::uint8_t>(s.deferred ? 0x73 : 0x72), s.key, s.asc, s.ascq, 0, 0, 0, 0};
  if (s.information) {
    const auto v = static_cast<std::uint64_t>(static_cast<std::int64_t>(*s.information));
    b.insert(b.end(), {0x00, 0x0A, 0x80, 0x00});
    for (int shift = 56; shift >= 0; shift -= 8) {
      b.push_back(static_cast<std::uint8_t>(v >> shift));
    }
  }
  if (s.filemark || s.eom || s.ili) {
    b.insert(b.end(), {0x04, 0x02, 0x00,
                       static_cast<std::uint8_t>((s.filemark ? 0x80 : 0) | (s.eom ? 0x40 : 0) |
                                                 (s.ili ? 0x20 : 0))});
  }
  b[7] = static_cast<std::uint8_t>(b.size() - 8);
  return b;
}

}  // namespace tapestream::test
