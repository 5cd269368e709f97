// The emulated cartridge's medium serial number (MAM 0401h): kept with the image file, so that
// it follows the cartridge and two cartridges never share one; the catalog tells volumes apart
// by it. Emulated drive only.
#include <sys/xattr.h>

#include <filesystem>
#include <string>

#include "base/startup_error.hpp"
#include "scsi/attribute.hpp"
#include "emulated/medium_serial.hpp"
#include "fixture.hpp"

using namespace tapestream::scsi;
using tapestream::StartupError;
using tapestream::emulated::medium_serial_attribute;
using tapestream::test::conformance_target;
using tapestream::test::Harness;
using tapestream::test::ScratchDirectory;

namespace {

std::string medium_serial(const std::filesystem::path& image, const std::string& options = "") {
  Harness h{conformance_target(image, options)};
  const auto values =
      parse_attribute_values(h.query(cdb::read_attribute(cdb::ReadAttributeAction::values, 0, 0)).data);
  const auto* serial = find_attribute(values.value(), attribute_id::medium_serial_number);
  return serial ? std::string{serial->as_text()} : std::string{};
}

std::string stored_attribute(const std::filesystem::path& image) {
  char text[64] = {};
  const auto n = getxattr(image.c_str(), medium_serial_attribute, text, sizeof text);
  return n < 0 ? std::string{} : std::string(text, static_cast<std::size_t>(n));
}

TEST(EmulatedMediumSerial, EachNewImageGetsItsOwnAndKeepsIt) {
  ScratchDirectory scratch;
  const auto first = scratch.path() / "a.tap";
  const auto second = scratch.path() / "b.tap";
  const auto serial = medium_serial(first);
  ASSERT_EQ(serial.size(), 15U) << serial;
  EXPECT_EQ(serial.substr(0, 3), "EMU");
  EXPECT_EQ(stored_attribute(first), serial);
  EXPECT_EQ(medium_serial(first), serial) << "a second opening must keep the serial";
  EXPECT_NE(medium_serial(second), serial) << "two cartridges must not share a serial";
}

TEST(EmulatedMediumSerial, ACopyWithoutTheAttributeIsANewCartridge) {
  ScratchDirectory scratch;
  const auto original = scratch.path() / "a.tap";
  const auto serial = medium_serial(original);
  const auto copy = scratch.path() / "copy.tap";
  std::filesystem::copy_file(original, copy);  // copies bytes, not attributes
  ASSERT_EQ(stored_attribute(copy), "");
  EXPECT_NE(medium_serial(copy), serial);
}

TEST(EmulatedMediumSerial, TheSpecMayGiveItAndThenTheImageIsNotMarked) {
  ScratchDirectory scratch;
  const auto image = scratch.path() / "a.tap";
  EXPECT_EQ(medium_serial(image, "medium_serial=LTO9-000123"), "LTO9-000123");
  EXPECT_EQ(stored_attribute(image), "");
}

TEST(EmulatedMediumSerial, AWriteProtectedImageWithoutOneGetsAStableDerivedSerial) {
  ScratchDirectory scratch;
  const auto image = scratch.path() / "a.tap";
  { Harness h{conformance_target(image, "medium_serial=X")}; }  // creates the image, unmarked
  const auto serial = medium_serial(image, "write_protect=1");
  EXPECT_EQ(serial.substr(0, 4), "EMUI") << serial;
  EXPECT_EQ(medium_serial(image, "write_protect=1"), serial);
  EXPECT_EQ(stored_attribute(image), "") << "a write-protected cartridge is not written";
}

TEST(EmulatedMediumSerial, AGarbageAttributeIsRefusedNotReplaced) {
  ScratchDirectory scratch;
  const auto image = scratch.path() / "a.tap";
  { Harness h{conformance_target(image, "medium_serial=X")}; }
  const std::string garbage = "has space";
  ASSERT_EQ(setxattr(image.c_str(), medium_serial_attribute, garbage.data(), garbage.size(), 0), 0);
  try {
    Harness h{conformance_target(image, "")};
    ADD_FAILURE() << "an image with a garbage serial attribute opened";
  } catch (const StartupError& e) {
    EXPECT_NE(std::string{e.what()}.find(medium_serial_attribute), std::string::npos) << e.what();
  }
  EXPECT_EQ(stored_attribute(image), garbage);
}

// Regression: an attribute longer than 32 bytes does not fit the read buffer, so fgetxattr
// fails with ERANGE; on a write-protected image that fell through to the derived EMUI serial,
// so the cartridge silently changed serial instead of being refused as EMULATED_DRIVE.md says.
TEST(EmulatedMediumSerial, AnOverlongAttributeIsRefusedAlsoWhenWriteProtected) {
  ScratchDirectory scratch;
  const auto image = scratch.path() / "a.tap";
  { Harness h{conformance_target(image, "medium_serial=X")}; }
  const std::string overlong(40, 'A');
  ASSERT_EQ(setxattr(image.c_str(), medium_serial_attribute, overlong.data(), overlong.size(), 0), 0);
  for (const auto* options : {"", "write_protect=1"}) {
    try {
      Harness h{conformance_target(image, options)};
      ADD_FAILURE() << "an image with a 40-byte serial attribute opened with \"" << options << "\"";
    } catch (const StartupError& e) {
      EXPECT_NE(std::string{e.what()}.find("not 1 to 32 printable characters"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(stored_attribute(image), overlong);
}

TEST(EmulatedMediumSerial, TheSpecRefusesABadSerial) {
  ScratchDirectory scratch;
  for (const auto* bad : {"medium_serial=", "medium_serial=a b",
                          "medium_serial=123456789012345678901234567890123"}) {
    try {
      Harness h{conformance_target(scratch.path() / "a.tap", bad)};
      ADD_FAILURE() << bad << " was taken";
    } catch (const StartupError& e) {
      EXPECT_NE(std::string{e.what()}.find("medium_serial"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
