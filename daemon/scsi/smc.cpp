#include "scsi/smc.hpp"

#include <algorithm>

#include "scsi/parse_error.hpp"
#include "scsi/text.hpp"

namespace tapestream::scsi {
namespace {

constexpr std::size_t report_header = 8;
constexpr std::size_t page_header = 8;
constexpr std::size_t descriptor_fixed = 12;  // address .. source storage element address
constexpr std::size_t volume_tag_size = 36;
constexpr std::size_t identification_header = 4;

bool valid_type(std::uint8_t code) { return code >= 1 && code <= 4; }

VolumeTag volume_tag(ByteView field) {
  return {printable_ascii(field.first(32)), load_be16(field, 34)};
}

ElementStatus descriptor(ElementType type, ByteView d, bool primary, bool alternate) {
  ElementStatus e;
  e.type = type;
  e.address = load_be16(d, 0);
  const auto flags = d[2];
  e.full = (flags & 0x01) != 0;
  e.exception = (flags & 0x04) != 0;
  e.accessible = (flags & 0x08) != 0;
  if (type == ElementType::import_export) {
    e.placed_by_operator = (flags & 0x02) != 0;
    e.export_enabled = (flags & 0x10) != 0;
    e.import_enabled = (flags & 0x20) != 0;
  }
  e.asc = d[4];
  e.ascq = d[5];
  if (type == ElementType::data_transfer) {
    if ((d[6] & 0x10) != 0) {
      e.lun = static_cast<std::uint8_t>(d[6] & 0x07);
    }
    if ((d[6] & 0x20) != 0 && (d[6] & 0x80) == 0) {  // IDValid and not NotBus
      e.bus_address = d[7];
    }
  }
  if ((d[9] & 0x80) != 0) {
    e.source = load_be16(d, 10);
  }
  e.inverted = (d[9] & 0x40) != 0;
  std::size_t at = descriptor_fixed;
  if (primary && d.size() >= at + volume_tag_size) {
    e.primary_tag = volume_tag(d.subspan(at, volume_tag_size));
  }
  at += primary ? volume_tag_size : 0;
  if (alternate && d.size() >= at + volume_tag_size) {
    e.alternate_tag = volume_tag(d.subspan(at, volume_tag_size));
  }
  at += alternate ? volume_tag_size : 0;
  // The identification descriptor, when the changer added one (DvcID) and it fits the
  // descriptor; anything beyond it is vendor specific.
  if (d.size() >= at + identification_header) {
    const auto length = d[at + 3];
    if (length > 0 && d.size() >= at + identification_header + length) {
      DeviceIdentifier id;
      id.code_set = static_cast<std::uint8_t>(d[at] & 0x0F);
      id.identifier_type = static_cast<std::uint8_t>(d[at + 1] & 0x0F);
      const auto bytes = d.subspan(at + identification_header, length);
      id.identifier.assign(bytes.begin(), bytes.end());
      e.device = std::move(id);
    }
  }
  return e;
}

}  // namespace

std::string_view element_type_name(ElementType type) {
  switch (type) {
    case ElementType::all:
      return "all";
    case ElementType::medium_transport:
      return "medium transport";
    case ElementType::storage:
      return "storage";
    case ElementType::import_export:
      return "import/export";
    case ElementType::data_transfer:
      return "data transfer";
  }
  return "unknown";
}

std::string DeviceIdentifier::text() const {
  if (code_set == 2 || code_set == 3) {
    // Trimmed at both ends: a T10 vendor identification pads its fields inside.
    return printable_ascii(identifier);
  }
  return hex_text(identifier);
}

Result<ElementStatusReport> parse_element_status(ByteView data) {
  if (data.size() < report_header) {
    return ParseError::truncated;
  }
  ElementStatusReport report;
  report.first_address = load_be16(data, 0);
  report.elements_available = load_be16(data, 2);
  report.bytes_available = load_be24(data, 5);
  // What the changer says it has, and what arrived, bound the pages: a changer that claims
  // more than it sent was cut by the allocation length.
  const auto claimed = std::min<std::size_t>(report.bytes_available, data.size() - report_header);
  report.truncated = report.bytes_available > data.size() - report_header;
  auto pages = data.subspan(report_header, claimed);
  while (!pages.empty()) {
    if (pages.size() < page_header) {
      report.truncated = true;
      break;
    }
    const auto type_code = static_cast<std::uint8_t>(pages[0] & 0x0F);
    if (!valid_type(type_code)) {
      return ParseError::unsupported_format;
    }
    const auto type = static_cast<ElementType>(type_code);
    const bool primary = (pages[1] & 0x80) != 0;
    const bool alternate = (pages[1] & 0x40) != 0;
    const std::size_t length = load_be16(pages, 2);
    const std::size_t page_bytes = load_be24(pages, 5);
    const std::size_t needed = descriptor_fixed + (primary ? volume_tag_size : 0) +
                               (alternate ? volume_tag_size : 0);
    if (length < needed) {
      return ParseError::bad_length;  // also stops a zero length from looping forever
    }
    auto descriptors = pages.subspan(page_header, std::min(page_bytes, pages.size() - page_header));
    if (page_bytes > pages.size() - page_header) {
      report.truncated = true;
    }
    while (descriptors.size() >= length) {
      report.elements.push_back(descriptor(type, descriptors.first(length), primary, alternate));
      descriptors = descriptors.subspan(length);
    }
    if (!descriptors.empty()) {
      report.truncated = true;  // a descriptor cut in the middle is left out, never guessed
    }
    pages = pages.subspan(std::min(pages.size(), page_header + page_bytes));
  }
  return report;
}

Result<ElementAddressAssignment> ElementAddressAssignment::from(const ModePage& page) {
  if (page.code != code) {
    return ParseError::wrong_page;
  }
  if (page.bytes.size() < 18) {
    return ParseError::truncated;
  }
  const ByteView b{page.bytes};
  ElementAddressAssignment a;
  a.transport = {load_be16(b, 2), load_be16(b, 4)};
  a.storage = {load_be16(b, 6), load_be16(b, 8)};
  a.import_export = {load_be16(b, 10), load_be16(b, 12)};
  a.data_transfer = {load_be16(b, 14), load_be16(b, 16)};
  return a;
}

std::optional<ElementType> ElementAddressAssignment::type_of(std::uint16_t address) const {
  if (transport.contains(address)) {
    return ElementType::medium_transport;
  }
  if (storage.contains(address)) {
    return ElementType::storage;
  }
  if (import_export.contains(address)) {
    return ElementType::import_export;
  }
  if (data_transfer.contains(address)) {
    return ElementType::data_transfer;
  }
  return std::nullopt;
}

Result<DeviceCapabilities> DeviceCapabilities::from(const ModePage& page) {
  if (page.code != code) {
    return ParseError::wrong_page;
  }
  if (page.bytes.size() < 16) {
    return ParseError::truncated;
  }
  const ByteView b{page.bytes};
  DeviceCapabilities c;
  // Bits 0..3 of each byte are MT, ST, I/E, DT: the same order as ElementType - 1.
  for (std::size_t type = 0; type < 4; ++type) {
    c.stores[type] = (unsigned{b[2]} >> type & 1U) != 0;
    for (std::size_t to = 0; to < 4; ++to) {
      c.moves[type][to] = (unsigned{b[4 + type]} >> to & 1U) != 0;
      c.exchanges[type][to] = (unsigned{b[12 + type]} >> to & 1U) != 0;
    }
  }
  return c;
}

bool DeviceCapabilities::can_move(ElementType from, ElementType to) const {
  if (!valid_type(static_cast<std::uint8_t>(from)) || !valid_type(static_cast<std::uint8_t>(to))) {
    return false;
  }
  return moves[static_cast<std::size_t>(from) - 1][static_cast<std::size_t>(to) - 1];
}

std::string_view changer_condition_name(ChangerCondition condition) {
  switch (condition) {
    case ChangerCondition::good:
      return "good";
    case ChangerCondition::source_empty:
      return "source element empty";
    case ChangerCondition::destination_full:
      return "destination element full";
    case ChangerCondition::invalid_element:
      return "invalid element address";
    case ChangerCondition::removal_prevented:
      return "medium removal prevented";
    case ChangerCondition::magazine_removed:
      return "magazine removed or not accessible";
    case ChangerCondition::door_open:
      return "door open or operator intervention";
    case ChangerCondition::inventory_changed:
      return "inventory changed by an operator";
    case ChangerCondition::not_ready:
      return "not ready";
    case ChangerCondition::reset:
      return "reset";
    case ChangerCondition::move_failed:
      return "move failed";
    case ChangerCondition::illegal_request:
      return "illegal request";
    case ChangerCondition::other:
      return "other";
  }
  return "other";
}

ChangerCondition classify_changer_sense(const Sense& s) {
  const auto code = s.asc_ascq();
  switch (s.key) {
    case SenseKey::no_sense:
    case SenseKey::recovered_error:
      return ChangerCondition::good;
    case SenseKey::not_ready:
      if (code == 0x0403 || (s.asc == 0x04 && s.ascq >= 0x80)) {
        // 04/03 manual intervention required; vendors put "door open" at 04/8x.
        return ChangerCondition::door_open;
      }
      if (code == 0x3B11 || code == 0x3B12) {
        return ChangerCondition::magazine_removed;
      }
      return ChangerCondition::not_ready;
    case SenseKey::unit_attention:
      if (s.asc == 0x29) {
        return ChangerCondition::reset;
      }
      if (code == 0x2801 || code == 0x3B13 || code == 0x3B12 || code == 0x2800) {
        return ChangerCondition::inventory_changed;
      }
      return ChangerCondition::other;
    case SenseKey::illegal_request:
      switch (code) {
        case 0x3B0E:
          return ChangerCondition::source_empty;
        case 0x3B0D:
          return ChangerCondition::destination_full;
        case 0x2101:
          return ChangerCondition::invalid_element;
        case 0x5302:
          return ChangerCondition::removal_prevented;
        case 0x3B11:
        case 0x3B12:
          return ChangerCondition::magazine_removed;
        default:
          return ChangerCondition::illegal_request;
      }
    case SenseKey::hardware_error:
      return ChangerCondition::move_failed;
    case SenseKey::medium_error:
      return code == 0x5300 ? ChangerCondition::move_failed : ChangerCondition::other;
    default:
      return ChangerCondition::other;
  }
}

}  // namespace tapestream::scsi
