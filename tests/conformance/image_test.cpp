// The emulated drive's image, read by an independent reader, and after crashes: a child writes
// blocks and is killed at a random moment; every block it was told was written must read back
// intact, from the drive reopened on the image and from the independent reader.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

#include "fixture.hpp"
#include "killed_writer.hpp"

using namespace tapestream::scsi;
using tapestream::test::EmulatedFaults;
using tapestream::test::EmulatedImage;
using tapestream::test::Harness;
using tapestream::test::conformance_target;
using tapestream::test::pattern_block;
using tapestream::test::ScratchDirectory;

namespace {

struct Output {
  int status;
  std::string text;
};

// Runs the independent reader on an image.
Output simh_reader(const std::filesystem::path& image, const std::string& arguments) {
  const std::string command = std::string{"python3 "} + TAPESTREAM_SIMH_READER + " " +
                              image.string() + " " + arguments;
  Output out{-1, {}};
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  char chunk[65536];
  std::size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, pipe)) > 0) {
    out.text.append(chunk, n);
  }
  out.status = pclose(pipe);
  return out;
}

std::size_t length_of(std::uint32_t block) { return 1 + (block * 7919U) % 70000U; }

TEST_F(EmulatedImage, IndependentReaderSeesFilesAndBlocks) {
  std::string expected_file1;
  for (std::uint32_t file = 0; file < 3; ++file) {
    for (std::uint32_t i = 0; i < 4; ++i) {
      const auto b = pattern_block(file, i, length_of(file * 10 + i));
      ASSERT_EQ(write(b).classification.condition, TapeCondition::good);
      if (file == 1) {
        expected_file1.append(b.begin(), b.end());
      }
    }
    ASSERT_EQ(filemarks(1).classification.condition, TapeCondition::good);
  }
  const auto list = simh_reader(image(), "--list");
  ASSERT_EQ(list.status, 0) << list.text;
  std::ostringstream expected_list;
  for (std::uint32_t file = 0; file < 3; ++file) {
    std::size_t bytes = 0;
    for (std::uint32_t i = 0; i < 4; ++i) {
      bytes += length_of(file * 10 + i);
    }
    expected_list << file << " 4 " << bytes << "\n";
  }
  EXPECT_EQ(list.text, expected_list.str());
  const auto data = simh_reader(image(), "--file 1");
  ASSERT_EQ(data.status, 0);
  EXPECT_EQ(data.text, expected_file1);
}

// Both image layouts, two rounds each in turn: a packed append's every page is staged, an
// aligned one's large records come from the buffer; either way a kill loses no acknowledged block.
TEST(ImageCrash, KilledWriterLosesNothingItWasToldWasWritten) {
  std::mt19937 random{20261122};
  for (int round = 0; round < 8; ++round) {
    const std::string options = (round / 2) % 2 == 0 ? "layout=aligned" : "layout=packed";
    ScratchDirectory scratch;
    const auto image = scratch.path() / "tape.tap";
    const auto kill_after = static_cast<std::uint32_t>(1 + random() % 120);
    const auto linger = round % 2 == 1 ? static_cast<useconds_t>(random() % 2000) : 0U;
    const auto writer = tapestream::test::kill_writer_after(image, options, 5, length_of, kill_after, linger);
    const auto acked = writer.acknowledged;
    ASSERT_TRUE(writer.killed) << "the writer stopped by itself";

    Harness h{conformance_target(image, options)};
    std::uint32_t found = 0;
    for (;; ++found) {
      const auto length = length_of(found);
      const auto e = h.run(cdb::read6_variable(Count24::from(length).value(), true), {}, length);
      if (e.classification.condition == TapeCondition::end_of_data) {
        break;
      }
      ASSERT_EQ(e.classification.condition, TapeCondition::good) << "block " << found;
      ASSERT_EQ(e.data, pattern_block(5, found, length)) << "block " << found;
    }
    EXPECT_GE(found, acked) << "round " << round << ", " << options;
    EXPECT_LE(found, acked + 1) << "round " << round << ", " << options;  // at most the one in flight
    const auto list = simh_reader(image, "--list");
    ASSERT_EQ(list.status, 0) << list.text;
    if (found > 0) {
      EXPECT_EQ(list.text.substr(0, list.text.find(' ', 2)), "0 " + std::to_string(found));
    }
  }
}

}  // namespace
