// The emulated drive as a library's drive (emulated/library_drive.hpp), with the real changer
// (emulated_library.hpp) moving real images: an empty drive is NOT READY, MEDIUM NOT PRESENT; a
// cartridge the robot brings gives the unit attention of a load and is the tape written there;
// it leaves only once unloaded, and then its image is free for the other drive, which reads what
// the first wrote; and a hand-over from another thread while the drive is busy. Emulated only.
#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include "emulated/emulated_drive.hpp"
#include "emulated/emulated_library.hpp"
#include "fixture.hpp"
#include "scsi/smc.hpp"
#include "scsi/smc_cdb.hpp"
#include "transport/blocking.hpp"

namespace tapestream::test {
namespace {

using emulated::EmulatedDrive;
using emulated::EmulatedLibrary;
using emulated::LibraryShape;
using scsi::TapeCondition;
using scsi::cdb::LoadAction;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint16_t slot1 = LibraryShape::first_slot;
constexpr std::uint16_t drive_a = LibraryShape::first_drive;
constexpr std::uint16_t drive_b = LibraryShape::first_drive + 1;
constexpr std::size_t block = 4096;

Harness::Factory empty_drive(EmulatedDrive** made) {
  return [made](uring::Ring& ring) -> std::unique_ptr<transport::ScsiTransport> {
    auto spec = emulated::parse_drive_spec("emulated:/unused?capacity=64M");
    auto drive = std::make_unique<EmulatedDrive>(ring, spec, EmulatedDrive::no_cartridge);
    *made = drive.get();
    return drive;
  };
}

class LibraryDrive : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto* barcode : {"VOL001", "VOL002"}) {
      std::ofstream{scratch.path() / (std::string{barcode} + ".tap")};
    }
    a.emplace(empty_drive(&drive_of_a));
    b.emplace(empty_drive(&drive_of_b));
    library = std::make_unique<EmulatedLibrary>(
        ring,
        emulated::parse_library_spec("emulated-library:" + scratch.path().string() +
                                     "?slots=3&ie=1&drives=a,b&move_time=0ms"),
        std::vector<emulated::LibraryDrive*>{drive_of_a, drive_of_b});
  }
  void TearDown() override { library.reset(); }

  // The changer's sense key and ASC, or 0 when the move went through.
  std::uint16_t move(std::uint16_t from, std::uint16_t to) {
    transport::ScsiRequest request;
    request.command = scsi::cdb::move_medium(0, from, to);
    request.timeout = std::chrono::seconds{10};
    auto result = transport::run_blocking(ring, *library, request);
    EXPECT_TRUE(result);
    if (!result || result.value().sense_length == 0) {
      return 0;
    }
    const auto& sense = result.value().sense;
    return static_cast<std::uint16_t>((sense[2] & 0x0F) << 8 | sense[12]);
  }
  static TapeCondition condition(Exchange e) { return e.classification.condition; }
  static TapeCondition tur(Harness& h) { return condition(h.run(scsi::cdb::test_unit_ready())); }
  static TapeCondition unload(Harness& h) {
    return condition(h.run(scsi::cdb::load_unload(LoadAction::unload, false)));
  }
  static scsi::Count24 count(std::size_t n) { return scsi::Count24::from(n).value(); }

  ScratchDirectory scratch;
  uring::Ring ring = uring::Ring::create({});
  EmulatedDrive* drive_of_a = nullptr;
  EmulatedDrive* drive_of_b = nullptr;
  std::optional<Harness> a, b;
  std::unique_ptr<EmulatedLibrary> library;
};

TEST_F(LibraryDrive, AnEmptyDriveHasNoMediumAndCannotLoad) {
  EXPECT_EQ(tur(*a), TapeCondition::no_medium);
  const auto load = a->run(scsi::cdb::load_unload(LoadAction::load, false));
  EXPECT_EQ(condition(load), TapeCondition::no_medium);
  ASSERT_TRUE(load.sense());
  EXPECT_EQ(load.sense()->asc, 0x3A);
  EXPECT_FALSE(drive_of_a->tape_threaded());
}

TEST_F(LibraryDrive, ACartridgeArrivesLoadedWithTheUnitAttentionOfALoad) {
  ASSERT_EQ(move(slot1, drive_a), 0);
  EXPECT_TRUE(drive_of_a->tape_threaded());
  const auto first = a->run(scsi::cdb::test_unit_ready());
  EXPECT_EQ(condition(first), TapeCondition::medium_changed);
  ASSERT_TRUE(first.sense());
  EXPECT_EQ(first.sense()->asc, 0x28);
  EXPECT_EQ(tur(*a), TapeCondition::good);
  EXPECT_EQ(tur(*b), TapeCondition::no_medium) << "the other drive stays empty";
}

TEST_F(LibraryDrive, OnlyAnUnloadedTapeLeavesAndItsImageGoesToTheOtherDrive) {
  ASSERT_EQ(move(slot1, drive_a), 0);
  (void)tur(*a);  // the unit attention
  const auto data = pattern_block(1, 0, block);
  ASSERT_EQ(condition(a->run(scsi::cdb::write6_variable(count(block)), data)), TapeCondition::good);
  ASSERT_EQ(condition(a->run(scsi::cdb::write_filemarks6(count(1), false))), TapeCondition::good);

  EXPECT_EQ(move(drive_a, drive_b), 0x0553) << "ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED";
  EXPECT_EQ(tur(*a), TapeCondition::good) << "a refused move leaves the tape where it is";

  ASSERT_EQ(unload(*a), TapeCondition::good);
  EXPECT_FALSE(drive_of_a->tape_threaded());
  EXPECT_EQ(condition(a->run(scsi::cdb::load_unload(LoadAction::load, false))),
            TapeCondition::good)
      << "an unloaded cartridge stays in the drive until the robot takes it";
  EXPECT_EQ(tur(*a), TapeCondition::medium_changed) << "a LOAD's unit attention";
  ASSERT_EQ(unload(*a), TapeCondition::good);
  ASSERT_EQ(move(drive_a, drive_b), 0) << "the image's lock went with the cartridge";
  EXPECT_EQ(tur(*a), TapeCondition::no_medium);
  (void)tur(*b);
  const auto read = b->run(scsi::cdb::read6_variable(count(block), true), {}, block);
  ASSERT_EQ(condition(read), TapeCondition::good);
  EXPECT_EQ(read.data, data) << "drive b reads what drive a wrote on VOL001";
}

// The changer looks at tape_threaded() and then removes: a LOAD in between must keep the
// cartridge in the drive (its image open, its lock held) rather than pull a threaded tape.
TEST_F(LibraryDrive, RemovalIsRefusedWhileTheTapeIsThreaded) {
  ASSERT_EQ(move(slot1, drive_a), 0);
  (void)tur(*a);  // the unit attention
  const auto refused = drive_of_a->remove();
  ASSERT_TRUE(refused);
  EXPECT_EQ(*refused, "its tape is threaded");
  EXPECT_EQ(tur(*a), TapeCondition::good) << "the cartridge stayed and its tape is usable";
  ASSERT_EQ(unload(*a), TapeCondition::good);
  EXPECT_FALSE(drive_of_a->remove()) << "an unloaded cartridge leaves";
  EXPECT_EQ(tur(*a), TapeCondition::no_medium);
}

// The drive on its own thread, writing without pause, while the robot on this thread brings
// and takes cartridges to the other drive and refuses to take its threaded one: no command of
// the busy drive fails, and its cartridge never leaves.
TEST_F(LibraryDrive, HandOversFromAnotherThreadLeaveABusyDriveAlone) {
  // The busy drive's ring must be created by the thread that turns it (SINGLE_ISSUER), so it
  // replaces drive a in a library of its own over the same directory.
  library.reset();
  EmulatedDrive* busy_drive = nullptr;
  std::promise<void> made;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> writes{0};
  std::thread busy{[&] {
    Harness h{empty_drive(&busy_drive)};
    made.set_value();
    while (!busy_drive->tape_threaded() && !stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    (void)h.run(scsi::cdb::test_unit_ready());  // the unit attention of the load
    const auto data = pattern_block(2, 0, block);
    while (!stop.load()) {
      const auto e = h.run(scsi::cdb::write6_variable(count(block)), data);
      if (e.classification.condition != TapeCondition::good) {
        ++failures;
      }
      ++writes;
    }
  }};
  made.get_future().wait();
  library = std::make_unique<EmulatedLibrary>(
      ring,
      emulated::parse_library_spec("emulated-library:" + scratch.path().string() +
                                   "?slots=3&ie=1&drives=a,b&move_time=0ms"),
      std::vector<emulated::LibraryDrive*>{busy_drive, drive_of_b});
  EXPECT_EQ(move(slot1, drive_a), 0);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(move(slot1 + 1, drive_b), 0);
    EXPECT_EQ(move(drive_a, slot1), 0x0553) << "the busy drive's tape is threaded";
    (void)tur(*b);
    EXPECT_EQ(unload(*b), TapeCondition::good);
    EXPECT_EQ(move(drive_b, slot1 + 1), 0);
  }
  stop = true;
  busy.join();
  library.reset();  // before the drives it points at
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(writes.load(), 0);
}

}  // namespace
}  // namespace tapestream::test
