// REPORT DENSITY SUPPORT: density and medium type descriptors.
#include <gtest/gtest.h>

#include <string>

#include "scsi/density.hpp"
#include "scsi/parse_error.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;

namespace {

void put_text(Bytes& d, std::size_t at, const std::string& s, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) {
    d[at + i] = static_cast<std::uint8_t>(i < s.size() ? s[i] : ' ');
  }
}

Bytes density_descriptor(std::uint8_t code, bool writable, bool deflt, std::uint32_t capacity_mb,
                         const std::string& name) {
  Bytes d(52, 0);
  d[0] = code;
  d[1] = code;
  d[2] = static_cast<std::uint8_t>((writable ? 0x80 : 0) | (deflt ? 0x20 : 0) | 0x01);
  d[4] = 0x31;
  d[5] = 0x00;
  d[6] = 0x5E;
  d[7] = 0x8C;  // 24204 bits per mm
  d[8] = 0x00;
  d[9] = 127;  // 12.7 mm
  d[10] = 0x23;
  d[11] = 0x00;  // 8960 tracks
  d[12] = static_cast<std::uint8_t>(capacity_mb >> 24);
  d[13] = static_cast<std::uint8_t>(capacity_mb >> 16);
  d[14] = static_cast<std::uint8_t>(capacity_mb >> 8);
  d[15] = static_cast<std::uint8_t>(capacity_mb);
  put_text(d, 16, "LTO-CVE", 8);
  put_text(d, 24, name, 8);
  put_text(d, 32, "Ultrium 9/16T", 20);
  return d;
}

Bytes with_header(const Bytes& descriptors) {
  const auto length = descriptors.size() + 2;
  Bytes d{static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length), 0, 0};
  d.insert(d.end(), descriptors.begin(), descriptors.end());
  return d;
}

TEST(DensitySupport, TwoDensities) {
  auto descriptors = density_descriptor(0x60, true, true, 18'000'000, "U-916");
  const auto older = density_descriptor(0x5E, true, false, 12'000'000, "U-832");
  descriptors.insert(descriptors.end(), older.begin(), older.end());
  const auto list = parse_density_support(with_header(descriptors)).value();
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0].primary_density_code, 0x60);
  EXPECT_TRUE(list[0].writable);
  EXPECT_TRUE(list[0].default_density);
  EXPECT_FALSE(list[0].duplicate);
  EXPECT_EQ(list[0].bits_per_mm, 24204U);
  EXPECT_EQ(list[0].media_width, 127);
  EXPECT_EQ(list[0].tracks, 8960);
  EXPECT_EQ(list[0].capacity_mb, 18'000'000U);
  EXPECT_EQ(list[0].assigning_organization, "LTO-CVE");
  EXPECT_EQ(list[0].density_name, "U-916");
  EXPECT_EQ(list[0].description, "Ultrium 9/16T");
  EXPECT_FALSE(list[1].default_density);
  EXPECT_EQ(list[1].primary_density_code, 0x5E);
}

TEST(DensitySupport, PartialDescriptorIsDropped) {
  auto d = with_header(density_descriptor(0x60, true, true, 1, "U-916"));
  d.resize(4 + 40);
  EXPECT_TRUE(parse_density_support(d).value().empty());
  EXPECT_EQ(parse_density_support(Bytes{0, 1}).error(), ParseError::truncated);
  EXPECT_EQ(parse_density_support(Bytes{0, 1, 0, 0}).error(), ParseError::bad_length);
}

TEST(MediumTypeSupport, OneMediumType) {
  Bytes m(56, 0);
  m[0] = 0x78;
  m[3] = 52;
  m[4] = 2;
  m[5] = 0x60;
  m[6] = 0x5E;
  m[15] = 127;
  m[16] = 0x04;
  m[17] = 0x0B;  // 1035 m
  put_text(m, 20, "LTO-CVE", 8);
  put_text(m, 28, "LTO-9", 8);
  put_text(m, 36, "Ultrium 9 data", 20);
  const auto list = parse_medium_type_support(with_header(m)).value();
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0].medium_type, 0x78);
  EXPECT_EQ(list[0].primary_density_codes, (Bytes{0x60, 0x5E}));
  EXPECT_EQ(list[0].media_width, 127);
  EXPECT_EQ(list[0].medium_length, 1035);
  EXPECT_EQ(list[0].medium_type_name, "LTO-9");
  EXPECT_EQ(list[0].description, "Ultrium 9 data");
}

TEST(MediumTypeSupport, DensityCountIsBounded) {
  Bytes m(56, 0);
  m[4] = 200;  // claims more codes than the nine the descriptor has room for
  const auto list = parse_medium_type_support(with_header(m)).value();
  EXPECT_EQ(list[0].primary_density_codes.size(), 9U);
}

}  // namespace

// A write to a real drive is paced from these when --min-rate does not say (write_stream.hpp).
TEST(LowestStreamingSpeed, KnownForTheLtoGenerationsWithPublishedSpeedMatching) {
  EXPECT_EQ(lowest_streaming_speed(0x60), std::optional<std::uint64_t>{177'000'000});  // LTO-9
  EXPECT_EQ(lowest_streaming_speed(0x5E), std::optional<std::uint64_t>{112'000'000});  // LTO-8
  EXPECT_EQ(lowest_streaming_speed(0x5C), std::optional<std::uint64_t>{101'460'000});  // LTO-7
  EXPECT_FALSE(lowest_streaming_speed(0x5D));  // M8: no published table
  EXPECT_FALSE(lowest_streaming_speed(0x5A));  // LTO-6
  EXPECT_FALSE(lowest_streaming_speed(0x80));  // the emulated drive's vendor code
  EXPECT_FALSE(lowest_streaming_speed(0x00));  // the default density
}
