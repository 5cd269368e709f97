#include "scsi/inquiry.hpp"

#include <algorithm>

#include "scsi/parse_error.hpp"
#include "scsi/text.hpp"

namespace tapestream::scsi {
namespace {

// A VPD page's header: byte 1 page code, bytes 2..3 page length. Returns the page body,
// limited to the bytes that arrived.
Result<ByteView> vpd_body(ByteView data, std::uint8_t page) {
  if (data.size() < 4) {
    return ParseError::truncated;
  }
  if (data[1] != page) {
    return ParseError::wrong_page;
  }
  const std::size_t length = std::min<std::size_t>(load_be16(data, 2), data.size() - 4);
  return data.subspan(4, length);
}

}  // namespace

Result<StandardInquiry> parse_standard_inquiry(ByteView data) {
  if (data.size() < 5) {
    return ParseError::truncated;
  }
  StandardInquiry i;
  i.peripheral_qualifier = static_cast<std::uint8_t>(data[0] >> 5);
  i.device_type = data[0] & 0x1F;
  i.removable = (data[1] & 0x80) != 0;
  i.version = data[2];
  i.response_data_format = data[3] & 0x0F;
  const auto present = data.first(std::min<std::size_t>(data.size(), 5U + data[4]));
  auto field = [&](std::size_t at, std::size_t length) {
    if (present.size() <= at) {
      return std::string{};
    }
    return printable_ascii(present.subspan(at, std::min(length, present.size() - at)));
  };
  if (present.size() > 5) {
    i.protect = (present[5] & 0x01) != 0;
  }
  if (present.size() > 7) {
    i.command_queueing = (present[7] & 0x02) != 0;
  }
  i.vendor = field(8, 8);
  i.product = field(16, 16);
  i.revision = field(32, 4);
  i.vendor_specific = field(36, 20);
  return i;
}

Result<std::vector<std::uint8_t>> parse_supported_vpd_pages(ByteView data) {
  BOOST_OUTCOME_TRY(body, vpd_body(data, 0x00));
  return std::vector<std::uint8_t>(body.begin(), body.end());
}

Result<std::string> parse_unit_serial_number(ByteView data) {
  BOOST_OUTCOME_TRY(body, vpd_body(data, 0x80));
  return printable_ascii(body);
}

Result<std::vector<Designator>> parse_device_identification(ByteView data) {
  BOOST_OUTCOME_TRY(body, vpd_body(data, 0x83));
  std::vector<Designator> out;
  std::size_t at = 0;
  while (at + 4 <= body.size()) {
    const std::size_t length = body[at + 3];
    if (at + 4 + length > body.size()) {
      return ParseError::truncated;
    }
    Designator d;
    d.protocol_identifier = static_cast<std::uint8_t>(body[at] >> 4);
    d.code_set = body[at] & 0x0F;
    d.protocol_identifier_valid = (body[at + 1] & 0x80) != 0;
    d.association = static_cast<std::uint8_t>((body[at + 1] >> 4) & 0x03);
    d.type = body[at + 1] & 0x0F;
    const auto first = body.begin() + static_cast<std::ptrdiff_t>(at + 4);
    d.value.assign(first, first + static_cast<std::ptrdiff_t>(length));
    out.push_back(std::move(d));
    at += 4 + length;
  }
  return out;
}

std::string Designator::to_string() const {
  if (code_set == 2 || code_set == 3) {
    return printable_ascii(value);
  }
  return hex_text(value);
}

}  // namespace tapestream::scsi
