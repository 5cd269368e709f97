// Drive::control against a scripted transport (fake_transport.hpp): the position after an
// operation, the endings of failed commands, the timeouts from the drive's table, and the
// order of queued operations' commands.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "drive_test_rig.hpp"

using namespace tapestream;
using namespace tapestream::test;
using drive::ControlOp;
using drive::Ending;

namespace {

// ---- Drive::control ----

TEST(DriveControl, RewindThenReadPositionGivesThePosition) {
  DriveRig rig;
  rig.fake->script = {good(), good(long_position({.bop = true, .block = 0, .file = 0}))};
  const auto outcome = rig.control(prepared(ControlOp::rewind));
  EXPECT_EQ(outcome.ending, Ending::complete);
  EXPECT_TRUE(outcome.message.empty());
  ASSERT_TRUE(outcome.position);
  EXPECT_TRUE(outcome.position->beginning);
  EXPECT_FALSE(outcome.position->early_warning);
  EXPECT_EQ(outcome.position->block_number, 0U);
  EXPECT_EQ(outcome.position->file_number, std::optional<std::uint64_t>{0});
  ASSERT_EQ(rig.fake->log.size(), 2U);
  EXPECT_EQ(rig.fake->log[0].cdb[0], 0x01);
  EXPECT_EQ(rig.fake->log[1].cdb[0], op_read_position);
  EXPECT_EQ(rig.fake->log[1].cdb[1], 0x06);  // long form
  EXPECT_EQ(rig.fake->log[1].slice_length, 32U);
}

TEST(DriveControl, PositionCarriesBlockFileAndEarlyWarning) {
  DriveRig rig;
  rig.fake->script = {good(), good(long_position({.eop = true, .block = 123'456'789, .file = 7}))};
  const auto outcome = rig.control(prepared(ControlOp::space_files_forward, 2));
  EXPECT_EQ(outcome.ending, Ending::complete);
  ASSERT_TRUE(outcome.position);
  EXPECT_FALSE(outcome.position->beginning);
  EXPECT_TRUE(outcome.position->early_warning);
  EXPECT_EQ(outcome.position->block_number, 123'456'789U);
  EXPECT_EQ(outcome.position->file_number, std::optional<std::uint64_t>{7});
  EXPECT_FALSE(outcome.residue);
}

TEST(DriveControl, TellSendsOnlyReadPosition) {
  DriveRig rig;
  rig.fake->script = {good(long_position({.block = 99, .file = 2}))};
  const auto outcome = rig.control(prepared(ControlOp::tell));
  EXPECT_EQ(outcome.ending, Ending::complete);
  ASSERT_TRUE(outcome.position);
  EXPECT_EQ(outcome.position->block_number, 99U);
  EXPECT_EQ(rig.fake->opcodes(), std::vector<std::uint8_t>{op_read_position});
}

TEST(DriveControl, ShortFormPositionHasNoFileNumber) {
  DriveRig rig{old_identity()};
  rig.fake->script = {good(), good(short_position({.block = 4321}))};
  const auto outcome =
      rig.control(prepared(ControlOp::locate_block, 4321, false, old_identity()));
  EXPECT_EQ(outcome.ending, Ending::complete);
  ASSERT_TRUE(outcome.position);
  EXPECT_EQ(outcome.position->block_number, 4321U);
  EXPECT_FALSE(outcome.position->file_number);
  ASSERT_EQ(rig.fake->log.size(), 2U);
  EXPECT_EQ(rig.fake->log[0].cdb[0], 0x2B);
  EXPECT_EQ(rig.fake->log[1].cdb[0], op_read_position);
  EXPECT_EQ(rig.fake->log[1].cdb[1], 0x00);  // short form
}

TEST(DriveControl, SpaceIntoAFilemarkEndsAsEndOfDataWithTheResidue) {
  DriveRig rig;
  rig.fake->script = {filemark_hit(4)};
  const auto outcome = rig.control(prepared(ControlOp::space_blocks_forward, 10));
  EXPECT_EQ(outcome.ending, Ending::end_of_data);
  EXPECT_EQ(outcome.condition, scsi::TapeCondition::filemark);
  EXPECT_EQ(outcome.residue, std::optional<std::uint64_t>{4});
  EXPECT_NE(outcome.message.find("4 not done"), std::string::npos) << outcome.message;
  EXPECT_NE(outcome.message.find("filemark"), std::string::npos) << outcome.message;
}

TEST(DriveControl, AFailedOperationCarriesWhereItLeftTheTape) {
  DriveRig rig;
  rig.fake->script = {filemark_hit(4), good(long_position({.block = 17, .file = 3}))};
  const auto outcome = rig.control(prepared(ControlOp::space_blocks_forward, 10));
  EXPECT_EQ(outcome.ending, Ending::end_of_data);
  ASSERT_TRUE(outcome.position);
  EXPECT_EQ(outcome.position->block_number, 17U);
  EXPECT_EQ(outcome.position->file_number, std::optional<std::uint64_t>{3});
  EXPECT_NE(outcome.message.find("the tape stands at file 3, block 17"), std::string::npos)
      << outcome.message;
  ASSERT_EQ(rig.fake->log.size(), 2U);
  EXPECT_EQ(rig.fake->log[1].cdb[0], op_read_position);
}

TEST(DriveControl, AFailedOperationWhoseDriveWillNotSayPositionSaysSo) {
  DriveRig rig;
  rig.fake->script = {no_medium(), no_medium()};
  const auto outcome = rig.control(prepared(ControlOp::rewind));
  EXPECT_EQ(outcome.ending, Ending::no_medium);
  EXPECT_FALSE(outcome.position);
  EXPECT_NE(outcome.message.find("where the tape stands is not known"), std::string::npos)
      << outcome.message;
}

TEST(DriveControl, SpaceIntoEndOfDataEndsAsEndOfData) {
  DriveRig rig;
  rig.fake->script = {end_of_data_hit(3)};
  const auto outcome = rig.control(prepared(ControlOp::space_files_forward, 5));
  EXPECT_EQ(outcome.ending, Ending::end_of_data);
  EXPECT_EQ(outcome.condition, scsi::TapeCondition::end_of_data);
  EXPECT_EQ(outcome.residue, std::optional<std::uint64_t>{3});
  EXPECT_NE(outcome.message.find("3 not done"), std::string::npos) << outcome.message;
}

TEST(DriveControl, SpaceBackIntoTheBeginningEndsAsEndOfData) {
  DriveRig rig;
  rig.fake->script = {beginning_hit(2)};
  const auto outcome = rig.control(prepared(ControlOp::space_files_back, 6));
  EXPECT_EQ(outcome.ending, Ending::end_of_data);
  EXPECT_EQ(outcome.condition, scsi::TapeCondition::beginning_of_medium);
  EXPECT_EQ(outcome.residue, std::optional<std::uint64_t>{2});
  EXPECT_NE(outcome.message.find("2 not done"), std::string::npos) << outcome.message;
}

TEST(DriveControl, NoCartridgeEndsAsNoMedium) {
  DriveRig rig;
  rig.fake->script = {no_medium()};
  const auto outcome = rig.control(prepared(ControlOp::rewind));
  EXPECT_EQ(outcome.ending, Ending::no_medium);
  EXPECT_EQ(outcome.condition, scsi::TapeCondition::no_medium);
  EXPECT_NE(outcome.message.find("no_medium"), std::string::npos) << outcome.message;
  EXPECT_FALSE(outcome.position);
}

TEST(DriveControl, TimedOutCommandEndsAsTimeout) {
  DriveRig rig;
  Reply late;
  late.timed_out = true;
  rig.fake->script = {late};
  const auto outcome = rig.control(prepared(ControlOp::locate_block, 5));
  EXPECT_EQ(outcome.ending, Ending::timeout);
  EXPECT_TRUE(outcome.timed_out);
  EXPECT_EQ(rig.fake->log.size(), 1U);  // no READ POSITION to a drive that may still be busy
}

TEST(DriveControl, TellFailsWhenReadPositionFails) {
  DriveRig rig;
  rig.fake->script = {no_medium()};
  const auto outcome = rig.control(prepared(ControlOp::tell));
  EXPECT_EQ(outcome.ending, Ending::no_medium);
  EXPECT_EQ(outcome.condition, scsi::TapeCondition::no_medium);
  EXPECT_FALSE(outcome.position);
  EXPECT_NE(outcome.message.find("does not say where the tape stands"), std::string::npos)
      << outcome.message;
}

TEST(DriveControl, TellFailsWhenReadPositionAnswersNothingUsable) {
  DriveRig rig;
  rig.fake->script = {good(Bytes(8, 0))};  // GOOD, but too short for the long form
  const auto outcome = rig.control(prepared(ControlOp::tell));
  EXPECT_EQ(outcome.ending, Ending::drive_error);
  EXPECT_FALSE(outcome.position);
}

TEST(DriveControl, UnloadIsCompleteWithoutAPosition) {
  DriveRig rig;
  rig.fake->script = {good(), no_medium()};
  const auto outcome = rig.control(prepared(ControlOp::unload));
  EXPECT_EQ(outcome.ending, Ending::complete);
  EXPECT_FALSE(outcome.position);
  EXPECT_EQ(rig.fake->opcodes(), (std::vector<std::uint8_t>{0x1B, op_read_position}));
}

TEST(DriveControl, CompressionOnIsReportedAndItsPageSent) {
  DriveRig rig;
  rig.fake->script = {good(), good(long_position({.block = 1, .file = 0}))};
  auto operation = prepared(ControlOp::compression, 1);
  const auto parameters = operation.parameters;
  const auto outcome = rig.control(std::move(operation));
  EXPECT_EQ(outcome.ending, Ending::complete);
  EXPECT_TRUE(outcome.compression_enabled);
  ASSERT_EQ(rig.fake->log.size(), 2U);
  EXPECT_EQ(rig.fake->log[0].cdb[0], 0x15);
  EXPECT_EQ(rig.fake->log[0].data_out, parameters);  // the parameter list reached the drive
}

TEST(DriveControl, EachCommandGetsItsClassTimeoutFromTheTable) {
  struct Case {
    ControlOp op;
    std::int64_t argument;
    scsi::TimeoutClass expected;
  };
  for (const auto& c : {Case{ControlOp::rewind, 0, scsi::TimeoutClass::rewind},
                        Case{ControlOp::load, 0, scsi::TimeoutClass::load},
                        Case{ControlOp::unload, 0, scsi::TimeoutClass::unload},
                        Case{ControlOp::write_filemarks, 1, scsi::TimeoutClass::filemark},
                        Case{ControlOp::space_files_forward, 1, scsi::TimeoutClass::position},
                        Case{ControlOp::space_blocks_back, 1, scsi::TimeoutClass::position},
                        Case{ControlOp::end_of_data, 0, scsi::TimeoutClass::position},
                        Case{ControlOp::locate_block, 9, scsi::TimeoutClass::position},
                        Case{ControlOp::erase, 0, scsi::TimeoutClass::erase_short},
                        Case{ControlOp::erase, 1, scsi::TimeoutClass::erase_long},
                        Case{ControlOp::set_block_size, 512, scsi::TimeoutClass::quick},
                        Case{ControlOp::compression, 0, scsi::TimeoutClass::quick}}) {
    SCOPED_TRACE(static_cast<int>(c.op));
    DriveRig rig;
    rig.fake->script = {good(), good(long_position({}))};
    const auto outcome = rig.control(prepared(c.op, c.argument));
    EXPECT_EQ(outcome.ending, Ending::complete);
    ASSERT_EQ(rig.fake->log.size(), 2U);
    EXPECT_EQ(rig.fake->log[0].timeout, rig.timeout_of(c.expected));
    EXPECT_EQ(rig.fake->log[1].timeout, rig.timeout_of(scsi::TimeoutClass::quick));
  }
}

TEST(DriveControl, DriveReportedTimeoutReplacesTheClassDefault) {
  // The drive's own recommendation for REWIND (REPORT SUPPORTED OPERATION CODES).
  auto table = distinct_timeouts();
  const scsi::SupportedCommand rewind{0x01, std::nullopt, 6, 100, 4321};
  ASSERT_EQ(table.adopt_drive_timeouts(std::span{&rewind, 1}), 1U);
  uring::Ring ring = uring::Ring::create({});
  auto pool = uring::BufferPool::create(ring, 1, 64 * 1024);
  auto transport = std::make_unique<FakeTransport>(ring);
  auto* fake = transport.get();
  drive::Drive d{"fake1", std::move(transport), pool, {}, 0, table};
  d.set_identity(lto_identity());
  fake->script = {good(), good(long_position({}))};
  bool done = false;
  d.control(prepared(ControlOp::rewind), [&](const drive::ControlOutcome&) { done = true; });
  ASSERT_TRUE(run_until(ring, [&] { return done && ring.in_flight() == 0; }));
  ASSERT_EQ(fake->log.size(), 2U);
  EXPECT_EQ(fake->log[0].timeout, std::chrono::milliseconds{4'321'000});
}

TEST(DriveControl, QueuedOperationsSendOneCommandAtATime) {
  DriveRig rig;
  rig.fake->respond = [](const scsi::Command& c) {
    return c.opcode() == scsi::Opcode::read_position ? good(long_position({.block = 5}))
                                                     : good();
  };
  std::vector<int> finished;
  rig.drive->control(prepared(ControlOp::rewind),
                     [&](const drive::ControlOutcome&) { finished.push_back(1); });
  rig.drive->control(prepared(ControlOp::space_blocks_forward, 5),
                     [&](const drive::ControlOutcome&) { finished.push_back(2); });
  // Nothing completes inside submit(): the second operation waits for the first.
  ASSERT_EQ(rig.fake->log.size(), 1U);
  EXPECT_EQ(rig.fake->log[0].cdb[0], 0x01);
  EXPECT_TRUE(finished.empty());
  ASSERT_TRUE(run_until(rig.ring, [&] { return finished.size() == 2; }));
  EXPECT_EQ(finished, (std::vector<int>{1, 2}));
  ASSERT_EQ(rig.fake->log.size(), 4U);
  for (const auto& s : rig.fake->log) {
    EXPECT_EQ(s.outstanding, 0U) << "a command was submitted before the one before it completed";
  }
  // The SPACE went to the drive after the REWIND, never before.
  const auto ops = rig.fake->opcodes();
  const auto rewind_at = std::find(ops.begin(), ops.end(), 0x01) - ops.begin();
  const auto space_at = std::find(ops.begin(), ops.end(), 0x91) - ops.begin();
  EXPECT_LT(rewind_at, space_at);
}

// Regression: Drive::control queued its READ POSITION from inside the command's completion,
// behind whatever was queued on the command runner meanwhile: with two operations queued the
// drive saw REWIND, SPACE, READ POSITION, READ POSITION, and the rewind's outcome carried the
// position after the SPACE (block 5, not the beginning). The follow-up now runs next.
TEST(DriveControl, EachOperationGetsThePositionAfterItsOwnCommand) {
  DriveRig rig;
  // The position the fake gives depends on the last motion command it saw.
  std::uint64_t block = 0;
  bool at_bop = true;
  rig.fake->respond = [&](const scsi::Command& c) {
    if (c.opcode() == scsi::Opcode::read_position) {
      return good(long_position({.bop = at_bop, .block = block}));
    }
    if (c.opcode() == scsi::Opcode::rewind) {
      block = 0;
      at_bop = true;
    } else if (c.opcode() == scsi::Opcode::space16) {
      block += 5;
      at_bop = false;
    }
    return good();
  };
  std::optional<drive::ControlOutcome> first;
  std::optional<drive::ControlOutcome> second;
  rig.drive->control(prepared(ControlOp::rewind),
                     [&](const drive::ControlOutcome& o) { first = o; });
  rig.drive->control(prepared(ControlOp::space_blocks_forward, 5),
                     [&](const drive::ControlOutcome& o) { second = o; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return first && second; }));
  EXPECT_EQ(rig.fake->opcodes(),
            (std::vector<std::uint8_t>{0x01, op_read_position, 0x91, op_read_position}));
  ASSERT_TRUE(first->position);
  EXPECT_TRUE(first->position->beginning);
  EXPECT_EQ(first->position->block_number, 0U);
  ASSERT_TRUE(second->position);
  EXPECT_EQ(second->position->block_number, 5U);
}

}  // namespace
