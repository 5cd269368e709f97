// Where the emulated drive puts what it appends to its SIMH image. In the aligned layout,
// records of at least aligned_record_min bytes start on a page boundary (erase gaps fill the
// space before their header), so their data goes to an image opened with O_DIRECT straight from
// the registered buffer, with no copy; smaller records and filemarks are packed. In the packed
// layout every object is packed (no gaps between objects, what readers without erase-gap support
// such as Debian's mtdump need) and every byte is copied into the staging pages. The layout is
// how appends are placed, not a property of the image: the scan reads any mix of the two, and
// nothing already written is ever moved. Every append is two steps:
// first everything beyond the image's current end (AppendPlan::prepare, in any order), then one
// write of the page(s) that hold the end-of-medium marker (AppendPlan::link), which links the
// new objects in. A crash at any point therefore leaves an image that reads as a whole number of
// objects, old or new.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "emulated/simh_image.hpp"

namespace tapestream::emulated {

inline constexpr std::uint64_t image_page = 4096;

enum class ImageLayout {
  aligned,  // large records on page boundaries, written from the registered buffer (no copy)
  packed,   // every object right after the last: no erase gaps before the end of the tape
};
inline constexpr std::uint32_t aligned_record_min = 64 * 1024;

constexpr std::uint64_t page_floor(std::uint64_t offset) { return offset & ~(image_page - 1); }

// Where the header of an aligned record that follows data ending at `at` goes: the last word
// of a page. After data that ends 2 bytes past a word boundary, room for a half gap and one
// full gap comes first (a reader takes the half gap only when a full gap follows it). The open
// end's last marker sits there too.
constexpr std::uint64_t header_slot(std::uint64_t at) {
  const auto earliest = at % 4 == 0 ? at : at + 6;
  return page_floor(earliest + 4 + image_page - 1) - 4;
}

// Page-aligned bytes, as O_DIRECT writes need them.
class PageBytes {
 public:
  PageBytes() = default;
  explicit PageBytes(std::span<const std::uint8_t> from);
  std::span<const std::uint8_t> view() const { return {_data.get(), _size}; }

 private:
  struct Free {
    void operator()(std::uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<std::uint8_t, Free> _data;
  std::size_t _size = 0;
};

// The image's last page(s), from the page that holds the end of data to the end of the file:
// the objects' bytes up to end_of_data, an end-of-medium marker there, erase gaps, and another
// end-of-medium marker in the file's last 4 bytes, where the next aligned record's header goes.
struct ImageTail {
  std::uint64_t start = 0;  // page-aligned
  std::uint64_t end_of_data = 0;
  std::vector<std::uint8_t> bytes;  // from start to the end of the file, a page boundary

  std::uint64_t end() const { return start + bytes.size(); }
};

// The tail of an image whose data ends at `end_of_data`; `committed` holds the image's bytes
// from page_floor(end_of_data) to end_of_data.
ImageTail make_tail(std::uint64_t end_of_data, std::span<const std::uint8_t> committed);

// One object to append: a data record whose bytes start at `source` in the command's data, or
// a filemark.
struct AppendItem {
  std::uint32_t length = 0;
  bool filemark = false;
  std::size_t source = 0;
};

// One write to the image: from the command's data (its registered buffer) or from the plan's
// staging bytes.
struct ImageWrite {
  std::uint64_t offset = 0;
  bool registered = false;
  std::size_t from = 0;
  std::size_t length = 0;
};

struct AppendPlan {
  std::size_t placed = 0;  // items that fit within the capacity, in order
  std::vector<ImageWrite> prepare;
  ImageWrite link;
  std::vector<TapeObject> objects;  // the placed items as the index will hold them
  ImageTail tail;                   // the tail once link is written
  PageBytes staging;
};

// Lays out as many of `items` as fit in an image of `capacity` bytes after `tail`. In the
// aligned layout a record is aligned, and its whole pages written from `data` itself, when it is
// at least aligned_record_min long and its bytes start on a page boundary in memory; in the
// packed layout none is.
AppendPlan plan_append(const ImageTail& tail, std::span<const AppendItem> items,
                       std::span<const std::uint8_t> data, std::uint64_t capacity,
                       ImageLayout layout);

}  // namespace tapestream::emulated
