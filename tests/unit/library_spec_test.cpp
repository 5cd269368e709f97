// Emulated library specifications (emulated/library_spec.hpp): the issue's example, defaults,
// faults, and a clear error naming the option for everything else.
#include "emulated/library_spec.hpp"

#include <gtest/gtest.h>

#include "base/startup_error.hpp"

namespace tapestream::emulated {
namespace {

std::string error_of(const std::string& spec) {
  try {
    parse_library_spec(spec);
  } catch (const StartupError& e) {
    return e.what();
  }
  return "no error";
}

TEST(LibrarySpec, TheIssueExample) {
  const auto l = parse_library_spec("emulated-library:/srv/lib0?slots=24&ie=2&drives=lto1,lto2");
  EXPECT_EQ(l.directory, "/srv/lib0");
  EXPECT_EQ(l.slots, 24U);
  EXPECT_EQ(l.mail_slots, 2U);
  EXPECT_EQ(l.drives, (std::vector<std::string>{"lto1", "lto2"}));
  EXPECT_EQ(l.move_time, std::chrono::milliseconds{200});
  EXPECT_EQ(l.load_time.count(), 0);  // drives ready the moment the robot lets go
  EXPECT_FALSE(l.move_fails || l.stuck_drive);
  EXPECT_TRUE(is_library_spec("emulated-library:/x?drives=a"));
  EXPECT_FALSE(is_library_spec("emulated:/x.tap"));
}

TEST(LibrarySpec, SmallTapesAndFaults) {
  const auto l = parse_library_spec(
      "emulated-library:d?drives=a&slots=3&ie=0&capacity=64M&ew=48M&move_time=2s&move_fails=2&"
      "stuck_drive=a");
  EXPECT_EQ(l.capacity, 64U << 20);
  EXPECT_EQ(l.early_warning, 48U << 20);
  EXPECT_EQ(l.move_time, std::chrono::milliseconds{2000});
  EXPECT_EQ(l.move_fails, 2U);
  EXPECT_EQ(l.stuck_drive, "a");
  EXPECT_EQ(parse_library_spec("emulated-library:d?drives=a&move_time=0ms").move_time.count(), 0);
  EXPECT_EQ(parse_library_spec("emulated-library:d?drives=a&load_time=20s").load_time,
            std::chrono::seconds{20});
  EXPECT_FALSE(l.medium_error_write);
  EXPECT_EQ(parse_library_spec("emulated-library:d?drives=a&medium_error_write=250").medium_error_write,
            250U);
}

TEST(LibrarySpec, ErrorsNameTheOption) {
  const std::pair<const char*, const char*> cases[] = {
      {"emulated:d?drives=a", "must start with"},
      {"emulated-library:?drives=a", "no directory"},
      {"emulated-library:d", "at least one drive"},
      {"emulated-library:d?drives=", "comma-separated"},
      {"emulated-library:d?drives=a,,b", "comma-separated"},
      {"emulated-library:d?drives=a,a", "named twice"},
      {"emulated-library:d?drives=a&slots=0", "slots must be 1 to 4096"},
      {"emulated-library:d?drives=a&ie=999", "ie must be 0 to 240"},
      {"emulated-library:d?drives=a&move_time=5", "duration"},
      {"emulated-library:d?drives=a&move_time=2h", "duration"},
      {"emulated-library:d?drives=a&move_time=9999s", "duration"},
      {"emulated-library:d?drives=a&load_time=1m", "duration"},
      {"emulated-library:d?drives=a&stuck_drive=b", "none of its drives"},
      {"emulated-library:d?drives=a&capacity=1K", "at least 1M"},
      {"emulated-library:d?drives=a&capacity=1G&ew=2G", "beyond capacity"},
      {"emulated-library:d?drives=a&colour=red", "unknown option \"colour\""},
      {"emulated-library:d?drives=a&slots", "needs a value"},
  };
  for (const auto& [spec, expected] : cases) {
    EXPECT_NE(error_of(spec).find(expected), std::string::npos) << spec << ": " << error_of(spec);
  }
}

TEST(LibrarySpec, Barcodes) {
  EXPECT_TRUE(valid_barcode("VOL001L9"));
  EXPECT_TRUE(valid_barcode("a-b_C"));
  EXPECT_FALSE(valid_barcode(""));
  EXPECT_FALSE(valid_barcode(std::string(33, 'A')));
  EXPECT_FALSE(valid_barcode("../etc"));
  EXPECT_FALSE(valid_barcode("A B"));
}

}  // namespace
}  // namespace tapestream::emulated
