// Scanning SIMH images, including what a crash leaves behind.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "common/unique_fd.hpp"
#include "emulated/simh_image.hpp"

using namespace tapestream::emulated;
using tapestream::UniqueFd;

namespace {

using Bytes = std::vector<std::uint8_t>;

void word(Bytes& b, std::uint32_t w) {
  for (int i = 0; i < 4; ++i) {
    b.push_back(static_cast<std::uint8_t>(w >> (8 * i)));
  }
}
void record(Bytes& b, std::uint32_t length) {
  word(b, length);
  b.insert(b.end(), length + (length & 1), 0xAB);
  word(b, length);
}

ImageIndex scan(const Bytes& image) {
  const auto path = std::filesystem::temp_directory_path() / ("simh-" + std::to_string(getpid()));
  UniqueFd fd{::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600)};
  EXPECT_EQ(::write(fd.get(), image.data(), image.size()), static_cast<ssize_t>(image.size()));
  auto index = scan_image(fd.get()).value();
  std::filesystem::remove(path);
  return index;
}

TEST(SimhImage, RecordsMarksGapsAndEnd) {
  Bytes b;
  record(b, 10);
  record(b, 3);  // odd: one pad byte
  word(b, simh_tape_mark);
  word(b, simh_erase_gap);
  record(b, 0x10);
  word(b, simh_end_of_medium);
  record(b, 5);  // after the end: not part of the tape
  const auto index = scan(b);
  ASSERT_EQ(index.objects.size(), 4U);
  EXPECT_EQ(index.objects[0].length, 10U);
  EXPECT_EQ(index.objects[1].offset, 18U);
  EXPECT_EQ(index.objects[1].length, 3U);
  EXPECT_TRUE(index.objects[2].filemark);
  EXPECT_EQ(index.objects[3].offset, 18U + 12U + 4U + 4U);
  EXPECT_EQ(index.end_offset, 18U + 12U + 4U + 4U + 24U);
}

TEST(SimhImage, EndOfFileEndsTheTape) {
  Bytes b;
  record(b, 100);
  EXPECT_EQ(scan(b).objects.size(), 1U);
  EXPECT_EQ(scan({}).objects.size(), 0U);
}

TEST(SimhImage, TornRecordsAreCutOff) {
  Bytes good;
  record(good, 100);
  Bytes cut = good;
  record(cut, 100);
  cut.resize(cut.size() - 3);  // the trailer did not make it
  EXPECT_EQ(scan(cut).objects.size(), 1U);
  EXPECT_EQ(scan(cut).end_offset, good.size());
  Bytes mismatch = good;
  record(mismatch, 100);
  mismatch[mismatch.size() - 4] = 99;  // trailer disagrees with header
  EXPECT_EQ(scan(mismatch).objects.size(), 1U);
  Bytes huge = good;
  word(huge, 0x0100'0000);  // beyond 16 MiB - 1
  EXPECT_EQ(scan(huge).objects.size(), 1U);
  Bytes classed = good;
  word(classed, 0x8000'0010);  // SIMH "bad data" class: not ours to read as data
  EXPECT_EQ(scan(classed).objects.size(), 1U);
}

}  // namespace
