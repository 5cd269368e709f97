// Big-endian field access for SCSI data. Callers check sizes first; these do not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tapestream::scsi {

using ByteView = std::span<const std::uint8_t>;

constexpr std::uint16_t load_be16(ByteView b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
constexpr std::uint32_t load_be24(ByteView b, std::size_t at) {
  return (std::uint32_t{b[at]} << 16) | (std::uint32_t{b[at + 1]} << 8) | b[at + 2];
}
constexpr std::uint32_t load_be32(ByteView b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | load_be24(b, at + 1);
}
constexpr std::uint64_t load_be64(ByteView b, std::size_t at) {
  return (std::uint64_t{load_be32(b, at)} << 32) | load_be32(b, at + 4);
}
// An unsigned big-endian field of 1..8 bytes (LOG SENSE counters come in any width).
constexpr std::uint64_t load_be(ByteView b, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) {
    v = (v << 8) | b[at + i];
  }
  return v;
}

constexpr void store_be(std::span<std::uint8_t> out, std::size_t at, std::uint64_t value,
                        std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) {
    out[at + width - 1 - i] = static_cast<std::uint8_t>(value >> (8 * i));
  }
}

}  // namespace tapestream::scsi
