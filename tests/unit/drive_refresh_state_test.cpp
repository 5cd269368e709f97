// Drive::refresh_state against a scripted transport (fake_transport.hpp): the known state a
// refresh leaves, and how concurrent and withdrawn waiters share one refresh.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "drive_test_rig.hpp"

using namespace tapestream;
using namespace tapestream::test;
using drive::ControlOp;
using drive::Ending;

namespace {

// ---- Drive::refresh_state ----

// READ POSITION, MODE SENSE, then the health of the drive and its cartridge: LOG SENSE 2Eh, 17h
// and 0Ch and READ ATTRIBUTE (issue 12, item 5); 3Ch only for the emulated drive (issue 13).
constexpr std::size_t refresh_commands = 6;

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
  ASSERT_EQ(rig.fake->log.size(), refresh_commands);
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
  EXPECT_EQ(rig.fake->log.size(), refresh_commands);
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
  EXPECT_EQ(rig.fake->log.size(), refresh_commands);
  EXPECT_EQ(rig.drive->known_state().position->block_number, 8U);
}

TEST(RefreshState, ALaterRefreshAsksAgain) {
  DriveRig rig;
  rig.fake->script = {good(long_position({.block = 1})), good(mode_sense(false, 0x60, 0, false)),
                      illegal_opcode(), illegal_opcode(), illegal_opcode(), illegal_opcode(),
                      good(long_position({.block = 2})), good(mode_sense(true, 0x60, 0, false))};
  int calls = 0;
  rig.drive->refresh_state([&] { ++calls; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return calls == 1; }));
  rig.drive->refresh_state([&] { ++calls; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return calls == 2; }));
  EXPECT_EQ(rig.fake->log.size(), 2 * refresh_commands);
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
  ASSERT_TRUE(run_until(rig.ring, [&] { return rig.fake->completed == refresh_commands; }));
  EXPECT_EQ(calls, 0);
  ASSERT_TRUE(rig.drive->known_state().position);
  EXPECT_EQ(rig.drive->known_state().position->block_number, 11U);
  // And the next refresh is not stuck behind it.
  rig.fake->script = {good(long_position({.block = 12})), good(mode_sense(false, 0x60, 0, false))};
  rig.drive->refresh_state([&] { ++calls; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return calls == 1; }));
  EXPECT_EQ(rig.drive->known_state().position->block_number, 12U);
}

// Issue 12, item 5: the health pages become the known state, and TapeAlert flags, which the
// drive clears when read, stay known at the next refresh while the cartridge stays.
Bytes log_page(std::uint8_t code, std::vector<std::pair<std::uint16_t, Bytes>> parameters) {
  Bytes b{code, 0, 0, 0};
  for (auto& [parameter, value] : parameters) {
    b.insert(b.end(), {static_cast<std::uint8_t>(parameter >> 8), static_cast<std::uint8_t>(parameter),
                       0x03, static_cast<std::uint8_t>(value.size())});
    b.insert(b.end(), value.begin(), value.end());
  }
  b[2] = static_cast<std::uint8_t>((b.size() - 4) >> 8);
  b[3] = static_cast<std::uint8_t>(b.size() - 4);
  return b;
}

TEST(RefreshState, HealthPagesAndKeptTapeAlerts) {
  DriveRig rig;
  const Bytes attributes{0, 0, 0, 26, 0x00, 0x00, 0x80, 0, 8, 0, 0, 0, 0, 0, 0, 0x10, 0,
                         0x00, 0x01, 0x80, 0, 8, 0, 0, 0, 0, 0, 0, 0x40, 0};
  rig.fake->script = {good(long_position({.block = 7, .file = 0})), good(mode_sense(false, 0x60, 0, false)),
                      good(log_page(0x2E, {{31, {1}}, {21, {1}}})),
                      good(log_page(0x17, {{0x0001, {0, 0, 0, 5}}, {0x0003, {0, 2}}})),
                      good(log_page(0x0C, {{0x0100, {0, 0}}})),
                      good(attributes),
                      good(long_position({.block = 7, .file = 0})), good(mode_sense(false, 0x60, 0, false)),
                      good(log_page(0x2E, {})), illegal_opcode(), illegal_opcode(), illegal_opcode()};
  int calls = 0;
  rig.drive->refresh_state([&] { ++calls; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return calls == 1; }));
  const auto& known = rig.drive->known_state();
  ASSERT_TRUE(known.tape_alerts);
  EXPECT_TRUE(known.tape_alerts->test(30));
  EXPECT_TRUE(known.tape_alerts->test(20));
  EXPECT_EQ(known.health.statistics.loads, std::optional<std::uint64_t>{5});
  EXPECT_EQ(known.health.statistics.write_retries, std::optional<std::uint64_t>{2});
  EXPECT_FALSE(known.health.statistics.read_retries);
  EXPECT_EQ(known.health.cleaning_action_required, std::optional<bool>{false});
  EXPECT_EQ(known.health.remaining_mib, std::optional<std::uint64_t>{0x1000});
  EXPECT_EQ(known.health.capacity_mib, std::optional<std::uint64_t>{0x4000});
  EXPECT_EQ(known.block_in_file, std::optional<std::uint64_t>{7});
  rig.drive->refresh_state([&] { ++calls; });
  ASSERT_TRUE(run_until(rig.ring, [&] { return calls == 2; }));
  ASSERT_TRUE(rig.drive->known_state().tape_alerts);
  EXPECT_TRUE(rig.drive->known_state().tape_alerts->test(30)) << "kept although the drive cleared it";
  EXPECT_FALSE(rig.drive->known_state().health.statistics.loads) << "not given this time";
  EXPECT_EQ(rig.fake->log[2].cdb[0], 0x4D);
  EXPECT_EQ(rig.fake->log[5].cdb[0], 0x8C);
}

}  // namespace
