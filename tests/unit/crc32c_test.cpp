// CRC32C against the published check values (RFC 3720 B.4 and the "123456789" check).
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "common/crc32c.hpp"

namespace {

std::uint32_t of(std::string_view s) {
  return tapestream::crc32c({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

TEST(Crc32c, CheckValues) {
  EXPECT_EQ(of("123456789"), 0xE3069283U);
  EXPECT_EQ(of(""), 0U);
  EXPECT_EQ(tapestream::crc32c(std::vector<std::uint8_t>(32, 0x00)), 0x8A9136AAU);
  EXPECT_EQ(tapestream::crc32c(std::vector<std::uint8_t>(32, 0xFF)), 0x62A8AB43U);
  std::vector<std::uint8_t> ascending(32);
  for (std::size_t i = 0; i < 32; ++i) {
    ascending[i] = static_cast<std::uint8_t>(i);
  }
  EXPECT_EQ(tapestream::crc32c(ascending), 0x46DD794EU);
}

TEST(Crc32c, ChainsAcrossPieces) {
  const std::string_view text = "The quick brown fox jumps over the lazy dog, many times over.";
  const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
  const auto whole = tapestream::crc32c({p, text.size()});
  const auto first = tapestream::crc32c({p, 13});
  EXPECT_EQ(tapestream::crc32c({p + 13, text.size() - 13}, first), whole);
}

}  // namespace
