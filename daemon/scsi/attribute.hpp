// READ ATTRIBUTE responses: medium auxiliary memory (MAM) attributes such as the cartridge's
// medium serial number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::scsi {

namespace attribute_id {
inline constexpr std::uint16_t remaining_capacity = 0x0000;  // MiB in the partition
inline constexpr std::uint16_t maximum_capacity = 0x0001;
inline constexpr std::uint16_t load_count = 0x0003;
inline constexpr std::uint16_t medium_manufacturer = 0x0400;
inline constexpr std::uint16_t medium_serial_number = 0x0401;
inline constexpr std::uint16_t medium_density_code = 0x0405;
inline constexpr std::uint16_t medium_manufacture_date = 0x0406;
inline constexpr std::uint16_t medium_type = 0x0408;
inline constexpr std::uint16_t barcode = 0x0806;
}  // namespace attribute_id

struct Attribute {
  enum class Format : std::uint8_t { binary = 0, ascii = 1, text = 2, reserved = 3 };
  std::uint16_t id = 0;
  bool read_only = false;
  Format format = Format::binary;
  std::vector<std::uint8_t> value;

  std::optional<std::uint64_t> as_integer() const;  // binary values of up to 8 bytes
  // Printable ASCII without the padding MAM text carries (spaces, or NULs on some drives).
  std::string as_text() const;
};

// ATTRIBUTE VALUES service action.
Result<std::vector<Attribute>> parse_attribute_values(ByteView data);

const Attribute* find_attribute(const std::vector<Attribute>& attributes, std::uint16_t id);

std::string_view attribute_name(std::uint16_t id);

}  // namespace tapestream::scsi
