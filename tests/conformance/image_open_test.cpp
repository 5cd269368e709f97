// Opening the emulated drive's image: it never writes to the image unless told to repair it,
// refuses damage the format can see (saying where, what, and the two ways on), keeps what a
// crash left after the end, takes no symbolic link or special file by surprise, has one owner,
// and opens a file of a billion tape marks at once. Emulated drive only.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "common/crc32c.hpp"
#include "base/startup_error.hpp"
#include "emulated/emulated_drive.hpp"
#include "emulated/image_layout.hpp"
#include "fixture.hpp"

using namespace tapestream::scsi;
using tapestream::StartupError;
using tapestream::emulated::header_slot;
using tapestream::test::conformance_target;
using tapestream::test::Exchange;
using tapestream::test::Harness;
using tapestream::test::pattern_block;
using tapestream::test::ScratchDirectory;

namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::size_t block = 1000;

Count24 count(std::size_t n) { return Count24::from(n).value(); }
Exchange write(Harness& h, const Bytes& b) {
  return h.run(cdb::write6_variable(count(b.size())), b);
}
Exchange read(Harness& h) { return h.run(cdb::read6_variable(count(block), true), {}, block); }

// The image's size and CRC: images the drive wrote are 256 MiB long (allocated ahead).
struct Fingerprint {
  std::uintmax_t size = 0;
  std::uint32_t crc = 0;
  bool operator==(const Fingerprint&) const = default;
};
Fingerprint contents(const std::filesystem::path& path) {
  Fingerprint f{std::filesystem::file_size(path), 0};
  std::ifstream in{path, std::ios::binary};
  Bytes chunk(1 << 20);
  const auto want = static_cast<std::streamsize>(chunk.size());
  while (in.read(reinterpret_cast<char*>(chunk.data()), want) || in.gcount() > 0) {
    f.crc = tapestream::crc32c({chunk.data(), static_cast<std::size_t>(in.gcount())}, f.crc);
  }
  return f;
}

// Where `what` appears in the error opening `path` gives, or "opened" when it opens.
std::string open_error(const std::filesystem::path& path, const std::string& options = "") {
  try {
    Harness h{conformance_target(path, options)};
  } catch (const StartupError& e) {
    return e.what();
  }
  return "opened";
}

class ImageOpen : public ::testing::Test {
 protected:
  // Three files of three blocks, each ended by a filemark, written by the drive itself: objects
  // 0-3 are file 0, 4-7 file 1, 8-11 file 2.
  void SetUp() override {
    Harness h{conformance_target(image(), "")};
    for (std::uint32_t file = 0; file < 3; ++file) {
      for (std::uint32_t i = 0; i < 3; ++i) {
        ASSERT_EQ(write(h, pattern_block(file, i, block)).classification.condition,
                  TapeCondition::good);
      }
      ASSERT_EQ(h.run(cdb::write_filemarks6(count(1), false)).classification.condition,
                TapeCondition::good);
    }
    const auto& drive = dynamic_cast<tapestream::emulated::EmulatedDrive&>(h.transport());
    const auto& index = drive.image_index();
    for (std::uint64_t n = 0; n < index.size(); ++n) {
      _offsets.push_back(index.object(n).offset);
    }
  }

  std::filesystem::path image() const { return _scratch.path() / "tape.tap"; }
  std::uint64_t offset_of(std::size_t object) const { return _offsets.at(object); }
  void put_word(std::uint64_t offset, std::uint32_t word) {
    std::fstream f{image(), std::ios::binary | std::ios::in | std::ios::out};
    f.seekp(static_cast<std::streamoff>(offset));
    for (int i = 0; i < 4; ++i) {
      f.put(static_cast<char>(word >> (8 * i)));
    }
  }
  // Refused with a message that holds every piece of `expected`, and the image left as it was.
  void expect_refused(const std::vector<std::string>& expected, const std::string& options = "") {
    const auto before = contents(image());
    const auto error = open_error(image(), options);
    for (const auto& piece : expected) {
      EXPECT_NE(error.find(piece), std::string::npos) << "\"" << piece << "\" not in: " << error;
    }
    EXPECT_TRUE(contents(image()) == before) << "opening changed the image";
  }

  ScratchDirectory _scratch;
  std::vector<std::uint64_t> _offsets;
};

// Regression: opening cut the file back to the end of its data, every time.
TEST_F(ImageOpen, OpeningACleanImageWritesNothingToIt) {
  const auto before = contents(image());
  { Harness h{conformance_target(image(), "")}; }
  EXPECT_TRUE(contents(image()) == before) << "opening changed the image";
}

// Regression: one flipped length word left 0 of 3 files, cut off without a word.
TEST_F(ImageOpen, AFlippedLengthWordIsRefusedAndTheImageKept) {
  put_word(offset_of(5), block ^ 0x400);
  expect_refused({image().string(), "damaged at byte offset " + std::to_string(offset_of(5)),
                  "a record whose leading length (2024)",
                  "5 objects before it are intact: 1 file ended by a filemark, and 1 block after",
                  "damaged=readonly", "damaged=cut"});
}

TEST_F(ImageOpen, AnEndOfMediumWordInsideAFileIsRefused) {
  put_word(offset_of(5), 0xFFFF'FFFF);
  expect_refused({"damaged at byte offset " + std::to_string(offset_of(5)), "end-of-medium word",
                  "5 objects before it are intact"});
}

TEST_F(ImageOpen, AHugeLengthAtOffsetZeroIsNoImage) {
  put_word(0, 0x00FF'FFF0);
  expect_refused({"is not a SIMH tape image: at offset 0", "leading length (16777200)"});
  expect_refused({"is not a SIMH tape image"}, "damaged=cut");  // nothing there to keep
}

TEST_F(ImageOpen, ATextFileIsNoImage) {
  std::ofstream{image(), std::ios::trunc} << "#!/bin/sh\necho this is no tape\n";
  expect_refused({"is not a SIMH tape image", "a text file?"});
}

TEST_F(ImageOpen, ReadonlyServesWhatIsIntactAndRefusesWrites) {
  put_word(offset_of(5), block ^ 0x400);
  const auto before = contents(image());
  {
    Harness h{conformance_target(image(), "damaged=readonly")};
    for (std::uint32_t i = 0; i < 3; ++i) {
      EXPECT_EQ(read(h).data, pattern_block(0, i, block)) << i;
    }
    EXPECT_EQ(read(h).classification.condition, TapeCondition::filemark);
    EXPECT_EQ(read(h).data, pattern_block(1, 0, block));
    EXPECT_EQ(read(h).classification.condition, TapeCondition::end_of_data);  // the damage
    EXPECT_EQ(write(h, pattern_block(9, 0, block)).classification.condition,
              TapeCondition::write_protected);
    EXPECT_EQ(h.run(cdb::write_filemarks6(count(1), false)).classification.condition,
              TapeCondition::write_protected);
  }
  EXPECT_TRUE(contents(image()) == before);
}

TEST_F(ImageOpen, CutIsTheExplicitRepairAndWritesGoOnAfterIt) {
  put_word(offset_of(5), block ^ 0x400);
  {
    Harness h{conformance_target(image(), "damaged=cut")};
    EXPECT_EQ(contents(image()).size, header_slot(offset_of(5)) + 4);  // the rest is gone
    ASSERT_EQ(h.run(cdb::locate16(cdb::LocateDestination::end_of_data, 0, {}, false))
                  .classification.condition,
              TapeCondition::good);
    const auto form = cdb::ReadPositionForm::long_form;
    const auto at = parse_read_position(form, h.query(cdb::read_position(form)).data).value();
    EXPECT_EQ(at.first_logical_object, 5U);
    ASSERT_EQ(h.run(cdb::write_filemarks6(count(1), false)).classification.condition,
              TapeCondition::good);
    ASSERT_EQ(write(h, pattern_block(7, 0, block)).classification.condition, TapeCondition::good);
    ASSERT_EQ(h.run(cdb::write_filemarks6(count(1), false)).classification.condition,
              TapeCondition::good);
  }
  Harness h{conformance_target(image(), "")};  // and the image is clean again
  ASSERT_EQ(h.run(cdb::locate16(cdb::LocateDestination::logical_file, 2, {}, false))
                .classification.condition,
            TapeCondition::good);
  EXPECT_EQ(read(h).data, pattern_block(7, 0, block));
}

TEST_F(ImageOpen, WhatACrashLeftAfterTheEndIsKeptThenOverwritten) {
  {
    std::ofstream out{image(), std::ios::binary | std::ios::app};
    const Bytes unlinked(10000, 0x5A);
    out.write(reinterpret_cast<const char*>(unlinked.data()),
              static_cast<std::streamsize>(unlinked.size()));
  }
  const auto before = contents(image());
  {
    Harness h{conformance_target(image(), "")};
    EXPECT_TRUE(contents(image()) == before);
    ASSERT_EQ(h.run(cdb::locate16(cdb::LocateDestination::end_of_data, 0, {}, false))
                  .classification.condition,
              TapeCondition::good);
    ASSERT_EQ(write(h, pattern_block(8, 0, block)).classification.condition, TapeCondition::good);
  }
  Harness h{conformance_target(image(), "")};
  ASSERT_EQ(h.run(cdb::locate16(cdb::LocateDestination::logical_object, 12, {}, false))
                .classification.condition,
            TapeCondition::good);
  EXPECT_EQ(read(h).data, pattern_block(8, 0, block));
  EXPECT_EQ(read(h).classification.condition, TapeCondition::end_of_data);
}

TEST_F(ImageOpen, ASymbolicLinkIsFollowedOnlyWhenAllowed) {
  const auto link = _scratch.path() / "link.tap";
  std::filesystem::create_symlink(image(), link);
  const auto error = open_error(link);
  EXPECT_NE(error.find("is a symbolic link to " + image().string()), std::string::npos) << error;
  EXPECT_NE(error.find("follow_symlinks=1"), std::string::npos) << error;
  EXPECT_EQ(open_error(link, "follow_symlinks=1"), "opened");
  const auto dangling = _scratch.path() / "dangling.tap";
  std::filesystem::create_symlink(_scratch.path() / "nowhere.tap", dangling);
  EXPECT_NE(open_error(dangling).find("symbolic link"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(_scratch.path() / "nowhere.tap"));
}

TEST_F(ImageOpen, OnlyARegularFileIsAnImage) {
  const auto directory = _scratch.path() / "dir.tap";
  std::filesystem::create_directory(directory);
  EXPECT_NE(open_error(directory).find("is a directory, not a regular file"), std::string::npos);
  const auto fifo = _scratch.path() / "fifo.tap";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(open_error(fifo).find("is a FIFO, not a regular file"), std::string::npos);
  EXPECT_NE(open_error("/dev/null").find("is a character device"), std::string::npos);
}

TEST_F(ImageOpen, ASecondDriveOnTheImageIsRefused) {
  const std::string in_use =
      "is in use (locked by another tapestreamd, or another drive of this one)";
  const auto hard_link = _scratch.path() / "hard.tap";
  std::filesystem::create_hard_link(image(), hard_link);
  {
    Harness first{conformance_target(image(), "")};
    EXPECT_NE(open_error(image()).find(in_use), std::string::npos);
    EXPECT_NE(open_error(_scratch.path() / "." / "tape.tap").find(in_use), std::string::npos);
    EXPECT_NE(open_error(hard_link).find(in_use), std::string::npos);
  }
  EXPECT_EQ(open_error(hard_link), "opened");  // the lock goes with the drive
}

TEST_F(ImageOpen, AnotherProcessHoldingTheImageIsRefused) {
  Harness holder{conformance_target(image(), "")};
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const auto error = open_error(image());
    _exit(error.find("is in use") != std::string::npos ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

// Regression: 4 GiB of zeros (a billion tape marks) ended in std::bad_alloc after 17 s, and
// 256 MiB took 4 s and 1.6 GB to open.
TEST(ImageOpenZeros, ASparseFileOfABillionTapeMarksOpensAtOnce) {
  ScratchDirectory scratch;
  const auto image = scratch.path() / "zeros.tap";
  { std::ofstream create{image}; }
  std::filesystem::resize_file(image, std::uint64_t{4} << 30);
  const auto started = std::chrono::steady_clock::now();
  Harness h{conformance_target(image, "")};
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{3});
  ASSERT_EQ(h.run(cdb::locate16(cdb::LocateDestination::end_of_data, 0, {}, false))
                .classification.condition,
            TapeCondition::good);
  const auto form = cdb::ReadPositionForm::long_form;
  const auto at = parse_read_position(form, h.query(cdb::read_position(form)).data).value();
  EXPECT_EQ(at.first_logical_object, std::uint64_t{1} << 30);
  EXPECT_EQ(at.logical_file, std::uint64_t{1} << 30);
  ASSERT_EQ(h.run(cdb::locate16(cdb::LocateDestination::logical_file, 123456789, {}, false))
                .classification.condition,
            TapeCondition::good);
  EXPECT_EQ(parse_read_position(form, h.query(cdb::read_position(form)).data)
                .value()
                .first_logical_object,
            123456789U);
}

}  // namespace
