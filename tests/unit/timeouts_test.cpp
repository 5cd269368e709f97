// Timeout defaults and the drive's own timeouts from REPORT SUPPORTED OPERATION CODES.
#include <gtest/gtest.h>

#include "scsi/cdb.hpp"
#include "scsi/parse_error.hpp"
#include "scsi/timeouts.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using namespace std::chrono_literals;
using tapestream::test::Bytes;

namespace {

Bytes descriptor(std::uint8_t opcode, std::optional<std::uint16_t> sa, std::uint16_t cdb_length,
                 std::optional<std::pair<std::uint32_t, std::uint32_t>> timeouts) {
  Bytes d{opcode, 0, static_cast<std::uint8_t>(sa.value_or(0) >> 8),
          static_cast<std::uint8_t>(sa.value_or(0)), 0,
          static_cast<std::uint8_t>((sa ? 0x01 : 0) | (timeouts ? 0x02 : 0)),
          static_cast<std::uint8_t>(cdb_length >> 8), static_cast<std::uint8_t>(cdb_length)};
  if (timeouts) {
    d.insert(d.end(), {0x00, 0x0A, 0, 0});
    for (auto v : {timeouts->first, timeouts->second}) {
      d.insert(d.end(), {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                         static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
    }
  }
  return d;
}

Bytes response(std::initializer_list<Bytes> descriptors) {
  Bytes body;
  for (const auto& d : descriptors) {
    body.insert(body.end(), d.begin(), d.end());
  }
  Bytes r{0, 0, static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size())};
  r.insert(r.end(), body.begin(), body.end());
  return r;
}

TEST(Timeouts, LtoDefaultsByClass) {
  const auto t = TimeoutTable::lto_defaults();
  EXPECT_EQ(t.timeout_for(cdb::inquiry()), 60s);
  EXPECT_EQ(t.timeout_for(cdb::rewind(false)), 15min);
  EXPECT_EQ(t.timeout_for(cdb::erase6(true, false)), 24h);
  EXPECT_EQ(t.timeout_for(cdb::load_unload(cdb::LoadAction::load, false)), 3h);
  EXPECT_GE(t.timeout_for(cdb::space6(cdb::SpaceCode::end_of_data, SignedCount24::from(0).value())),
            30min);
  EXPECT_GE(t.timeout_for(cdb::write_filemarks6(Count24::from(1).value(), false)), 10min);
}

TEST(Timeouts, ParseSupportedOperationCodes) {
  const auto r = response({descriptor(0x0A, std::nullopt, 6, std::pair{60U, 1560U}),
                           descriptor(0x34, 0x06, 10, std::pair{10U, 45U}),
                           descriptor(0x12, std::nullopt, 6, std::nullopt)});
  const auto commands = parse_supported_operation_codes(r).value();
  ASSERT_EQ(commands.size(), 3U);
  EXPECT_EQ(commands[0].opcode, 0x0A);
  EXPECT_FALSE(commands[0].service_action.has_value());
  EXPECT_EQ(commands[0].nominal_timeout, 60U);
  EXPECT_EQ(commands[0].recommended_timeout, 1560U);
  EXPECT_EQ(commands[1].service_action, 0x06);
  EXPECT_EQ(commands[1].cdb_length, 10);
  EXPECT_FALSE(commands[2].recommended_timeout.has_value());
}

TEST(Timeouts, DriveTimeoutsReplaceDefaultsPerCommand) {
  auto t = TimeoutTable::lto_defaults();
  const auto commands =
      parse_supported_operation_codes(
          response({descriptor(0x0A, std::nullopt, 6, std::pair{60U, 1560U}),
                    descriptor(0x34, 0x06, 10, std::pair{10U, 45U}),
                    descriptor(0x01, std::nullopt, 6, std::pair{0U, 0U})}))
          .value();
  EXPECT_EQ(t.adopt_drive_timeouts(commands), 2U);  // 0 means "not specified"
  EXPECT_EQ(t.timeout_for(cdb::write6_variable(Count24::from(1).value())), 1560s);
  EXPECT_EQ(t.timeout_for(cdb::read_position(cdb::ReadPositionForm::long_form)), 45s);
  // Another service action of the same opcode keeps the default.
  EXPECT_EQ(t.timeout_for(cdb::read_position(cdb::ReadPositionForm::short_block_id)), 60s);
  EXPECT_EQ(t.timeout_for(cdb::rewind(false)), 15min);
  // Adopting again updates rather than duplicates.
  const auto again = parse_supported_operation_codes(
                         response({descriptor(0x0A, std::nullopt, 6, std::pair{60U, 900U})}))
                         .value();
  t.adopt_drive_timeouts(again);
  EXPECT_EQ(t.timeout_for(cdb::write6_variable(Count24::from(1).value())), 900s);
}

TEST(Timeouts, MalformedResponses) {
  EXPECT_EQ(parse_supported_operation_codes(Bytes{0, 0}).error(), ParseError::truncated);
  auto bad = response({descriptor(0x0A, std::nullopt, 6, std::pair{1U, 2U})});
  bad[4 + 8 + 1] = 0x0B;  // timeouts descriptor length must be 0Ah
  EXPECT_EQ(parse_supported_operation_codes(bad).error(), ParseError::bad_length);
  auto cut = response({descriptor(0x0A, std::nullopt, 6, std::pair{1U, 2U})});
  cut.resize(4 + 8 + 6);  // cut inside the timeouts descriptor
  EXPECT_TRUE(parse_supported_operation_codes(cut).value().empty());
}

TEST(Timeouts, ClassDefaultsCanBeChanged) {
  auto t = TimeoutTable::lto_defaults();
  t.set_class_default(TimeoutClass::rewind, 20min);
  EXPECT_EQ(t.class_default(TimeoutClass::rewind), 20min);
  EXPECT_EQ(t.timeout_for(cdb::rewind(true)), 20min);
}

}  // namespace
