#include "emulated/image_scan.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <system_error>

#include "emulated/image_layout.hpp"

namespace tapestream::emulated {
namespace {

struct Stop {
  enum class Kind { end_of_file, end_marker, damage, full };
  Kind kind;
  std::uint64_t at;
  std::string what;
  std::uint64_t object_end = 0;  // of the damaged object, as its leading length has it
  std::uint64_t gap_bytes = 0;   // erase gaps and half gaps passed before it
};

// Walks the objects from `at` into `index` until the tape ends, or until it holds more than
// `run_limit` runs. With `probe`, zeros are passed over: after the open end they are space
// allocated ahead, or pages an interrupted append had not written yet, no evidence of tape marks.
Result<Stop> walk(ImageReader& r, std::uint64_t at, TapeIndex& index, std::size_t run_limit,
                  bool probe = false) {
  using Kind = Stop::Kind;
  std::uint64_t gap_bytes = 0;
  const auto stop = [&gap_bytes](Kind kind, std::uint64_t where, std::string what = {},
                                 std::uint64_t object_end = 0) {
    return Stop{kind, where, std::move(what), object_end, gap_bytes};
  };
  while (true) {
    if (index.runs() > run_limit) {
      return stop(Kind::full, at);
    }
    BOOST_OUTCOME_TRY(next, r.word(at));
    if (!next) {
      return stop(Kind::end_of_file, at);
    }
    const auto word = *next;
    if (word == simh_end_of_medium) {
      return stop(Kind::end_marker, at);
    }
    if (word == simh_erase_gap) {
      BOOST_OUTCOME_TRY(gaps, r.gaps_from(at));
      at += std::max<std::uint64_t>(gaps, 4);
      gap_bytes += std::max<std::uint64_t>(gaps, 4);
      continue;
    }
    if (word == simh_half_gap) {
      at += 2;
      gap_bytes += 2;
      continue;
    }
    if (word == simh_tape_mark) {
      BOOST_OUTCOME_TRY(zeros, r.zeros_from(at));
      const auto marks = std::max<std::uint64_t>(zeros / 4, 1);
      if (!probe && !index.push_filemarks(at, marks)) {
        return stop(Kind::full, at);
      }
      at += marks * 4;
      continue;
    }
    if ((word >> 28) != 0) {
      return stop(Kind::damage, at,
                  fmt::format("a length word with class bits set ({:08X}h)", word), at + 4);
    }
    if (word > simh_max_record) {
      return stop(Kind::damage, at,
                  fmt::format("a record length of {} bytes, beyond the {} a record can hold", word,
                              simh_max_record),
                  at + 4);
    }
    const auto end = at + simh_record_span(word);
    if (end > r.file_size()) {
      return stop(Kind::damage, at,
                  fmt::format("a record of {} bytes that runs past the end of the file ({} bytes)",
                              word, r.file_size()),
                  end);
    }
    // Past a large record the walk reads its trailing length, gaps and the next header only.
    BOOST_OUTCOME_TRY(trailer, r.word(end - 4, word >= aligned_record_min));
    if (trailer != word) {
      return stop(Kind::damage, at,
                  fmt::format("a record whose leading length ({}) and trailing length ({}) differ",
                              word, trailer.value_or(0)),
                  end);
    }
    if (!index.push({at, word, false})) {
      return stop(Kind::full, at);
    }
    at = end;
  }
}

// Where the open end the writer leaves after the end-of-medium word at `at` stops (make_tail in
// image_layout.hpp: a half gap when needed, gaps, a marker in a page's last word), or nullopt when
// the bytes there are something else. The file may end anywhere in it.
struct OpenEnd {
  std::uint64_t end;
  bool complete;
};
Result<std::optional<OpenEnd>> open_end_at(ImageReader& r, std::uint64_t at) {
  const std::vector<std::uint8_t> before(at - page_floor(at));
  const auto tail = make_tail(at, before);
  const auto expected = std::span<const std::uint8_t>{tail.bytes}.subspan(at - tail.start);
  BOOST_OUTCOME_TRY(found, r.bytes(at, expected.size()));
  if (!std::equal(found.begin(), found.end(), expected.begin())) {
    return std::optional<OpenEnd>{};
  }
  return std::optional<OpenEnd>{OpenEnd{at + found.size(), found.size() == expected.size()}};
}

// Whether the damage at `at` is what a crash leaves when it cuts short, at a sector, the write
// that links an append (image_layout.hpp): the new object's leading bytes, then, from a sector
// boundary inside it, the old open end's gap words up to its marker in a page's last word. That
// marker lies no further than header_slot(at), since the old end of data was at or before `at`.
Result<bool> torn_link_at(ImageReader& r, std::uint64_t at, std::uint64_t object_end) {
  constexpr std::uint64_t sector = 512;
  const auto slot = header_slot(at);
  for (auto boundary = (at / sector + 1) * sector; boundary < std::min(object_end, slot);
       boundary += sector) {
    for (auto w = boundary; w <= slot; w += 4) {
      BOOST_OUTCOME_TRY(word, r.word(w));
      if (!word || (*word != simh_erase_gap && *word != simh_end_of_medium)) {
        break;
      }
      if (*word == simh_end_of_medium && (w + 4) % image_page == 0) {
        return true;
      }
    }
  }
  return false;
}

// The trailing length of a record whose data starts at `data` and whose leading length is
// missing: the first word that many bytes (padded) after it.
Result<std::optional<std::uint64_t>> find_trailer(ImageReader& r, std::uint64_t data) {
  const auto last = std::min(r.file_size(), data + simh_max_record + 5);
  for (auto t = data + 2; t + 4 <= last;) {
    BOOST_OUTCOME_TRY(word, r.word(t));
    if (*word == 0) {  // no record is empty: pass zeros (and holes) quickly
      BOOST_OUTCOME_TRY(zeros, r.zeros_from(t));
      t += std::max<std::uint64_t>(2, (zeros - 2) & ~std::uint64_t{1});
      continue;
    }
    if (*word <= simh_max_record && *word + (*word & 1U) == t - data) {
      return std::optional<std::uint64_t>{t};
    }
    t += 2;
  }
  return std::optional<std::uint64_t>{};
}

// Whether intact objects continue the tape after the open end that stops at `from`: read from
// there, and, in case the marker took the place of a record's leading length, from that record's
// trailing length on. What a crash leaves unlinked there is one append or the drive buffer's
// batch, one run (a WRITE appends blocks of one length, WRITE FILEMARKS only filemarks, a batch
// holds one kind); more means a stray marker mid-tape.
Result<bool> tape_continues(ImageReader& r, std::uint64_t from) {
  TapeIndex direct;
  BOOST_OUTCOME_TRYV(walk(r, from, direct, 1, true));
  if (direct.runs() > 1) {
    return true;
  }
  BOOST_OUTCOME_TRY(trailer, find_trailer(r, from));
  if (!trailer) {
    return false;
  }
  TapeIndex resync;
  const auto length = static_cast<std::uint32_t>(*trailer - from);
  resync.push({from - 4, length, false});
  BOOST_OUTCOME_TRYV(walk(r, *trailer + 4, resync, 1, true));
  return resync.runs() > 1;
}

}  // namespace

Result<ImageScan> scan_image(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    return std::error_code{errno, std::system_category()};
  }
  ImageScan s;
  s.file_size = static_cast<std::uint64_t>(st.st_size);
  ImageReader r{fd, s.file_size};
  BOOST_OUTCOME_TRY(stop, walk(r, 0, s.index, std::numeric_limits<std::size_t>::max()));
  s.index.set_end(stop.at);
  s.beyond = stop.at;
  s.gap_bytes = stop.gap_bytes;
  switch (stop.kind) {
    case Stop::Kind::full:
      s.end = ImageScan::End::too_many_runs;
      return s;
    case Stop::Kind::end_of_file:
      break;
    case Stop::Kind::end_marker: {
      BOOST_OUTCOME_TRY(open_end, open_end_at(r, stop.at));
      if (!open_end) {
        s.end = ImageScan::End::damaged;
        s.what = "an end-of-medium word (FFFFFFFFh) that the open end a writer leaves does not "
                 "follow";
        break;
      }
      BOOST_OUTCOME_TRY(zeros, r.zeros_from(open_end->end));
      if (open_end->end + zeros < s.file_size) {  // only zeros after it: nothing continues
        BOOST_OUTCOME_TRY(continues, tape_continues(r, open_end->end));
        if (continues) {
          s.end = ImageScan::End::damaged;
          s.what = "an end-of-medium word (FFFFFFFFh) with intact objects of more than one kind "
                   "after it, as in the middle of a tape";
          break;
        }
      }
      s.beyond = open_end->end;
      s.open_end_intact = open_end->complete;
      break;
    }
    case Stop::Kind::damage: {
      BOOST_OUTCOME_TRY(torn, torn_link_at(r, stop.at, stop.object_end));
      s.what = std::move(stop.what);
      if (torn) {
        s.end = ImageScan::End::torn;
      } else {
        s.end = stop.at == 0 ? ImageScan::End::not_simh : ImageScan::End::damaged;
      }
      break;
    }
  }
  if (s.beyond < s.file_size) {
    BOOST_OUTCOME_TRY(zeros, r.zeros_from(s.beyond));
    if (s.beyond + zeros < s.file_size) {
      s.data_beyond = s.beyond + zeros;
    }
  }
  return s;
}

}  // namespace tapestream::emulated
