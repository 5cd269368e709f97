// The emulated drive's injected faults, seen through the transport interface: early warning and
// end of medium, medium errors, write protection, unit attentions, a command that never
// completes, a short read, and Logical Block Protection.
#include "common/crc32c.hpp"
#include "fixture.hpp"
#include "scsi/log_pages.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/timeouts.hpp"
#include "scsi/attribute.hpp"

using namespace tapestream::scsi;
using tapestream::test::EmulatedFaults;
using tapestream::test::EmulatedImage;
using tapestream::test::as_recorded;
using tapestream::test::expect_data;
using tapestream::test::expect_sense;
using tapestream::test::pattern_block;

namespace {

constexpr std::size_t block = 64 * 1024;

TEST_F(EmulatedFaults, EarlyWarningThenVolumeOverflowAndEveryWrittenBlockReadsBack) {
  open("capacity=1M&ew=512K");
  std::uint32_t written = 0;
  std::uint32_t warnings = 0;
  for (std::uint32_t i = 0; i < 32; ++i) {
    const auto e = write(pattern_block(7, i, block));
    if (e.classification.condition == TapeCondition::volume_overflow) {
      expect_sense(e, SenseKey::volume_overflow, 0x0002, static_cast<std::int64_t>(block));
      EXPECT_TRUE(e.sense()->end_of_medium);
      EXPECT_EQ(e.result.residue, block);  // nothing of it was written
      break;
    }
    ASSERT_TRUE(e.classification.condition == TapeCondition::good ||
                e.classification.condition == TapeCondition::early_warning)
        << condition_name(e.classification.condition);
    if (e.classification.condition == TapeCondition::early_warning) {
      expect_sense(e, SenseKey::no_sense, 0x0002, 0);
      EXPECT_TRUE(is_expected(Opcode::write6, e.classification.condition));
      ++warnings;
    }
    ++written;
  }
  EXPECT_GT(warnings, 0U);
  EXPECT_EQ(written, 15U);  // 15 records of 64 KiB + 8 bytes of framing fit in 1 MiB
  EXPECT_TRUE(position().end_of_partition);  // beyond early warning
  rewind();
  for (std::uint32_t i = 0; i < written; ++i) {
    ASSERT_EQ(read(block).data, as_recorded(pattern_block(7, i, block))) << "block " << i;
  }
  EXPECT_EQ(read(block).classification.condition, TapeCondition::end_of_data);
}

TEST_F(EmulatedFaults, FilemarkAfterEarlyWarningStillLandsAndWarns) {
  open("capacity=1M&ew=100K");
  EXPECT_EQ(write(pattern_block(1, 0, 200 * 1024)).classification.condition,
            TapeCondition::early_warning);
  const auto e = filemarks(1);
  EXPECT_EQ(e.classification.condition, TapeCondition::early_warning);
  EXPECT_TRUE(is_expected(Opcode::write_filemarks6, e.classification.condition));
  EXPECT_EQ(position().logical_file, 1U);
}

TEST_F(EmulatedFaults, MediumErrorOnTheNthWriteWritesNothing) {
  open("medium_error_write=3");
  write_stream(1, 2, 1000);
  const auto e = write(pattern_block(1, 2, 1000));
  EXPECT_EQ(e.classification.condition, TapeCondition::medium_error);
  expect_sense(e, SenseKey::medium_error, 0x0C00, 1000);
  EXPECT_EQ(position().first_logical_object, 2U);
  ASSERT_EQ(write(pattern_block(1, 3, 1000)).classification.condition, TapeCondition::good);
  const auto alerts = parse_tape_alerts(parse_log_page(h().query(cdb::log_sense(0x2E)).data).value());
  EXPECT_TRUE(alerts.value().test(6 - 1));  // Write failure
  const auto cleared =
      parse_tape_alerts(parse_log_page(h().query(cdb::log_sense(0x2E)).data).value());
  EXPECT_EQ(cleared.value().count(), 0U);  // flags clear when read
}

TEST_F(EmulatedFaults, MediumErrorOnTheNthReadLeavesThePosition) {
  open("medium_error_read=2");
  write_stream(1, 3, 100);
  rewind();
  expect_data(read(100).data, pattern_block(1, 0, 100));
  const auto e = read(100);
  EXPECT_EQ(e.classification.condition, TapeCondition::medium_error);
  expect_sense(e, SenseKey::medium_error, 0x1100, 100);
  EXPECT_EQ(position().first_logical_object, 1U);
  expect_data(read(100).data, pattern_block(1, 1, 100));
}

TEST_F(EmulatedFaults, ShortReadReportsTheIncompleteBlock) {
  open("short_read=1");
  write_stream(1, 2, 1000);
  rewind();
  const auto e = read(1000);
  EXPECT_EQ(e.classification.condition, TapeCondition::medium_error);
  expect_sense(e, SenseKey::medium_error, 0x1108, 500);
  EXPECT_EQ(e.result.residue, 500U);
  auto half = pattern_block(1, 0, 1000);
  half.resize(500);
  expect_data(e.data, half);
  expect_data(read(1000).data, pattern_block(1, 1, 1000));
}

TEST_F(EmulatedFaults, WriteProtectedTape) {
  open("write_protect=1");
  const auto e = write(pattern_block(1, 0, 10));
  EXPECT_EQ(e.classification.condition, TapeCondition::write_protected);
  expect_sense(e, SenseKey::data_protect, 0x2700, std::nullopt);
  EXPECT_EQ(filemarks(1).classification.condition, TapeCondition::write_protected);
  EXPECT_EQ(h().run(cdb::erase6(false, false)).classification.condition,
            TapeCondition::write_protected);
  const auto mode = parse_mode_sense6(h().query(cdb::mode_sense6(0x3F)).data).value();
  EXPECT_TRUE(mode.header.write_protected);
  EXPECT_EQ(read(10).classification.condition, TapeCondition::end_of_data);  // reading works
}

// An image file nobody may write (chmod a-w) is a cartridge with its write-protect tab set,
// also for root, who could open it for writing: what is on it reads, nothing is added.
TEST_F(EmulatedFaults, AnImageNobodyMayWriteIsAWriteProtectedTape) {
  if (tapestream::test::target_is_null()) {
    GTEST_SKIP() << "the null drive has no image file";
  }
  open("");
  ASSERT_EQ(write(pattern_block(2, 0, 100)).classification.condition, TapeCondition::good);
  ASSERT_EQ(filemarks(1).classification.condition, TapeCondition::good);
  std::filesystem::permissions(image(), std::filesystem::perms::owner_read |
                                            std::filesystem::perms::group_read |
                                            std::filesystem::perms::others_read);
  const auto before = std::filesystem::file_size(image());
  reopen();
  (void)h().run(cdb::test_unit_ready());  // the new cartridge's unit attention
  const auto mode = parse_mode_sense6(h().query(cdb::mode_sense6(0x3F)).data).value();
  EXPECT_TRUE(mode.header.write_protected);
  ASSERT_EQ(rewind().classification.condition, TapeCondition::good);
  expect_data(read(100).data, pattern_block(2, 0, 100));
  EXPECT_EQ(space(cdb::SpaceCode::end_of_data, 0).classification.condition, TapeCondition::good);
  EXPECT_EQ(write(pattern_block(2, 1, 100)).classification.condition, TapeCondition::write_protected);
  EXPECT_EQ(std::filesystem::file_size(image()), before);
}

TEST_F(EmulatedFaults, UnitAttentionAfterNCommands) {
  open("unit_attention=2");
  EXPECT_EQ(h().run(cdb::test_unit_ready()).classification.condition, TapeCondition::good);
  EXPECT_EQ(h().run(cdb::test_unit_ready()).classification.condition, TapeCondition::good);
  const auto e = h().run(cdb::test_unit_ready());
  EXPECT_EQ(e.classification.condition, TapeCondition::reset);
  expect_sense(e, SenseKey::unit_attention, 0x2900, std::nullopt);
  EXPECT_EQ(h().run(cdb::test_unit_ready()).classification.condition, TapeCondition::good);
}

// Regression: the power-on reset left the tape where it was and the mode as it was set; a real
// drive's reset rewinds (the logical position is lost) and returns to its default mode.
TEST_F(EmulatedFaults, APowerOnResetRewindsAndRestoresTheDefaultMode) {
  open("unit_attention=9");
  write_stream(1, 3, 1000);  // commands 1-3
  const auto fixed = mode_select6_parameters(BlockDescriptor{0, 0, 512}, {}).value();
  ASSERT_EQ(h().run(cdb::mode_select6(static_cast<std::uint8_t>(fixed.size())), fixed)
                .classification.condition,
            TapeCondition::good);  // 4
  const auto compression = DataCompressionPage::make(true);
  const std::span<const std::uint8_t> pages[] = {compression.bytes()};
  const auto list = mode_select6_parameters(std::nullopt, pages).value();
  ASSERT_EQ(h().run(cdb::mode_select6(static_cast<std::uint8_t>(list.size())), list)
                .classification.condition,
            TapeCondition::good);  // 5
  const auto lbp_on = DataProtectionPage::make(DataProtectionPage::Method::crc32c, true, true);
  const std::span<const std::uint8_t> lbp_pages[] = {lbp_on.bytes()};
  const auto lbp_list = mode_select10_parameters(std::nullopt, lbp_pages).value();
  ASSERT_EQ(h().run(cdb::mode_select10(static_cast<std::uint16_t>(lbp_list.size())), lbp_list)
                .classification.condition,
            TapeCondition::good);  // 6
  ASSERT_EQ(h().run(cdb::prevent_allow_medium_removal(true)).classification.condition,
            TapeCondition::good);  // 7
  EXPECT_EQ(position().first_logical_object, 3U);  // 8
  EXPECT_EQ(h().query(cdb::inquiry()).classification.condition, TapeCondition::good);  // 9
  // The reset: INQUIRY does not report it, the next command does.
  EXPECT_EQ(h().query(cdb::inquiry()).classification.condition, TapeCondition::good);
  const auto e = h().run(cdb::test_unit_ready());
  EXPECT_EQ(e.classification.condition, TapeCondition::reset);
  expect_sense(e, SenseKey::unit_attention, 0x2900, std::nullopt);
  EXPECT_EQ(position().first_logical_object, 0U);
  EXPECT_TRUE(position().beginning_of_partition);
  const auto mode = parse_mode_sense6(h().query(cdb::mode_sense6(0x3F)).data).value();
  ASSERT_FALSE(mode.block_descriptors.empty());
  EXPECT_EQ(mode.block_descriptors.front().block_length, 0U);  // variable blocks
  EXPECT_EQ(mode.header.buffered_mode, 1U);
  EXPECT_FALSE(DataCompressionPage::from(*mode.find_page(0x0F)).value().compression_enabled());
  const auto lbp = parse_mode_sense10(h().query(cdb::mode_sense10(0x0A, 0xF0)).data).value();
  EXPECT_EQ(DataProtectionPage::from(*lbp.find_page(0x0A, 0xF0)).value().method(),
            DataProtectionPage::Method::none);
  EXPECT_EQ(h().run(cdb::load_unload(cdb::LoadAction::unload, false)).classification.condition,
            TapeCondition::good);  // prevention cleared
  // The data is where it was.
  h().run(cdb::load_unload(cdb::LoadAction::load, false));
  h().run(cdb::test_unit_ready());
  expect_data(read(1000).data, pattern_block(1, 0, 1000));
}

TEST_F(EmulatedFaults, CommandThatNeverCompletesTimesOut) {
  open("hang=rewind");
  write_stream(1, 1, 10);
  const auto started = std::chrono::steady_clock::now();
  const auto e = h().run(cdb::rewind(false), {}, 0, std::chrono::milliseconds{200});
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(e.result.timed_out);
  EXPECT_EQ(e.result.host_status, static_cast<std::uint8_t>(HostStatus::time_out));
  EXPECT_EQ(e.classification.condition, TapeCondition::transport_failure);
  EXPECT_GE(waited, std::chrono::milliseconds{190});
  EXPECT_LT(waited, std::chrono::seconds{5});
  // The drive serves the next command.
  EXPECT_EQ(position().first_logical_object, 1U);
  EXPECT_EQ(h().run(cdb::locate10(0, std::nullopt, false)).classification.condition,
            TapeCondition::good);
}

TEST_F(EmulatedFaults, LogicalBlockProtectionWithCrc32c) {
  const auto page = DataProtectionPage::make(DataProtectionPage::Method::crc32c, true, true);
  const std::span<const std::uint8_t> pages[] = {page.bytes()};
  const auto list = mode_select10_parameters(std::nullopt, pages).value();
  ASSERT_EQ(h().run(cdb::mode_select10(static_cast<std::uint16_t>(list.size())), list)
                .classification.condition,
            TapeCondition::good);
  const auto sensed = parse_mode_sense10(h().query(cdb::mode_sense10(0x0A, 0xF0)).data).value();
  const auto lbp = DataProtectionPage::from(*sensed.find_page(0x0A, 0xF0)).value();
  EXPECT_EQ(lbp.method(), DataProtectionPage::Method::crc32c);
  EXPECT_TRUE(lbp.protect_write());

  auto data = pattern_block(4, 0, 1000);
  auto protected_block = data;
  const auto crc = tapestream::crc32c(data);
  for (int shift = 24; shift >= 0; shift -= 8) {
    protected_block.push_back(static_cast<std::uint8_t>(crc >> shift));
  }
  ASSERT_EQ(write(protected_block).classification.condition, TapeCondition::good);
  auto corrupted = protected_block;
  corrupted[10] ^= 1;
  const auto bad = write(corrupted);
  EXPECT_EQ(bad.classification.condition, TapeCondition::aborted_command);
  expect_sense(bad, SenseKey::aborted_command, 0x1001, 1004);
  rewind();
  // Data and its CRC, big-endian (the null drive's zeros, with their CRC).
  auto read_back = as_recorded(data);
  const auto read_crc = tapestream::crc32c(read_back);
  for (int shift = 24; shift >= 0; shift -= 8) {
    read_back.push_back(static_cast<std::uint8_t>(read_crc >> shift));
  }
  EXPECT_EQ(read(1004).data, read_back);
  EXPECT_EQ(read(1004).classification.condition, TapeCondition::end_of_data);
}

TEST_F(EmulatedFaults, PagesTheDriveReports) {
  write_stream(1, 2, 1000);
  const auto sequential = parse_log_page(h().query(cdb::log_sense(0x0C)).data).value();
  EXPECT_EQ(sequential.find(0x0001)->as_integer(), 2000U);
  const auto attributes = parse_attribute_values(
      h().query(cdb::read_attribute(cdb::ReadAttributeAction::values, 0, 0)).data);
  EXPECT_FALSE(find_attribute(attributes.value(), attribute_id::medium_serial_number)
                   ->as_text()
                   .empty());
  const auto rsoc = parse_supported_operation_codes(
      h().query(cdb::report_supported_operation_codes(true)).data);
  auto timeouts = TimeoutTable::lto_defaults();
  EXPECT_GT(timeouts.adopt_drive_timeouts(rsoc.value()), 10U);
  const auto compression = DataCompressionPage::make(true);
  const std::span<const std::uint8_t> pages[] = {compression.bytes()};
  const auto list = mode_select6_parameters(std::nullopt, pages).value();
  h().run(cdb::mode_select6(static_cast<std::uint8_t>(list.size())), list);
  const auto mode = parse_mode_sense6(h().query(cdb::mode_sense6(0x0F)).data).value();
  EXPECT_TRUE(DataCompressionPage::from(*mode.find_page(0x0F)).value().compression_enabled());
}

}  // namespace
