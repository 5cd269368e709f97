#include "scsi/text.hpp"

namespace tapestream::scsi {

std::string printable_ascii(ByteView field) {
  std::size_t begin = 0;
  std::size_t end = field.size();
  auto blank = [](std::uint8_t c) { return c == ' ' || c == 0; };
  while (begin < end && blank(field[begin])) {
    ++begin;
  }
  while (end > begin && blank(field[end - 1])) {
    --end;
  }
  std::string out;
  out.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) {
    const auto c = field[i];
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '.');
  }
  return out;
}

std::string hex_text(ByteView bytes) {
  constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const auto b : bytes) {
    hex.push_back(digits[b >> 4]);
    hex.push_back(digits[b & 0x0F]);
  }
  return hex;
}

}  // namespace tapestream::scsi
