// Every CDB builder, byte for byte, against the layouts of SPC-4 and SSC-4.
#include <gtest/gtest.h>

#include "scsi/cdb.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;
using tapestream::test::cdb_bytes;

namespace {

Count24 count(std::uint32_t n) { return Count24::from(n).value(); }

// The builders are usable in constant expressions.
static_assert(cdb::test_unit_ready().cdb_length == 6);
static_assert(cdb::write6_variable(Count24::from(0x40000).value()).cdb[2] == 0x04);

TEST(Cdb, TestUnitReady) {
  const auto c = cdb::test_unit_ready();
  EXPECT_EQ(cdb_bytes(c), (Bytes{0x00, 0, 0, 0, 0, 0}));
  EXPECT_EQ(c.direction, DataDirection::none);
  EXPECT_EQ(c.transfer_length, 0U);
  EXPECT_EQ(c.timeout_class, TimeoutClass::quick);
}

TEST(Cdb, InquiryStandardAndVpd) {
  EXPECT_EQ(cdb_bytes(cdb::inquiry(96)), (Bytes{0x12, 0x00, 0x00, 0x00, 0x60, 0x00}));
  const auto serial = cdb::inquiry_vpd(0x80, 0x1FF);
  EXPECT_EQ(cdb_bytes(serial), (Bytes{0x12, 0x01, 0x80, 0x01, 0xFF, 0x00}));
  EXPECT_EQ(serial.direction, DataDirection::from_device);
  EXPECT_EQ(serial.transfer_length, 0x1FFU);
  EXPECT_EQ(cdb_bytes(cdb::inquiry_vpd(0x00)), (Bytes{0x12, 0x01, 0x00, 0x00, 0xFF, 0x00}));
  EXPECT_EQ(cdb_bytes(cdb::inquiry_vpd(0x83, 1024)), (Bytes{0x12, 0x01, 0x83, 0x04, 0x00, 0x00}));
}

TEST(Cdb, RequestSense) {
  EXPECT_EQ(cdb_bytes(cdb::request_sense()), (Bytes{0x03, 0x00, 0, 0, 0xFC, 0}));
  EXPECT_EQ(cdb_bytes(cdb::request_sense(18, true)), (Bytes{0x03, 0x01, 0, 0, 18, 0}));
}

TEST(Cdb, ReportSupportedOperationCodes) {
  const auto all = cdb::report_supported_operation_codes(true, 0x10000);
  EXPECT_EQ(cdb_bytes(all), (Bytes{0xA3, 0x0C, 0x80, 0, 0, 0, 0x00, 0x01, 0x00, 0x00, 0, 0}));
  EXPECT_EQ(all.service_action(), 0x0C);
  EXPECT_EQ(command_name(all), "REPORT SUPPORTED OPERATION CODES");
  EXPECT_EQ(cdb_bytes(cdb::report_supported_operation_code(Opcode::write6, std::nullopt, true, 512)),
            (Bytes{0xA3, 0x0C, 0x81, 0x0A, 0, 0, 0, 0, 0x02, 0x00, 0, 0}));
  EXPECT_EQ(cdb_bytes(cdb::report_supported_operation_code(Opcode::read_position, 0x06, false, 64)),
            (Bytes{0xA3, 0x0C, 0x02, 0x34, 0x00, 0x06, 0, 0, 0, 0x40, 0, 0}));
}

TEST(Cdb, ReadBlockLimits) {
  EXPECT_EQ(cdb_bytes(cdb::read_block_limits()), (Bytes{0x05, 0, 0, 0, 0, 0}));
  EXPECT_EQ(cdb::read_block_limits().transfer_length, 6U);
  EXPECT_EQ(cdb_bytes(cdb::read_block_limits(true)), (Bytes{0x05, 0x01, 0, 0, 0, 0}));
  EXPECT_EQ(cdb::read_block_limits(true).transfer_length, 20U);
}

TEST(Cdb, ModeSense) {
  EXPECT_EQ(cdb_bytes(cdb::mode_sense6(0x0F)), (Bytes{0x1A, 0x00, 0x0F, 0x00, 0xFF, 0x00}));
  EXPECT_EQ(cdb_bytes(cdb::mode_sense6(0x10, 0, cdb::PageControl::changeable, true, 32)),
            (Bytes{0x1A, 0x08, 0x50, 0x00, 0x20, 0x00}));
  EXPECT_EQ(cdb_bytes(cdb::mode_sense10(0x0A, 0xF0, cdb::PageControl::saved, false, true, 300)),
            (Bytes{0x5A, 0x10, 0xCA, 0xF0, 0, 0, 0, 0x01, 0x2C, 0}));
  EXPECT_EQ(cdb_bytes(cdb::mode_sense10(0x3F, 0xFF, cdb::PageControl::defaults)),
            (Bytes{0x5A, 0x00, 0xBF, 0xFF, 0, 0, 0, 0x04, 0x00, 0}));
}

TEST(Cdb, ModeSelect) {
  const auto six = cdb::mode_select6(28);
  EXPECT_EQ(cdb_bytes(six), (Bytes{0x15, 0x10, 0, 0, 28, 0}));
  EXPECT_EQ(six.direction, DataDirection::to_device);
  EXPECT_EQ(six.transfer_length, 28U);
  EXPECT_EQ(cdb_bytes(cdb::mode_select6(12, true)), (Bytes{0x15, 0x11, 0, 0, 12, 0}));
  EXPECT_EQ(cdb_bytes(cdb::mode_select10(0x128)), (Bytes{0x55, 0x10, 0, 0, 0, 0, 0, 0x01, 0x28, 0}));
}

TEST(Cdb, Write6) {
  const auto variable = cdb::write6_variable(count(262144));
  EXPECT_EQ(cdb_bytes(variable), (Bytes{0x0A, 0x00, 0x04, 0x00, 0x00, 0x00}));
  EXPECT_EQ(variable.direction, DataDirection::to_device);
  EXPECT_EQ(variable.transfer_length, 262144U);
  EXPECT_EQ(variable.timeout_class, TimeoutClass::data);
  EXPECT_EQ(cdb_bytes(cdb::write6_variable(count(0xFFFFFF))), (Bytes{0x0A, 0, 0xFF, 0xFF, 0xFF, 0}));

  const auto fixed = cdb::write6_fixed(count(64), 512);
  EXPECT_EQ(cdb_bytes(fixed), (Bytes{0x0A, 0x01, 0x00, 0x00, 0x40, 0x00}));
  EXPECT_EQ(fixed.transfer_length, 64U * 512U);
}

TEST(Cdb, Read6) {
  const auto sili = cdb::read6_variable(count(262144), true);
  EXPECT_EQ(cdb_bytes(sili), (Bytes{0x08, 0x02, 0x04, 0x00, 0x00, 0x00}));
  EXPECT_EQ(sili.direction, DataDirection::from_device);
  EXPECT_EQ(cdb_bytes(cdb::read6_variable(count(1), false)), (Bytes{0x08, 0x00, 0, 0, 1, 0}));
  const auto fixed = cdb::read6_fixed(count(0x010203), 1024);
  EXPECT_EQ(cdb_bytes(fixed), (Bytes{0x08, 0x01, 0x01, 0x02, 0x03, 0x00}));
  EXPECT_EQ(fixed.transfer_length, 0x010203ULL * 1024ULL);
}

TEST(Cdb, Count24RejectsWhatDoesNotFit) {
  EXPECT_TRUE(Count24::from(0xFFFFFF).has_value());
  EXPECT_FALSE(Count24::from(0x1000000).has_value());
  EXPECT_TRUE(SignedCount24::from(-0x800000).has_value());
  EXPECT_FALSE(SignedCount24::from(-0x800001).has_value());
  EXPECT_FALSE(SignedCount24::from(0x800000).has_value());
}

TEST(Cdb, WriteFilemarks) {
  const auto sync = cdb::write_filemarks6(count(1), false);
  EXPECT_EQ(cdb_bytes(sync), (Bytes{0x10, 0x00, 0, 0, 1, 0}));
  EXPECT_EQ(sync.timeout_class, TimeoutClass::filemark);
  EXPECT_EQ(cdb_bytes(cdb::write_filemarks6(count(0), true)), (Bytes{0x10, 0x01, 0, 0, 0, 0}));
}

TEST(Cdb, Space6) {
  EXPECT_EQ(cdb_bytes(cdb::space6(cdb::SpaceCode::blocks, SignedCount24::from(5).value())),
            (Bytes{0x11, 0x00, 0, 0, 5, 0}));
  EXPECT_EQ(cdb_bytes(cdb::space6(cdb::SpaceCode::filemarks, SignedCount24::from(-1).value())),
            (Bytes{0x11, 0x01, 0xFF, 0xFF, 0xFF, 0}));
  EXPECT_EQ(cdb_bytes(cdb::space6(cdb::SpaceCode::sequential_filemarks,
                                  SignedCount24::from(-0x800000).value())),
            (Bytes{0x11, 0x02, 0x80, 0x00, 0x00, 0}));
  const auto eod = cdb::space6(cdb::SpaceCode::end_of_data, SignedCount24::from(0).value());
  EXPECT_EQ(cdb_bytes(eod), (Bytes{0x11, 0x03, 0, 0, 0, 0}));
  EXPECT_EQ(eod.timeout_class, TimeoutClass::position);
}

TEST(Cdb, Space16) {
  EXPECT_EQ(cdb_bytes(cdb::space16(cdb::SpaceCode::blocks, -2)),
            (Bytes{0x91, 0x00, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 0}));
  EXPECT_EQ(cdb_bytes(cdb::space16(cdb::SpaceCode::filemarks, 0x0102030405)),
            (Bytes{0x91, 0x01, 0, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0, 0, 0, 0}));
}

TEST(Cdb, Rewind) {
  EXPECT_EQ(cdb_bytes(cdb::rewind(false)), (Bytes{0x01, 0x00, 0, 0, 0, 0}));
  EXPECT_EQ(cdb_bytes(cdb::rewind(true)), (Bytes{0x01, 0x01, 0, 0, 0, 0}));
  EXPECT_EQ(cdb::rewind(true).timeout_class, TimeoutClass::rewind);
}

TEST(Cdb, LoadUnload) {
  EXPECT_EQ(cdb_bytes(cdb::load_unload(cdb::LoadAction::load, false)), (Bytes{0x1B, 0, 0, 0, 0x01, 0}));
  EXPECT_EQ(cdb_bytes(cdb::load_unload(cdb::LoadAction::unload, true)), (Bytes{0x1B, 1, 0, 0, 0x00, 0}));
  EXPECT_EQ(cdb_bytes(cdb::load_unload(cdb::LoadAction::retension, false)),
            (Bytes{0x1B, 0, 0, 0, 0x03, 0}));
  EXPECT_EQ(cdb_bytes(cdb::load_unload(cdb::LoadAction::load_hold, false)),
            (Bytes{0x1B, 0, 0, 0, 0x09, 0}));
  EXPECT_EQ(cdb_bytes(cdb::load_unload(cdb::LoadAction::unload_hold, false)),
            (Bytes{0x1B, 0, 0, 0, 0x08, 0}));
  EXPECT_EQ(cdb::load_unload(cdb::LoadAction::load, false).timeout_class, TimeoutClass::load);
  EXPECT_EQ(cdb::load_unload(cdb::LoadAction::unload, false).timeout_class, TimeoutClass::unload);
}

TEST(Cdb, ReadPositionForms) {
  const auto short_form = cdb::read_position(cdb::ReadPositionForm::short_block_id);
  EXPECT_EQ(cdb_bytes(short_form), (Bytes{0x34, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(short_form.transfer_length, 20U);
  const auto long_form = cdb::read_position(cdb::ReadPositionForm::long_form);
  EXPECT_EQ(cdb_bytes(long_form), (Bytes{0x34, 0x06, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(long_form.transfer_length, 32U);
  const auto extended = cdb::read_position(cdb::ReadPositionForm::extended);
  EXPECT_EQ(cdb_bytes(extended), (Bytes{0x34, 0x08, 0, 0, 0, 0, 0, 0x00, 0x20, 0}));
  EXPECT_EQ(extended.transfer_length, 32U);
  EXPECT_EQ(cdb_bytes(cdb::read_position(cdb::ReadPositionForm::short_vendor)),
            (Bytes{0x34, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(Cdb, Locate10) {
  EXPECT_EQ(cdb_bytes(cdb::locate10(0x01020304, std::nullopt, false)),
            (Bytes{0x2B, 0x00, 0, 0x01, 0x02, 0x03, 0x04, 0, 0x00, 0}));
  EXPECT_EQ(cdb_bytes(cdb::locate10(7, std::uint8_t{1}, true)),
            (Bytes{0x2B, 0x05, 0, 0, 0, 0, 7, 0, 0x01, 0}));
}

TEST(Cdb, Locate16) {
  EXPECT_EQ(cdb_bytes(cdb::locate16(cdb::LocateDestination::logical_object, 0x0102030405060708,
                                    std::nullopt, false)),
            (Bytes{0x92, 0x00, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0}));
  EXPECT_EQ(cdb_bytes(cdb::locate16(cdb::LocateDestination::logical_file, 3, std::uint8_t{2}, true)),
            (Bytes{0x92, 0x0B, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0}));
  EXPECT_EQ(cdb_bytes(cdb::locate16(cdb::LocateDestination::end_of_data, 0, std::nullopt, false)),
            (Bytes{0x92, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(Cdb, Erase) {
  EXPECT_EQ(cdb_bytes(cdb::erase6(false, false)), (Bytes{0x19, 0x00, 0, 0, 0, 0}));
  EXPECT_EQ(cdb_bytes(cdb::erase6(true, true)), (Bytes{0x19, 0x03, 0, 0, 0, 0}));
  EXPECT_EQ(cdb_bytes(cdb::erase6(true, false)), (Bytes{0x19, 0x01, 0, 0, 0, 0}));
  EXPECT_EQ(cdb::erase6(true, false).timeout_class, TimeoutClass::erase_long);
  EXPECT_EQ(cdb::erase6(false, false).timeout_class, TimeoutClass::erase_short);
}

TEST(Cdb, PreventAllowMediumRemoval) {
  EXPECT_EQ(cdb_bytes(cdb::prevent_allow_medium_removal(true)), (Bytes{0x1E, 0, 0, 0, 1, 0}));
  EXPECT_EQ(cdb_bytes(cdb::prevent_allow_medium_removal(false)), (Bytes{0x1E, 0, 0, 0, 0, 0}));
}

TEST(Cdb, LogSense) {
  EXPECT_EQ(cdb_bytes(cdb::log_sense(0x2E)),
            (Bytes{0x4D, 0x00, 0x6E, 0x00, 0, 0x00, 0x00, 0xFF, 0xFF, 0}));
  EXPECT_EQ(cdb_bytes(cdb::log_sense(0x0C, 0, cdb::LogPageControl::current_threshold, 0x0100, 512)),
            (Bytes{0x4D, 0x00, 0x0C, 0x00, 0, 0x01, 0x00, 0x02, 0x00, 0}));
  EXPECT_EQ(cdb_bytes(cdb::log_sense(0x17, 0, cdb::LogPageControl::default_cumulative, 0, 1024)),
            (Bytes{0x4D, 0x00, 0xD7, 0x00, 0, 0, 0, 0x04, 0x00, 0}));
}

TEST(Cdb, ReadAttribute) {
  EXPECT_EQ(cdb_bytes(cdb::read_attribute(cdb::ReadAttributeAction::values, 0, 0x0401, 0x1000)),
            (Bytes{0x8C, 0x00, 0, 0, 0, 0, 0, 0x00, 0x04, 0x01, 0, 0, 0x10, 0x00, 0, 0}));
  EXPECT_EQ(cdb_bytes(cdb::read_attribute(cdb::ReadAttributeAction::list, 1, 0, 512)),
            (Bytes{0x8C, 0x01, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0x02, 0x00, 0, 0}));
}

TEST(Cdb, ReportDensitySupport) {
  EXPECT_EQ(cdb_bytes(cdb::report_density_support(false, false, 1024)),
            (Bytes{0x44, 0x00, 0, 0, 0, 0, 0, 0x04, 0x00, 0}));
  EXPECT_EQ(cdb_bytes(cdb::report_density_support(true, true, 256)),
            (Bytes{0x44, 0x03, 0, 0, 0, 0, 0, 0x01, 0x00, 0}));
}

}  // namespace
