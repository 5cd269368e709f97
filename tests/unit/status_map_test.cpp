// server/status_map: the one place where the drive's terms become the wire protocol's.
#include <gtest/gtest.h>

#include <iterator>
#include <utility>

#include "server/status_map.hpp"

using namespace tapestream;
using drive::Ending;
using proto::Status;

namespace {

TEST(StatusMap, EveryEndingHasItsStatus) {
  const std::pair<Ending, Status> table[] = {
      {Ending::complete, Status::ok},
      {Ending::end_of_data, Status::end_of_data},
      {Ending::volume_full, Status::volume_full},
      {Ending::medium_error, Status::medium_error},
      {Ending::write_protected, Status::write_protected},
      {Ending::no_medium, Status::no_medium},
      {Ending::medium_changed, Status::medium_changed},
      {Ending::timeout, Status::timeout},
      {Ending::drive_error, Status::drive_error},
      {Ending::not_at_boundary, Status::bad_request},
      {Ending::client_gone, Status::client_gone},
      {Ending::incomplete, Status::incomplete},
      {Ending::bad_end, Status::bad_request},
      {Ending::stalled, Status::stalled},
      {Ending::shutting_down, Status::shutting_down},
      {Ending::internal, Status::internal},
  };
  // Every Ending is listed: the table runs up to the last one, internal.
  ASSERT_EQ(std::size(table), static_cast<std::size_t>(Ending::internal) + 1);
  for (std::size_t i = 0; i < std::size(table); ++i) {
    const auto [ending, status] = table[i];
    ASSERT_EQ(static_cast<std::size_t>(ending), i);
    EXPECT_EQ(server::to_status(ending), status) << drive::ending_name(ending);
  }
  // Only complete is ok.
  for (const auto& [ending, status] : table) {
    EXPECT_EQ(server::to_status(ending) == Status::ok, ending == Ending::complete);
  }
}

TEST(StatusMap, StateFlagsOfPositions) {
  drive::TapePosition at_start{true, false, 0, 0};
  EXPECT_EQ(server::state_flags(at_start), TS_STATE_LOADED | TS_STATE_BOP);

  drive::TapePosition mid_tape{false, false, 1234, 5};
  EXPECT_EQ(server::state_flags(mid_tape), TS_STATE_LOADED);

  drive::TapePosition near_end{false, true, 99'999, 40};
  EXPECT_EQ(server::state_flags(near_end), TS_STATE_LOADED | TS_STATE_EARLY_WARNING);

  drive::TapePosition short_form{false, false, 17, std::nullopt};
  EXPECT_EQ(server::state_flags(short_form), TS_STATE_LOADED | TS_STATE_FILE_UNKNOWN);

  drive::TapePosition short_form_at_start{true, false, 0, std::nullopt};
  EXPECT_EQ(server::state_flags(short_form_at_start),
            TS_STATE_LOADED | TS_STATE_BOP | TS_STATE_FILE_UNKNOWN);
}

TEST(StatusMap, StateFlagsOfTheKnownState) {
  drive::KnownState nothing;
  EXPECT_EQ(server::state_flags(nothing), 0U);  // no cartridge: not even loaded

  drive::KnownState protected_no_position;
  protected_no_position.write_protected = true;
  protected_no_position.compression = true;
  EXPECT_EQ(server::state_flags(protected_no_position),
            TS_STATE_WRITE_PROTECTED | TS_STATE_COMPRESSION);

  drive::KnownState loaded;
  loaded.position = drive::TapePosition{true, false, 0, 0};
  loaded.compression = true;
  loaded.block_size = 65536;  // not a flag
  EXPECT_EQ(server::state_flags(loaded), TS_STATE_LOADED | TS_STATE_BOP | TS_STATE_COMPRESSION);
  // Busy and stale are the server's to add, never the drive's.
  EXPECT_EQ(server::state_flags(loaded) & (TS_STATE_BUSY | TS_STATE_STALE), 0U);
}

TEST(StatusMap, EveryProtocolControlOpHasItsDriveOp) {
  using drive::ControlOp;
  const std::pair<proto::ControlOp, ControlOp> table[] = {
      {proto::ControlOp::rewind, ControlOp::rewind},
      {proto::ControlOp::load, ControlOp::load},
      {proto::ControlOp::eject, ControlOp::unload},
      {proto::ControlOp::weof, ControlOp::write_filemarks},
      {proto::ControlOp::fsf, ControlOp::space_files_forward},
      {proto::ControlOp::bsf, ControlOp::space_files_back},
      {proto::ControlOp::fsr, ControlOp::space_blocks_forward},
      {proto::ControlOp::bsr, ControlOp::space_blocks_back},
      {proto::ControlOp::eod, ControlOp::end_of_data},
      {proto::ControlOp::tell, ControlOp::tell},
      {proto::ControlOp::seek, ControlOp::locate_block},
      {proto::ControlOp::erase, ControlOp::erase},
      {proto::ControlOp::setblk, ControlOp::set_block_size},
      {proto::ControlOp::compression, ControlOp::compression},
  };
  // Every drive operation is reached from exactly one protocol operation.
  ASSERT_EQ(std::size(table), static_cast<std::size_t>(ControlOp::compression) + 1);
  std::int64_t argument = 3;
  for (const auto& [wire, op] : table) {
    proto::ControlRequest request;
    request.op = wire;
    request.argument = ++argument;
    const auto control = server::to_control(request);
    EXPECT_EQ(control.op, op) << static_cast<int>(wire);
    EXPECT_EQ(control.argument, argument);
    EXPECT_FALSE(control.immediate);
  }
}

TEST(StatusMap, ControlCarriesImmediateAndNegativeArguments) {
  proto::ControlRequest request;
  request.op = proto::ControlOp::rewind;
  request.flags = TS_CONTROL_IMMEDIATE;
  EXPECT_TRUE(server::to_control(request).immediate);
  request.flags = 0x2;  // some other flag
  EXPECT_FALSE(server::to_control(request).immediate);
  request.op = proto::ControlOp::fsf;
  request.argument = -1;  // passed on; prepare_control refuses it
  EXPECT_EQ(server::to_control(request).argument, -1);
}

}  // namespace
