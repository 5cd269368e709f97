#include "tools/hex.hpp"

#include <cstdio>
#include <system_error>

namespace tapestream::tools {
namespace {

int digit_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool is_separator(char c) { return c == ' ' || c == ',' || c == ':' || c == '-' || c == '\t'; }

}  // namespace

Result<std::vector<std::uint8_t>> parse_hex(std::string_view text, std::size_t max_bytes) {
  std::vector<std::uint8_t> out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_separator(text[i])) {
      ++i;
      continue;
    }
    if (text.substr(i, 2) == "0x" || text.substr(i, 2) == "0X") {
      i += 2;
    }
    // One token: an even run of hex digits.
    std::size_t end = i;
    while (end < text.size() && !is_separator(text[end])) {
      if (digit_value(text[end]) < 0) {
        return std::make_error_code(std::errc::invalid_argument);
      }
      ++end;
    }
    if ((end - i) % 2 != 0) {
      return std::make_error_code(std::errc::invalid_argument);
    }
    for (; i < end; i += 2) {
      if (out.size() == max_bytes) {
        return std::make_error_code(std::errc::value_too_large);
      }
      out.push_back(static_cast<std::uint8_t>(digit_value(text[i]) * 16 + digit_value(text[i + 1])));
    }
  }
  return out;
}

std::string to_hex(scsi::ByteView bytes) {
  std::string out;
  out.reserve(bytes.size() * 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    char two[4];
    std::snprintf(two, sizeof two, i == 0 ? "%02x" : " %02x", bytes[i]);
    out += two;
  }
  return out;
}

}  // namespace tapestream::tools
