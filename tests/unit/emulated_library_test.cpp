// The emulated library's changer (emulated/emulated_library.hpp) on a real ring, with its
// drives played by a recording stand-in (the one faked component): SMC answers the daemon's
// parsers read, moves that load drives and survive a restart, the faults of the spec, and
// completion only from the ring, after the move's time.
#include "emulated/emulated_library.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "base/startup_error.hpp"
#include "scsi/smc.hpp"
#include "scsi/smc_cdb.hpp"
#include "temp_dir.hpp"

namespace tapestream::emulated {
namespace {

namespace fs = std::filesystem;
using scsi::ChangerCondition;

struct RecordingDrive final : LibraryDrive {
  bool threaded = false;
  std::optional<std::string> refuse;
  std::optional<fs::path> cartridge;
  bool tape_threaded() const override { return threaded; }
  std::optional<std::string> insert(const fs::path& image) override {
    if (refuse) {
      return refuse;
    }
    cartridge = image;
    return std::nullopt;
  }
  // A drive that threads its tape between the changer's look and the removal.
  std::optional<std::string> refuse_removal;
  std::optional<std::string> remove() override {
    if (refuse_removal) {
      return refuse_removal;
    }
    cartridge.reset();
    return std::nullopt;
  }
  void take_back() override { cartridge.reset(); }
};

struct Answer final : transport::ScsiCallback {
  std::optional<transport::ScsiResult> result;
  void on_scsi_complete(const transport::ScsiResult& r) override { result = r; }
};

class EmulatedLibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto* barcode : {"VOL001", "VOL002"}) {
      std::ofstream{dir / (std::string{barcode} + ".tap")};
    }
  }

  LibrarySpec spec(const std::string& options = "") {
    return parse_library_spec("emulated-library:" + dir.string() +
                              "?slots=3&ie=1&drives=a,b&move_time=0ms" + options);
  }
  std::unique_ptr<EmulatedLibrary> open(const std::string& options = "") {
    return std::make_unique<EmulatedLibrary>(ring, spec(options),
                                             std::vector<LibraryDrive*>{&drive_a, &drive_b});
  }
  transport::ScsiResult run(EmulatedLibrary& library, const scsi::Command& command,
                            std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
    data.assign(command.transfer_length, 0);
    Answer answer;
    EXPECT_TRUE(library.submit({command, {0, data}, timeout}, answer));
    EXPECT_FALSE(answer.result) << "never completed from inside submit()";
    while (!answer.result) {
      EXPECT_TRUE(ring.run_once(std::chrono::seconds{5}));
    }
    return *answer.result;
  }
  static ChangerCondition condition(const transport::ScsiResult& r) {
    if (r.sense_length == 0) {
      return ChangerCondition::good;
    }
    const auto sense = scsi::normalise_sense({r.sense.data(), r.sense_length});
    return sense ? scsi::classify_changer_sense(sense.value()) : ChangerCondition::other;
  }
  scsi::ElementStatusReport inventory(EmulatedLibrary& library) {
    const auto c = scsi::cdb::read_element_status(scsi::ElementType::all, 0, 0xFFFF, 4096, true,
                                                  true);
    const auto r = run(library, *c);
    EXPECT_EQ(r.scsi_status, 0);
    data.resize(data.size() - r.residue);
    return scsi::parse_element_status(data).value();
  }

  uring::Ring ring = uring::Ring::create({});
  test::TempDir tmp{"tapestream-changer"};
  fs::path dir = tmp.path();
  RecordingDrive drive_a, drive_b;
  std::vector<std::uint8_t> data;
};

constexpr std::uint16_t slot1 = LibraryShape::first_slot;
constexpr std::uint16_t drive1 = LibraryShape::first_drive;

TEST_F(EmulatedLibraryTest, SaysItIsAChangerAndReportsItsInventory) {
  auto library = open();
  run(*library, scsi::cdb::inquiry());
  EXPECT_EQ(data[0] & 0x1F, 0x08) << "peripheral device type: medium changer";
  const auto report = inventory(*library);
  ASSERT_EQ(report.elements.size(), 1U + 3U + 1U + 2U);
  EXPECT_EQ(report.elements[1].primary_tag->identifier, "VOL001");
  EXPECT_EQ(report.elements[2].primary_tag->identifier, "VOL002");
  EXPECT_EQ(report.elements[5].device->text(), "a");
  const auto page = run(*library, scsi::cdb::mode_sense6(0x1D, 0, scsi::cdb::PageControl::current, true));
  EXPECT_EQ(page.scsi_status, 0);
  EXPECT_EQ(condition(run(*library, scsi::cdb::test_unit_ready())), ChangerCondition::good);
  scsi::Command unknown = scsi::cdb::test_unit_ready();
  unknown.cdb[0] = 0x0A;  // WRITE(6): no changer's command
  const auto refused = run(*library, unknown);
  EXPECT_EQ(refused.scsi_status, 2);
  EXPECT_EQ(refused.sense[12], 0x20) << "INVALID COMMAND OPERATION CODE";
}

TEST_F(EmulatedLibraryTest, AMoveLoadsTheDriveAndSurvivesARestart) {
  auto library = open();
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, slot1 + 1, drive1))),
            ChangerCondition::good);
  ASSERT_TRUE(drive_a.cartridge);
  EXPECT_EQ(drive_a.cartridge->filename(), "VOL002.tap");
  library.reset();
  drive_a.cartridge.reset();
  library = open();
  ASSERT_TRUE(drive_a.cartridge) << "the record puts VOL002 back into drive a";
  EXPECT_EQ(drive_a.cartridge->filename(), "VOL002.tap");
  EXPECT_EQ(inventory(*library).elements[5].source, slot1 + 1);

  drive_a.threaded = true;
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, drive1, slot1 + 1))),
            ChangerCondition::removal_prevented);
  EXPECT_TRUE(drive_a.cartridge) << "a threaded tape stays";
  drive_a.threaded = false;
  drive_a.refuse_removal = "its tape is threaded";
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, drive1, slot1 + 1))),
            ChangerCondition::removal_prevented)
      << "a drive that threads its tape after the look keeps it";
  EXPECT_TRUE(drive_a.cartridge);
  EXPECT_EQ(library->model().barcode_at(drive1), "VOL002") << "the inventory is unchanged";
  drive_a.refuse_removal.reset();
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, drive1, slot1 + 1))),
            ChangerCondition::good);
  EXPECT_FALSE(drive_a.cartridge);
}

// Regression: a move from a drive to itself took the cartridge out of the drive (its image
// closed, a threaded tape too) while the inventory still showed it there.
TEST_F(EmulatedLibraryTest, AMoveToWhereTheCartridgeIsLeavesTheDriveLoaded) {
  auto library = open();
  ASSERT_EQ(condition(run(*library, scsi::cdb::move_medium(0, slot1, drive1))),
            ChangerCondition::good);
  for (const bool threaded : {false, true}) {
    drive_a.threaded = threaded;
    EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, drive1, drive1))),
              ChangerCondition::good);
    ASSERT_TRUE(drive_a.cartridge) << "threaded " << threaded << ": the drive keeps its cartridge";
    EXPECT_EQ(drive_a.cartridge->filename(), "VOL001.tap");
    EXPECT_EQ(library->model().barcode_at(drive1), "VOL001");
  }
}

TEST_F(EmulatedLibraryTest, RefusalsAndFaults) {
  auto library = open("&move_fails=2&stuck_drive=b");
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, slot1 + 2, drive1))),
            ChangerCondition::source_empty);
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, slot1, slot1 + 1))),
            ChangerCondition::destination_full);
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, slot1, 0x0999))),
            ChangerCondition::invalid_element);
  // The first move that passes its checks goes; the second fails in the robot.
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, slot1, drive1 + 1))),
            ChangerCondition::good);
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, slot1 + 1, drive1))),
            ChangerCondition::move_failed);
  EXPECT_FALSE(drive_a.cartridge);
  EXPECT_EQ(library->model().barcode_at(slot1 + 1), "VOL002") << "the cartridge stays";
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, drive1 + 1, slot1))),
            ChangerCondition::removal_prevented)
      << "drive b never gives its cartridge back";

  drive_a.refuse = "the image is locked by another daemon";
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, slot1 + 1, drive1))),
            ChangerCondition::move_failed);
  EXPECT_EQ(library->model().barcode_at(slot1 + 1), "VOL002") << "undone";
}

TEST_F(EmulatedLibraryTest, MovesTakeTheirTimeAndTimeOut) {
  auto library = open("&move_time=150ms");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(condition(run(*library, scsi::cdb::move_medium(0, slot1, drive1))),
            ChangerCondition::good);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds{140});
  const auto late = run(*library, scsi::cdb::move_medium(0, drive1, slot1),
                        std::chrono::milliseconds{20});
  EXPECT_TRUE(late.timed_out);
}

TEST_F(EmulatedLibraryTest, ACartridgeInADriveThatCannotLoadItStopsTheStart) {
  {
    auto library = open();
    run(*library, scsi::cdb::move_medium(0, slot1, drive1));
  }
  drive_a.refuse = "damaged image";
  EXPECT_THROW(open(), StartupError);
}

// Two daemons (or two --library options) on one directory would each keep their own record of
// where the cartridges are, and each write library.state over the other's.
TEST_F(EmulatedLibraryTest, ASecondLibraryOnTheSameDirectoryIsRefused) {
  auto library = open();
  RecordingDrive c, d;
  try {
    EmulatedLibrary second{ring, spec(), std::vector<LibraryDrive*>{&c, &d}};
    ADD_FAILURE() << "a second library opened the directory";
  } catch (const StartupError& e) {
    EXPECT_NE(std::string{e.what()}.find("in use by another tapestreamd"), std::string::npos)
        << e.what();
  }
  library.reset();
  EXPECT_NO_THROW(open()) << "the lock goes with the library";
}

}  // namespace
}  // namespace tapestream::emulated
