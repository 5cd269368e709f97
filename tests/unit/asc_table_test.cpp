// The ASC/ASCQ table: ordered, unique, and complete for the codes tape conditions rely on.
#include <gtest/gtest.h>

#include "scsi/asc_table.hpp"

using namespace tapestream::scsi;

namespace {

TEST(AscTable, SortedAndUnique) {
  const auto table = asc_table();
  ASSERT_GT(table.size(), 300U);
  for (std::size_t i = 1; i < table.size(); ++i) {
    const auto previous = (table[i - 1].asc << 8) | table[i - 1].ascq;
    const auto current = (table[i].asc << 8) | table[i].ascq;
    EXPECT_LT(previous, current) << "entry " << i;
  }
}

TEST(AscTable, TapeCodes) {
  EXPECT_EQ(find_asc_text(0x00, 0x01), "FILEMARK DETECTED");
  EXPECT_EQ(find_asc_text(0x00, 0x02), "END-OF-PARTITION/MEDIUM DETECTED");
  EXPECT_EQ(find_asc_text(0x00, 0x04), "BEGINNING-OF-PARTITION/MEDIUM DETECTED");
  EXPECT_EQ(find_asc_text(0x00, 0x05), "END-OF-DATA DETECTED");
  EXPECT_EQ(find_asc_text(0x3A, 0x00), "MEDIUM NOT PRESENT");
  EXPECT_EQ(find_asc_text(0x50, 0x00), "WRITE APPEND ERROR");
  EXPECT_EQ(find_asc_text(0x3B, 0x00), "SEQUENTIAL POSITIONING ERROR");
  EXPECT_EQ(find_asc_text(0x14, 0x03), "END-OF-DATA NOT FOUND");
  EXPECT_EQ(find_asc_text(0x74, 0x71), "LOGICAL UNIT ACCESS NOT AUTHORIZED");
  // Disk-only codes are not in a tape table.
  EXPECT_FALSE(find_asc_text(0x01, 0x00).has_value());
  EXPECT_FALSE(find_asc_text(0x11, 0x04).has_value());
}

TEST(AscTable, ParameterisedVendorAndUnknown) {
  EXPECT_EQ(describe_asc(0x40, 0x85), "DIAGNOSTIC FAILURE ON COMPONENT 85h");
  EXPECT_EQ(describe_asc(0x70, 0x03), "DECOMPRESSION EXCEPTION SHORT ALGORITHM ID OF 03h");
  EXPECT_EQ(describe_asc(0x4D, 0x12), "TAGGED OVERLAPPED COMMANDS (TASK TAG 12h)");
  EXPECT_EQ(describe_asc(0x80, 0x01), "VENDOR SPECIFIC ASC 80h ASCQ 01h");
  EXPECT_EQ(describe_asc(0x3B, 0x90), "VENDOR SPECIFIC ASC 3Bh ASCQ 90h");
  EXPECT_EQ(describe_asc(0x7E, 0x01), "UNKNOWN ASC 7Eh ASCQ 01h");
  EXPECT_EQ(describe_asc(0x27, 0x00), "WRITE PROTECTED");
}

}  // namespace
