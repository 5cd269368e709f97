// Hex input of the sense decoder, as admins paste it.
#include <gtest/gtest.h>

#include "tools/hex.hpp"
#include "test_support.hpp"

using tapestream::test::Bytes;
using tapestream::tools::parse_hex;
using tapestream::tools::to_hex;

namespace {

TEST(Hex, AcceptsTheUsualSpellings) {
  EXPECT_EQ(parse_hex("70 00 08", 16).value(), (Bytes{0x70, 0x00, 0x08}));
  EXPECT_EQ(parse_hex("700008", 16).value(), (Bytes{0x70, 0x00, 0x08}));
  EXPECT_EQ(parse_hex("0x70,0x00,0X08", 16).value(), (Bytes{0x70, 0x00, 0x08}));
  EXPECT_EQ(parse_hex("70:00:0a", 16).value(), (Bytes{0x70, 0x00, 0x0A}));
  EXPECT_EQ(parse_hex("  F0\t00  ", 16).value(), (Bytes{0xF0, 0x00}));
  EXPECT_TRUE(parse_hex("", 16).value().empty());
}

TEST(Hex, RejectsWhatIsNotHex) {
  EXPECT_EQ(parse_hex("7", 16).error(), std::errc::invalid_argument);
  EXPECT_EQ(parse_hex("70 0", 16).error(), std::errc::invalid_argument);
  EXPECT_EQ(parse_hex("7g", 16).error(), std::errc::invalid_argument);
  EXPECT_EQ(parse_hex("00 01 02", 2).error(), std::errc::value_too_large);
}

TEST(Hex, Formats) { EXPECT_EQ(to_hex(Bytes{0x0A, 0xFF, 0x00}), "0a ff 00"); }

}  // namespace
