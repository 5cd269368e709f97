// drive::prepare_control: the command each operation becomes on an LTO and on an old drive
// (SPACE(6), LOCATE(10)), the timeout class and direction of each, and the range checks.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "drive_test_rig.hpp"

using namespace tapestream;
using namespace tapestream::test;
using drive::ControlOp;
using drive::Ending;

namespace {

std::string refusal(ControlOp op, std::int64_t argument,
                    const drive::DriveIdentity& id = lto_identity()) {
  auto p = drive::prepare_control({op, argument, false}, id);
  return p ? std::string{"accepted"} : p.error().what();
}

std::uint64_t be(const scsi::Command& c, std::size_t at, std::size_t length) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < length; ++i) {
    v = (v << 8) | c.cdb.at(at + i);
  }
  return v;
}

// ---- prepare_control: the command of each operation ----

TEST(PrepareControl, Rewind) {
  auto p = prepared(ControlOp::rewind);
  ASSERT_TRUE(p.command);
  EXPECT_EQ(p.command->cdb[0], 0x01);
  EXPECT_EQ(p.command->cdb[1], 0x00);
  EXPECT_EQ(p.command->timeout_class, scsi::TimeoutClass::rewind);
  EXPECT_EQ(prepared(ControlOp::rewind, 0, true).command->cdb[1], 0x01);  // Immed
}

TEST(PrepareControl, LoadAndUnload) {
  auto load = prepared(ControlOp::load);
  ASSERT_TRUE(load.command);
  EXPECT_EQ(load.command->cdb[0], 0x1B);
  EXPECT_EQ(load.command->cdb[4], 0x01);  // LOAD
  EXPECT_EQ(load.command->cdb[1], 0x00);
  EXPECT_EQ(load.command->timeout_class, scsi::TimeoutClass::load);
  auto unload = prepared(ControlOp::unload, 0, true);
  ASSERT_TRUE(unload.command);
  EXPECT_EQ(unload.command->cdb[0], 0x1B);
  EXPECT_EQ(unload.command->cdb[4], 0x00);
  EXPECT_EQ(unload.command->cdb[1], 0x01);  // Immed
  EXPECT_EQ(unload.command->timeout_class, scsi::TimeoutClass::unload);
}

TEST(PrepareControl, WriteFilemarksWaitsForTheMedium) {
  auto p = prepared(ControlOp::write_filemarks, 3, true);
  ASSERT_TRUE(p.command);
  EXPECT_EQ(p.command->cdb[0], 0x10);
  EXPECT_EQ(p.command->cdb[1], 0x00);  // Immed=0 even when asked: the marks are on the medium
  EXPECT_EQ(be(*p.command, 2, 3), 3U);
  EXPECT_EQ(prepared(ControlOp::write_filemarks, 0).command->cdb[0], 0x10);  // flush
  EXPECT_EQ(be(*prepared(ControlOp::write_filemarks, 0xFF'FFFF).command, 2, 3), 0xFF'FFFFU);
}

TEST(PrepareControl, SpaceSixteenOnLto) {
  struct Case {
    ControlOp op;
    std::uint8_t code;
    std::int64_t count;
  };
  for (const auto& c : {Case{ControlOp::space_files_forward, 0x1, 5},
                        Case{ControlOp::space_files_back, 0x1, -5},
                        Case{ControlOp::space_blocks_forward, 0x0, 0x100'0000},
                        Case{ControlOp::space_blocks_back, 0x0, -7}}) {
    auto p = prepared(c.op, c.count < 0 ? -c.count : c.count);
    ASSERT_TRUE(p.command);
    EXPECT_EQ(p.command->cdb[0], 0x91);
    EXPECT_EQ(p.command->cdb[1], c.code);
    EXPECT_EQ(static_cast<std::int64_t>(be(*p.command, 4, 8)), c.count);
    EXPECT_EQ(p.command->timeout_class, scsi::TimeoutClass::position);
  }
}

TEST(PrepareControl, SpaceSixOnOldDrives) {
  auto fwd = prepared(ControlOp::space_files_forward, 5, false, old_identity());
  ASSERT_TRUE(fwd.command);
  EXPECT_EQ(fwd.command->cdb[0], 0x11);
  EXPECT_EQ(fwd.command->cdb[1], 0x01);
  EXPECT_EQ(be(*fwd.command, 2, 3), 5U);
  auto back = prepared(ControlOp::space_blocks_back, 2, false, old_identity());
  ASSERT_TRUE(back.command);
  EXPECT_EQ(back.command->cdb[0], 0x11);
  EXPECT_EQ(back.command->cdb[1], 0x00);
  EXPECT_EQ(be(*back.command, 2, 3), 0xFF'FFFEU);  // -2 in 24 bits
  auto most = prepared(ControlOp::space_blocks_forward, 0x7F'FFFF, false, old_identity());
  ASSERT_TRUE(most.command);
  EXPECT_EQ(be(*most.command, 2, 3), 0x7F'FFFFU);
}

TEST(PrepareControl, SpaceOverNothingOnlyReportsThePosition) {
  EXPECT_FALSE(prepared(ControlOp::space_files_forward, 0).command);
  EXPECT_FALSE(prepared(ControlOp::space_blocks_back, 0).command);
}

TEST(PrepareControl, EndOfData) {
  auto lto = prepared(ControlOp::end_of_data);
  ASSERT_TRUE(lto.command);
  EXPECT_EQ(lto.command->cdb[0], 0x91);
  EXPECT_EQ(lto.command->cdb[1], 0x03);
  auto old = prepared(ControlOp::end_of_data, 0, false, old_identity());
  ASSERT_TRUE(old.command);
  EXPECT_EQ(old.command->cdb[0], 0x11);
  EXPECT_EQ(old.command->cdb[1], 0x03);
}

TEST(PrepareControl, TellSendsNoCommand) {
  EXPECT_FALSE(prepared(ControlOp::tell).command);
}

TEST(PrepareControl, LocateBlock) {
  auto lto = prepared(ControlOp::locate_block, 0x1'2345'6789, true);
  ASSERT_TRUE(lto.command);
  EXPECT_EQ(lto.command->cdb[0], 0x92);
  EXPECT_EQ(lto.command->cdb[1] & 0x01, 0x01);  // Immed
  EXPECT_EQ((lto.command->cdb[1] >> 3) & 0x07, 0);  // logical object
  EXPECT_EQ(be(*lto.command, 4, 8), 0x1'2345'6789U);
  EXPECT_EQ(lto.command->timeout_class, scsi::TimeoutClass::position);
  auto old = prepared(ControlOp::locate_block, 1000, false, old_identity());
  ASSERT_TRUE(old.command);
  EXPECT_EQ(old.command->cdb[0], 0x2B);
  EXPECT_EQ(old.command->cdb[1] & 0x01, 0x00);
  EXPECT_EQ(be(*old.command, 3, 4), 1000U);
}

TEST(PrepareControl, Erase) {
  auto short_erase = prepared(ControlOp::erase, 0);
  ASSERT_TRUE(short_erase.command);
  EXPECT_EQ(short_erase.command->cdb[0], 0x19);
  EXPECT_EQ(short_erase.command->cdb[1], 0x00);
  EXPECT_EQ(short_erase.command->timeout_class, scsi::TimeoutClass::erase_short);
  auto long_erase = prepared(ControlOp::erase, 1, true);
  ASSERT_TRUE(long_erase.command);
  EXPECT_EQ(long_erase.command->cdb[1], 0x03);  // Immed, Long
  EXPECT_EQ(long_erase.command->timeout_class, scsi::TimeoutClass::erase_long);
}

TEST(PrepareControl, SetBlockSizeIsModeSelectWithABlockDescriptor) {
  auto p = prepared(ControlOp::set_block_size, 65536);
  ASSERT_TRUE(p.command);
  EXPECT_EQ(p.command->cdb[0], 0x15);
  EXPECT_EQ(p.command->cdb[1] & 0x10, 0x10);  // PF
  ASSERT_EQ(p.parameters.size(), 12U);        // header and one descriptor
  EXPECT_EQ(p.command->cdb[4], 12);
  EXPECT_EQ(p.parameters[3], 8);  // block descriptor length
  EXPECT_EQ(p.parameters[9], 0x01);
  EXPECT_EQ(p.parameters[10], 0x00);
  EXPECT_EQ(p.parameters[11], 0x00);
  auto variable = prepared(ControlOp::set_block_size, 0);
  ASSERT_EQ(variable.parameters.size(), 12U);
  EXPECT_EQ(variable.parameters[9] | variable.parameters[10] | variable.parameters[11], 0);
  // The drive's own maximum is allowed; a drive that gave no limits takes any size.
  EXPECT_TRUE(prepared(ControlOp::set_block_size, 0x80'0000).command);
  auto unlimited = lto_identity();
  unlimited.max_block_length = 0;
  EXPECT_TRUE(prepared(ControlOp::set_block_size, 0x80'0001, false, unlimited).command);
}

TEST(PrepareControl, CompressionIsModeSelectOfTheCompressionPage) {
  for (const bool on : {false, true}) {
    auto p = prepared(ControlOp::compression, on ? 1 : 0);
    ASSERT_TRUE(p.command);
    EXPECT_EQ(p.command->cdb[0], 0x15);
    ASSERT_EQ(p.parameters.size(), 20U);  // header and the 16-byte page, no descriptor
    EXPECT_EQ(p.command->cdb[4], 20);
    EXPECT_EQ(p.parameters[3], 0);
    EXPECT_EQ(p.parameters[4] & 0x3F, 0x0F);
    EXPECT_EQ((p.parameters[6] & 0x80) != 0, on) << "DCE";
  }
}

TEST(PrepareControl, ArgumentsOutOfRangeAreRefused) {
  const std::string minus_one = "argument -1 is out of range for this operation";
  EXPECT_EQ(refusal(ControlOp::write_filemarks, -1), minus_one);
  EXPECT_EQ(refusal(ControlOp::space_files_forward, -1), minus_one);
  EXPECT_EQ(refusal(ControlOp::space_files_back, -1), minus_one);
  EXPECT_EQ(refusal(ControlOp::space_blocks_forward, -1), minus_one);
  EXPECT_EQ(refusal(ControlOp::space_blocks_back, -1), minus_one);
  EXPECT_EQ(refusal(ControlOp::locate_block, -1), minus_one);
  EXPECT_EQ(refusal(ControlOp::set_block_size, -1), minus_one);
  EXPECT_EQ(refusal(ControlOp::compression, -1), minus_one);
  EXPECT_EQ(refusal(ControlOp::compression, 2),
            "argument 2 is out of range for this operation");
  EXPECT_EQ(refusal(ControlOp::write_filemarks, 0x100'0000),
            "argument 16777216 is out of range for this operation");
  EXPECT_EQ(refusal(ControlOp::set_block_size, 0x80'0001),
            "argument 8388609 is out of range for this operation");
  EXPECT_EQ(refusal(ControlOp::space_files_forward, std::int64_t{INT32_MAX} + 1),
            "argument 2147483648 is out of range for this operation");
}

TEST(PrepareControl, CountsBeyondSpaceSixAreRefusedOnOldDrives) {
  const auto old = old_identity();
  EXPECT_EQ(refusal(ControlOp::space_files_forward, 0x80'0000, old),
            "argument 8388608 is out of range for this operation");
  EXPECT_EQ(refusal(ControlOp::space_blocks_back, 0x80'0001, old),
            "argument 8388609 is out of range for this operation");
  EXPECT_EQ(refusal(ControlOp::space_blocks_back, 0x80'0000, old), "accepted");  // -2^23 fits
  EXPECT_EQ(refusal(ControlOp::locate_block, std::int64_t{UINT32_MAX} + 1, old),
            "argument 4294967296 is out of range for this operation");
  EXPECT_EQ(refusal(ControlOp::space_files_forward, 0x80'0000), "accepted");  // SPACE(16)
}

}  // namespace
