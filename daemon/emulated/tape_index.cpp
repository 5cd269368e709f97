#include "emulated/tape_index.hpp"

#include <algorithm>
#include <limits>

namespace tapestream::emulated {

const TapeIndex::Run& TapeIndex::run_of(std::uint64_t n) const {
  const auto before = [](std::uint64_t value, const Run& r) { return value < r.first; };
  const auto after = std::upper_bound(_runs.begin(), _runs.end(), n, before);
  return *std::prev(after);
}

TapeObject TapeIndex::object(std::uint64_t n) const {
  const auto& r = run_of(n);
  return {r.offset_of(n), r.filemark() ? 0 : r.kind, r.filemark()};
}

std::uint64_t TapeIndex::offset_at(std::uint64_t n) const {
  return n < _size ? run_of(n).offset_of(n) : _end;
}

std::uint64_t TapeIndex::files_before(std::uint64_t n) const {
  if (n >= _size) {
    return _filemarks;
  }
  const auto& r = run_of(n);
  return r.files_before + (r.filemark() ? n - r.first : 0);
}

std::uint64_t TapeIndex::filemark(std::uint64_t k) const {
  // Filemarks up to the end of each run never decrease: the first run that reaches k holds it.
  const auto r = std::partition_point(_runs.begin(), _runs.end(), [k](const Run& run) {
    return run.files_before + (run.filemark() ? run.count : 0) < k;
  });
  return r->first + (k - r->files_before - 1);
}

bool TapeIndex::extend_last(std::uint32_t kind, std::uint64_t offset) {
  if (_runs.empty() || _runs.back().kind != kind) {
    return false;
  }
  auto& r = _runs.back();
  const auto last = r.offset_of(r.first + r.count - 1);
  const auto stride = offset - last;
  if (r.count == 1 && stride <= std::numeric_limits<std::uint32_t>::max()) {
    r.stride = static_cast<std::uint32_t>(stride);
  } else if (r.count == 1 || stride != r.stride) {
    return false;
  }
  ++r.count;
  return true;
}

bool TapeIndex::push(const TapeObject& o) {
  const auto kind = o.filemark ? filemark_kind : o.length;
  if (!extend_last(kind, o.offset)) {
    if (_runs.size() >= max_runs) {
      return false;
    }
    _runs.push_back({_size, o.offset, 1, _filemarks, 0, kind});
  }
  ++_size;
  _filemarks += o.filemark ? 1 : 0;
  _end = o.end();
  return true;
}

bool TapeIndex::push_filemarks(std::uint64_t offset, std::uint64_t count) {
  if (count == 0) {
    return true;
  }
  if (_runs.size() + 2 > max_runs) {  // at most two new runs; nothing changes when they cannot be
    return false;
  }
  push({offset, 0, true});
  if (count == 1) {
    return true;
  }
  if (_runs.back().count == 1) {
    _runs.back().stride = 4;
  } else if (_runs.back().stride != 4) {  // it joined marks with gaps between them
    _runs.push_back({_size, offset + 4, 0, _filemarks, 4, filemark_kind});
  }
  _runs.back().count += count - 1;
  _size += count - 1;
  _filemarks += count - 1;
  _end = offset + 4 * count;
  return true;
}

void TapeIndex::truncate(std::uint64_t n) {
  if (n >= _size) {
    return;
  }
  const auto end = offset_at(n);
  const auto files = files_before(n);
  while (!_runs.empty() && _runs.back().first >= n) {
    _runs.pop_back();
  }
  if (!_runs.empty()) {
    _runs.back().count = n - _runs.back().first;
  }
  _size = n;
  _filemarks = files;
  _end = end;
}

}  // namespace tapestream::emulated
