// Classification of completed commands into tape conditions: every condition, from both sense
// formats, and which conditions each command expects.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "scsi/cdb.hpp"
#include "scsi/condition.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;
using tapestream::test::descriptor_sense;
using tapestream::test::fixed_sense;
using tapestream::test::SenseSpec;

namespace {

const Command read_256k = cdb::read6_variable(Count24::from(262144).value(), true);
const Command read_fixed = cdb::read6_fixed(Count24::from(64).value(), 512);
const Command write_256k = cdb::write6_variable(Count24::from(262144).value());

Classification check_condition(const Command& command, const Bytes& sense) {
  CompletionStatus status;
  status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::check_condition);
  status.sense = sense;
  return classify(command, status);
}

struct SenseCase {
  const char* name;
  const Command* command;
  SenseSpec sense;
  TapeCondition expected;
  bool expected_for_command;
};

const SenseCase sense_cases[] = {
    {"filemark_on_read", &read_256k, {.key = 0x0, .asc = 0x00, .ascq = 0x01, .filemark = true, .information = 262144},
     TapeCondition::filemark, true},
    {"early_warning_on_write", &write_256k, {.key = 0x0, .asc = 0x00, .ascq = 0x02, .eom = true, .information = 0},
     TapeCondition::early_warning, true},
    {"programmable_early_warning", &write_256k, {.key = 0x0, .asc = 0x00, .ascq = 0x07, .eom = true},
     TapeCondition::early_warning, true},
    {"end_of_data", &read_256k, {.key = 0x8, .asc = 0x00, .ascq = 0x05, .information = 262144},
     TapeCondition::end_of_data, true},
    {"beginning_of_medium", &read_256k, {.key = 0x0, .asc = 0x00, .ascq = 0x04, .eom = true},
     TapeCondition::beginning_of_medium, false},
    {"short_block", &read_256k, {.key = 0x0, .ili = true, .information = 1000},
     TapeCondition::short_block, true},
    {"long_block", &read_256k, {.key = 0x0, .ili = true, .information = -100},
     TapeCondition::long_block, false},
    {"end_of_medium_on_read", &read_256k, {.key = 0x3, .asc = 0x00, .ascq = 0x02, .eom = true},
     TapeCondition::end_of_medium, false},
    {"volume_overflow", &write_256k, {.key = 0xD, .asc = 0x00, .ascq = 0x02, .eom = true, .information = 262144},
     TapeCondition::volume_overflow, false},
    {"medium_error", &write_256k, {.key = 0x3, .asc = 0x0C, .ascq = 0x00},
     TapeCondition::medium_error, false},
    {"hardware_error", &write_256k, {.key = 0x4, .asc = 0x44, .ascq = 0x00},
     TapeCondition::hardware_error, false},
    {"no_medium", &write_256k, {.key = 0x2, .asc = 0x3A, .ascq = 0x00},
     TapeCondition::no_medium, false},
    {"becoming_ready", &write_256k, {.key = 0x2, .asc = 0x04, .ascq = 0x01},
     TapeCondition::becoming_ready, false},
    {"not_ready_needs_load", &write_256k, {.key = 0x2, .asc = 0x04, .ascq = 0x02},
     TapeCondition::not_ready, false},
    {"medium_changed", &write_256k, {.key = 0x6, .asc = 0x28, .ascq = 0x00},
     TapeCondition::medium_changed, false},
    {"power_on_reset", &write_256k, {.key = 0x6, .asc = 0x29, .ascq = 0x01},
     TapeCondition::reset, false},
    {"mode_parameters_changed", &write_256k, {.key = 0x6, .asc = 0x2A, .ascq = 0x01},
     TapeCondition::parameters_changed, false},
    {"other_unit_attention", &write_256k, {.key = 0x6, .asc = 0x3F, .ascq = 0x03},
     TapeCondition::unit_attention, false},
    {"write_protected", &write_256k, {.key = 0x7, .asc = 0x27, .ascq = 0x00},
     TapeCondition::write_protected, false},
    {"worm_overwrite", &write_256k, {.key = 0x7, .asc = 0x30, .ascq = 0x0C},
     TapeCondition::write_protected, false},
    {"encryption_key_missing", &read_256k, {.key = 0x7, .asc = 0x74, .ascq = 0x01},
     TapeCondition::data_protect, false},
    {"illegal_request", &write_256k, {.key = 0x5, .asc = 0x24, .ascq = 0x00},
     TapeCondition::illegal_request, false},
    {"aborted_command", &write_256k, {.key = 0xB, .asc = 0x47, .ascq = 0x00},
     TapeCondition::aborted_command, false},
    {"miscompare", &read_256k, {.key = 0xE, .asc = 0x1D, .ascq = 0x00},
     TapeCondition::unclassified, false},
    {"recovered_error_is_good", &write_256k, {.key = 0x1, .asc = 0x17, .ascq = 0x01},
     TapeCondition::good, true},
};

class EveryCondition : public ::testing::TestWithParam<std::tuple<SenseCase, bool>> {};

TEST_P(EveryCondition, ClassifiesTheSameInBothFormats) {
  const auto& [c, descriptor] = GetParam();
  const auto sense = descriptor ? descriptor_sense(c.sense) : fixed_sense(c.sense);
  const auto r = check_condition(*c.command, sense);
  EXPECT_EQ(condition_name(r.condition), condition_name(c.expected));
  EXPECT_EQ(is_expected(c.command->opcode(), r.condition), c.expected_for_command);
  ASSERT_TRUE(r.sense.has_value());
  EXPECT_EQ(r.residue, c.sense.information);
}

INSTANTIATE_TEST_SUITE_P(
    Condition, EveryCondition,
    ::testing::Combine(::testing::ValuesIn(sense_cases), ::testing::Bool()), [](const auto& p) {
      return std::string{std::get<0>(p.param).name} +
             (std::get<1>(p.param) ? "_descriptor" : "_fixed");
    });

TEST(Condition, ShortBlockLengthFromIli) {
  const auto r = check_condition(read_256k, fixed_sense({.key = 0, .ili = true, .information = 1000}));
  EXPECT_EQ(r.condition, TapeCondition::short_block);
  EXPECT_EQ(r.block_length, 262144U - 1000U);
}

TEST(Condition, LongBlockLengthFromNegativeResidue) {
  const auto r =
      check_condition(read_256k, descriptor_sense({.key = 0, .ili = true, .information = -4096}));
  EXPECT_EQ(r.condition, TapeCondition::long_block);
  EXPECT_EQ(r.block_length, 262144U + 4096U);
}

// Regression: fuzz_sense found a descriptor INFORMATION field of -9223372036854710272 making
// `requested - residue` overflow. Such a residue keeps its condition but gives no length.
TEST(Condition, ResidueBeyondAnyBlockGivesNoLength) {
  const Bytes sense{0x72, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0x0A, 0x80, 0x00, 0x80, 0,
                    0,    0, 0, 0x01, 0, 0, 0x04, 0x02, 0x00, 0x20};
  const auto r = check_condition(read_256k, sense);
  EXPECT_EQ(r.condition, TapeCondition::long_block);
  EXPECT_FALSE(r.block_length.has_value());
  const auto huge = check_condition(read_256k, descriptor_sense({.key = 0, .ili = true,
                                                                 .information = 0x7FFFFFFF}));
  EXPECT_EQ(huge.condition, TapeCondition::short_block);
  EXPECT_FALSE(huge.block_length.has_value());
}

TEST(Condition, FixedModeIliResidueCountsBlocks) {
  const auto r = check_condition(read_fixed, fixed_sense({.key = 0, .ili = true, .information = 3}));
  EXPECT_EQ(r.condition, TapeCondition::short_block);
  EXPECT_EQ(r.residue, 3);
  EXPECT_FALSE(r.block_length.has_value());  // a fixed-mode residue says nothing of length
}

TEST(Condition, SiliShortBlockCompletesGoodWithResidue) {
  CompletionStatus status;
  status.residue = 262144 - 10240;
  const auto r = classify(read_256k, status);
  EXPECT_EQ(r.condition, TapeCondition::short_block);
  EXPECT_EQ(r.block_length, 10240U);
  EXPECT_TRUE(is_expected(Opcode::read6, r.condition));
}

TEST(Condition, GoodWithoutResidueIsGood) {
  EXPECT_EQ(classify(read_256k, CompletionStatus{}).condition, TapeCondition::good);
  CompletionStatus inquiry_short;
  inquiry_short.residue = 40;  // a short INQUIRY response is normal
  EXPECT_EQ(classify(cdb::inquiry(), inquiry_short).condition, TapeCondition::good);
}

TEST(Condition, DeferredErrorIsFlagged) {
  const auto r = check_condition(write_256k, descriptor_sense({.key = 3, .asc = 0x0C, .deferred = true}));
  EXPECT_EQ(r.condition, TapeCondition::medium_error);
  EXPECT_TRUE(r.deferred);
}

TEST(Condition, StatusBytesWithoutSense) {
  CompletionStatus status;
  status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::busy);
  auto r = classify(write_256k, status);
  EXPECT_EQ(r.condition, TapeCondition::busy);
  EXPECT_TRUE(r.retryable);
  status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::task_set_full);
  EXPECT_EQ(classify(write_256k, status).condition, TapeCondition::busy);
  status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::reservation_conflict);
  r = classify(write_256k, status);
  EXPECT_EQ(r.condition, TapeCondition::reservation_conflict);
  EXPECT_FALSE(r.retryable);
  status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::task_aborted);
  EXPECT_EQ(classify(write_256k, status).condition, TapeCondition::aborted_command);
  status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::aca_active);
  EXPECT_EQ(classify(write_256k, status).condition, TapeCondition::unclassified);
}

TEST(Condition, CheckConditionWithoutSenseIsATransportFailure) {
  CompletionStatus status;
  status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::check_condition);
  EXPECT_EQ(classify(write_256k, status).condition, TapeCondition::transport_failure);
}

TEST(Condition, HostAndDriverStatusWinOverEverything) {
  const auto sense = fixed_sense({.key = 0, .asc = 0, .ascq = 1, .filemark = true});
  CompletionStatus status;
  status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::check_condition);
  status.sense = sense;
  status.host_status = static_cast<std::uint8_t>(HostStatus::time_out);
  auto r = classify(read_256k, status);
  EXPECT_EQ(r.condition, TapeCondition::transport_failure);
  EXPECT_FALSE(r.retryable);
  status.host_status = static_cast<std::uint8_t>(HostStatus::transport_disrupted);
  EXPECT_TRUE(classify(read_256k, status).retryable);
  status.host_status = 0;
  status.driver_status = 0x08;  // DRIVER_SENSE only: sense is attached, nothing failed
  EXPECT_EQ(classify(read_256k, status).condition, TapeCondition::filemark);
  status.driver_status = 0x06;  // DRIVER_TIMEOUT
  EXPECT_EQ(classify(read_256k, status).condition, TapeCondition::transport_failure);
  status.driver_status = 0;
  status.timed_out = true;
  EXPECT_EQ(classify(read_256k, status).condition, TapeCondition::transport_failure);
}

TEST(Condition, ExpectedConditionsPerCommand) {
  EXPECT_TRUE(is_expected(Opcode::read6, TapeCondition::filemark));
  EXPECT_TRUE(is_expected(Opcode::read6, TapeCondition::end_of_data));
  EXPECT_FALSE(is_expected(Opcode::read6, TapeCondition::early_warning));
  EXPECT_TRUE(is_expected(Opcode::write6, TapeCondition::early_warning));
  EXPECT_FALSE(is_expected(Opcode::write6, TapeCondition::filemark));
  EXPECT_FALSE(is_expected(Opcode::write6, TapeCondition::volume_overflow));
  EXPECT_TRUE(is_expected(Opcode::write_filemarks6, TapeCondition::early_warning));
  EXPECT_TRUE(is_expected(Opcode::space6, TapeCondition::beginning_of_medium));
  EXPECT_TRUE(is_expected(Opcode::space16, TapeCondition::filemark));
  EXPECT_TRUE(is_expected(Opcode::test_unit_ready, TapeCondition::no_medium));
  EXPECT_FALSE(is_expected(Opcode::rewind, TapeCondition::medium_error));
  EXPECT_TRUE(is_expected(Opcode::locate16, TapeCondition::good));
}

TEST(Condition, EveryConditionHasADistinctName) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < tape_condition_count; ++i) {
    names.insert(condition_name(static_cast<TapeCondition>(i)));
  }
  EXPECT_EQ(names.size(), tape_condition_count);
  EXPECT_EQ(names.count("invalid"), 0U);
}

}  // namespace
