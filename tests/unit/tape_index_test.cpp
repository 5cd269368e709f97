// The emulated drive's index of runs: lookups agree with a plain list of objects, runs form where
// the layout is regular, and the number of runs is capped.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "emulated/image_layout.hpp"
#include "emulated/tape_index.hpp"

using namespace tapestream::emulated;

namespace {

// Every lookup against the list it must agree with.
void expect_same(const TapeIndex& index, const std::vector<TapeObject>& objects) {
  ASSERT_EQ(index.size(), objects.size());
  std::vector<std::uint64_t> marks;
  for (std::uint64_t n = 0; n < objects.size(); ++n) {
    const auto o = index.object(n);
    ASSERT_EQ(o.offset, objects[n].offset) << n;
    ASSERT_EQ(o.length, objects[n].length) << n;
    ASSERT_EQ(o.filemark, objects[n].filemark) << n;
    ASSERT_EQ(index.offset_at(n), objects[n].offset) << n;
    ASSERT_EQ(index.files_before(n), marks.size()) << n;
    if (objects[n].filemark) {
      marks.push_back(n);
    }
  }
  ASSERT_EQ(index.filemarks(), marks.size());
  ASSERT_EQ(index.files_before(objects.size()), marks.size());
  for (std::uint64_t k = 1; k <= marks.size(); ++k) {
    ASSERT_EQ(index.filemark(k), marks[k - 1]) << k;
  }
}

TEST(TapeIndex, EqualBlocksAndMarksAreRuns) {
  TapeIndex index;
  std::vector<TapeObject> objects;
  std::uint64_t at = 0;
  const auto add = [&](TapeObject o) {
    ASSERT_TRUE(index.push(o));
    objects.push_back(o);
    at = o.end();
  };
  for (int file = 0; file < 3; ++file) {
    for (int i = 0; i < 100; ++i) {
      add({at, 1000, false});
    }
    add({at, 17, false});  // the short last block
    add({at, 0, true});
  }
  EXPECT_EQ(index.runs(), 9U);
  EXPECT_EQ(index.end_offset(), at);
  expect_same(index, objects);
}

TEST(TapeIndex, AlignedRecordsHaveAConstantStride) {
  // What the writer does with 256 KiB blocks: each header in a page's last word.
  TapeIndex index;
  std::vector<TapeObject> objects;
  std::uint64_t end = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto header = page_floor(end + 4 + image_page - 1) - 4;  // header_slot()
    const TapeObject o{header, 256 * 1024, false};
    ASSERT_TRUE(index.push(o));
    objects.push_back(o);
    end = o.end();
  }
  EXPECT_EQ(index.runs(), 1U);
  expect_same(index, objects);
}

TEST(TapeIndex, RandomTapesAgreeWithAListAndTruncate) {
  std::mt19937 random{7};
  for (int round = 0; round < 20; ++round) {
    TapeIndex index;
    std::vector<TapeObject> objects;
    std::uint64_t at = 0;
    for (int i = 0; i < 400; ++i) {
      at += (random() % 4 == 0) ? 4 * (random() % 3) : 0;  // gaps now and then
      if (random() % 3 == 0) {
        const auto count = 1 + random() % 5;
        ASSERT_TRUE(index.push_filemarks(at, count));
        for (std::uint64_t k = 0; k < count; ++k) {
          objects.push_back({at + 4 * k, 0, true});
        }
        at += 4 * count;
      } else {
        const TapeObject o{at, static_cast<std::uint32_t>(1 + random() % 3), false};
        ASSERT_TRUE(index.push(o));
        objects.push_back(o);
        at = o.end();
      }
    }
    expect_same(index, objects);
    const auto keep = random() % objects.size();
    index.truncate(keep);
    EXPECT_EQ(index.end_offset(), objects[keep].offset);
    objects.resize(keep);
    expect_same(index, objects);
    // Appending after a cut goes on from the cut.
    const TapeObject next{index.end_offset(), 9, false};
    ASSERT_TRUE(index.push(next));
    objects.push_back(next);
    expect_same(index, objects);
  }
}

TEST(TapeIndex, MillionsOfMarksAreOneRun) {
  TapeIndex index;
  ASSERT_TRUE(index.push({0, 100, false}));
  ASSERT_TRUE(index.push_filemarks(108, std::uint64_t{1} << 32));
  EXPECT_EQ(index.runs(), 2U);
  EXPECT_EQ(index.size(), 1 + (std::uint64_t{1} << 32));
  EXPECT_EQ(index.filemark(std::uint64_t{1} << 31), 1 + (std::uint64_t{1} << 31) - 1);
  EXPECT_EQ(index.offset_at(3), 108U + 8U);
  EXPECT_EQ(index.files_before(1000), 999U);
}

TEST(TapeIndex, TheNumberOfRunsIsCapped) {
  TapeIndex index;
  std::uint64_t at = 0;
  std::uint32_t length = 1;
  while (index.runs() < TapeIndex::max_runs) {
    ASSERT_TRUE(index.push({at, length, false}));
    at += simh_record_span(length);
    length = length == 1 ? 2 : 1;  // every block a run of its own
  }
  EXPECT_FALSE(index.push({at, length, false}));
  EXPECT_FALSE(index.push_filemarks(at, 10));
  EXPECT_EQ(index.runs(), TapeIndex::max_runs);
  // What joins the last run still fits.
  EXPECT_TRUE(index.push({at, length == 1 ? 2U : 1U, false}));
}

}  // namespace
