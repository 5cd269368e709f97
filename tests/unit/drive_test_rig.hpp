// What the drive-layer tests (drive_prepare_control_test.cpp, drive_control_test.cpp,
// drive_refresh_state_test.cpp) share: the identities of an LTO and an old drive, a checked
// prepare_control, and DriveRig, a Drive on a scripted transport (fake_transport.hpp).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "drive/control.hpp"
#include "drive/drive.hpp"
#include "fake_transport.hpp"

namespace tapestream::test {

inline drive::DriveIdentity lto_identity() {
  drive::DriveIdentity id;
  id.vendor = "IBM";
  id.product = "ULT3580-TD9";
  id.max_block_length = 0x80'0000;
  return id;
}

// scsi_debug's tape: SPACE(6), LOCATE(10), the short READ POSITION.
inline drive::DriveIdentity old_identity() {
  auto id = lto_identity();
  id.positioning.long_position = false;
  id.positioning.sixteen_byte = false;
  return id;
}

inline drive::PreparedControl prepared(drive::ControlOp op, std::int64_t argument = 0,
                                       bool immediate = false,
                                       const drive::DriveIdentity& id = lto_identity()) {
  auto p = drive::prepare_control({op, argument, immediate}, id);
  EXPECT_TRUE(p) << (p ? "" : p.error().what());
  return p ? std::move(p).value() : drive::PreparedControl{};
}

// A Drive on a FakeTransport, with a timeout table whose classes all differ.
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
    return outcome.value_or(drive::ControlOutcome{drive::Ending::internal});
  }
  std::chrono::milliseconds timeout_of(scsi::TimeoutClass c) const {
    return class_timeout(timeouts, c);
  }
};

constexpr std::uint8_t op_read_position = 0x34;

}  // namespace tapestream::test
