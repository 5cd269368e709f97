// READ ATTRIBUTE: medium auxiliary memory of a cartridge.
#include <gtest/gtest.h>

#include <string>

#include "scsi/attribute.hpp"
#include "scsi/parse_error.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;

namespace {

void add(Bytes& d, std::uint16_t id, std::uint8_t flags, const Bytes& value) {
  d.insert(d.end(), {static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id), flags,
                     static_cast<std::uint8_t>(value.size() >> 8),
                     static_cast<std::uint8_t>(value.size())});
  d.insert(d.end(), value.begin(), value.end());
}

Bytes mam() {
  Bytes body;
  std::string serial = "CQM1234567";
  serial.resize(32, ' ');
  add(body, attribute_id::medium_serial_number, 0x81, Bytes(serial.begin(), serial.end()));
  add(body, attribute_id::remaining_capacity, 0x80, Bytes{0, 0, 0, 0, 0x01, 0x03, 0x66, 0x40});
  add(body, attribute_id::barcode, 0x01, Bytes{'A', 'B', 'C', '1', '2', '3', 'L', '9'});
  Bytes d{static_cast<std::uint8_t>(body.size() >> 24), static_cast<std::uint8_t>(body.size() >> 16),
          static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size())};
  d.insert(d.end(), body.begin(), body.end());
  return d;
}

TEST(Attributes, MediumSerialNumberAndCapacity) {
  const auto list = parse_attribute_values(mam()).value();
  ASSERT_EQ(list.size(), 3U);
  const auto* serial = find_attribute(list, attribute_id::medium_serial_number);
  ASSERT_NE(serial, nullptr);
  EXPECT_TRUE(serial->read_only);
  EXPECT_EQ(serial->format, Attribute::Format::ascii);
  EXPECT_EQ(serial->as_text(), "CQM1234567");
  EXPECT_FALSE(serial->as_integer().has_value());
  EXPECT_EQ(find_attribute(list, attribute_id::remaining_capacity)->as_integer(), 17000000U);
  EXPECT_EQ(find_attribute(list, attribute_id::barcode)->as_text(), "ABC123L9");
  EXPECT_EQ(find_attribute(list, 0x0222), nullptr);
  EXPECT_EQ(attribute_name(attribute_id::medium_serial_number), "Medium serial number");
  EXPECT_TRUE(attribute_name(0xFFFF).empty());
}

TEST(Attributes, CutByAllocationLength) {
  auto d = mam();
  d.resize(4 + 5 + 32 + 5 + 3);  // serial complete, capacity cut
  const auto list = parse_attribute_values(d).value();
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list[0].id, attribute_id::medium_serial_number);
  EXPECT_EQ(parse_attribute_values(Bytes{0, 0, 0}).error(), ParseError::truncated);
}

}  // namespace
