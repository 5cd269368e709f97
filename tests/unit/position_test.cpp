// READ POSITION in its three forms and READ BLOCK LIMITS, on responses shaped like an LTO
// drive's.
#include <gtest/gtest.h>

#include "scsi/parse_error.hpp"
#include "scsi/position.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;

namespace {

TEST(ReadPosition, ShortFormAtBop) {
  const Bytes d{0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const auto p = parse_read_position(cdb::ReadPositionForm::short_block_id, d);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p.value().beginning_of_partition);
  EXPECT_EQ(p.value().partition, 0U);
  EXPECT_EQ(p.value().first_logical_object, 0U);
  EXPECT_EQ(p.value().objects_in_buffer, 0U);
  EXPECT_EQ(p.value().bytes_in_buffer, 0U);
}

TEST(ReadPosition, ShortFormWithBufferedData) {
  // Block 1000 next from the host, block 990 next to the medium, 10 blocks of 2.5 MiB buffered.
  const Bytes d{0x00, 0x01, 0, 0, 0x00, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x03, 0xDE,
                0x00, 0x00, 0x00, 0x0A, 0x00, 0x28, 0x00, 0x00};
  const auto p = parse_read_position(cdb::ReadPositionForm::short_block_id, d).value();
  EXPECT_FALSE(p.beginning_of_partition);
  EXPECT_EQ(p.partition, 1U);
  EXPECT_EQ(p.first_logical_object, 1000U);
  EXPECT_EQ(p.last_logical_object, 990U);
  EXPECT_EQ(p.objects_in_buffer, 10U);
  EXPECT_EQ(p.bytes_in_buffer, 0x280000U);
}

TEST(ReadPosition, ShortFormUnknownFieldsAreAbsent) {
  Bytes d(20, 0);
  d[0] = 0x20 | 0x10 | 0x04 | 0x01;  // LOCU BYCU LOLU BPEW
  const auto p = parse_read_position(cdb::ReadPositionForm::short_block_id, d).value();
  EXPECT_FALSE(p.first_logical_object.has_value());
  EXPECT_FALSE(p.partition.has_value());
  EXPECT_FALSE(p.objects_in_buffer.has_value());
  EXPECT_FALSE(p.bytes_in_buffer.has_value());
  EXPECT_TRUE(p.beyond_early_warning);
}

TEST(ReadPosition, LongForm) {
  Bytes d(32, 0);
  d[0] = 0x40;  // EOP
  d[7] = 2;     // partition 2
  d[13] = 0x01;
  d[14] = 0x86;
  d[15] = 0xA0;  // object 100000
  d[23] = 7;     // file 7
  const auto p = parse_read_position(cdb::ReadPositionForm::long_form, d).value();
  EXPECT_TRUE(p.end_of_partition);
  EXPECT_EQ(p.partition, 2U);
  EXPECT_EQ(p.first_logical_object, 100000U);
  EXPECT_EQ(p.logical_file, 7U);
  EXPECT_FALSE(p.last_logical_object.has_value());
}

TEST(ReadPosition, LongFormMarkPositionUnknown) {
  Bytes d(32, 0);
  d[0] = 0x08 | 0x04;  // MPU LONU
  const auto p = parse_read_position(cdb::ReadPositionForm::long_form, d).value();
  EXPECT_TRUE(p.mark_position_unknown);
  EXPECT_FALSE(p.logical_file.has_value());
  EXPECT_FALSE(p.first_logical_object.has_value());
}

TEST(ReadPosition, ExtendedForm) {
  Bytes d(32, 0);
  d[1] = 0;
  d[3] = 0x1C;
  d[7] = 3;                        // 3 objects buffered
  d[11] = 0x01;                    // first 0x1_0000_0000
  d[15] = 0x00;
  d[23] = 0xFE;                    // last: 254
  d[29] = 0x0C;                    // 0xC0000 bytes
  const auto p = parse_read_position(cdb::ReadPositionForm::extended, d).value();
  EXPECT_EQ(p.first_logical_object, 0x1'0000'0000ULL);
  EXPECT_EQ(p.last_logical_object, 254U);
  EXPECT_EQ(p.objects_in_buffer, 3U);
  EXPECT_EQ(p.bytes_in_buffer, 0xC0000U);
}

TEST(ReadPosition, ExtendedFormRejectsShortAdditionalLength) {
  Bytes d(32, 0);
  d[3] = 0x10;
  EXPECT_EQ(parse_read_position(cdb::ReadPositionForm::extended, d).error(), ParseError::bad_length);
}

TEST(ReadPosition, Truncated) {
  const Bytes d(19, 0);
  EXPECT_EQ(parse_read_position(cdb::ReadPositionForm::short_block_id, d).error(),
            ParseError::truncated);
  const Bytes l(31, 0);
  EXPECT_EQ(parse_read_position(cdb::ReadPositionForm::long_form, l).error(), ParseError::truncated);
  EXPECT_EQ(parse_read_position(cdb::ReadPositionForm::extended, l).error(), ParseError::truncated);
}

TEST(BlockLimits, LtoDrive) {
  // LTO: granularity 0, maximum 8 MiB, minimum 1 byte.
  const Bytes d{0x00, 0x80, 0x00, 0x00, 0x00, 0x01};
  const auto l = parse_block_limits(d).value();
  EXPECT_EQ(l.granularity, 0);
  EXPECT_EQ(l.maximum_block_length, 0x800000U);
  EXPECT_EQ(l.minimum_block_length, 1);
  EXPECT_FALSE(l.fixed_only());
  EXPECT_FALSE(l.maximum_logical_object_identifier.has_value());
}

TEST(BlockLimits, ScsiDebugAndMlocForm) {
  // scsi_debug reports 512 .. 1 MiB; with MLOC, 20 bytes.
  Bytes d{0x00, 0x10, 0x00, 0x00, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x27, 0x10};
  const auto l = parse_block_limits(d).value();
  EXPECT_EQ(l.maximum_block_length, 1048576U);
  EXPECT_EQ(l.minimum_block_length, 512);
  EXPECT_EQ(l.maximum_logical_object_identifier, 10000U);
}

TEST(BlockLimits, FixedOnlyAndInconsistent) {
  EXPECT_TRUE(parse_block_limits(Bytes{0, 0, 0x02, 0x00, 0x02, 0x00}).value().fixed_only());
  EXPECT_EQ(parse_block_limits(Bytes{0, 0, 0x01, 0x00, 0x02, 0x00}).error(), ParseError::bad_length);
  EXPECT_EQ(parse_block_limits(Bytes{0, 0, 0}).error(), ParseError::truncated);
}

}  // namespace
