// Reading and writing the fields of a message body (PROTOCOL.md, "Encoding"): little-endian
// numbers, length-prefixed UTF-8 strings, digests, reserved zeros. Internal to the codec.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec.hpp"

namespace tapestream::proto::detail {

inline std::uint64_t load_le(ByteView b, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = width; i > 0; --i) {
    v = (v << 8) | b[at + i - 1];
  }
  return v;
}

// Reads a body field by field; any read past the end, or a string longer than its field,
// marks the body malformed.
class Reader {
 public:
  explicit Reader(ByteView body) : _body{body} {}

  std::uint64_t number(std::size_t width) {
    if (!take(width)) {
      return 0;
    }
    return load_le(_body, _at - width, width);
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(number(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(number(4)); }
  std::uint64_t u64() { return number(8); }
  std::string text(std::size_t max) {
    const auto length = u16();
    if (length > max || !take(length)) {
      _malformed = true;
      return {};
    }
    std::string text{reinterpret_cast<const char*>(_body.data() + _at - length), length};
    if (!valid_utf8(text)) {
      _bad_field = true;
    }
    return text;
  }
  Digest digest() {
    Digest d{};
    if (take(d.size())) {
      std::copy_n(_body.begin() + static_cast<std::ptrdiff_t>(_at - d.size()), d.size(), d.begin());
    }
    return d;
  }
  void reserved(std::size_t width) {
    if (number(width) != 0) {
      _bad_field = true;
    }
  }
  std::size_t remaining() const { return _malformed ? 0 : _body.size() - _at; }
  void flag_bad_field() { _bad_field = true; }
  // What the body amounts to: exact, malformed (length) or with a field out of range.
  Result<void> verdict() const {
    if (_malformed || _at != _body.size()) {
      return Status::bad_length;
    }
    if (_bad_field) {
      return Status::bad_request;
    }
    return outcome::success();
  }

 private:
  bool take(std::size_t n) {
    if (_malformed || n > _body.size() - _at) {
      _malformed = true;
      return false;
    }
    _at += n;
    return true;
  }
  ByteView _body;
  std::size_t _at = 0;
  bool _malformed = false;
  bool _bad_field = false;
};

class Writer {
 public:
  void number(std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) {
      _out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  // A string that is not UTF-8 (a drive's INQUIRY text, a message cut in the middle of a
  // character) goes out with '?' for each stray byte: a reply must never fail to encode.
  void text(std::string_view s, std::size_t max) {
    if (s.size() > max) {
      _bad = true;
      return;
    }
    number(s.size(), 2);
    const auto start = _out.size();
    _out.insert(_out.end(), s.begin(), s.end());
    replace_invalid_utf8({_out.data() + start, s.size()});
  }
  void bytes(ByteView b) { _out.insert(_out.end(), b.begin(), b.end()); }
  void drive(std::string_view name) {
    if (!valid_drive_name(name)) {
      _bad = true;
    }
    text(name, TS_MAX_DRIVE_NAME);
  }
  void fail() { _bad = true; }
  bool bad() const { return _bad; }
  std::vector<std::uint8_t>& out() { return _out; }

 private:
  std::vector<std::uint8_t> _out;
  bool _bad = false;
};

// A FILE_LIST entry's span fields: all 0 (no part), or a stream row, an index from 1, an
// offset that is 0 for the first part, and no span flag but TS_SPAN_LAST.
inline bool valid_span_fields(const FileEntry& f) {
  if (f.span_part == 0) {
    return f.span_stream == 0 && f.span_offset == 0 && f.span_flags == 0;
  }
  return f.span_stream != 0 && (f.span_part != 1 || f.span_offset == 0) &&
         (f.span_flags & ~TS_SPAN_LAST) == 0;
}

}  // namespace tapestream::proto::detail
