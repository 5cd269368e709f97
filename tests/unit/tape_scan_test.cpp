// catalog rebuild's reading of a scan (server/tape_scan.hpp): which files of a scanned tape are
// the volume label, trailers and data, with blocks the tape label module itself encodes.
#include <gtest/gtest.h>

#include "server/tape_scan.hpp"

namespace tapestream::server {
namespace {

constexpr const char* uuid = "0b8f5a0c-1d2e-4f3a-8b4c-5d6e7f8a9b0c";

ScannedTapeFile block_file(std::uint64_t file, std::vector<std::uint8_t> block) {
  ScannedTapeFile f;
  f.file = file;
  f.bytes = block.size();
  f.blocks = 1;
  f.largest_block = static_cast<std::uint32_t>(block.size());
  f.single_block = std::move(block);
  return f;
}

ScannedTapeFile data_file(std::uint64_t file, std::uint64_t bytes, std::uint8_t seed) {
  ScannedTapeFile f;
  f.file = file;
  f.bytes = bytes;
  f.blocks = 3;
  f.largest_block = 262144;
  f.sha256 = catalog::Digest{seed};
  return f;
}

std::vector<std::uint8_t> volume_label() {
  tape_label::VolumeLabel v;
  v.label = "OFFSITE-7";
  v.uuid = uuid;
  v.created = std::chrono::system_clock::now();
  return tape_label::encode(v);
}

std::vector<std::uint8_t> trailer_for(const ScannedTapeFile& data, const char* volume = uuid) {
  tape_label::Trailer t;
  t.volume = volume;
  t.file = data.file;
  t.label = "etc";
  t.bytes = data.bytes;
  t.blocks = data.blocks;
  t.block_size = 262144;
  t.sha256 = data.sha256;
  t.uid = 1234;
  return tape_label::encode(t);
}

TEST(TapeScan, PlainTapeIsAllScannedData) {
  const auto now = std::chrono::system_clock::now();
  const auto contents = interpret_scan({data_file(0, 1000, 1), data_file(1, 2000, 2)}, now);
  EXPECT_FALSE(contents.volume);
  ASSERT_EQ(contents.data_files.size(), 2U);
  EXPECT_EQ(contents.confirmed, 0U);
  EXPECT_EQ(contents.data_files[1].status, catalog::FileStatus::scanned);
  EXPECT_EQ(contents.data_files[1].bytes, 2000U);
  EXPECT_EQ(contents.data_files[1].block_size, 262144U);
  EXPECT_FALSE(contents.data_files[1].fixed);
  EXPECT_EQ(contents.data_files[1].sha256, catalog::Digest{2});
}

TEST(TapeScan, TrailerConfirmsOnlyTheFileItDescribes) {
  const auto one = data_file(1, 1000, 1);
  const auto three = data_file(3, 5000, 3);
  auto wrong = data_file(3, 5000, 4);  // another digest: the trailer is not this file's
  std::vector<ScannedTapeFile> scan{block_file(0, volume_label()), one, block_file(2, trailer_for(one)),
                                    three, block_file(4, trailer_for(wrong)),
                                    data_file(5, 10, 5),
                                    block_file(6, trailer_for(data_file(5, 10, 5), "11111111-2222-4333-8444-555555555555"))};
  const auto contents = interpret_scan(scan, std::chrono::system_clock::now());
  ASSERT_TRUE(contents.volume);
  EXPECT_EQ(contents.volume->label, "OFFSITE-7");
  EXPECT_EQ(contents.confirmed, 1U);
  std::vector<std::uint64_t> numbers;
  for (const auto& f : contents.data_files) {
    numbers.push_back(f.file_number);
  }
  // file 2 is file 1's trailer; files 4 and 6 describe other data (a digest, a volume): data.
  EXPECT_EQ(numbers, (std::vector<std::uint64_t>{1, 3, 4, 5, 6}));
  EXPECT_EQ(contents.data_files[0].status, catalog::FileStatus::complete);
  EXPECT_EQ(contents.data_files[0].label, "etc");
  EXPECT_EQ(contents.data_files[0].client_uid, 1234U);
  EXPECT_EQ(contents.data_files[1].status, catalog::FileStatus::scanned);
  EXPECT_EQ(contents.data_files[2].status, catalog::FileStatus::scanned);
}

TEST(TapeScan, UnreadableFilesAreFailedAndNeverLabels) {
  auto label = block_file(0, volume_label());
  label.failure = "medium_error";
  const auto contents = interpret_scan({label}, std::chrono::system_clock::now());
  EXPECT_FALSE(contents.volume);
  ASSERT_EQ(contents.data_files.size(), 1U);
  EXPECT_EQ(contents.data_files[0].status, catalog::FileStatus::failed);
  EXPECT_NE(contents.data_files[0].failure.find("medium_error"), std::string::npos);
}

}  // namespace
}  // namespace tapestream::server
