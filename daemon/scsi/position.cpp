#include "scsi/position.hpp"

#include "scsi/parse_error.hpp"

namespace tapestream::scsi {
namespace {

// Byte 0 of the short and extended forms.
struct ShortFlags {
  bool bop, eop, locu, bycu, lolu, perr, bpew;
};
ShortFlags short_flags(std::uint8_t b) {
  return {(b & 0x80) != 0, (b & 0x40) != 0, (b & 0x20) != 0, (b & 0x10) != 0,
          (b & 0x04) != 0, (b & 0x02) != 0, (b & 0x01) != 0};
}

void apply_common(Position& p, const ShortFlags& f) {
  p.beginning_of_partition = f.bop;
  p.end_of_partition = f.eop;
  p.beyond_early_warning = f.bpew;
  p.position_overflow = f.perr;
}

Result<Position> parse_short(ByteView d) {
  if (d.size() < 20) {
    return ParseError::truncated;
  }
  const auto f = short_flags(d[0]);
  Position p;
  apply_common(p, f);
  if (!f.lolu) {
    p.partition = d[1];
    p.first_logical_object = load_be32(d, 4);
    p.last_logical_object = load_be32(d, 8);
  }
  if (!f.locu) {
    p.objects_in_buffer = load_be24(d, 13);
  }
  if (!f.bycu) {
    p.bytes_in_buffer = load_be32(d, 16);
  }
  return p;
}

Result<Position> parse_long(ByteView d) {
  if (d.size() < 32) {
    return ParseError::truncated;
  }
  Position p;
  p.beginning_of_partition = (d[0] & 0x80) != 0;
  p.end_of_partition = (d[0] & 0x40) != 0;
  p.mark_position_unknown = (d[0] & 0x08) != 0;
  p.beyond_early_warning = (d[0] & 0x01) != 0;
  const bool object_number_unknown = (d[0] & 0x04) != 0;  // LONU
  if (!object_number_unknown) {
    p.partition = load_be32(d, 4);
    p.first_logical_object = load_be64(d, 8);
  }
  if (!p.mark_position_unknown) {
    p.logical_file = load_be64(d, 16);
  }
  return p;
}

Result<Position> parse_extended(ByteView d) {
  if (d.size() < 32) {
    return ParseError::truncated;
  }
  if (load_be16(d, 2) < 0x1C) {
    return ParseError::bad_length;
  }
  const auto f = short_flags(d[0]);
  Position p;
  apply_common(p, f);
  if (!f.lolu) {
    p.partition = d[1];
    p.first_logical_object = load_be64(d, 8);
    p.last_logical_object = load_be64(d, 16);
  }
  if (!f.locu) {
    p.objects_in_buffer = load_be24(d, 5);
  }
  if (!f.bycu) {
    p.bytes_in_buffer = load_be64(d, 24);
  }
  return p;
}

}  // namespace

Result<Position> parse_read_position(cdb::ReadPositionForm form, ByteView data) {
  switch (form) {
    case cdb::ReadPositionForm::short_block_id:
    case cdb::ReadPositionForm::short_vendor:
      return parse_short(data);
    case cdb::ReadPositionForm::long_form:
      return parse_long(data);
    case cdb::ReadPositionForm::extended:
      return parse_extended(data);
  }
  return ParseError::unsupported_format;
}

Result<BlockLimits> parse_block_limits(ByteView data) {
  if (data.size() < 6) {
    return ParseError::truncated;
  }
  BlockLimits l;
  l.granularity = data[0] & 0x1F;
  l.maximum_block_length = load_be24(data, 1);
  l.minimum_block_length = load_be16(data, 4);
  if (data.size() >= 20) {
    l.maximum_logical_object_identifier = load_be64(data, 12);
  }
  if (l.maximum_block_length != 0 && l.minimum_block_length > l.maximum_block_length) {
    return ParseError::bad_length;
  }
  return l;
}

}  // namespace tapestream::scsi
