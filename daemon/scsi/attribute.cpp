#include "scsi/attribute.hpp"

#include <algorithm>
#include <array>

#include "scsi/parse_error.hpp"
#include "scsi/text.hpp"

namespace tapestream::scsi {
namespace {

struct AttributeName {
  std::uint16_t id;
  std::string_view name;
};

constexpr std::array attribute_names{
    AttributeName{0x0000, "Remaining capacity in partition (MiB)"},
    AttributeName{0x0001, "Maximum capacity in partition (MiB)"},
    AttributeName{0x0002, "TapeAlert flags"},
    AttributeName{0x0003, "Load count"},
    AttributeName{0x0004, "MAM space remaining"},
    AttributeName{0x0005, "Assigning organization"},
    AttributeName{0x0006, "Format density code"},
    AttributeName{0x0007, "Initialization count"},
    AttributeName{0x0008, "Volume identifier"},
    AttributeName{0x0009, "Volume change reference"},
    AttributeName{0x020A, "Device vendor/serial number at last load"},
    AttributeName{0x020B, "Device vendor/serial number at load-1"},
    AttributeName{0x020C, "Device vendor/serial number at load-2"},
    AttributeName{0x020D, "Device vendor/serial number at load-3"},
    AttributeName{0x0220, "Total MiB written in medium life"},
    AttributeName{0x0221, "Total MiB read in medium life"},
    AttributeName{0x0222, "Total MiB written in current/last load"},
    AttributeName{0x0223, "Total MiB read in current/last load"},
    AttributeName{0x0224, "Logical position of first encrypted block"},
    AttributeName{0x0225, "Logical position of first unencrypted block after first encrypted block"},
    AttributeName{0x0340, "Medium usage history"},
    AttributeName{0x0341, "Partition usage history"},
    AttributeName{0x0400, "Medium manufacturer"},
    AttributeName{0x0401, "Medium serial number"},
    AttributeName{0x0402, "Medium length (m)"},
    AttributeName{0x0403, "Medium width (0.1 mm)"},
    AttributeName{0x0404, "Assigning organization"},
    AttributeName{0x0405, "Medium density code"},
    AttributeName{0x0406, "Medium manufacture date"},
    AttributeName{0x0407, "MAM capacity"},
    AttributeName{0x0408, "Medium type"},
    AttributeName{0x0409, "Medium type information"},
    AttributeName{0x040A, "Numeric medium serial number"},
    AttributeName{0x0800, "Application vendor"},
    AttributeName{0x0801, "Application name"},
    AttributeName{0x0802, "Application version"},
    AttributeName{0x0803, "User medium text label"},
    AttributeName{0x0804, "Date and time last written"},
    AttributeName{0x0805, "Text localization identifier"},
    AttributeName{0x0806, "Barcode"},
    AttributeName{0x0807, "Owning host textual name"},
    AttributeName{0x0808, "Media pool"},
    AttributeName{0x080B, "Application format version"},
    AttributeName{0x080C, "Volume coherency information"},
};

}  // namespace

std::optional<std::uint64_t> Attribute::as_integer() const {
  if (format != Format::binary || value.size() > 8) {
    return std::nullopt;
  }
  return load_be(value, 0, value.size());
}

std::string Attribute::as_text() const { return printable_ascii(value); }

Result<std::vector<Attribute>> parse_attribute_values(ByteView data) {
  if (data.size() < 4) {
    return ParseError::truncated;
  }
  const std::size_t end = std::min<std::size_t>(data.size(), 4 + std::size_t{load_be32(data, 0)});
  std::vector<Attribute> out;
  std::size_t at = 4;
  while (at + 5 <= end) {
    const std::size_t length = load_be16(data, at + 3);
    if (at + 5 + length > end) {
      break;  // cut off by the allocation length
    }
    Attribute a;
    a.id = load_be16(data, at);
    a.read_only = (data[at + 2] & 0x80) != 0;
    a.format = static_cast<Attribute::Format>(data[at + 2] & 0x03);
    const auto first = data.begin() + static_cast<std::ptrdiff_t>(at + 5);
    a.value.assign(first, first + static_cast<std::ptrdiff_t>(length));
    out.push_back(std::move(a));
    at += 5 + length;
  }
  return out;
}

const Attribute* find_attribute(const std::vector<Attribute>& attributes, std::uint16_t id) {
  const auto it = std::find_if(attributes.begin(), attributes.end(),
                               [id](const Attribute& a) { return a.id == id; });
  return it == attributes.end() ? nullptr : &*it;
}

std::string_view attribute_name(std::uint16_t id) {
  for (const auto& n : attribute_names) {
    if (n.id == id) {
      return n.name;
    }
  }
  return {};
}

}  // namespace tapestream::scsi
