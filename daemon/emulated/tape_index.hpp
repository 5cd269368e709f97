// Where each logical object (data block or filemark) of the emulated drive's tape lies in its
// image, kept as runs: consecutive objects of one kind and length at a constant stride. Memory
// follows the number of runs, not of objects, so a tape of millions of equal blocks, or a file of
// zeros (millions of tape marks), is a handful of runs; every lookup is a binary search over them.
#pragma once

#include <cstdint>
#include <vector>

#include "emulated/simh_image.hpp"

namespace tapestream::emulated {

class TapeIndex {
 public:
  // 40 bytes a run: at most 160 MiB of index, whatever the image holds.
  static constexpr std::size_t max_runs = std::size_t{4} << 20;

  std::uint64_t size() const { return _size; }  // objects
  std::uint64_t filemarks() const { return _filemarks; }
  std::size_t runs() const { return _runs.size(); }
  // Where the end of data is: the next object goes there.
  std::uint64_t end_offset() const { return _end; }

  TapeObject object(std::uint64_t n) const;  // n < size()
  std::uint64_t offset_at(std::uint64_t n) const;  // end_offset() for n >= size()
  std::uint64_t files_before(std::uint64_t n) const;  // filemarks before object n
  // The object number of the k-th filemark, k from 1 to filemarks().
  std::uint64_t filemark(std::uint64_t k) const;

  // Appends `o`, which lies at or after end_offset(), and makes its end the end of data. False,
  // with nothing changed, when it would take a run beyond max_runs.
  bool push(const TapeObject& o);
  // `count` tape marks back to back from `offset`.
  bool push_filemarks(std::uint64_t offset, std::uint64_t count);
  // Gaps after the last object: the end of data moves to `offset`.
  void set_end(std::uint64_t offset) { _end = offset; }
  // Keeps the objects before n; object n's offset becomes the end of data.
  void truncate(std::uint64_t n);

 private:
  struct Run {
    std::uint64_t first = 0;  // object number
    std::uint64_t offset = 0;  // of the first object's leading word
    std::uint64_t count = 0;
    std::uint64_t files_before = 0;  // filemarks before the run
    std::uint32_t stride = 0;  // from one object to the next; 0 while count is 1
    std::uint32_t kind = 0;    // the data length, or filemark_kind

    bool filemark() const { return kind == filemark_kind; }
    std::uint64_t offset_of(std::uint64_t n) const { return offset + (n - first) * stride; }
  };
  static constexpr std::uint32_t filemark_kind = 0xFFFF'FFFF;  // no record is that long

  // The run that holds object n < size().
  const Run& run_of(std::uint64_t n) const;
  bool extend_last(std::uint32_t kind, std::uint64_t offset);

  std::vector<Run> _runs;
  std::uint64_t _size = 0;
  std::uint64_t _filemarks = 0;
  std::uint64_t _end = 0;
};

}  // namespace tapestream::emulated
