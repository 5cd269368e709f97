// drive::identify against a scripted transport (fake_transport.hpp): what it asks a drive at
// start-up, in which order, with which timeouts, and what it makes of the answers.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "drive/identity.hpp"
#include "fake_transport.hpp"

using namespace tapestream;
using namespace tapestream::test;

namespace {

constexpr std::uint8_t op_inquiry = 0x12;
constexpr std::uint8_t op_read_block_limits = 0x05;
constexpr std::uint8_t op_read_position = 0x34;
constexpr std::uint8_t op_space16 = 0x91;
constexpr std::uint8_t op_mode_sense6 = 0x1A;

Bytes standard_inquiry(std::uint8_t device_type) {
  Bytes b(36, ' ');
  b[0] = device_type;
  b[1] = 0x80;  // removable
  b[2] = 0x06;
  b[3] = 0x02;
  b[4] = 31;
  b[5] = b[6] = b[7] = 0;
  const std::string vendor = "IBM", product = "ULT3580-TD9", revision = "Q3A1";
  std::copy(vendor.begin(), vendor.end(), b.begin() + 8);
  std::copy(product.begin(), product.end(), b.begin() + 16);
  std::copy(revision.begin(), revision.end(), b.begin() + 32);
  return b;
}

Bytes unit_serial(const std::string& serial) {
  Bytes b{0x01, 0x80, 0x00, static_cast<std::uint8_t>(serial.size())};
  b.insert(b.end(), serial.begin(), serial.end());
  return b;
}

Bytes block_limits(std::uint32_t max, std::uint16_t min) {
  return {0x00, static_cast<std::uint8_t>(max >> 16), static_cast<std::uint8_t>(max >> 8),
          static_cast<std::uint8_t>(max), static_cast<std::uint8_t>(min >> 8),
          static_cast<std::uint8_t>(min)};
}

bool is_standard_inquiry(const scsi::Command& c) {
  return c.opcode() == scsi::Opcode::inquiry && (c.cdb[1] & 0x01) == 0;
}

// An LTO drive that answers everything.
Reply lto_drive(const scsi::Command& c) {
  switch (c.opcode()) {
    case scsi::Opcode::inquiry:
      if (is_standard_inquiry(c)) {
        return good(standard_inquiry(0x01));
      }
      if (c.cdb[2] == 0x80) {
        return good(unit_serial("10WT012345"));
      }
      return illegal_opcode();
    case scsi::Opcode::read_block_limits:
      return good(block_limits(0x80'0000, 1));
    case scsi::Opcode::read_position:
      return good(c.cdb[1] == 0x06 ? long_position({.bop = true}) : short_position({.bop = true}));
    default:
      return good();
  }
}

struct Rig {
  uring::Ring ring = uring::Ring::create({});
  uring::BufferPool pool = uring::BufferPool::create(ring, 1, 64 * 1024);
  FakeTransport drive{ring};
  scsi::TimeoutTable timeouts = distinct_timeouts();

  Rig() { drive.respond = lto_drive; }
  Result<drive::DriveIdentity, Failure> identify() {
    auto id = drive::identify(ring, drive, pool, 0, timeouts);
    EXPECT_EQ(drive.outstanding(), 0U);
    EXPECT_EQ(ring.in_flight(), 0U);
    return id;
  }
};

TEST(Identify, TapeDriveGivesItsNamesSerialBlockLimitsAndPositioning) {
  Rig rig;
  auto id = rig.identify();
  ASSERT_TRUE(id) << id.error().what();
  EXPECT_EQ(id.value().vendor, "IBM");
  EXPECT_EQ(id.value().product, "ULT3580-TD9");
  EXPECT_EQ(id.value().revision, "Q3A1");
  EXPECT_EQ(id.value().serial, "10WT012345");
  EXPECT_EQ(id.value().max_block_length, 0x80'0000U);
  EXPECT_TRUE(id.value().positioning.long_position);
  EXPECT_TRUE(id.value().positioning.sixteen_byte);

  // INQUIRY, VPD 80h, READ BLOCK LIMITS, READ POSITION long form, SPACE(16) over no blocks,
  // MODE SENSE of the Control Data Protection page's changeable values.
  const auto& log = rig.drive.log;
  ASSERT_EQ(log.size(), 6U);
  EXPECT_EQ(log[0].cdb[0], op_inquiry);
  EXPECT_EQ(log[0].cdb[1] & 0x01, 0);
  EXPECT_EQ(log[1].cdb[0], op_inquiry);
  EXPECT_EQ(log[1].cdb[1] & 0x01, 1);  // EVPD
  EXPECT_EQ(log[1].cdb[2], 0x80);
  EXPECT_EQ(log[2].cdb[0], op_read_block_limits);
  EXPECT_EQ(log[3].cdb[0], op_read_position);
  EXPECT_EQ(log[3].cdb[1], 0x06);
  EXPECT_EQ(log[4].cdb[0], op_space16);
  EXPECT_EQ(log[4].cdb[1] & 0x0F, 0x00);  // blocks
  EXPECT_EQ(Bytes(log[4].cdb.begin() + 4, log[4].cdb.begin() + 12), Bytes(8, 0));  // count 0
  // Every one of them from the table: the quick class, except SPACE's position class.
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(log[i].timeout, class_timeout(rig.timeouts, scsi::TimeoutClass::quick)) << i;
  }
  EXPECT_EQ(log[4].timeout, class_timeout(rig.timeouts, scsi::TimeoutClass::position));
  EXPECT_EQ(log[5].cdb[0], op_mode_sense6);
  EXPECT_EQ(log[5].cdb[2], 0x40 | 0x0A);  // changeable values of page 0Ah
  EXPECT_EQ(log[5].cdb[3], 0xF0);
  EXPECT_FALSE(id.value().offers_crc32c);  // an empty answer offers nothing
  for (const auto& s : log) {
    EXPECT_EQ(s.outstanding, 0U);  // one at a time
  }
}

TEST(Identify, DiskIsRefused) {
  Rig rig;
  rig.drive.respond = [](const scsi::Command& c) {
    return is_standard_inquiry(c) ? good(standard_inquiry(0x00)) : lto_drive(c);
  };
  auto id = rig.identify();
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().what(), "is not a tape drive (device type 0)");
  EXPECT_EQ(rig.drive.log.size(), 1U);  // nothing asked of a disk after INQUIRY
}

TEST(Identify, NoInquiryAnswerIsAFailure) {
  Rig rig;
  rig.drive.respond = [](const scsi::Command& c) {
    return is_standard_inquiry(c) ? check({.key = 0x4, .asc = 0x44, .ascq = 0x00})
                                  : lto_drive(c);
  };
  auto id = rig.identify();
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().what(), "does not answer INQUIRY");
}

TEST(Identify, GoodInquiryWithoutDataIsAFailure) {
  Rig rig;
  rig.drive.respond = [](const scsi::Command& c) {
    return is_standard_inquiry(c) ? good() : lto_drive(c);
  };
  auto id = rig.identify();
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().what(), "does not answer INQUIRY");
}

TEST(Identify, MissingSerialAndBlockLimitsLeaveThemEmpty) {
  Rig rig;
  rig.drive.respond = [](const scsi::Command& c) {
    if ((c.opcode() == scsi::Opcode::inquiry && !is_standard_inquiry(c)) ||
        c.opcode() == scsi::Opcode::read_block_limits) {
      return illegal_opcode();
    }
    return lto_drive(c);
  };
  auto id = rig.identify();
  ASSERT_TRUE(id) << id.error().what();
  EXPECT_EQ(id.value().serial, "");
  EXPECT_EQ(id.value().max_block_length, 0U);
  EXPECT_EQ(id.value().vendor, "IBM");
}

TEST(Identify, DriveRefusingLongPositionAndSpace16UsesTheOldCommands) {
  Rig rig;
  rig.drive.respond = [](const scsi::Command& c) {
    if ((c.opcode() == scsi::Opcode::read_position && c.cdb[1] == 0x06) ||
        c.opcode() == scsi::Opcode::space16) {
      return illegal_opcode();
    }
    return lto_drive(c);
  };
  auto id = rig.identify();
  ASSERT_TRUE(id) << id.error().what();
  EXPECT_FALSE(id.value().positioning.long_position);
  EXPECT_FALSE(id.value().positioning.sixteen_byte);
}

TEST(Identify, OnlyIllegalRequestMeansACommandIsNotTaken) {
  // No cartridge: READ POSITION and SPACE fail with NOT READY, which says nothing about
  // whether the drive implements them.
  Rig rig;
  rig.drive.respond = [](const scsi::Command& c) {
    if (c.opcode() == scsi::Opcode::read_position || c.opcode() == scsi::Opcode::space16) {
      return no_medium();
    }
    return lto_drive(c);
  };
  auto id = rig.identify();
  ASSERT_TRUE(id) << id.error().what();
  EXPECT_TRUE(id.value().positioning.long_position);
  EXPECT_TRUE(id.value().positioning.sixteen_byte);
}

TEST(Identify, UnitAttentionIsAnsweredByAskingAgain) {
  Rig rig;
  rig.drive.script = {unit_attention_reset(), unit_attention_reset()};
  auto id = rig.identify();
  ASSERT_TRUE(id) << id.error().what();
  EXPECT_EQ(id.value().product, "ULT3580-TD9");
  const auto ops = rig.drive.opcodes();
  ASSERT_GE(ops.size(), 3U);
  EXPECT_EQ(ops[0], op_inquiry);
  EXPECT_EQ(ops[1], op_inquiry);
  EXPECT_EQ(ops[2], op_inquiry);
  EXPECT_EQ(rig.drive.log[2].cdb, rig.drive.log[0].cdb);
  EXPECT_EQ(ops.size(), 8U);  // 3 INQUIRY, then the five others once each
}

TEST(Identify, UnitAttentionIsAskedAgainTwiceAtMost) {
  Rig rig;
  rig.drive.script = {unit_attention_reset(), unit_attention_reset(), unit_attention_reset(),
                      good(standard_inquiry(0x01))};
  auto id = rig.identify();
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().what(), "does not answer INQUIRY");
  EXPECT_EQ(rig.drive.opcodes(), (std::vector<std::uint8_t>{op_inquiry, op_inquiry, op_inquiry}));
}

TEST(Identify, UnitAttentionBeforeAPositioningProbeDoesNotHideItsAnswer) {
  Rig rig;
  rig.drive.respond = [](const scsi::Command& c) {
    if (c.opcode() == scsi::Opcode::space16) {
      return illegal_opcode();
    }
    return lto_drive(c);
  };
  // INQUIRY, VPD, RBL, READ POSITION good; SPACE(16): a unit attention, then ILLEGAL REQUEST.
  rig.drive.script = {good(standard_inquiry(0x01)), good(unit_serial("S1")),
                      good(block_limits(0x1'0000, 1)), good(long_position({})),
                      unit_attention_reset()};
  auto id = rig.identify();
  ASSERT_TRUE(id) << id.error().what();
  EXPECT_TRUE(id.value().positioning.long_position);
  EXPECT_FALSE(id.value().positioning.sixteen_byte);
  EXPECT_EQ(id.value().max_block_length, 0x1'0000U);
  EXPECT_EQ(rig.drive.opcodes(),
            (std::vector<std::uint8_t>{op_inquiry, op_inquiry, op_read_block_limits,
                                       op_read_position, op_space16, op_space16,
                                       op_mode_sense6}));
}

// Logical Block Protection: offered when the changeable values take method 2 with both bits;
// a drive without the page (scsi_debug) refuses the MODE SENSE and offers nothing.
Bytes protection_page_changeable(std::uint8_t method_mask, std::uint8_t bits_mask) {
  Bytes b{0, 0, 0, 0, 0x4A, 0xF0, 0x00, 0x1C, method_mask, 0x3F, bits_mask};
  b.resize(4 + 32, 0);
  b[0] = static_cast<std::uint8_t>(b.size() - 1);
  return b;
}

TEST(Identify, ProtectionIsOfferedWhenTheChangeablePageTakesCrc32c) {
  for (const auto& [method, bits, offered] :
       {std::tuple{0xFF, 0xE0, true}, {0x01, 0xE0, false}, {0xFF, 0x80, false}}) {
    Rig rig;
    rig.drive.respond = [method, bits](const scsi::Command& c) {
      if (c.opcode() == scsi::Opcode::mode_sense6) {
        return good(protection_page_changeable(static_cast<std::uint8_t>(method),
                                               static_cast<std::uint8_t>(bits)));
      }
      return lto_drive(c);
    };
    auto id = rig.identify();
    ASSERT_TRUE(id) << id.error().what();
    EXPECT_EQ(id.value().offers_crc32c, offered) << method << " " << bits;
  }
  Rig rig;
  rig.drive.respond = [](const scsi::Command& c) {
    return c.opcode() == scsi::Opcode::mode_sense6 ? check({.key = 0x5, .asc = 0x24, .ascq = 0x00})
                                                   : lto_drive(c);
  };
  auto id = rig.identify();
  ASSERT_TRUE(id) << id.error().what();
  EXPECT_FALSE(id.value().offers_crc32c);
}

}  // namespace
