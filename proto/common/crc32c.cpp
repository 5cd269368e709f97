#include "common/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace tapestream {
namespace {

constexpr std::uint32_t polynomial = 0x82F63B78;  // reflected Castagnoli

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1) != 0 ? (c >> 1) ^ polynomial : c >> 1;
    }
    table[i] = c;
  }
  return table;
}
constexpr auto table = make_table();

std::uint32_t crc32c_table(std::span<const std::uint8_t> data, std::uint32_t crc) {
  for (auto byte : data) {
    crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  }
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::span<const std::uint8_t> data,
                                                            std::uint32_t crc) {
  std::uint64_t c = crc;
  std::size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data.data() + i, sizeof word);
    c = _mm_crc32_u64(c, word);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; i < data.size(); ++i) {
    c32 = _mm_crc32_u8(c32, data[i]);
  }
  return c32;
}
#endif

}  // namespace

std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc) {
  crc = ~crc;
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  crc = hardware ? crc32c_sse42(data, crc) : crc32c_table(data, crc);
#else
  crc = crc32c_table(data, crc);
#endif
  return ~crc;
}

}  // namespace tapestream
