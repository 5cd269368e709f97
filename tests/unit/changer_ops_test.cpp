// What CHANGER_STATUS and CHANGER_MOVE do with a changer that answers as real ones do after a
// reset or an opened door (UNIT ATTENTION, then NOT READY while it takes stock), with a
// RECOVERED ERROR, and with a robot that failed in the middle of a move: a scripted transport
// (fake_transport.hpp) answering with element status built by the emulated library's model.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "emulated/library_model.hpp"
#include "fake_transport.hpp"
#include "scsi/smc.hpp"
#include "server/changer_ops.hpp"

using namespace tapestream;
using namespace tapestream::test;

namespace {

constexpr std::uint8_t read_element_status = 0xB8;
constexpr std::uint8_t move_medium = 0xA5;

Bytes elements(bool cartridge_in_drive) {
  emulated::LibraryModel model{{.slots = 4, .mail_slots = 0, .drive_serials = {"la"}}};
  const auto drive = emulated::LibraryShape::first_drive;
  const auto slot1 = emulated::LibraryShape::first_slot;
  model.place(cartridge_in_drive ? drive : slot1, "VOL001", slot1);
  model.place(slot1 + 1, "VOL002");
  return model.element_status(scsi::ElementType::all, 0, 0xFFFF, true, true, 0xFFFF);
}

struct ChangerRig {
  uring::Ring ring = uring::Ring::create({});
  FakeTransport changer{ring};
  std::vector<std::uint8_t> memory = std::vector<std::uint8_t>(1 << 20);
  std::string name = "lib0";
  std::map<std::uint16_t, std::string> drive_at{{emulated::LibraryShape::first_drive, "la"}};

  server::ChangerContext context() { return {changer, ring, {0, memory}, name, drive_at}; }
};

proto::ChangerMove load_slot1() { return {TS_CHANGER_LOAD, 1, 0, "lib0", "la"}; }

TEST(ChangerOps, AttentionsAndABecomingReadyChangerAreAskedAgain) {
  ChangerRig rig;
  rig.changer.script = {check({.key = 0x6, .asc = 0x29, .ascq = 0x00}),   // power on
                        check({.key = 0x6, .asc = 0x28, .ascq = 0x01}),   // a mail slot touched
                        check({.key = 0x2, .asc = 0x04, .ascq = 0x01}),   // taking stock
                        good(elements(false))};
  const auto answer = server::changer_inventory(rig.context());
  ASSERT_EQ(answer.status, proto::Status::ok) << answer.message;
  EXPECT_EQ(rig.changer.opcodes(), (std::vector<std::uint8_t>(4, read_element_status)));
  ASSERT_EQ(answer.frames.size(), 1U);
  bool drive_named = false;
  for (const auto& e : answer.frames[0].elements) {
    drive_named = drive_named || (e.kind == TS_ELEMENT_DRIVE && e.drive == "la");
  }
  EXPECT_TRUE(drive_named);

  // A MOVE MEDIUM refused with an attention was not done: it is sent again, once.
  rig.changer.log.clear();
  rig.changer.script = {good(elements(false)), check({.key = 0x6, .asc = 0x28, .ascq = 0x00}),
                        good(), good(elements(true))};
  const auto moved = server::changer_move(rig.context(), load_slot1());
  ASSERT_EQ(moved.status, proto::Status::ok) << moved.message;
  EXPECT_EQ(rig.changer.opcodes(), (std::vector<std::uint8_t>{read_element_status, move_medium,
                                                               move_medium, read_element_status}));
}

TEST(ChangerOps, AttentionsThatDoNotStopAreTheAnswer) {
  ChangerRig rig;
  rig.changer.respond = [](const scsi::Command&) {
    return check({.key = 0x6, .asc = 0x29, .ascq = 0x00});
  };
  const auto answer = server::changer_inventory(rig.context());
  EXPECT_EQ(answer.status, proto::Status::drive_error);
  EXPECT_EQ(rig.changer.log.size(), 4U);  // the first, then three more
  EXPECT_NE(answer.message.find("refused READ ELEMENT STATUS (UNIT ATTENTION"), std::string::npos)
      << answer.message;
}

TEST(ChangerOps, ARecoveredErrorIsAMoveDone) {
  ChangerRig rig;
  rig.changer.script = {good(elements(false)), check({.key = 0x1, .asc = 0x17, .ascq = 0x01}),
                        good(elements(true))};
  const auto moved = server::changer_move(rig.context(), load_slot1());
  ASSERT_EQ(moved.status, proto::Status::ok) << moved.message;
  ASSERT_TRUE(moved.moved);
  EXPECT_NE(moved.moved->to.flags & TS_ELEMENT_FULL, 0);
}

TEST(ChangerOps, ARobotThatFailedMidMoveIsNotSaidToHaveLeftTheCartridge) {
  ChangerRig rig;
  rig.changer.script = {good(elements(false)), check({.key = 0x4, .asc = 0x15, .ascq = 0x01})};
  const auto failed = server::changer_move(rig.context(), load_slot1());
  EXPECT_EQ(failed.status, proto::Status::drive_error);
  EXPECT_NE(failed.message.find("the robot may still hold the cartridge"), std::string::npos)
      << failed.message;
  EXPECT_EQ(failed.message.find("where it was"), std::string::npos) << failed.message;

  rig.changer.script = {good(elements(false)), Reply{0, {}, {}, true}};  // no answer at all
  const auto lost = server::changer_move(rig.context(), load_slot1());
  EXPECT_NE(lost.message.find("where the cartridge is now is not known"), std::string::npos)
      << lost.message;
}

TEST(ChangerOps, AChangerWithoutSmcSaysWhatItAnswered) {
  ChangerRig rig;
  rig.changer.script = {illegal_opcode()};
  const auto answer = server::changer_inventory(rig.context());
  EXPECT_EQ(answer.status, proto::Status::drive_error);
  EXPECT_NE(answer.message.find("library lib0: its changer refused READ ELEMENT STATUS (ILLEGAL "
                                "REQUEST, INVALID COMMAND OPERATION CODE)"),
            std::string::npos)
      << answer.message;
  EXPECT_EQ(rig.changer.log.size(), 1U);
}

}  // namespace
