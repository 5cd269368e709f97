// The write and read pipelines on the emulated drive: committed streams read back exactly, and
// every other ending reports exactly the bytes that reading the file back returns.
#include <gtest/gtest.h>

#include <optional>

#include "stream_rig.hpp"

using namespace tapestream;
using namespace tapestream::scsi;

namespace {

using test::Rig;
using test::block;
using test::stream_data;

TEST(WriteStream, CommittedStreamsOfEverySizeReadBackExactly) {
  Rig rig{""};
  const std::size_t sizes[] = {0, 1, block - 1, block, block + 1, 10 * block + 17, 40 * block};
  std::uint64_t file = 0;
  for (auto size : sizes) {
    const auto data = stream_data(size, static_cast<std::uint32_t>(size));
    const auto o = rig.write(data);
    EXPECT_EQ(o.ending, drive::Ending::complete) << o.message;
    EXPECT_EQ(o.bytes, size);
    EXPECT_EQ(o.blocks, (size + block - 1) / block);
    EXPECT_EQ(o.file_number, file);
    EXPECT_TRUE(o.filemark_written);
    ++file;
  }
  file = 0;
  for (auto size : sizes) {
    EXPECT_EQ(rig.read_file(file++), stream_data(size, static_cast<std::uint32_t>(size)))
        << "stream of " << size << " bytes";
  }
}

TEST(WriteStream, EarlyWarningEndsTheStreamAndCountsExactly) {
  Rig rig{"capacity=2M&ew=600K"};
  const auto data = stream_data(4 << 20, 1);
  const auto o = rig.write(data);
  EXPECT_EQ(o.ending, drive::Ending::volume_full);
  EXPECT_TRUE(o.early_warning);
  EXPECT_TRUE(o.filemark_written);
  EXPECT_GT(o.bytes, 0U);
  EXPECT_LT(o.bytes, data.size());
  const auto back = rig.read_file(0);
  EXPECT_EQ(back.size(), o.bytes);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()));
}

TEST(WriteStream, EndOfMediumCountsExactly) {
  Rig rig{"capacity=1M&ew=1M"};  // no early warning before the end: VOLUME OVERFLOW
  const auto data = stream_data(3 << 20, 2);
  const auto o = rig.write(data);
  EXPECT_EQ(o.ending, drive::Ending::volume_full);
  const auto back = rig.read_file(0);
  EXPECT_EQ(back.size(), o.bytes);
  EXPECT_EQ(o.bytes % block, 0U);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()));
}

TEST(WriteStream, MediumErrorCountsWhatIsOnTheTape) {
  Rig rig{"medium_error_write=5"};
  const auto data = stream_data(20 * block, 3);
  const auto o = rig.write(data);
  EXPECT_EQ(o.ending, drive::Ending::medium_error);
  EXPECT_EQ(o.bytes, 4U * block);
  EXPECT_EQ(o.blocks, 4U);
  EXPECT_TRUE(o.filemark_written);
  EXPECT_NE(o.message.find("medium_error"), std::string::npos) << o.message;
  const auto back = rig.read_file(0);
  EXPECT_EQ(back.size(), o.bytes);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()));
}

TEST(WriteStream, ATimedOutWriteIsReportedWithWhatReachedTheTape) {
  Rig rig{"hang=write", std::chrono::milliseconds{1000}};
  const auto o = rig.write(stream_data(5 * block, 4));
  EXPECT_EQ(o.ending, drive::Ending::timeout);
  EXPECT_FALSE(o.filemark_written);  // the drive's state is unknown after a timeout
  EXPECT_EQ(o.bytes, 0U);
  EXPECT_EQ(rig.read_file(0).size(), 0U);
}

TEST(WriteStream, AbandonedStreamCountsWhatWasWritten) {
  Rig rig{""};
  const auto data = stream_data(30 * block, 5);
  const auto o = rig.write(data, 20 * block + 100);
  EXPECT_EQ(o.ending, drive::Ending::client_gone);
  const auto back = rig.read_file(0);
  EXPECT_EQ(back.size(), o.bytes);
  EXPECT_LE(o.bytes, 20U * block + 100U);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()));
}

// Regression: when early warning stopped a stream whose producer was parked on a full pool,
// nothing woke the producer; the daemon stopped reading the socket, the client stayed blocked
// in splice(), and the daemon then ignored SIGTERM. A stopping stream now calls on_space.
TEST(WriteStream, AProducerParkedOnAFullPoolHearsTheStreamStop) {
  Rig rig{"medium_error_write=1"};
  EXPECT_TRUE(rig.parked_producer_hears_stop());
}

TEST(WriteStream, WriteProtectedTapeWritesNothing) {
  Rig rig{"write_protect=1"};
  const auto o = rig.write(stream_data(3 * block, 6));
  EXPECT_EQ(o.ending, drive::Ending::write_protected);
  EXPECT_EQ(o.bytes, 0U);
  EXPECT_FALSE(o.filemark_written);
}

TEST(ReadStream, FilesReadBackExactlyInAnyOrder) {
  Rig rig{""};
  const std::size_t sizes[] = {1, block, 3 * block + 5, 0, 25 * block};
  for (auto size : sizes) {
    ASSERT_EQ(rig.write(stream_data(size, static_cast<std::uint32_t>(size) + 1)).ending,
              drive::Ending::complete);
  }
  for (std::uint64_t file : {2U, 0U, 4U, 1U, 3U}) {
    const auto [o, data] = rig.read_stream(file);
    const auto size = sizes[file];
    EXPECT_EQ(o.ending, drive::Ending::complete) << o.message;
    EXPECT_EQ(o.bytes, size);
    EXPECT_EQ(o.blocks, (size + block - 1) / block);
    EXPECT_EQ(data, stream_data(size, static_cast<std::uint32_t>(size) + 1)) << "file " << file;
  }
}

TEST(ReadStream, FilesAreFoundBySpacingWhenTheDriveHasNoLocate16) {
  Rig rig{""};
  rig.positioning = {false, false};
  const std::size_t sizes[] = {block + 1, 0, 2 * block};
  for (auto size : sizes) {
    ASSERT_EQ(rig.write(stream_data(size, static_cast<std::uint32_t>(size) + 7)).ending,
              drive::Ending::complete);
  }
  for (std::uint64_t file : {2U, 0U, 1U}) {
    const auto [o, data] = rig.read_stream(file);
    EXPECT_EQ(o.ending, drive::Ending::complete) << o.message;
    EXPECT_EQ(data, stream_data(sizes[file], static_cast<std::uint32_t>(sizes[file]) + 7))
        << "file " << file;
  }
  const auto [beyond, nothing] = rig.read_stream(3);
  EXPECT_EQ(beyond.ending, drive::Ending::end_of_data) << beyond.message;
}

TEST(ReadStream, NoSuchFileIsEndOfData) {
  Rig rig{""};
  ASSERT_EQ(rig.write(stream_data(100, 1)).ending, drive::Ending::complete);
  const auto [o, data] = rig.read_stream(5);
  EXPECT_EQ(o.ending, drive::Ending::end_of_data);
  EXPECT_TRUE(data.empty());
}

TEST(ReadStream, MediumErrorEndsWithWhatWasDelivered) {
  Rig rig{"medium_error_read=4"};
  const auto written = stream_data(10 * block, 7);
  ASSERT_EQ(rig.write(written).ending, drive::Ending::complete);
  const auto [o, data] = rig.read_stream(0);
  EXPECT_EQ(o.ending, drive::Ending::medium_error);
  EXPECT_EQ(o.bytes, 3U * block);  // the fourth READ failed
  EXPECT_EQ(data.size(), o.bytes);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), written.begin()));
}

TEST(ReadStream, AbandonedReadStops) {
  Rig rig{""};
  ASSERT_EQ(rig.write(stream_data(30 * block, 8)).ending, drive::Ending::complete);
  const auto [o, data] = rig.read_stream(0, 5);
  EXPECT_EQ(o.ending, drive::Ending::client_gone);
  EXPECT_EQ(o.bytes, 5U * block);
}

}  // namespace
