#include "scsi/sense.hpp"

#include <algorithm>

#include "scsi/parse_error.hpp"

namespace tapestream::scsi {
namespace {

constexpr std::size_t fixed_minimum = 3;       // response code, obsolete, key and flags
constexpr std::size_t descriptor_minimum = 4;  // response code, key, ASC, ASCQ

// The bytes the device says it sent (7 + additional length), limited to what we have.
ByteView declared_part(ByteView data) {
  if (data.size() < 8) {
    return data;
  }
  return data.first(std::min<std::size_t>(data.size(), 8U + data[7]));
}

std::optional<SenseKeySpecific> key_specific_at(ByteView data, std::size_t at) {
  if (data.size() < at + 3 || (data[at] & 0x80) == 0) {  // SKSV
    return std::nullopt;
  }
  return SenseKeySpecific{{data[at], data[at + 1], data[at + 2]}};
}

Sense normalise_fixed(ByteView data) {
  Sense s;
  const bool valid = (data[0] & 0x80) != 0;
  s.deferred = (data[0] & 0x7F) == 0x71;
  s.filemark = (data[2] & 0x80) != 0;
  s.end_of_medium = (data[2] & 0x40) != 0;
  s.incorrect_length = (data[2] & 0x20) != 0;
  s.key = static_cast<SenseKey>(data[2] & 0x0F);
  if (valid && data.size() >= 7) {
    s.information = static_cast<std::int32_t>(load_be32(data, 3));
  }
  if (data.size() >= 12) {
    s.command_specific = load_be32(data, 8);
  }
  if (data.size() >= 14) {
    s.asc = data[12];
    s.ascq = data[13];
  }
  if (data.size() >= 15) {
    s.field_replaceable_unit = data[14];
  }
  s.key_specific = key_specific_at(data, 15);
  return s;
}

void apply_descriptor(Sense& s, std::uint8_t type, ByteView d) {
  // `d` is the whole descriptor, header included: d[0] type, d[1] additional length.
  switch (type) {
    case 0x00:  // information
      if (d.size() >= 12 && (d[2] & 0x80) != 0) {
        s.information = static_cast<std::int64_t>(load_be64(d, 4));
      }
      break;
    case 0x01:  // command-specific information
      if (d.size() >= 12) {
        s.command_specific = load_be64(d, 4);
      }
      break;
    case 0x02:  // sense key specific
      if (d.size() >= 7) {
        s.key_specific = key_specific_at(d, 4);
      }
      break;
    case 0x03:  // field replaceable unit
      if (d.size() >= 4) {
        s.field_replaceable_unit = d[3];
      }
      break;
    case 0x04:  // stream commands (SSC)
      if (d.size() >= 4) {
        s.filemark = (d[3] & 0x80) != 0;
        s.end_of_medium = (d[3] & 0x40) != 0;
        s.incorrect_length = (d[3] & 0x20) != 0;
      }
      break;
    case 0x05:  // block commands: only ILI applies to a tape
      if (d.size() >= 4) {
        s.incorrect_length = (d[3] & 0x20) != 0;
      }
      break;
    default:
      break;  // ignoring descriptors tape does not use
  }
}

Sense normalise_descriptor(ByteView data) {
  Sense s;
  s.descriptor_format = true;
  s.deferred = (data[0] & 0x7F) == 0x73;
  s.key = static_cast<SenseKey>(data[1] & 0x0F);
  s.asc = data[2];
  s.ascq = data[3];
  std::size_t at = 8;
  while (at + 2 <= data.size()) {
    const std::size_t length = 2U + data[at + 1];
    const auto descriptor = data.subspan(at, std::min(length, data.size() - at));
    apply_descriptor(s, data[at], descriptor);
    at += length;
  }
  return s;
}

}  // namespace

SenseKeySpecific::FieldPointer SenseKeySpecific::field_pointer() const {
  FieldPointer p{};
  p.in_cdb = (raw[0] & 0x40) != 0;
  if ((raw[0] & 0x08) != 0) {  // BPV
    p.bit = static_cast<std::uint8_t>(raw[0] & 0x07);
  }
  p.byte = load_be16(raw, 1);
  return p;
}

Result<Sense> normalise_sense(ByteView data) {
  if (data.empty()) {
    return ParseError::truncated;
  }
  const auto part = declared_part(data);
  switch (data[0] & 0x7F) {
    case 0x70:
    case 0x71:
      if (part.size() < fixed_minimum) {
        return ParseError::truncated;
      }
      return normalise_fixed(part);
    case 0x72:
    case 0x73:
      if (part.size() < descriptor_minimum) {
        return ParseError::truncated;
      }
      return normalise_descriptor(part);
    default:
      return ParseError::unsupported_format;
  }
}

std::string_view sense_key_name(SenseKey key) {
  static constexpr std::string_view names[] = {
      "NO SENSE",        "RECOVERED ERROR", "NOT READY",      "MEDIUM ERROR",
      "HARDWARE ERROR",  "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
      "BLANK CHECK",     "VENDOR SPECIFIC", "COPY ABORTED",   "ABORTED COMMAND",
      "RESERVED (0Ch)",  "VOLUME OVERFLOW", "MISCOMPARE",     "COMPLETED",
  };
  return names[static_cast<std::uint8_t>(key) & 0x0F];
}

}  // namespace tapestream::scsi
