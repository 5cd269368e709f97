#include "emulated/image_layout.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace tapestream::emulated {
namespace {

std::uint64_t padded(std::uint32_t length) { return length + (length & 1U); }

bool page_aligned(const std::uint8_t* p) {
  return reinterpret_cast<std::uintptr_t>(p) % image_page == 0;
}

// Builds the bytes from the tail's start onwards: staged segments (each from a page boundary to
// a page boundary) and, between them, the whole pages of aligned records' data.
class Builder {
 public:
  // `expected`: about how many bytes will be staged, so that a packed append of large records
  // copies each byte into the staging vector once rather than again at every growth.
  explicit Builder(const ImageTail& tail, std::size_t expected = 0)
      : _segment_start{tail.start}, _at{tail.end_of_data} {
    _staged.reserve(expected + tail.bytes.size() + 2 * image_page);
    _staged.assign(tail.bytes.begin(),
                   tail.bytes.begin() + static_cast<std::ptrdiff_t>(tail.end_of_data - tail.start));
  }

  std::uint64_t at() const { return _at; }

  void word(std::uint32_t w) {
    std::uint8_t b[4];
    simh_encode_word(b, w);
    bytes({b, 4});
  }
  void bytes(std::span<const std::uint8_t> b) {
    _staged.insert(_staged.end(), b.begin(), b.end());
    _at += b.size();
  }
  void pad(std::uint32_t length) {
    if ((length & 1U) != 0) {
      _staged.push_back(0);
      ++_at;
    }
  }
  // Erase gaps from here to `slot` (from header_slot()).
  void gaps_to(std::uint64_t slot) {
    if (_at % 4 != 0) {
      bytes(half_gap_head);  // with the next gap word's first half, reads as simh_half_gap
    }
    while (_at < slot) {
      word(simh_erase_gap);
    }
  }
  // The open end: an end-of-medium marker here, gaps, and one in `slot`, the file's last word.
  void open_end(std::uint64_t slot) {
    if (_at != slot) {
      bytes(_at % 4 == 0 ? std::span<const std::uint8_t>{eom_word}
                         : std::span<const std::uint8_t>{eom_and_half});
      gaps_to(slot);
    }
    word(simh_end_of_medium);
  }
  // Whole pages of a record's data from the command's buffer, at the current (page) boundary.
  void registered(std::size_t from, std::size_t length) {
    close_segment();
    _writes.push_back({_at, true, from, length});
    _at += length;
    _segment_start = _at;
  }
  // Ends the building; the staged segments become writes into `staging`.
  std::vector<ImageWrite> finish(PageBytes& staging) {
    close_segment();
    staging = PageBytes{_all};
    return std::move(_writes);
  }
  std::span<const std::uint8_t> segment() const { return _staged; }
  std::uint64_t segment_start() const { return _segment_start; }

 private:
  static constexpr std::uint8_t half_gap_head[2] = {0xFF, 0xFF};
  static constexpr std::uint8_t eom_word[4] = {0xFF, 0xFF, 0xFF, 0xFF};
  // An end marker 2 bytes past a word boundary, and the first half of a gap that realigns: the
  // link later turns byte 2 into FEh, which makes the first word a half gap.
  static constexpr std::uint8_t eom_and_half[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

  void close_segment() {
    if (_staged.empty()) {
      return;
    }
    _writes.push_back({_segment_start, false, _all.size(), _staged.size()});
    if (_all.empty()) {
      _all = std::move(_staged);  // the only segment of a packed append: no second copy
    } else {
      _all.insert(_all.end(), _staged.begin(), _staged.end());
    }
    _staged.clear();
  }

  std::uint64_t _segment_start;
  std::uint64_t _at;
  std::vector<std::uint8_t> _staged;  // the segment being built, from _segment_start to _at
  std::vector<std::uint8_t> _all;     // closed segments, back to back
  std::vector<ImageWrite> _writes;
};

}  // namespace

PageBytes::PageBytes(std::span<const std::uint8_t> from) : _size{from.size()} {
  if (from.empty()) {
    return;
  }
  const auto size = (from.size() + image_page - 1) / image_page * image_page;
  _data.reset(static_cast<std::uint8_t*>(std::aligned_alloc(image_page, size)));
  if (!_data) {
    throw std::bad_alloc{};
  }
  std::memcpy(_data.get(), from.data(), from.size());
}

ImageTail make_tail(std::uint64_t end_of_data, std::span<const std::uint8_t> committed) {
  ImageTail tail;
  tail.start = page_floor(end_of_data);
  tail.end_of_data = end_of_data;
  tail.bytes.assign(committed.begin(), committed.end());
  tail.bytes.resize(end_of_data - tail.start);
  Builder b{tail};
  b.open_end(header_slot(end_of_data));
  tail.bytes.assign(b.segment().begin(), b.segment().end());
  return tail;
}

AppendPlan plan_append(const ImageTail& tail, std::span<const AppendItem> items,
                       std::span<const std::uint8_t> data, std::uint64_t capacity,
                       ImageLayout layout) {
  AppendPlan plan;
  std::size_t staged = 0;
  if (layout == ImageLayout::packed) {
    for (const auto& item : items) {
      staged += item.filemark ? 4 : simh_record_span(item.length);
    }
  }
  Builder b{tail, static_cast<std::size_t>(std::min<std::uint64_t>(staged, capacity))};
  for (const auto& item : items) {
    const auto at = b.at();
    const bool aligned = layout == ImageLayout::aligned && !item.filemark &&
                         item.length >= aligned_record_min &&
                         page_aligned(data.data() + item.source);
    const auto header = aligned ? header_slot(at) : at;
    const auto end = item.filemark ? at + 4 : header + 8 + padded(item.length);
    if (header_slot(end) + 4 > capacity) {
      break;
    }
    if (item.filemark) {
      plan.objects.push_back({at, 0, true});
      b.word(simh_tape_mark);
    } else {
      plan.objects.push_back({header, item.length, false});
      const auto record = data.subspan(item.source, item.length);
      std::size_t staged_from = 0;
      if (aligned) {
        b.gaps_to(header);
        b.word(item.length);
        staged_from = page_floor(item.length);
        b.registered(item.source, staged_from);
      } else {
        b.word(item.length);
      }
      b.bytes(record.subspan(staged_from));
      b.pad(item.length);
      b.word(item.length);
    }
    ++plan.placed;
  }
  const auto end_of_data = b.at();
  b.open_end(header_slot(end_of_data));
  plan.tail.start = page_floor(end_of_data);
  plan.tail.end_of_data = end_of_data;
  const auto segment = b.segment();
  plan.tail.bytes.assign(segment.begin() + static_cast<std::ptrdiff_t>(plan.tail.start - b.segment_start()),
                         segment.end());
  auto writes = b.finish(plan.staging);
  // The first write starts at the old tail and holds its end marker: its old pages become the
  // link, anything it holds beyond them is written first like the rest.
  auto first = writes.front();
  plan.link = first;
  plan.link.length = std::min<std::size_t>(first.length, tail.bytes.size());
  if (first.length > plan.link.length) {
    plan.prepare.push_back({first.offset + plan.link.length, false, first.from + plan.link.length,
                            first.length - plan.link.length});
  }
  plan.prepare.insert(plan.prepare.end(), writes.begin() + 1, writes.end());
  return plan;
}

}  // namespace tapestream::emulated
