// The emulated drive's append layout: where records land, and what a crash between or inside
// its two steps leaves for the scanner.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "common/unique_fd.hpp"
#include "emulated/image_layout.hpp"
#include "emulated/image_scan.hpp"

using namespace tapestream::emulated;
using tapestream::UniqueFd;

namespace {

using Bytes = std::vector<std::uint8_t>;

// Page-aligned memory standing in for a registered buffer.
struct Aligned {
  explicit Aligned(std::size_t length)
      : bytes{static_cast<std::uint8_t*>(std::aligned_alloc(image_page, length)), &std::free},
        size{length} {
    for (std::size_t i = 0; i < size; ++i) {
      bytes.get()[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    }
  }
  std::span<const std::uint8_t> view() const { return {bytes.get(), size}; }
  std::unique_ptr<std::uint8_t, decltype(&std::free)> bytes;
  std::size_t size;
};

struct Image {
  Bytes bytes;
  ImageTail tail = make_tail(0, {});

  Image() { put(tail.start, tail.bytes); }

  void put(std::uint64_t at, std::span<const std::uint8_t> b) {
    if (bytes.size() < at + b.size()) {
      bytes.resize(at + b.size(), 0xEE);
    }
    std::copy(b.begin(), b.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at));
  }
  void put(const AppendPlan& plan, const ImageWrite& w, std::span<const std::uint8_t> data,
           std::size_t limit = SIZE_MAX) {
    const auto source = w.registered ? data : plan.staging.view();
    put(w.offset, source.subspan(w.from, std::min(w.length, limit)));
  }
  void prepare(const AppendPlan& plan, std::span<const std::uint8_t> data) {
    for (const auto& w : plan.prepare) {
      put(plan, w, data);
    }
  }
  void apply(const AppendPlan& plan, std::span<const std::uint8_t> data) {
    prepare(plan, data);
    put(plan, plan.link, data);
    tail = plan.tail;
  }
  ImageScan scan() const {
    const auto path =
        std::filesystem::temp_directory_path() / ("layout-" + std::to_string(getpid()));
    UniqueFd fd{::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600)};
    EXPECT_EQ(::write(fd.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    auto scanned = scan_image(fd.get()).value();
    std::filesystem::remove(path);
    return scanned;
  }
  Bytes record(const TapeObject& o) const {
    return {bytes.begin() + static_cast<std::ptrdiff_t>(o.offset + 4),
            bytes.begin() + static_cast<std::ptrdiff_t>(o.offset + 4 + o.length)};
  }
};

constexpr std::uint64_t large_capacity = std::uint64_t{1} << 40;

}  // namespace

TEST(ImageLayout, LargeRecordsStartOnPagesAndComeFromTheBufferItself) {
  Aligned data{4 * 256 * 1024};
  Image image;
  std::vector<AppendItem> items;
  for (std::size_t i = 0; i < 4; ++i) {
    items.push_back({256 * 1024, false, i * 256 * 1024});
  }
  const auto plan =
      plan_append(image.tail, items, data.view(), large_capacity, ImageLayout::aligned);
  ASSERT_EQ(plan.placed, 4U);
  std::size_t registered = 0;
  for (const auto& w : plan.prepare) {
    EXPECT_EQ(w.offset % image_page, 0U);
    EXPECT_EQ(w.length % image_page, 0U);
    registered += w.registered ? w.length : 0;
  }
  EXPECT_EQ(registered, 4U * 256 * 1024);  // no byte of the data is copied
  EXPECT_FALSE(plan.link.registered);
  EXPECT_EQ(plan.link.offset, 0U);
  image.apply(plan, data.view());
  const auto scanned = image.scan();
  const auto& index = scanned.index;
  EXPECT_EQ(scanned.end, ImageScan::End::clean);
  EXPECT_TRUE(scanned.open_end_intact);
  ASSERT_EQ(index.size(), 4U);
  EXPECT_EQ(index.runs(), 1U);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((index.object(i).offset + 4) % image_page, 0U);
    EXPECT_EQ(index.object(i).offset, plan.objects[i].offset);
    EXPECT_EQ(image.record(index.object(i)),
              Bytes(data.view().begin() + static_cast<std::ptrdiff_t>(i * 256 * 1024),
                    data.view().begin() + static_cast<std::ptrdiff_t>((i + 1) * 256 * 1024)));
  }
  EXPECT_EQ(index.end_offset(), plan.tail.end_of_data);
  EXPECT_EQ(image.bytes.size(), plan.tail.end());
}

TEST(ImageLayout, SmallAndOddRecordsFilemarksAndHalfGaps) {
  Aligned data{1 << 20};
  Image image;
  // An odd record ends 2 bytes past a word: the aligned record after it needs a half gap.
  const std::vector<std::vector<AppendItem>> commands = {
      {{65537, false, 0}},
      {{0, true, 0}},
      {{70000, false, 0}, {3, false, 0}},  // the second is packed (and unaligned in memory)
      {{0, true, 0}, {0, true, 0}},
      {{65536, false, 0}},
  };
  std::vector<std::uint32_t> expected;
  for (const auto& items : commands) {
    const auto plan =
        plan_append(image.tail, items, data.view(), large_capacity, ImageLayout::aligned);
    ASSERT_EQ(plan.placed, items.size());
    image.apply(plan, data.view());
    for (const auto& item : items) {
      expected.push_back(item.filemark ? 0 : item.length);
    }
  }
  const auto scanned = image.scan();
  const auto& index = scanned.index;
  EXPECT_EQ(scanned.end, ImageScan::End::clean);
  ASSERT_EQ(index.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(index.object(i).filemark, expected[i] == 0) << i;
    EXPECT_EQ(index.object(i).length, expected[i]) << i;
    if (expected[i] != 0) {
      EXPECT_EQ(image.record(index.object(i)),
                Bytes(data.view().begin(), data.view().begin() + expected[i]))
          << i;
    }
  }
  EXPECT_EQ(index.end_offset(), image.tail.end_of_data);
}

// What the drive appends in one step: a WRITE's blocks (one length) or a WRITE FILEMARKS's marks.
// A crash before or during the link must leave the old tape or a prefix of the new one, and an
// image the scan takes for clean, or for a link cut short: never for damage.
TEST(ImageLayout, ACrashBeforeOrDuringTheLinkLeavesTheOldOrTheNewTape) {
  Aligned data{1 << 20};
  const std::vector<std::vector<AppendItem>> commands = {
      {{0, true, 0}, {0, true, 0}},
      {{200000, false, 0}, {200000, false, 0}},
      {{5, false, 0}},
      {{3000, false, 0}},  // packed, and reaching past the link's first sectors
  };
  for (const auto& [first, layout] :
       {std::pair{65536U, ImageLayout::aligned}, std::pair{65538U, ImageLayout::aligned},
        std::pair{1000U, ImageLayout::aligned}, std::pair{65536U, ImageLayout::packed},
        std::pair{65538U, ImageLayout::packed}, std::pair{1000U, ImageLayout::packed}}) {
    Image image;
    image.apply(plan_append(image.tail, std::vector<AppendItem>{{first, false, 0}}, data.view(),
                            large_capacity, layout),
                data.view());
    const auto before = image.scan().index.size();
    ASSERT_EQ(before, 1U);
    for (const auto& items : commands) {
      const auto plan = plan_append(image.tail, items, data.view(), large_capacity, layout);
      // Everything but the link: the tape is as it was.
      auto crashed = image;
      crashed.prepare(plan, data.view());
      EXPECT_EQ(crashed.scan().index.size(), before);
      EXPECT_EQ(crashed.scan().end, ImageScan::End::clean);
      // The link cut short after any whole 512-byte sector: the old tape or a prefix of the new.
      for (std::size_t cut = 0; cut <= plan.link.length; cut += 512) {
        auto torn = crashed;
        torn.put(plan, plan.link, data.view(), cut);
        const auto scanned = torn.scan();
        const auto n = scanned.index.size();
        EXPECT_TRUE(n >= before && n <= before + items.size())
            << "first " << first << " cut " << cut << ": " << n;
        EXPECT_TRUE(scanned.end == ImageScan::End::clean || scanned.end == ImageScan::End::torn)
            << "first " << first << " items " << items.size() << " cut " << cut << ": "
            << scanned.what;
      }
      crashed.put(plan, plan.link, data.view());
      EXPECT_EQ(crashed.scan().index.size(), before + items.size());
      EXPECT_EQ(crashed.scan().end, ImageScan::End::clean);
    }
  }
}

// The link of a packed record cut inside it: its leading length landed, its trailing one did
// not. That is a crash, not damage: the tape ends before the record.
TEST(ImageLayout, ALinkCutInsideAPackedRecordIsTornNotDamage) {
  Aligned data{1 << 20};
  Image image;
  image.apply(plan_append(image.tail, std::vector<AppendItem>{{1000, false, 0}}, data.view(),
                          large_capacity, ImageLayout::aligned),
              data.view());
  const auto plan = plan_append(image.tail, std::vector<AppendItem>{{3000, false, 0}}, data.view(),
                                large_capacity, ImageLayout::aligned);
  auto torn = image;
  torn.prepare(plan, data.view());
  torn.put(plan, plan.link, data.view(), 1024);
  const auto scanned = torn.scan();
  EXPECT_EQ(scanned.end, ImageScan::End::torn);
  EXPECT_EQ(scanned.index.size(), 1U);
  EXPECT_EQ(scanned.index.end_offset(), image.tail.end_of_data);
  EXPECT_FALSE(scanned.open_end_intact);
}

TEST(ImageLayout, OnlyWhatFitsTheCapacityIsPlaced) {
  Aligned data{1 << 20};
  Image image;
  std::vector<AppendItem> items(10, AppendItem{65536, false, 0});
  const auto plan =
      plan_append(image.tail, items, data.view(), 5 * 69632, ImageLayout::aligned);
  EXPECT_EQ(plan.placed, 4U);
  EXPECT_LE(plan.tail.end(), 5U * 69632);
  EXPECT_EQ(plan.objects.size(), 4U);
}

// The packed layout (layout=packed): nothing but objects before the end of the tape, which is
// what readers without erase-gap support (Debian's mtdump) need; every byte is staged, and the
// writes still cover whole pages, as O_DIRECT wants them.
TEST(ImageLayout, PackedPutsEveryObjectRightAfterTheLast) {
  Aligned data{1 << 20};
  Image image;
  const std::vector<std::vector<AppendItem>> commands = {
      {{262144, false, 0}, {262144, false, 262144}},
      {{0, true, 0}},
      {{65537, false, 0}, {3, false, 0}},
      {{0, true, 0}, {0, true, 0}},
      {{1048576, false, 0}},
  };
  std::vector<std::pair<std::uint32_t, std::size_t>> expected;  // length (0: filemark), source
  for (const auto& items : commands) {
    const auto plan =
        plan_append(image.tail, items, data.view(), large_capacity, ImageLayout::packed);
    ASSERT_EQ(plan.placed, items.size());
    EXPECT_FALSE(plan.link.registered);
    EXPECT_EQ(plan.link.offset % image_page, 0U);
    EXPECT_EQ(plan.link.length % image_page, 0U);
    for (const auto& w : plan.prepare) {
      EXPECT_FALSE(w.registered);
      EXPECT_EQ(w.offset % image_page, 0U);
      EXPECT_EQ(w.length % image_page, 0U);
    }
    image.apply(plan, data.view());
    for (const auto& item : items) {
      expected.emplace_back(item.filemark ? 0 : item.length, item.source);
    }
  }
  const auto scanned = image.scan();
  const auto& index = scanned.index;
  EXPECT_EQ(scanned.end, ImageScan::End::clean);
  EXPECT_EQ(scanned.gap_bytes, 0U);
  ASSERT_EQ(index.size(), expected.size());
  std::uint64_t at = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto o = index.object(i);
    EXPECT_EQ(o.offset, at) << i;  // right after the object before it
    EXPECT_EQ(o.filemark, expected[i].first == 0) << i;
    EXPECT_EQ(o.length, expected[i].first) << i;
    if (!o.filemark) {
      const auto from = data.view().begin() + static_cast<std::ptrdiff_t>(expected[i].second);
      EXPECT_EQ(image.record(o), Bytes(from, from + expected[i].first)) << i;
    }
    at = o.end();
  }
  EXPECT_EQ(index.end_offset(), at);
  // The tape ends with an end-of-medium word right after the last object.
  EXPECT_EQ(image.bytes[at], 0xFF);
  EXPECT_EQ(image.bytes[at + 3], 0xFF);
}

// A tape written aligned and appended packed (and back) is one tape: the scan reads the mix,
// nothing written before is moved, and every record reads back as it was written.
TEST(ImageLayout, AlignedAndPackedAppendsMixOnOneTape) {
  Aligned data{1 << 20};
  Image image;
  struct Step {
    ImageLayout layout;
    std::vector<AppendItem> items;
  };
  const std::vector<Step> steps = {
      {ImageLayout::aligned, {{262144, false, 0}, {262144, false, 262144}}},
      {ImageLayout::packed, {{262144, false, 4096}, {0, true, 0}}},
      {ImageLayout::aligned, {{65538, false, 0}}},
      {ImageLayout::packed, {{5, false, 0}, {70000, false, 0}}},
  };
  std::vector<std::pair<std::uint32_t, std::size_t>> expected;
  std::vector<std::uint64_t> offsets;
  for (const auto& step : steps) {
    const auto plan = plan_append(image.tail, step.items, data.view(), large_capacity, step.layout);
    ASSERT_EQ(plan.placed, step.items.size());
    image.apply(plan, data.view());
    for (const auto& item : step.items) {
      expected.emplace_back(item.filemark ? 0 : item.length, item.source);
    }
    for (const auto& o : plan.objects) {
      offsets.push_back(o.offset);
    }
    const auto scanned = image.scan();  // after each step, the whole tape so far
    ASSERT_EQ(scanned.end, ImageScan::End::clean);
    ASSERT_EQ(scanned.index.size(), expected.size());
  }
  const auto scanned = image.scan();
  EXPECT_GT(scanned.gap_bytes, 0U);  // the aligned records' gaps
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto o = scanned.index.object(i);
    EXPECT_EQ(o.offset, offsets[i]) << i;
    EXPECT_EQ(o.length, expected[i].first) << i;
    if (!o.filemark) {
      const auto from = data.view().begin() + static_cast<std::ptrdiff_t>(expected[i].second);
      EXPECT_EQ(image.record(o), Bytes(from, from + expected[i].first)) << i;
    }
  }
  // The packed record after an aligned one follows it at once.
  EXPECT_EQ(scanned.index.object(2).offset, scanned.index.object(1).end());
}
