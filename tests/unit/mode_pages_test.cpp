// MODE SENSE parsing and MODE SELECT parameter lists: header, block descriptor, and the
// Data Compression, Device Configuration and Control Data Protection pages.
#include <gtest/gtest.h>

#include "scsi/mode_pages.hpp"
#include "scsi/parse_error.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;

namespace {

const Bytes compression_page{0x8F, 0x0E, 0xC0, 0x80, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
const Bytes device_configuration_page{0x90, 0x0E, 0x00, 0x00, 0x50, 0x50, 0x00, 0x64,
                                      0x41, 0x00, 0x18, 0x00, 0x10, 0x00, 0x01, 0x00};

// MODE SENSE(6) of an LTO-9 drive: buffered, density 60h, variable blocks, two pages.
Bytes lto_mode_sense6() {
  Bytes d{0, 0x00, 0x10, 0x08, 0x60, 0, 0, 0, 0, 0, 0, 0};
  d.insert(d.end(), compression_page.begin(), compression_page.end());
  d.insert(d.end(), device_configuration_page.begin(), device_configuration_page.end());
  d[0] = static_cast<std::uint8_t>(d.size() - 1);
  return d;
}

TEST(ModeSense, Header6AndBlockDescriptor) {
  const auto m = parse_mode_sense6(lto_mode_sense6()).value();
  EXPECT_FALSE(m.header.write_protected);
  EXPECT_EQ(m.header.buffered_mode, 1);
  ASSERT_EQ(m.block_descriptors.size(), 1U);
  EXPECT_EQ(m.block_descriptors[0].density_code, 0x60);
  EXPECT_EQ(m.block_descriptors[0].block_length, 0U);
  ASSERT_EQ(m.pages.size(), 2U);
  EXPECT_EQ(m.pages[0].code, 0x0F);
  EXPECT_TRUE(m.pages[0].savable);
  EXPECT_NE(m.find_page(0x10), nullptr);
  EXPECT_EQ(m.find_page(0x0A, 0xF0), nullptr);
}

TEST(ModeSense, WriteProtectAndFixedBlockLength) {
  const Bytes d{11, 0x00, 0x90, 0x08, 0x5A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00};
  const auto m = parse_mode_sense6(d).value();
  EXPECT_TRUE(m.header.write_protected);
  EXPECT_EQ(m.block_descriptors[0].block_length, 512U);
  EXPECT_TRUE(m.pages.empty());
}

TEST(ModeSense, Sense10WithSubpageAndLongDescriptor) {
  Bytes d{0, 0, 0x00, 0x10, 0x01, 0, 0, 16};
  const Bytes long_descriptor{0, 0, 0, 0, 0, 0, 0, 0, 0x60, 0, 0, 0, 0, 0x04, 0, 0};
  d.insert(d.end(), long_descriptor.begin(), long_descriptor.end());
  const Bytes cdp{0x4A, 0xF0, 0x00, 0x1C, 0x02, 0x04, 0xC0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                  0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0};
  d.insert(d.end(), cdp.begin(), cdp.end());
  d[1] = static_cast<std::uint8_t>(d.size() - 2);
  const auto m = parse_mode_sense10(d).value();
  EXPECT_TRUE(m.header.long_lba);
  EXPECT_EQ(m.block_descriptors[0].density_code, 0x60);
  EXPECT_EQ(m.block_descriptors[0].block_length, 0x40000U);
  const auto* page = m.find_page(0x0A, 0xF0);
  ASSERT_NE(page, nullptr);
  const auto lbp = DataProtectionPage::from(*page).value();
  EXPECT_EQ(lbp.method(), DataProtectionPage::Method::crc32c);
  EXPECT_EQ(lbp.information_length(), 4);
  EXPECT_TRUE(lbp.protect_write());
  EXPECT_TRUE(lbp.protect_read());
  EXPECT_FALSE(lbp.recover_buffered_data());
}

TEST(ModeSense, RejectsTruncationAndBadLengths) {
  auto d = lto_mode_sense6();
  d.resize(20);  // the second page is cut, the mode data length says more follows
  EXPECT_EQ(parse_mode_sense6(d).error(), ParseError::truncated);
  const Bytes odd_descriptors{9, 0, 0x10, 6, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(parse_mode_sense6(odd_descriptors).error(), ParseError::bad_length);
  const Bytes descriptors_past_end{3, 0, 0x10, 8};
  EXPECT_EQ(parse_mode_sense6(descriptors_past_end).error(), ParseError::truncated);
  EXPECT_EQ(parse_mode_sense10(Bytes{0, 6, 0, 0, 0, 0, 0}).error(), ParseError::truncated);
}

TEST(DataCompressionPage, ReadChangeAndSendBack) {
  const auto m = parse_mode_sense6(lto_mode_sense6()).value();
  auto page = DataCompressionPage::from(*m.find_page(DataCompressionPage::code)).value();
  EXPECT_TRUE(page.compression_enabled());
  EXPECT_TRUE(page.compression_capable());
  EXPECT_TRUE(page.decompression_enabled());
  EXPECT_EQ(page.compression_algorithm(), 1U);
  page.set_compression_enabled(false);
  Bytes expected = compression_page;
  expected[0] = 0x0F;  // PS cleared for MODE SELECT
  expected[2] = 0x40;  // DCE cleared, DCC as the drive reported it
  EXPECT_EQ(Bytes(page.bytes().begin(), page.bytes().end()), expected);
}

TEST(DataCompressionPage, MadeFromScratch) {
  const auto page = DataCompressionPage::make(true);
  EXPECT_EQ(Bytes(page.bytes().begin(), page.bytes().end()),
            (Bytes{0x0F, 0x0E, 0x80, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(DeviceConfigurationPage, Fields) {
  const auto m = parse_mode_sense6(lto_mode_sense6()).value();
  auto page = DeviceConfigurationPage::from(*m.find_page(DeviceConfigurationPage::code)).value();
  EXPECT_EQ(page.write_buffer_full_ratio(), 0x50);
  EXPECT_EQ(page.write_delay_time(), 100);
  EXPECT_TRUE(page.logical_object_identifiers_supported());
  EXPECT_TRUE(page.report_early_warning());
  EXPECT_EQ(page.eod_defined(), 0);
  EXPECT_TRUE(page.synchronize_at_early_warning());
  EXPECT_EQ(page.buffer_size_at_early_warning(), 0x1000U);
  EXPECT_EQ(page.select_data_compression_algorithm(), 1);
  page.set_synchronize_at_early_warning(false);
  page.set_select_data_compression_algorithm(0);
  EXPECT_EQ(page.bytes()[10], 0x10);
  EXPECT_EQ(page.bytes()[14], 0x00);
  EXPECT_EQ(page.bytes()[0], 0x10);  // PS cleared
}

TEST(ModePages, WrongPageIsRejected) {
  const auto m = parse_mode_sense6(lto_mode_sense6()).value();
  EXPECT_EQ(DeviceConfigurationPage::from(m.pages[0]).error(), ParseError::wrong_page);
  EXPECT_EQ(DataProtectionPage::from(m.pages[0]).error(), ParseError::wrong_page);
  ModePage short_page{0x0F, std::nullopt, false, Bytes{0x0F, 0x02, 0, 0}};
  EXPECT_EQ(DataCompressionPage::from(short_page).error(), ParseError::truncated);
}

TEST(ModeSelect, SixByteParameterListWithDescriptorAndPage) {
  const auto page = DataCompressionPage::make(false);
  const std::span<const std::uint8_t> pages[] = {page.bytes()};
  const auto list =
      mode_select6_parameters(BlockDescriptor{0x00, 0, 262144}, pages).value();
  Bytes expected{0x00, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0, 0x04, 0x00, 0x00};
  expected.insert(expected.end(), page.bytes().begin(), page.bytes().end());
  EXPECT_EQ(list, expected);
}

TEST(ModeSelect, BlockLengthOnlyForVariableMode) {
  const auto list = mode_select6_parameters(BlockDescriptor{0x00, 0, 0}, {}).value();
  EXPECT_EQ(list, (Bytes{0, 0, 0x10, 8, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(ModeSelect, TenByteParameterListWithProtectionPage) {
  const auto lbp = DataProtectionPage::make(DataProtectionPage::Method::crc32c, true, true);
  const std::span<const std::uint8_t> pages[] = {lbp.bytes()};
  const auto list = mode_select10_parameters(std::nullopt, pages, 1).value();
  ASSERT_EQ(list.size(), 8U + 32U);
  EXPECT_EQ(Bytes(list.begin(), list.begin() + 8), (Bytes{0, 0, 0, 0x10, 0, 0, 0, 0}));
  EXPECT_EQ(Bytes(list.begin() + 8, list.begin() + 16),
            (Bytes{0x4A, 0xF0, 0x00, 0x1C, 0x02, 0x04, 0xC0, 0x00}));
}

TEST(ModeSelect, RejectsWhatCannotBeEncoded) {
  EXPECT_EQ(mode_select6_parameters(BlockDescriptor{0, 0, 0x1000000}, {}).error(),
            ParseError::bad_length);
  const Bytes big(300, 0);
  const std::span<const std::uint8_t> pages[] = {big};
  EXPECT_EQ(mode_select6_parameters(std::nullopt, pages).error(), ParseError::bad_length);
  EXPECT_TRUE(mode_select10_parameters(std::nullopt, pages).has_value());
}

}  // namespace
