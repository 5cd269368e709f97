// Issue 9: how streams start and end when something goes wrong, on the emulated drive through
// daemon/drive — every file number a stream reports holds exactly that stream's bytes, a failed
// stream reports exactly what reading its file back returns, and nothing of it makes a file when
// nothing of it reached the tape.
#include "stream_rig.hpp"

using namespace tapestream;
using namespace tapestream::scsi;
using test::block;
using test::Rig;
using test::stream_data;

namespace {

// Blocks written straight to the drive with no filemark after them: what a stream cut off by a
// reset on WRITE FILEMARKS, or by a daemon killed in the middle, leaves on the tape.
std::vector<std::uint8_t> leave_unfinished_file(Rig& rig, std::uint32_t blocks, std::uint32_t seed) {
  std::vector<std::uint8_t> all;
  rig.protection_off();  // the stream before left it on: raw blocks carry no CRC
  rig.run(cdb::space16(cdb::SpaceCode::end_of_data, 0), 0);
  for (std::uint32_t i = 0; i < blocks; ++i) {
    const auto b = test::pattern_block(seed, i, block);
    EXPECT_EQ(rig.run(cdb::write6_variable(Count24::from(b.size()).value()), 0, b).first.condition,
              TapeCondition::good);
    all.insert(all.end(), b.begin(), b.end());
  }
  return all;
}

// Defect 1: the next append reported "file 1" while `read --file 1` returned the old partial
// bytes followed by the new ones.
TEST(StreamEndings, AnUnfinishedLastFileIsClosedBeforeAnAppend) {
  Rig rig{""};
  const auto first = stream_data(2 * block + 5, 1);
  ASSERT_EQ(rig.write(first).ending, drive::Ending::complete);
  const auto partial = leave_unfinished_file(rig, 3, 2);
  rig.run(cdb::rewind(false), 0);  // and the tape is somewhere else when the next client comes
  const auto next = stream_data(block + 9, 3);
  const auto o = rig.write(next);
  ASSERT_EQ(o.ending, drive::Ending::complete) << o.message;
  EXPECT_TRUE(o.closed_unfinished_file);
  EXPECT_EQ(o.file_number, 2U);
  EXPECT_EQ(rig.read_file(0), first);
  EXPECT_EQ(rig.read_file(1), partial);
  EXPECT_EQ(rig.read_file(2), next);
}

TEST(StreamEndings, AnUnfinishedFileIsClosedAlsoWhenFilesAreCounted) {
  Rig rig{""};
  rig.positioning = {false, false};  // no long READ POSITION, no SPACE(16): files are counted
  ASSERT_EQ(rig.write(stream_data(100, 4)).ending, drive::Ending::complete);
  const auto partial = leave_unfinished_file(rig, 1, 5);
  const auto next = stream_data(200, 6);
  const auto o = rig.write(next);
  ASSERT_EQ(o.ending, drive::Ending::complete) << o.message;
  EXPECT_EQ(o.file_number, 2U);
  EXPECT_EQ(rig.read_file(1), partial);
  EXPECT_EQ(rig.read_file(2), next);
}

// A unit attention at every command of two streams in turn: whatever each reports is what its
// file holds, and a stream that left nothing on the tape made no file. Also with the MODE SENSE
// a real drive's stream sends at its start for the medium's speed.
void sweep_unit_attentions(bool min_rate_of_medium) {
  const auto a = stream_data(3 * block + 11, 7);
  const auto b = stream_data(2 * block, 8);
  for (int n = 0; n < 30; ++n) {
    Rig rig{"unit_attention=" + std::to_string(n)};
    rig.min_rate_of_medium = min_rate_of_medium;
    std::vector<std::pair<drive::StreamOutcome, const std::vector<std::uint8_t>*>> written;
    std::uint64_t expected_file = 0;
    for (const auto* data : {&a, &b, &a}) {
      const auto o = rig.write(*data);
      if (o.ending == drive::Ending::complete || o.blocks > 0) {  // else it made no file
        EXPECT_EQ(o.file_number, expected_file) << "unit attention after " << n << " commands";
        ++expected_file;
      }
      written.emplace_back(o, data);
    }
    for (const auto& [o, data] : written) {
      if (o.ending != drive::Ending::complete && o.blocks == 0) {
        continue;
      }
      const auto back = rig.read_file(o.file_number);
      ASSERT_EQ(back.size(), o.bytes) << "file " << o.file_number << ", unit attention after " << n
                                      << " commands: " << o.message;
      EXPECT_TRUE(std::equal(back.begin(), back.end(), data->begin())) << "file " << o.file_number;
      if (o.ending == drive::Ending::complete) {
        EXPECT_EQ(back, *data);
      }
    }
  }
}

TEST(StreamEndings, AUnitAttentionAtAnyCommandKeepsEveryReportTrue) { sweep_unit_attentions(false); }

TEST(StreamEndings, AUnitAttentionAtAnyCommandOfAStreamThatAsksItsMediumsSpeed) {
  sweep_unit_attentions(true);
}

TEST(StreamEndings, AStreamThatPutNothingOnTheTapeMakesNoFile) {
  Rig rig{"medium_error_write=1"};
  const auto failed = rig.write(stream_data(3 * block, 9));
  EXPECT_EQ(failed.ending, drive::Ending::medium_error);
  EXPECT_EQ(failed.blocks, 0U);
  EXPECT_FALSE(failed.filemark_written);
  const auto next = stream_data(block, 10);
  const auto o = rig.write(next);
  ASSERT_EQ(o.ending, drive::Ending::complete) << o.message;
  EXPECT_EQ(o.file_number, 0U);  // the same number: no empty file took it
  EXPECT_EQ(rig.read_file(0), next);
}

TEST(StreamEndings, AWriteHereInsideAFileIsRefused) {
  Rig rig{""};
  const auto first = stream_data(3 * block, 11);
  ASSERT_EQ(rig.write(first).ending, drive::Ending::complete);
  rig.run(cdb::locate16(cdb::LocateDestination::logical_object, 1, {}, false), 0);
  auto here = rig.options();
  here.append = false;
  const auto o = rig.write_with(here, stream_data(block, 12));
  EXPECT_EQ(o.ending, drive::Ending::not_at_boundary) << o.message;
  EXPECT_EQ(o.blocks, 0U);
  EXPECT_EQ(rig.read_file(0), first);
}

TEST(StreamEndings, AWriteHereAfterAResetIsRefused) {
  Rig rig{""};
  const auto first = stream_data(2 * block, 13);
  ASSERT_EQ(rig.write(first).ending, drive::Ending::complete);
  auto here = rig.options();
  here.append = false;
  here.position_trusted = false;  // the drive reported a reset since it was positioned
  const auto o = rig.write_with(here, stream_data(block, 14));
  EXPECT_EQ(o.ending, drive::Ending::medium_changed) << o.message;
  EXPECT_EQ(rig.read_file(0), first);
}

TEST(StreamEndings, AWriteHereAtAFileBoundaryEndsTheTapeThere) {
  Rig rig{""};
  const auto first = stream_data(block + 1, 15);
  ASSERT_EQ(rig.write(first).ending, drive::Ending::complete);
  ASSERT_EQ(rig.write(stream_data(block, 16)).ending, drive::Ending::complete);
  rig.run(cdb::locate16(cdb::LocateDestination::logical_file, 1, {}, false), 0);
  auto here = rig.options();
  here.append = false;
  const auto replacement = stream_data(17, 17);
  const auto o = rig.write_with(here, replacement);
  ASSERT_EQ(o.ending, drive::Ending::complete) << o.message;
  EXPECT_EQ(o.file_number, 1U);
  EXPECT_EQ(rig.read_file(0), first);
  EXPECT_EQ(rig.read_file(1), replacement);
}

// Defect 7: a fixed-block stream whose filemark failed reported 1,000 bytes, and reading its
// file back returned 1,024 (the padding of the last block).
TEST(StreamEndings, AFailedFixedBlockStreamReportsWhatReadsBack) {
  Rig rig{"hang=write_filemarks", std::chrono::milliseconds{1000}};
  auto fixed = rig.options();
  fixed.fixed = true;
  fixed.block_size = 512;
  const auto data = stream_data(1000, 18);
  const auto o = rig.write_with(fixed, data);
  EXPECT_EQ(o.ending, drive::Ending::timeout) << o.message;
  EXPECT_EQ(o.blocks, 2U);
  EXPECT_EQ(o.bytes, 1024U);
  const auto back = rig.read_file(0);
  ASSERT_EQ(back.size(), o.bytes);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), back.begin()));
}

// Defect 7: a drive left in fixed-block mode (a client's setblk, a failed restore) made every
// later plain write fail with ILLEGAL REQUEST.
TEST(StreamEndings, EveryStreamSetsItsOwnBlockMode) {
  Rig rig{""};
  rig.set_block_length(512);
  const auto data = stream_data(block + 3, 19);
  const auto o = rig.write(data);
  ASSERT_EQ(o.ending, drive::Ending::complete) << o.message;
  rig.set_block_length(4096);
  const auto [r, back] = rig.read_stream(0);
  EXPECT_EQ(r.ending, drive::Ending::complete) << r.message;
  EXPECT_EQ(back, data);
}

// Defect 10: a stream whose length differs from the one its client announced is not committed.
TEST(StreamEndings, AnExpectedLengthIsHeldTo) {
  Rig rig{""};
  auto options = rig.options();
  options.expected_length = 3 * block;
  const auto shorter = rig.write_with(options, stream_data(2 * block + 1, 20));
  EXPECT_EQ(shorter.ending, drive::Ending::incomplete) << shorter.message;
  const auto longer = rig.write_with(options, stream_data(4 * block, 21));
  EXPECT_EQ(longer.ending, drive::Ending::incomplete) << longer.message;
  for (const auto& o : {shorter, longer}) {
    if (o.blocks > 0) {
      EXPECT_EQ(rig.read_file(o.file_number).size(), o.bytes);
    }
  }
  const auto exact_data = stream_data(3 * block, 22);
  const auto exact = rig.write_with(options, exact_data);
  ASSERT_EQ(exact.ending, drive::Ending::complete) << exact.message;
  EXPECT_EQ(rig.read_file(exact.file_number), exact_data);
}

}  // namespace
