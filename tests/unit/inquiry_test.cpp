// INQUIRY standard data and the identifying VPD pages of a tape drive.
#include <gtest/gtest.h>

#include <string>

#include "scsi/inquiry.hpp"
#include "scsi/parse_error.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;

namespace {

Bytes text(const std::string& s) { return {s.begin(), s.end()}; }

Bytes lto_inquiry() {
  Bytes d{0x01, 0x80, 0x06, 0x02, 0, 0x01, 0x00, 0x02};
  for (const auto& field :
       {text("IBM     "), text("ULT3580-TD9     "), text("Q3J0"), text("10WT012345          ")}) {
    d.insert(d.end(), field.begin(), field.end());
  }
  d.resize(96, 0);
  d[4] = static_cast<std::uint8_t>(d.size() - 5);
  return d;
}

TEST(Inquiry, StandardDataOfAnLtoDrive) {
  const auto i = parse_standard_inquiry(lto_inquiry()).value();
  EXPECT_TRUE(i.is_tape());
  EXPECT_TRUE(i.removable);
  EXPECT_EQ(i.version, 6);
  EXPECT_EQ(i.response_data_format, 2);
  EXPECT_TRUE(i.protect);
  EXPECT_TRUE(i.command_queueing);
  EXPECT_EQ(i.vendor, "IBM");
  EXPECT_EQ(i.product, "ULT3580-TD9");
  EXPECT_EQ(i.revision, "Q3J0");
  EXPECT_EQ(i.vendor_specific, "10WT012345");
}

TEST(Inquiry, ShortResponseGivesEmptyFields) {
  auto d = lto_inquiry();
  d.resize(20);  // vendor complete, product cut after 4 characters
  const auto i = parse_standard_inquiry(d).value();
  EXPECT_EQ(i.vendor, "IBM");
  EXPECT_EQ(i.product, "ULT3");
  EXPECT_TRUE(i.revision.empty());
  EXPECT_EQ(parse_standard_inquiry(Bytes{1, 0, 0, 0}).error(), ParseError::truncated);
}

TEST(Inquiry, AdditionalLengthLimitsFields) {
  auto d = lto_inquiry();
  d[4] = 31;  // 36 bytes declared: no vendor-specific field
  const auto i = parse_standard_inquiry(d).value();
  EXPECT_EQ(i.revision, "Q3J0");
  EXPECT_TRUE(i.vendor_specific.empty());
}

TEST(Inquiry, ControlCharactersAreNotPassedOn) {
  auto d = lto_inquiry();
  d[8] = 0x1B;  // ESC in the vendor field
  d[9] = 0xFF;
  EXPECT_EQ(parse_standard_inquiry(d).value().vendor, "..M");
}

TEST(Inquiry, NotATape) {
  auto d = lto_inquiry();
  d[0] = 0x00;
  EXPECT_FALSE(parse_standard_inquiry(d).value().is_tape());
  d[0] = 0x21;  // qualifier 1: not connected
  EXPECT_FALSE(parse_standard_inquiry(d).value().is_tape());
}

TEST(Vpd, SupportedPages) {
  const Bytes d{0x01, 0x00, 0x00, 0x04, 0x00, 0x80, 0x83, 0xB0};
  EXPECT_EQ(parse_supported_vpd_pages(d).value(), (Bytes{0x00, 0x80, 0x83, 0xB0}));
}

TEST(Vpd, UnitSerialNumber) {
  Bytes d{0x01, 0x80, 0x00, 0x0C};
  const auto serial = text("  1068012345");
  d.insert(d.end(), serial.begin(), serial.end());
  EXPECT_EQ(parse_unit_serial_number(d).value(), "1068012345");
}

TEST(Vpd, WrongPageAndTruncation) {
  const Bytes d{0x01, 0x83, 0x00, 0x00};
  EXPECT_EQ(parse_unit_serial_number(d).error(), ParseError::wrong_page);
  EXPECT_EQ(parse_supported_vpd_pages(Bytes{0x01, 0x00}).error(), ParseError::truncated);
  // The page length promises more than arrived: take what arrived.
  const Bytes cut{0x01, 0x80, 0x00, 0x20, '1', '2'};
  EXPECT_EQ(parse_unit_serial_number(cut).value(), "12");
}

TEST(Vpd, DeviceIdentification) {
  Bytes designators{0x02, 0x01, 0x00, 0x08};  // ASCII, T10 vendor id
  const auto t10 = text("IBM 1234");
  designators.insert(designators.end(), t10.begin(), t10.end());
  designators.insert(designators.end(), {0x61, 0x93, 0x00, 0x08, 0x50, 0x05, 0x07, 0x63, 0x12,
                                         0x34, 0x56, 0x78});  // SAS, PIV, target port, NAA
  Bytes d{0x01, 0x83, 0x00, static_cast<std::uint8_t>(designators.size())};
  d.insert(d.end(), designators.begin(), designators.end());
  const auto ids = parse_device_identification(d).value();
  ASSERT_EQ(ids.size(), 2U);
  EXPECT_EQ(ids[0].type, 1);
  EXPECT_EQ(ids[0].association, 0);
  EXPECT_EQ(ids[0].to_string(), "IBM 1234");
  EXPECT_EQ(ids[1].protocol_identifier, 6);
  EXPECT_TRUE(ids[1].protocol_identifier_valid);
  EXPECT_EQ(ids[1].association, 1);
  EXPECT_EQ(ids[1].type, 3);
  EXPECT_EQ(ids[1].to_string(), "5005076312345678");
}

TEST(Vpd, DesignatorPastTheEndIsAnError) {
  const Bytes d{0x01, 0x83, 0x00, 0x06, 0x02, 0x01, 0x00, 0x10, 'A', 'B'};
  EXPECT_EQ(parse_device_identification(d).error(), ParseError::truncated);
}

}  // namespace
