// The drive queue of the session layer (server/drive_slot.hpp): a DriveLease holds the drive
// or a place in its FIFO, and ending or destroying it hands the drive on exactly once.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "fake_transport.hpp"
#include "server/drive_slot.hpp"

namespace tapestream::server {
namespace {

using Owner = DriveSlot::Owner;

struct SlotRig {
  uring::Ring ring = uring::Ring::create({});
  uring::BufferPool pool = uring::BufferPool::create(ring, 2, 64 * 1024);
  DriveSlot slot{std::make_unique<drive::Drive>(
      "fake0", std::make_unique<test::FakeTransport>(ring), pool, std::vector<std::uint16_t>{0},
      1, scsi::TimeoutTable::lto_defaults())};
};

TEST(DriveLease, AFreeDriveIsGrantedAtOnceWithTheLeaseInPlace) {
  SlotRig rig;
  DriveLease lease = rig.slot.join(Owner::stream);
  EXPECT_TRUE(lease.holds());
  EXPECT_TRUE(rig.slot.busy());
  EXPECT_TRUE(rig.slot.stream_owns());
  bool held_inside = false;
  lease.when_granted([&] { held_inside = lease.holds(); });
  EXPECT_TRUE(held_inside);
  EXPECT_EQ(lease.end(), &rig.slot);
  EXPECT_FALSE(rig.slot.busy());
}

TEST(DriveLease, WaitersAreGrantedInArrivalOrder) {
  SlotRig rig;
  std::vector<int> order;
  DriveLease first = rig.slot.join(Owner::stream);
  DriveLease second = rig.slot.join(Owner::stream);
  DriveLease third = rig.slot.join(Owner::control);
  second.when_granted([&] { order.push_back(2); });
  third.when_granted([&] { order.push_back(3); });
  EXPECT_TRUE(second.waiting());
  EXPECT_TRUE(third.waiting());
  (void)first.end();
  EXPECT_EQ(order, std::vector<int>{2});
  EXPECT_TRUE(second.holds());
  EXPECT_TRUE(third.waiting());
  (void)second.end();
  EXPECT_EQ(order, (std::vector<int>{2, 3}));
  EXPECT_TRUE(third.holds());
  EXPECT_FALSE(rig.slot.stream_owns());  // a control operation holds it now
}

TEST(DriveLease, EndingTwiceReleasesOnce) {
  SlotRig rig;
  DriveLease first = rig.slot.join(Owner::stream);
  DriveLease second = rig.slot.join(Owner::stream);
  int granted = 0;
  second.when_granted([&] { ++granted; });
  EXPECT_EQ(first.end(), &rig.slot);
  EXPECT_EQ(first.end(), nullptr);  // the second end is nothing: it must not take second's drive
  EXPECT_EQ(granted, 1);
  EXPECT_TRUE(second.holds());
  EXPECT_TRUE(rig.slot.busy());
}

TEST(DriveLease, ADestroyedLeaseGivesTheDriveOn) {
  SlotRig rig;
  DriveLease next = rig.slot.join(Owner::stream);
  {
    DriveLease forgotten = std::move(next);  // the holder, moved away and dropped
    next = rig.slot.join(Owner::stream);
    EXPECT_TRUE(next.waiting());
  }
  EXPECT_TRUE(next.holds());
}

TEST(DriveLease, AWaiterThatLeavesIsNeverGranted) {
  SlotRig rig;
  DriveLease holder = rig.slot.join(Owner::stream);
  DriveLease leaving = rig.slot.join(Owner::stream);
  DriveLease staying = rig.slot.join(Owner::stream);
  bool leaving_granted = false;
  leaving.when_granted([&] { leaving_granted = true; });
  EXPECT_EQ(leaving.end(), &rig.slot);
  EXPECT_TRUE(rig.slot.wanted_by_stream());
  (void)holder.end();
  EXPECT_FALSE(leaving_granted);
  EXPECT_TRUE(staying.holds());
  (void)staying.end();
  EXPECT_FALSE(rig.slot.busy());
  EXPECT_FALSE(rig.slot.wanted_by_stream());
}

TEST(DriveLease, AGrantBeforeTheCallbackIsSetRunsItWhenSet) {
  SlotRig rig;
  DriveLease holder = rig.slot.join(Owner::control);
  DriveLease waiter = rig.slot.join(Owner::stream);
  (void)holder.end();  // granted while no callback is set yet
  EXPECT_TRUE(waiter.holds());
  bool ran = false;
  waiter.when_granted([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(DriveLease, MovingALeaseMovesTheHold) {
  SlotRig rig;
  DriveLease a = rig.slot.join(Owner::stream);
  DriveLease b = std::move(a);
  EXPECT_FALSE(a.holds());  // NOLINT(bugprone-use-after-move): the moved-from lease is empty
  EXPECT_TRUE(b.holds());
  EXPECT_EQ(a.end(), nullptr);
  EXPECT_TRUE(rig.slot.busy());
  b = DriveLease{};  // assigning over a holding lease ends it
  EXPECT_FALSE(rig.slot.busy());
}

TEST(DriveLease, WantedByStreamCountsHoldersAndWaiters) {
  SlotRig rig;
  DriveLease control = rig.slot.join(Owner::control);
  EXPECT_FALSE(rig.slot.wanted_by_stream());
  DriveLease stream = rig.slot.join(Owner::stream);
  EXPECT_TRUE(rig.slot.wanted_by_stream());
  EXPECT_FALSE(rig.slot.stream_owns());
  (void)control.end();
  EXPECT_TRUE(rig.slot.stream_owns());
}

}  // namespace
}  // namespace tapestream::server
