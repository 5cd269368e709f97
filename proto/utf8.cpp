// UTF-8 as every string of the protocol must be: checked on what comes in, mended on what goes
// out. Twenty lines of the well-known table (RFC 3629) rather than a library for one predicate.
#include <cstdint>
#include <span>
#include <string_view>

#include "codec.hpp"

namespace tapestream::proto {
namespace {

// The length of the UTF-8 sequence at the start of `s`, or 0 when it is not well formed.
std::size_t utf8_sequence(std::span<const std::uint8_t> s) {
  const auto lead = s[0];
  std::size_t length;
  std::uint32_t code;
  if (lead < 0x80) {
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() < length) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (s[i] & 0x3F);
  }
  const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
  const bool surrogate = code >= 0xD800 && code <= 0xDFFF;
  return overlong || surrogate || code > 0x10FFFF ? 0 : length;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  const std::span<const std::uint8_t> bytes{reinterpret_cast<const std::uint8_t*>(text.data()),
                                            text.size()};
  for (std::size_t at = 0; at < bytes.size();) {
    const auto n = utf8_sequence(bytes.subspan(at));
    if (n == 0) {
      return false;
    }
    at += n;
  }
  return true;
}

void replace_invalid_utf8(std::span<std::uint8_t> bytes) {
  for (std::size_t at = 0; at < bytes.size();) {
    const auto n = utf8_sequence(bytes.subspan(at));
    if (n == 0) {
      bytes[at++] = '?';
    } else {
      at += n;
    }
  }
}

}  // namespace tapestream::proto
