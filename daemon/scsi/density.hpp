// REPORT DENSITY SUPPORT responses: density descriptors (MEDIUM TYPE=0) and medium type
// descriptors (MEDIUM TYPE=1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::scsi {

struct DensityDescriptor {
  std::uint8_t primary_density_code = 0;
  std::uint8_t secondary_density_code = 0;
  bool writable = false;         // WRTOK
  bool duplicate = false;        // DUP
  bool default_density = false;  // DEFLT
  std::uint32_t bits_per_mm = 0;
  std::uint16_t media_width = 0;  // tenths of a millimetre
  std::uint16_t tracks = 0;
  std::uint32_t capacity_mb = 0;  // 10^6 bytes
  std::string assigning_organization;
  std::string density_name;
  std::string description;
};

struct MediumTypeDescriptor {
  std::uint8_t medium_type = 0;
  std::vector<std::uint8_t> primary_density_codes;
  std::uint16_t media_width = 0;    // tenths of a millimetre
  std::uint16_t medium_length = 0;  // metres
  std::string assigning_organization;
  std::string medium_type_name;
  std::string description;
};

Result<std::vector<DensityDescriptor>> parse_density_support(ByteView data);
Result<std::vector<MediumTypeDescriptor>> parse_medium_type_support(ByteView data);

}  // namespace tapestream::scsi

namespace tapestream::scsi {

// The name of a density code as MODE SENSE reports it (LTO generations, the codes the SSC
// standard and the drive makers assign); "vendor specific" for 80h and above, empty when the
// code is not one this table knows.
std::string density_code_name(std::uint8_t code);

// The lowest speed, in bytes per second, at which a drive streams a medium of this density
// code without stopping (speed matching); empty for a density whose speeds are not known here.
std::optional<std::uint64_t> lowest_streaming_speed(std::uint8_t density_code);

}  // namespace tapestream::scsi
