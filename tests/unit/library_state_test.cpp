// The emulated library's record (emulated/library_state.hpp) in a real scratch directory:
// what a move leaves is what the next start finds, an operator's new cartridge is imported, and
// a record that does not match the directory stops the start instead of being "repaired".
#include "emulated/library_state.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "base/startup_error.hpp"
#include "temp_dir.hpp"

namespace tapestream::emulated {
namespace {

namespace fs = std::filesystem;

class LibraryState : public ::testing::Test {
 protected:

  void cartridge(const std::string& barcode) { std::ofstream{dir / (barcode + ".tap")}; }
  void record(const std::string& text) { std::ofstream{dir / "library.state"} << text; }
  static LibraryModel empty() { return LibraryModel{{3, 1, {"D1", "D2"}}}; }
  std::string refusal() {
    auto model = empty();
    try {
      restore_library(model, dir);
    } catch (const StartupError& e) {
      return e.what();
    }
    return "no error";
  }

  test::TempDir tmp{"tapestream-library"};
  fs::path dir = tmp.path();
};

TEST_F(LibraryState, FirstStartFillsSlotsInBarcodeOrder) {
  cartridge("VOL002");
  cartridge("VOL001");
  std::ofstream{dir / "notes.txt"};  // not a cartridge: left alone
  auto model = empty();
  restore_library(model, dir);
  EXPECT_EQ(model.barcode_at(LibraryShape::first_slot), "VOL001");
  EXPECT_EQ(model.barcode_at(LibraryShape::first_slot + 1), "VOL002");
  EXPECT_FALSE(model.barcode_at(LibraryShape::first_mail_slot)) << "nothing imported at first";
}

TEST_F(LibraryState, WhatAMoveLeavesIsWhatTheNextStartFinds) {
  cartridge("VOL001");
  cartridge("VOL002");
  auto model = empty();
  restore_library(model, dir);
  ASSERT_FALSE(model.move(0, LibraryShape::first_slot + 1, LibraryShape::first_drive + 1));
  save_library(model, dir);
  EXPECT_FALSE(fs::exists(dir / "library.state.new"));

  auto again = empty();
  restore_library(again, dir);
  EXPECT_EQ(again.barcode_at(LibraryShape::first_drive + 1), "VOL002");
  EXPECT_FALSE(again.barcode_at(LibraryShape::first_slot + 1));
  const auto placements = again.placements();
  const auto in_drive = std::find_if(placements.begin(), placements.end(),
                                     [](const auto& p) { return p.barcode == "VOL002"; });
  ASSERT_NE(in_drive, placements.end());
  EXPECT_EQ(in_drive->source, LibraryShape::first_slot + 1) << "it knows where to go back";
}

TEST_F(LibraryState, ANewCartridgeArrivesInTheMailSlot) {
  cartridge("VOL001");
  auto model = empty();
  restore_library(model, dir);
  save_library(model, dir);
  cartridge("NEW001");
  auto again = empty();
  restore_library(again, dir);
  EXPECT_EQ(again.barcode_at(LibraryShape::first_mail_slot), "NEW001");
  EXPECT_EQ(again.barcode_at(LibraryShape::first_slot), "VOL001");
}

TEST_F(LibraryState, ARecordThatDoesNotMatchStopsTheStart) {
  cartridge("VOL001");
  record("tapestream-library 1\n4096 VOL009\n");
  EXPECT_NE(refusal().find("VOL009.tap is missing"), std::string::npos) << refusal();
  record("tapestream-library 1\n4096 VOL001\n4097 VOL001\n");
  EXPECT_NE(refusal().find("recorded twice"), std::string::npos) << refusal();
  record("tapestream-library 1\n9999 VOL001\n");
  EXPECT_NE(refusal().find("not one of this library's"), std::string::npos) << refusal();
  record("tapestream-library 1\n4096 VOL001 1\n");
  EXPECT_NE(refusal().find("not one of this library's"), std::string::npos)
      << "a source must be a storage slot: " << refusal();
  record("tapestream-library 1\nfour VOL001\n");
  EXPECT_NE(refusal().find("line 2"), std::string::npos) << refusal();
  record("SQLite format 3\n");
  EXPECT_NE(refusal().find("not a tapestream library record"), std::string::npos) << refusal();
  record("");
  EXPECT_NE(refusal().find("is empty"), std::string::npos) << refusal();
  std::ifstream kept{dir / "library.state"};
  EXPECT_TRUE(kept.good()) << "a refused record is left as it is";
}

TEST_F(LibraryState, MoreCartridgesThanSlotsOrBadNamesAreRefused) {
  for (const auto* barcode : {"A1", "A2", "A3", "A4"}) {
    cartridge(barcode);
  }
  EXPECT_NE(refusal().find("no free slot for cartridge A4"), std::string::npos) << refusal();
  fs::remove(dir / "A4.tap");
  cartridge("bad name");
  EXPECT_NE(refusal().find("is not named by a barcode"), std::string::npos) << refusal();
}

}  // namespace
}  // namespace tapestream::emulated
