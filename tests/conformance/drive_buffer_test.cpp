// The emulated drive's buffer on an image (buffer=, docs/EMULATED_DRIVE.md "The drive model"):
// a WRITE is acknowledged before the page that links it into the tape, and what a crash finds
// on the image is the tape before the buffered blocks. A copy of the image taken while blocks
// sit in the buffer is what a crash at that moment leaves: it must open clean and read as the
// tape without them; the ImageCrash test kills a real writer.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "fixture.hpp"
#include "killed_writer.hpp"

using namespace tapestream::scsi;
using tapestream::test::Conformance;
using tapestream::test::Harness;
using tapestream::test::conformance_target;
using tapestream::test::pattern_block;
using tapestream::test::ScratchDirectory;

namespace {

// A tape slow enough (512 KiB/s) that its buffer never runs empty between two commands of a test,
// which would have the drive link what the tape took.
constexpr const char* slow_tape = "buffer=16M&rate=512K&min_rate=512K&backhitch=0s";
constexpr std::size_t block = 64 * 1024;

class DriveBuffer : public Conformance {
 protected:
  // What a crash now would leave: the image as it is on the disk, up to its first 8 MiB (the
  // tests write less; the rest is blocks allocated ahead, zeros).
  std::filesystem::path crashed() {
    const auto copy = image().parent_path() / ("crashed" + std::to_string(++_copies) + ".tap");
    std::ifstream from{image(), std::ios::binary};
    std::vector<char> bytes(8 << 20);
    from.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::ofstream{copy, std::ios::binary}.write(bytes.data(), from.gcount());
    return copy;
  }
  void write_blocks(std::uint32_t stream, std::uint32_t n, std::size_t length = block) {
    for (std::uint32_t i = 0; i < n; ++i) {
      ASSERT_EQ(write(pattern_block(stream, i, length)).classification.condition,
                TapeCondition::good)
          << "block " << i;
    }
  }

 private:
  int _copies = 0;
};

// The blocks of `stream` an image holds from its beginning, each `length` bytes, up to the first
// that is not there; opening it must not find damage (that throws).
std::uint32_t blocks_on(const std::filesystem::path& image, std::uint32_t stream,
                        std::size_t length = block) {
  Harness h{conformance_target(image, "")};
  std::uint32_t found = 0;
  for (;; ++found) {
    const auto e = h.run(cdb::read6_variable(Count24::from(length).value(), true), {}, length);
    if (e.classification.condition != TapeCondition::good || e.data != pattern_block(stream, found, length)) {
      return found;
    }
  }
}

TEST_F(DriveBuffer, AcknowledgedBlocksReachTheImageWhenTheBufferIsWrittenOut) {
  open(slow_tape);
  write_blocks(1, 8);
  EXPECT_EQ(blocks_on(crashed(), 1), 0U) << "a crash loses the blocks in the drive's buffer";
  ASSERT_EQ(filemarks(1).classification.condition, TapeCondition::good);
  EXPECT_EQ(blocks_on(crashed(), 1), 8U) << "WRITE FILEMARKS with Immed=0 wrote the buffer out";
}

TEST_F(DriveBuffer, CommandsThatMoveTheTapeWriteTheBufferOutFirst) {
  open(slow_tape);
  write_blocks(2, 3);
  ASSERT_EQ(rewind().classification.condition, TapeCondition::good);
  EXPECT_EQ(blocks_on(crashed(), 2), 3U);
}

TEST_F(DriveBuffer, ADriveSwitchedOffWritesItsBufferOut) {
  open(slow_tape);
  write_blocks(3, 5);
  reopen();
  EXPECT_EQ(blocks_on(crashed(), 3), 5U);
}

// The buffer holds at most buffer= bytes: the drive links the blocks before it when the next
// would not fit.
TEST_F(DriveBuffer, ACrashLosesAtMostTheBuffersSize) {
  open("buffer=256K&rate=4M&min_rate=4M&backhitch=0s");
  write_blocks(4, 10);
  const auto kept = blocks_on(crashed(), 4);
  EXPECT_GE(kept, 10U - 4U);
  EXPECT_LT(kept, 10U);
}

// Opening an image takes intact objects of one run after its end for a crash's remains and
// objects of two kinds there for damage; the buffer therefore never holds two kinds.
TEST_F(DriveBuffer, WhatACrashLeavesOfTwoKindsOfObjectsOpensClean) {
  open(slow_tape);
  write_blocks(5, 5);
  ASSERT_EQ(write(pattern_block(5, 5, 1000)).classification.condition, TapeCondition::good);
  EXPECT_EQ(blocks_on(crashed(), 5), 5U) << "the short block's arrival linked the five";
  ASSERT_EQ(filemarks(1, true).classification.condition, TapeCondition::good);
  const auto before_sync = crashed();
  EXPECT_EQ(blocks_on(before_sync, 5), 5U);
  {
    Harness h{conformance_target(before_sync, "")};
    for (int i = 0; i < 5; ++i) {
      h.run(cdb::read6_variable(Count24::from(block).value(), true), {}, block);
    }
    const auto short_block = h.run(cdb::read6_variable(Count24::from(1000).value(), true), {}, 1000);
    EXPECT_EQ(short_block.classification.condition, TapeCondition::good)
        << "the filemark's arrival linked the short block";
    EXPECT_EQ(short_block.data, pattern_block(5, 5, 1000));
    EXPECT_EQ(h.run(cdb::read6_variable(Count24::from(1000).value(), true), {}, 1000)
                  .classification.condition,
              TapeCondition::end_of_data)
        << "the filemark waits in the buffer";
  }
  ASSERT_EQ(filemarks(0).classification.condition, TapeCondition::good);  // Immed=0: to the tape
  Harness h{conformance_target(crashed(), "")};
  for (int i = 0; i < 6; ++i) {
    h.run(cdb::read6_variable(Count24::from(block).value(), true), {}, block);
  }
  EXPECT_EQ(h.run(cdb::read6_variable(Count24::from(1000).value(), true), {}, 1000)
                .classification.condition,
            TapeCondition::filemark);
}

// Small records share pages: each one's link rewrites the page of the one before, which the
// buffer must hold rather than write twice, or drop.
TEST_F(DriveBuffer, SmallRecordsSharingPagesAreAllCommitted) {
  open(slow_tape);
  write_blocks(8, 20, 512);
  write_blocks(9, 3);
  ASSERT_EQ(write(pattern_block(9, 3, 1000)).classification.condition, TapeCondition::good);
  ASSERT_EQ(filemarks(1).classification.condition, TapeCondition::good);
  const auto copy = crashed();
  EXPECT_EQ(blocks_on(copy, 8, 512), 20U);
  Harness h{conformance_target(copy, "")};
  for (std::uint32_t i = 0; i < 20; ++i) {
    ASSERT_EQ(h.run(cdb::read6_variable(Count24::from(512).value(), true), {}, 512).data,
              pattern_block(8, i, 512));
  }
  for (std::uint32_t i = 0; i < 3; ++i) {
    ASSERT_EQ(h.run(cdb::read6_variable(Count24::from(block).value(), true), {}, block).data,
              pattern_block(9, i, block));
  }
  EXPECT_EQ(h.run(cdb::read6_variable(Count24::from(1000).value(), true), {}, 1000).data,
            pattern_block(9, 3, 1000));
  EXPECT_EQ(h.run(cdb::read6_variable(Count24::from(1000).value(), true), {}, 1000)
                .classification.condition,
            TapeCondition::filemark)
      << "WRITE FILEMARKS with Immed=0 put its filemark on the tape";
}

// A READ right after buffered writes runs once the buffer is linked, and still reports what it
// met.
TEST_F(DriveBuffer, AReadAfterBufferedWritesReportsWhatItMeets) {
  open(slow_tape);
  write_blocks(10, 2);
  ASSERT_EQ(filemarks(1, true).classification.condition, TapeCondition::good);
  const auto e = h().run(cdb::read6_variable(Count24::from(block).value(), true), {}, block);
  EXPECT_EQ(e.classification.condition, TapeCondition::end_of_data);
  Harness copy{conformance_target(crashed(), "")};
  for (int i = 0; i < 2; ++i) {
    copy.run(cdb::read6_variable(Count24::from(block).value(), true), {}, block);
  }
  EXPECT_EQ(copy.run(cdb::read6_variable(Count24::from(block).value(), true), {}, block)
                .classification.condition,
            TapeCondition::filemark)
      << "the READ linked the filemark the buffer held";
}

// Fixed blocks of 66 KiB: in one WRITE the second starts off a page in memory, so the three
// records lie at two spacings, two runs by themselves. Held in the buffer, what a crash left of
// them would open as damage; the drive links such a WRITE at once.
TEST_F(DriveBuffer, AWriteThatIsTwoRunsByItselfIsNotHeld) {
  open(slow_tape);
  constexpr std::uint32_t length = 67584;
  const auto fixed = mode_select6_parameters(BlockDescriptor{0, 0, length}, {}).value();
  ASSERT_EQ(h().run(cdb::mode_select6(static_cast<std::uint8_t>(fixed.size())), fixed)
                .classification.condition,
            TapeCondition::good);
  std::vector<std::uint8_t> data;
  for (std::uint32_t i = 0; i < 3; ++i) {
    const auto b = pattern_block(11, i, length);
    data.insert(data.end(), b.begin(), b.end());
  }
  ASSERT_EQ(h().run(cdb::write6_fixed(count(3), length), data).classification.condition,
            TapeCondition::good);
  EXPECT_EQ(blocks_on(crashed(), 11, length), 3U);
}

// In unbuffered mode (MODE SELECT, buffered mode 0) a WRITE completes once it is on the tape.
TEST_F(DriveBuffer, UnbufferedModeLinksEveryWrite) {
  open(slow_tape);
  const auto unbuffered = mode_select6_parameters(std::nullopt, {}, 0).value();
  ASSERT_EQ(h().run(cdb::mode_select6(static_cast<std::uint8_t>(unbuffered.size())), unbuffered)
                .classification.condition,
            TapeCondition::good);
  write_blocks(6, 3);
  EXPECT_EQ(blocks_on(crashed(), 6), 3U);
}

std::size_t equal_blocks(std::uint32_t) { return block; }

// A writer killed with blocks in its drive's buffer: the image opens clean, and holds every
// block it was told was written except at most the buffer's 16, and never one more than the
// one in flight.
TEST(ImageCrash, KilledBufferedWriterLosesAtMostItsBuffer) {
  std::uint32_t lost = 0;
  for (std::uint32_t kill_after : {20U, 37U, 64U}) {
    ScratchDirectory scratch;
    const auto image = scratch.path() / "tape.tap";
    const auto writer = tapestream::test::kill_writer_after(
        image, "buffer=1M&rate=1M&min_rate=1M&backhitch=0s", 7, equal_blocks, kill_after);
    const auto acked = writer.acknowledged;
    ASSERT_TRUE(writer.killed) << "the writer stopped by itself";
    const auto found = blocks_on(image, 7);
    EXPECT_LE(found, acked + 1) << "killed after " << kill_after;
    EXPECT_GE(found + 16, acked) << "killed after " << kill_after;
    lost += acked > found ? acked - found : 0;
  }
  EXPECT_GT(lost, 0U) << "the buffer held blocks that no crash lost";
}

}  // namespace
