#include "scsi/density.hpp"

#include <algorithm>

#include "scsi/parse_error.hpp"
#include "scsi/text.hpp"

namespace tapestream::scsi {
namespace {

constexpr std::size_t density_descriptor_size = 52;
constexpr std::size_t medium_type_descriptor_size = 56;

// The descriptors after the 4-byte header, limited to what arrived.
Result<ByteView> descriptor_area(ByteView data) {
  if (data.size() < 4) {
    return ParseError::truncated;
  }
  const std::size_t end = std::min<std::size_t>(data.size(), 2U + load_be16(data, 0));
  if (end < 4) {
    return ParseError::bad_length;
  }
  return data.subspan(4, end - 4);
}

}  // namespace

Result<std::vector<DensityDescriptor>> parse_density_support(ByteView data) {
  BOOST_OUTCOME_TRY(area, descriptor_area(data));
  std::vector<DensityDescriptor> out;
  for (std::size_t at = 0; at + density_descriptor_size <= area.size();
       at += density_descriptor_size) {
    const auto d = area.subspan(at, density_descriptor_size);
    DensityDescriptor r;
    r.primary_density_code = d[0];
    r.secondary_density_code = d[1];
    r.writable = (d[2] & 0x80) != 0;
    r.duplicate = (d[2] & 0x40) != 0;
    r.default_density = (d[2] & 0x20) != 0;
    r.bits_per_mm = load_be24(d, 5);
    r.media_width = load_be16(d, 8);
    r.tracks = load_be16(d, 10);
    r.capacity_mb = load_be32(d, 12);
    r.assigning_organization = printable_ascii(d.subspan(16, 8));
    r.density_name = printable_ascii(d.subspan(24, 8));
    r.description = printable_ascii(d.subspan(32, 20));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<MediumTypeDescriptor>> parse_medium_type_support(ByteView data) {
  BOOST_OUTCOME_TRY(area, descriptor_area(data));
  std::vector<MediumTypeDescriptor> out;
  for (std::size_t at = 0; at + medium_type_descriptor_size <= area.size();
       at += medium_type_descriptor_size) {
    const auto d = area.subspan(at, medium_type_descriptor_size);
    MediumTypeDescriptor r;
    r.medium_type = d[0];
    const std::size_t count = std::min<std::size_t>(d[4], 9);
    r.primary_density_codes.assign(d.begin() + 5, d.begin() + 5 + static_cast<std::ptrdiff_t>(count));
    r.media_width = load_be16(d, 14);
    r.medium_length = load_be16(d, 16);
    r.assigning_organization = printable_ascii(d.subspan(20, 8));
    r.medium_type_name = printable_ascii(d.subspan(28, 8));
    r.description = printable_ascii(d.subspan(36, 20));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tapestream::scsi

namespace tapestream::scsi {
namespace {

struct DensityName {
  std::uint8_t code;
  std::string_view name;
};

// Primary density codes of LTO (IBM, HPE and Quantum manuals), DLT/SDLT and DDS/DAT.
constexpr DensityName density_names[] = {
    {0x13, "DDS"},         {0x24, "DDS-2"},       {0x25, "DDS-3"},  {0x26, "DDS-4"},
    {0x30, "DAT-72"},      {0x40, "LTO-1"},       {0x42, "LTO-2"},  {0x44, "LTO-3"},
    {0x46, "LTO-4"},       {0x48, "SDLT 220"},    {0x49, "SDLT 320"}, {0x4A, "SDLT 600"},
    {0x58, "LTO-5"},       {0x5A, "LTO-6"},       {0x5C, "LTO-7"},  {0x5D, "LTO-7 Type M (M8)"},
    {0x5E, "LTO-8"},       {0x60, "LTO-9"},
};

}  // namespace

std::string density_code_name(std::uint8_t code) {
  for (const auto& d : density_names) {
    if (d.code == code) {
      return std::string{d.name};
    }
  }
  if (code >= 0x80) {
    return "vendor specific";
  }
  return {};
}

namespace {

struct StreamingSpeed {
  std::uint8_t code;
  std::uint64_t lowest;  // bytes per second
};

// The slowest of the speeds a drive matches on a medium of that generation, from IBM's
// speed-matching tables for LTO-7 and later (the full- and half-height drives' tables agree on
// it). The media of earlier generations are left out: their published ranges disagree between
// makers.
constexpr StreamingSpeed streaming_speeds[] = {
    {0x5C, 101'460'000},  // LTO-7
    {0x5E, 112'000'000},  // LTO-8
    {0x60, 177'000'000},  // LTO-9
};

}  // namespace

std::optional<std::uint64_t> lowest_streaming_speed(std::uint8_t density_code) {
  for (const auto& s : streaming_speeds) {
    if (s.code == density_code) {
      return s.lowest;
    }
  }
  return std::nullopt;
}

}  // namespace tapestream::scsi
