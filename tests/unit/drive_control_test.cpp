// drive::prepare_control, Drive::control and Drive::refresh_state against a scripted transport
// (fake_transport.hpp): the command each operation becomes, the range checks, the timeouts
// from the drive's table, the position after an operation, the endings of failed commands,
// and the known state a refresh leaves.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "drive/control.hpp"
#include "drive/drive.hpp"
#include "fake_transport.hpp"

using namespace tapestream;
using namespace tapestream::test;
using drive::ControlOp;
using drive::Ending;

namespace {

drive::DriveIdentity lto_identity() {
  drive::DriveIdentity id;
  id.vendor = "IBM";
  id.product = "ULT3580-TD9";
  id.max_block_length = 0x80'0000;
  return id;
}

// scsi_debug's tape: SPACE(6), LOCATE(10), the short READ POSITION.
drive::DriveIdentity old_identity() {
  auto id = lto_identity();
  id.positioning.long_position = false;
  id.positioning.sixteen_byte = false;
  return id;
}

drive::PreparedControl prepared(ControlOp op, std::int64_t argument = 0, bool immediate = false,
                                const drive::DriveIdentity& id = lto_identity()) {
  auto p = drive::prepare_control({op, argument, immediate}, id);
  EXPECT_TRUE(p) << (p ? "" : p.error().what());
  return p ? std::move(p).value() : drive::PreparedControl{};
}

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

// ---- Drive::control ----

struct DriveRig {
  uring::Ring ring = uring::Ring::create({});
  uring::BufferPool pool = uring::BufferPool::create(ring, 2, 64 * 1024);
  FakeTransport* fake = nullptr;
  std::unique_ptr<drive::Drive> drive;
  scsi::TimeoutTable timeouts = distinct_timeouts();

  explicit DriveRig(drive::DriveIdentity identity = lto_identity()) {
    auto transport = std::make_unique<FakeTransport>(ring);
    fake = transport.get();
    drive = std::make_unique<drive::Drive>("fake0", std::move(transport), pool,
                                           std::vector<std::uint16_t>{0}, 1, timeouts);
    drive->set_identity(std::move(identity));
  }
  ~DriveRig() {
    // Nothing may be left in flight on the fake when it goes.
    EXPECT_EQ(fake->outstanding(), 0U);
    EXPECT_TRUE(run_until(ring, [&] { return ring.in_flight() == 0; }));
  }

  drive::ControlOutcome control(drive::PreparedControl operation) {
    std::optional<drive::ControlOutcome> outcome;
    int calls = 0;
    drive->control(std::move(operation), [&](const drive::ControlOutcome& o) {
      ++calls;
      outcome = o;
    });
    EXPECT_TRUE(run_until(ring, [&] { return outcome.has_value(); }));
    EXPECT_TRUE(run_until(ring, [&] { return ring.in_flight() == 0; }));
    EXPECT_EQ(calls, 1);
    return outcome.value_or(drive::ControlOutcome{Ending::internal});
  }
  std::chrono::milliseconds timeout_of(scsi::TimeoutClass c) const {
    return class_timeout(timeouts, c);
  }
};

constexpr std::uint8_t op_read_position = 0x34;

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

// ---- Drive::refresh_state ----

Bytes mode_sense(bool write_protected, std::uint8_t density, std::uint32_t block_size,
                 bool compression) {
  Bytes b{0, 0x00, static_cast<std::uint8_t>((write_protected ? 0x80 : 0) | 0x10), 8,
          density, 0, 0, 0, 0,
          static_cast<std::uint8_t>(block_size >> 16), static_cast<std::uint8_t>(block_size >> 8),
          static_cast<std::uint8_t>(block_size)};
  Bytes page(16, 0);
  page[0] = 0x0F;
  page[1] = 0x0E;
  page[2] = static_cast<std::uint8_t>(0x40 | (compression ? 0x80 : 0));  // DCC, DCE
  page[3] = 0x80;
  b.insert(b.end(), page.begin(), page.end());
  b[0] = static_cast<std::uint8_t>(b.size() - 1);
  return b;
}

TEST(RefreshState, PositionAndModeSenseBecomeTheKnownState) {
  DriveRig rig;
  EXPECT_FALSE(rig.drive->known_state().when);
  rig.fake->script = {good(long_position({.block = 42, .file = 3})),
                      good(mode_sense(true, 0x60, 65536, true))};
  int calls = 0;
  rig.drive->refresh_state([&] { ++calls; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return calls == 1; }));
  const auto& known = rig.drive->known_state();
  ASSERT_TRUE(known.position);
  EXPECT_EQ(known.position->block_number, 42U);
  EXPECT_EQ(known.position->file_number, std::optional<std::uint64_t>{3});
  EXPECT_TRUE(known.write_protected);
  EXPECT_TRUE(known.compression);
  EXPECT_EQ(known.block_size, 65536U);
  EXPECT_EQ(known.density_code, 0x60U);
  EXPECT_TRUE(known.when);
  ASSERT_EQ(rig.fake->log.size(), 2U);
  EXPECT_EQ(rig.fake->log[0].cdb[0], op_read_position);
  EXPECT_EQ(rig.fake->log[1].cdb[0], 0x1A);
  EXPECT_EQ(rig.fake->log[1].cdb[2] & 0x3F, 0x0F);
  EXPECT_EQ(rig.fake->log[1].timeout, rig.timeout_of(scsi::TimeoutClass::quick));
}

TEST(RefreshState, WritableVariableBlocksWithoutCompression) {
  DriveRig rig;
  rig.fake->script = {good(long_position({.bop = true})), good(mode_sense(false, 0x5C, 0, false))};
  bool done = false;
  rig.drive->refresh_state([&] { done = true; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return done; }));
  const auto& known = rig.drive->known_state();
  ASSERT_TRUE(known.position);
  EXPECT_TRUE(known.position->beginning);
  EXPECT_FALSE(known.write_protected);
  EXPECT_FALSE(known.compression);
  EXPECT_EQ(known.block_size, 0U);
  EXPECT_EQ(known.density_code, 0x5CU);
}

TEST(RefreshState, NoPositionWithoutACartridge) {
  DriveRig rig;
  rig.fake->script = {no_medium(), no_medium()};
  bool done = false;
  rig.drive->refresh_state([&] { done = true; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return done; }));
  EXPECT_FALSE(rig.drive->known_state().position);
  EXPECT_TRUE(rig.drive->known_state().when);  // asked, and the drive answered
  EXPECT_EQ(rig.fake->log.size(), 2U);
}

TEST(RefreshState, ConcurrentRefreshesShareOnePairOfCommands) {
  DriveRig rig;
  rig.fake->script = {good(long_position({.block = 8})), good(mode_sense(false, 0x60, 0, true))};
  int a = 0;
  int b = 0;
  int c = 0;
  rig.drive->refresh_state([&] { ++a; });
  rig.drive->refresh_state([&] { ++b; });
  rig.drive->refresh_state([&] { ++c; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return a + b + c == 3; }));
  ASSERT_TRUE(run_until(rig.ring, [&] { return rig.ring.in_flight() == 0; }));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(c, 1);
  EXPECT_EQ(rig.fake->log.size(), 2U);
  EXPECT_EQ(rig.drive->known_state().position->block_number, 8U);
}

TEST(RefreshState, ALaterRefreshAsksAgain) {
  DriveRig rig;
  rig.fake->script = {good(long_position({.block = 1})), good(mode_sense(false, 0x60, 0, false)),
                      good(long_position({.block = 2})), good(mode_sense(true, 0x60, 0, false))};
  int calls = 0;
  rig.drive->refresh_state([&] { ++calls; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return calls == 1; }));
  rig.drive->refresh_state([&] { ++calls; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return calls == 2; }));
  EXPECT_EQ(rig.fake->log.size(), 4U);
  EXPECT_EQ(rig.drive->known_state().position->block_number, 2U);
  EXPECT_TRUE(rig.drive->known_state().write_protected);
}

TEST(RefreshState, WithdrawnWaiterIsNotCalled) {
  DriveRig rig;
  rig.fake->script = {good(long_position({})), good(mode_sense(false, 0x60, 0, false))};
  int withdrawn = 0;
  int kept = 0;
  const auto ticket = rig.drive->refresh_state([&] { ++withdrawn; });
  rig.drive->refresh_state([&] { ++kept; });
  rig.drive->withdraw_state_waiter(ticket);
  ASSERT_TRUE(run_until(rig.ring, [&] { return kept == 1; }));
  ASSERT_TRUE(run_until(rig.ring, [&] { return rig.ring.in_flight() == 0; }));
  EXPECT_EQ(withdrawn, 0);
  EXPECT_EQ(kept, 1);
  EXPECT_TRUE(rig.drive->known_state().when);
}

TEST(RefreshState, WithdrawingTheOnlyWaiterStillFinishesTheRefresh) {
  DriveRig rig;
  rig.fake->script = {good(long_position({.block = 11})), good(mode_sense(false, 0x60, 0, false))};
  int calls = 0;
  rig.drive->withdraw_state_waiter(rig.drive->refresh_state([&] { ++calls; }));
  ASSERT_TRUE(run_until(rig.ring, [&] { return rig.fake->completed == 2; }));
  EXPECT_EQ(calls, 0);
  ASSERT_TRUE(rig.drive->known_state().position);
  EXPECT_EQ(rig.drive->known_state().position->block_number, 11U);
  // And the next refresh is not stuck behind it.
  rig.fake->script = {good(long_position({.block = 12})), good(mode_sense(false, 0x60, 0, false))};
  rig.drive->refresh_state([&] { ++calls; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return calls == 1; }));
  EXPECT_EQ(rig.drive->known_state().position->block_number, 12U);
}

}  // namespace
