// Drive::state() against a scripted transport (fake_transport.hpp): what each answer, stream
// and control outcome makes of the drive's state, and what clears a failure.
#include <gtest/gtest.h>

#include "drive_test_rig.hpp"

using namespace tapestream;
using namespace tapestream::test;
using drive::ControlOp;
using drive::DriveState;
using drive::Ending;

namespace {

void refresh(DriveRig& rig, std::vector<Reply> replies) {
  rig.fake->script.assign(replies.begin(), replies.end());
  bool done = false;
  rig.drive->refresh_state([&] { done = true; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return done; }));
  ASSERT_TRUE(run_until(rig.ring, [&] { return rig.ring.in_flight() == 0; }));
}

Reply drive_error() { return check({.key = 0x4, .asc = 0x44, .ascq = 0x00}); }

TEST(DriveState, NeverAskedIsLoadedWithThePositionUnknown) {
  DriveRig rig;
  EXPECT_EQ(rig.drive->state(), DriveState::loaded);
}

TEST(DriveState, AnAnswerWithAPositionIsPositioned) {
  DriveRig rig;
  refresh(rig, {good(long_position({.block = 7, .file = 1})), good()});
  EXPECT_EQ(rig.drive->state(), DriveState::positioned);
}

TEST(DriveState, BeyondEarlyWarningIsSaid) {
  DriveRig rig;
  refresh(rig, {good(long_position({.eop = true, .block = 9, .file = 2})), good()});
  EXPECT_EQ(rig.drive->state(), DriveState::at_early_warning);
}

TEST(DriveState, NoCartridgeIsNoMedium) {
  DriveRig rig;
  refresh(rig, {no_medium(), no_medium()});
  EXPECT_EQ(rig.drive->state(), DriveState::no_medium);
  refresh(rig, {good(long_position({.bop = true})), good()});  // a cartridge was put in
  EXPECT_EQ(rig.drive->state(), DriveState::positioned);
}

TEST(DriveState, AStreamIsWritingOrReadingWhateverElseIsKnown) {
  DriveRig rig;
  refresh(rig, {good(long_position({.file = 1})), good()});
  rig.drive->stream_began(true);
  EXPECT_EQ(rig.drive->state(), DriveState::writing);
  rig.drive->stream_ended(Ending::complete);
  EXPECT_EQ(rig.drive->state(), DriveState::positioned);
  rig.drive->stream_began(false);
  EXPECT_EQ(rig.drive->state(), DriveState::reading);
  rig.drive->stream_ended(Ending::client_gone);  // the client's doing: nothing of the drive's
  EXPECT_EQ(rig.drive->state(), DriveState::positioned);
}

TEST(DriveState, TheStreamsTheDriveMakesMarkItWritingOrReading) {
  DriveRig rig;
  refresh(rig, {good(long_position({.file = 1})), good()});
  const auto commands = rig.fake->log.size();
  auto write = rig.drive->write_stream({}, [](const drive::StreamOutcome&) {});
  ASSERT_TRUE(write);
  EXPECT_EQ(rig.drive->state(), DriveState::writing);
  write.reset();
  rig.drive->stream_ended(Ending::complete);
  EXPECT_EQ(rig.drive->state(), DriveState::positioned);
  auto read = rig.drive->read_stream([](const drive::StreamOutcome&) {});
  ASSERT_TRUE(read);
  EXPECT_EQ(rig.drive->state(), DriveState::reading);
  EXPECT_EQ(rig.fake->log.size(), commands) << "a stream sent a command before its start()";
}

TEST(DriveState, AFailedStreamStaysFailedUntilTheDriveAnswersAgain) {
  DriveRig rig;
  refresh(rig, {good(long_position({.file = 1})), good()});
  rig.drive->stream_began(true);
  rig.drive->stream_ended(Ending::drive_error);
  EXPECT_EQ(rig.drive->state(), DriveState::failed);
  refresh(rig, {drive_error(), drive_error()});  // READ POSITION fails too: still failed
  EXPECT_EQ(rig.drive->state(), DriveState::failed);
  refresh(rig, {good(long_position({.block = 3, .file = 1})), good()});
  EXPECT_EQ(rig.drive->state(), DriveState::positioned);
}

TEST(DriveState, AControlThatTimesOutLeavesTheDriveFailedAndOneThatWorksClearsIt) {
  DriveRig rig;
  Reply late;
  late.timed_out = true;
  rig.fake->script = {late};
  EXPECT_EQ(rig.control(prepared(ControlOp::rewind)).ending, Ending::timeout);
  EXPECT_EQ(rig.drive->state(), DriveState::failed);
  rig.fake->script = {good(), good(long_position({.bop = true}))};
  EXPECT_EQ(rig.control(prepared(ControlOp::rewind)).ending, Ending::complete);
  EXPECT_EQ(rig.drive->state(), DriveState::positioned);
}

TEST(DriveState, AnUnloadLeavesNoPosition) {
  DriveRig rig;
  refresh(rig, {good(long_position({.file = 4})), good()});
  rig.fake->script = {good(), no_medium()};  // UNLOAD, then READ POSITION without a cartridge
  EXPECT_EQ(rig.control(prepared(ControlOp::unload)).ending, Ending::complete);
  EXPECT_EQ(rig.drive->state(), DriveState::loaded);  // until the next answer says more
  refresh(rig, {no_medium(), no_medium()});
  EXPECT_EQ(rig.drive->state(), DriveState::no_medium);
}

TEST(DriveState, AControlWithoutACartridgeIsNoMedium) {
  DriveRig rig;
  refresh(rig, {good(long_position({.file = 4})), good()});
  rig.fake->script = {no_medium(), no_medium()};
  EXPECT_EQ(rig.control(prepared(ControlOp::rewind)).ending, Ending::no_medium);
  EXPECT_EQ(rig.drive->state(), DriveState::no_medium);
}

}  // namespace
