// The null drive (null:?OPTIONS): the tape contract of the emulated drive with no image and no
// data kept. Files of mixed block sizes and filemarks, READ POSITION's block and file numbers,
// SPACE and LOCATE, end of data, early warning and the end of the capacity, and reads that
// return blocks of the recorded lengths, filled with zeros. The whole conformance suite also
// runs against it (ctest: null.*, TAPESTREAM_CONFORMANCE_TARGET=null).
#include <gtest/gtest.h>

#include <algorithm>

#include "base/startup_error.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "harness.hpp"
#include "scsi/cdb.hpp"
#include "scsi/inquiry.hpp"
#include "scsi/position.hpp"

using namespace tapestream::scsi;
using tapestream::test::Exchange;
using tapestream::test::Harness;
using tapestream::test::pattern_block;

namespace {

Harness::Factory null_drive(const std::string& options = {}) {
  const std::string spec = "null:" + (options.empty() ? "" : "?" + options);
  return [spec](tapestream::uring::Ring& ring) -> std::unique_ptr<tapestream::transport::ScsiTransport> {
    return std::make_unique<tapestream::emulated::EmulatedDrive>(
        ring, tapestream::emulated::parse_drive_spec(spec));
  };
}

class NullDrive : public ::testing::Test {
 protected:
  void open(const std::string& options) { _harness.emplace(null_drive(options)); }
  Harness& h() {
    if (!_harness) {
      open("");
    }
    return *_harness;
  }
  static Count24 count(std::uint64_t n) { return Count24::from(n).value(); }
  Exchange write(std::size_t length, std::uint32_t seed = 1) {
    return h().run(cdb::write6_variable(count(length)), pattern_block(seed, 0, length));
  }
  Exchange read(std::size_t length) {
    return h().run(cdb::read6_variable(count(length), true), {}, length);
  }
  Exchange filemarks(std::uint32_t n) { return h().run(cdb::write_filemarks6(count(n), false)); }
  Exchange space(cdb::SpaceCode code, std::int32_t n) {
    return h().run(cdb::space6(code, SignedCount24::from(n).value()));
  }
  Exchange locate_block(std::uint64_t block) {
    return h().run(cdb::locate16(cdb::LocateDestination::logical_object, block, std::nullopt, false));
  }
  Exchange locate_file(std::uint64_t file) {
    return h().run(cdb::locate16(cdb::LocateDestination::logical_file, file, std::nullopt, false));
  }
  Position position() {
    const auto e = h().query(cdb::read_position(cdb::ReadPositionForm::long_form));
    EXPECT_EQ(e.classification.condition, TapeCondition::good);
    return parse_read_position(cdb::ReadPositionForm::long_form, e.data).value();
  }
  void expect_at(std::uint64_t block, std::uint64_t file) {
    const auto p = position();
    EXPECT_EQ(p.first_logical_object, block);
    EXPECT_EQ(p.logical_file, file);
  }
  // Reads one block and checks its length and that it is zeros.
  void expect_block(std::size_t length) {
    const auto e = read(std::max<std::size_t>(length, 1) + 4096);
    EXPECT_EQ(e.classification.condition, TapeCondition::short_block);
    EXPECT_EQ(e.classification.block_length, length);
    ASSERT_EQ(e.data.size(), length);
    EXPECT_TRUE(std::all_of(e.data.begin(), e.data.end(), [](auto b) { return b == 0; }))
        << "the null drive returns zeros";
  }

 private:
  std::optional<Harness> _harness;
};

// Three files of mixed block sizes: {1, 511, 65536}, {262144 x 3}, {4096, 1}.
const std::vector<std::vector<std::size_t>> files = {{1, 511, 65536}, {262144, 262144, 262144},
                                                     {4096, 1}};


TEST_F(NullDrive, IdentifiesItselfAndKeepsNoImage) {
  EXPECT_EQ(h().transport().kind(), "null");
  const auto inquiry = parse_standard_inquiry(h().query(cdb::inquiry()).data).value();
  EXPECT_TRUE(inquiry.is_tape());
  EXPECT_EQ(inquiry.product, "NULL DRIVE");
  const auto serial = parse_unit_serial_number(h().query(cdb::inquiry_vpd(0x80)).data).value();
  EXPECT_EQ(serial, "NULL000001");
  const auto limits = parse_block_limits(h().query(cdb::read_block_limits()).data).value();
  EXPECT_EQ(limits.maximum_block_length, 8U << 20);
}

TEST_F(NullDrive, FilesOfMixedBlocksKeepTheirLengthsAndPositions) {
  std::uint64_t block = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    for (const auto length : files[f]) {
      ASSERT_EQ(write(length).classification.condition, TapeCondition::good);
      ++block;
    }
    ASSERT_EQ(filemarks(1).classification.condition, TapeCondition::good);
    ++block;
    expect_at(block, f + 1);
  }
  EXPECT_TRUE(h().run(cdb::rewind(false)).classification.condition == TapeCondition::good);
  expect_at(0, 0);
  EXPECT_TRUE(position().beginning_of_partition);
  for (std::size_t f = 0; f < files.size(); ++f) {
    for (const auto length : files[f]) {
      expect_block(length);
    }
    const auto mark = read(4096);
    EXPECT_EQ(mark.classification.condition, TapeCondition::filemark);
    EXPECT_TRUE(mark.data.empty());
  }
  const auto end = read(4096);
  EXPECT_EQ(end.classification.condition, TapeCondition::end_of_data);
  expect_at(block, files.size());
}

TEST_F(NullDrive, SpaceAndLocateOverTheIndex) {
  for (const auto& file : files) {
    for (const auto length : file) {
      ASSERT_EQ(write(length).classification.condition, TapeCondition::good);
    }
    ASSERT_EQ(filemarks(1).classification.condition, TapeCondition::good);
  }
  // Objects: 0-2 file 0, 3 mark, 4-6 file 1, 7 mark, 8-9 file 2, 10 mark; end of data at 11.
  h().run(cdb::rewind(false));
  EXPECT_EQ(space(cdb::SpaceCode::filemarks, 1).classification.condition, TapeCondition::good);
  expect_at(4, 1);
  expect_block(262144);
  EXPECT_EQ(space(cdb::SpaceCode::blocks, 5).classification.condition, TapeCondition::filemark);
  expect_at(8, 2);
  EXPECT_EQ(space(cdb::SpaceCode::filemarks, -1).classification.condition, TapeCondition::good);
  expect_at(7, 1);  // the beginning-of-tape side of the filemark
  EXPECT_EQ(space(cdb::SpaceCode::end_of_data, 0).classification.condition, TapeCondition::good);
  expect_at(11, 3);
  EXPECT_EQ(space(cdb::SpaceCode::blocks, 1).classification.condition, TapeCondition::end_of_data);

  EXPECT_EQ(locate_block(2).classification.condition, TapeCondition::good);
  expect_at(2, 0);
  expect_block(65536);
  EXPECT_EQ(locate_file(2).classification.condition, TapeCondition::good);
  expect_at(8, 2);
  expect_block(4096);
  EXPECT_EQ(locate_block(12).classification.condition, TapeCondition::end_of_data);
  expect_at(11, 3);

  // A write in the middle is the new end of data.
  locate_file(1);
  ASSERT_EQ(write(1000).classification.condition, TapeCondition::good);
  expect_at(5, 1);
  EXPECT_EQ(read(1000).classification.condition, TapeCondition::end_of_data);
  locate_file(1);
  expect_block(1000);
}

// capacity=1M&ew=512K: each 64 KiB block takes 64 KiB + 8 bytes, as in an image without its
// alignment gaps; 7 blocks reach early warning at 512 KiB, 15 fit, the 16th is VOLUME OVERFLOW
// with nothing of it written; a filemark after early warning still lands and warns.
TEST_F(NullDrive, EarlyWarningAndTheEndOfTheCapacity) {
  open("capacity=1M&ew=512K");
  constexpr std::size_t block = 64 * 1024;
  std::uint32_t written = 0;
  std::uint32_t first_warning = 0;
  for (std::uint32_t i = 0; i < 32; ++i) {
    const auto e = write(block);
    if (e.classification.condition == TapeCondition::volume_overflow) {
      EXPECT_TRUE(e.sense()->end_of_medium);
      EXPECT_EQ(e.sense()->information, static_cast<std::int64_t>(block));
      EXPECT_EQ(e.result.residue, block);
      break;
    }
    if (e.classification.condition == TapeCondition::early_warning && first_warning == 0) {
      first_warning = i + 1;
    }
    ASSERT_TRUE(e.classification.condition == TapeCondition::good ||
                e.classification.condition == TapeCondition::early_warning);
    ++written;
  }
  EXPECT_EQ(first_warning, 8U);  // 8 x 65544 bytes pass 512 KiB
  EXPECT_EQ(written, 15U);
  EXPECT_TRUE(position().end_of_partition);
  const auto mark = filemarks(1);
  EXPECT_EQ(mark.classification.condition, TapeCondition::early_warning);
  expect_at(16, 1);
  h().run(cdb::rewind(false));
  for (std::uint32_t i = 0; i < written; ++i) {
    expect_block(block);
  }
  EXPECT_EQ(read(block).classification.condition, TapeCondition::filemark);
  EXPECT_EQ(read(block).classification.condition, TapeCondition::end_of_data);
}

TEST_F(NullDrive, FilemarksBeyondTheCapacityAreAllOrNothing) {
  open("capacity=1M&ew=1M");
  ASSERT_EQ(write(1048576 - 8 - 8).classification.condition, TapeCondition::good);  // 8 bytes left
  const auto three = filemarks(3);
  EXPECT_EQ(three.classification.condition, TapeCondition::volume_overflow);
  expect_at(1, 0);
  // Two fit exactly; the tape is then full, which is beyond early warning (ew=1M).
  EXPECT_EQ(filemarks(2).classification.condition, TapeCondition::early_warning);
  expect_at(3, 2);
  EXPECT_EQ(filemarks(1).classification.condition, TapeCondition::volume_overflow);
}

TEST_F(NullDrive, ManyEqualBlocksAreOneRun) {
  open("capacity=16T");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(write(262144).classification.condition, TapeCondition::good);
  }
  filemarks(1);
  auto& drive = dynamic_cast<tapestream::emulated::EmulatedDrive&>(h().transport());
  EXPECT_EQ(drive.image_index().size(), 1001U);
  EXPECT_EQ(drive.image_index().runs(), 2U);
  EXPECT_EQ(drive.image_index().end_offset(), 1000U * (262144 + 8) + 4);
}

TEST(NullDriveSpec, TakesTheSizingOptionsAndNoImage) {
  using tapestream::emulated::parse_drive_spec;
  const auto d = parse_drive_spec("null:?capacity=16T&ew=15T&max_block=1M&serial=N7");
  EXPECT_TRUE(d.null_medium);
  EXPECT_TRUE(d.image.empty());
  EXPECT_EQ(d.capacity, std::uint64_t{16} << 40);
  EXPECT_EQ(d.early_warning_offset(), std::uint64_t{15} << 40);
  EXPECT_EQ(d.max_block_length, 1U << 20);
  EXPECT_EQ(d.serial, "N7");
  EXPECT_TRUE(parse_drive_spec("null:").null_medium);
  EXPECT_TRUE(tapestream::emulated::is_emulated_spec("null:"));
  auto error_of = [](const char* spec) {
    try {
      (void)parse_drive_spec(spec);
    } catch (const tapestream::StartupError& e) {
      return std::string{e.what()};
    }
    return std::string{};
  };
  EXPECT_NE(error_of("null:/tmp/x.tap").find("keeps no image"), std::string::npos);
  EXPECT_NE(error_of("null:?damaged=cut").find("image file"), std::string::npos);
  EXPECT_NE(error_of("null:?follow_symlinks=1").find("image file"), std::string::npos);
  EXPECT_NE(error_of("null:?capacity=1K").find("null drive"), std::string::npos);
}

}  // namespace
