#include "emulated/library_model.hpp"

#include <algorithm>
#include <stdexcept>

#include "scsi/bytes.hpp"

namespace tapestream::emulated {
namespace {

using scsi::ElementType;

constexpr std::size_t report_header = 8;
constexpr std::size_t page_header = 8;
constexpr std::size_t descriptor_fixed = 12;
constexpr std::size_t volume_tag_size = 36;
constexpr std::size_t barcode_size = 32;
// An identification descriptor's header and the serial it carries (a drive serial number is at
// most this long in INQUIRY's unit serial number page as the emulated drive fills it).
constexpr std::size_t identification_header = 4;
constexpr std::size_t identifier_size = LibraryShape::max_drive_serial;

std::size_t descriptor_length(bool volume_tags, bool device_ids) {
  return descriptor_fixed + (volume_tags ? volume_tag_size : 0) +
         (device_ids ? identification_header + identifier_size : 0);
}

// The types in the order SMC-3 reports them when asked for all.
constexpr ElementType report_order[] = {ElementType::medium_transport, ElementType::storage,
                                        ElementType::import_export, ElementType::data_transfer};

std::size_t type_index(ElementType type) { return static_cast<std::size_t>(type) - 1; }

ChangerRefusal refusal(scsi::SenseKey key, std::uint8_t asc, std::uint8_t ascq, std::string why) {
  return {key, asc, ascq, std::move(why)};
}

}  // namespace

LibraryModel::LibraryModel(LibraryShape shape) : _shape{std::move(shape)} {
  if (_shape.slots == 0 || _shape.slots > LibraryShape::max_slots) {
    throw std::invalid_argument{"a library has 1 to " + std::to_string(LibraryShape::max_slots) +
                                " slots"};
  }
  if (_shape.mail_slots > LibraryShape::max_mail_slots) {
    throw std::invalid_argument{"a library has at most " +
                                std::to_string(LibraryShape::max_mail_slots) + " mail slots"};
  }
  if (_shape.drive_serials.empty() || _shape.drive_serials.size() > LibraryShape::max_drives) {
    throw std::invalid_argument{"a library has 1 to " + std::to_string(LibraryShape::max_drives) +
                                " drives"};
  }
  _elements.push_back({ElementType::medium_transport, LibraryShape::transport_address, {}, {}});
  for (std::uint16_t i = 0; i < _shape.slots; ++i) {
    _elements.push_back(
        {ElementType::storage, static_cast<std::uint16_t>(LibraryShape::first_slot + i), {}, {}});
  }
  for (std::uint16_t i = 0; i < _shape.mail_slots; ++i) {
    _elements.push_back({ElementType::import_export,
                         static_cast<std::uint16_t>(LibraryShape::first_mail_slot + i), {}, {}});
  }
  for (std::size_t i = 0; i < _shape.drive_serials.size(); ++i) {
    _elements.push_back({ElementType::data_transfer,
                         static_cast<std::uint16_t>(LibraryShape::first_drive + i), {}, {}});
  }
}

LibraryModel::Element* LibraryModel::element(std::uint16_t address) {
  const auto it = std::find_if(_elements.begin(), _elements.end(),
                               [address](const Element& e) { return e.address == address; });
  return it == _elements.end() ? nullptr : &*it;
}

const LibraryModel::Element* LibraryModel::element(std::uint16_t address) const {
  return const_cast<LibraryModel*>(this)->element(address);
}

std::optional<std::string> LibraryModel::barcode_at(std::uint16_t address) const {
  const auto* e = element(address);
  return e == nullptr ? std::nullopt : e->barcode;
}

std::vector<LibraryModel::Placement> LibraryModel::placements() const {
  std::vector<Placement> out;
  for (const auto& e : _elements) {
    if (e.barcode) {
      out.push_back({e.address, *e.barcode, e.source});
    }
  }
  return out;
}

bool LibraryModel::place(std::uint16_t address, std::string barcode,
                         std::optional<std::uint16_t> source) {
  auto* e = element(address);
  auto* from = source ? element(*source) : nullptr;
  if (e == nullptr || e->type == ElementType::medium_transport || e->barcode ||
      (source && (from == nullptr || from->type != ElementType::storage))) {
    return false;
  }
  e->barcode = std::move(barcode);
  e->source = source;
  return true;
}

std::optional<std::uint16_t> LibraryModel::free_slot() const {
  for (const auto& e : _elements) {
    if (e.type == ElementType::storage && !e.barcode) {
      return e.address;
    }
  }
  return std::nullopt;
}

std::optional<std::uint16_t> LibraryModel::find(const std::string& barcode) const {
  for (const auto& e : _elements) {
    if (e.barcode == barcode) {
      return e.address;
    }
  }
  return std::nullopt;
}

void LibraryModel::set_drive_holds_tape(std::size_t drive, bool threaded) {
  if (auto* e = element(static_cast<std::uint16_t>(LibraryShape::first_drive + drive));
      e != nullptr && e->type == ElementType::data_transfer) {
    e->threaded = threaded;
  }
}

std::optional<ChangerRefusal> LibraryModel::move(std::uint16_t transport, std::uint16_t source,
                                                 std::uint16_t destination) {
  using scsi::SenseKey;
  if (transport != 0 && transport != LibraryShape::transport_address) {
    return refusal(SenseKey::illegal_request, 0x21, 0x01,
                   "transport " + std::to_string(transport) + " is no medium transport element");
  }
  auto* from = element(source);
  auto* to = element(destination);
  if (from == nullptr || to == nullptr || from->type == ElementType::medium_transport ||
      to->type == ElementType::medium_transport) {
    return refusal(SenseKey::illegal_request, 0x21, 0x01,
                   "element " + std::to_string(from == nullptr ? source : destination) +
                       " does not exist");
  }
  if (!from->barcode) {
    return refusal(SenseKey::illegal_request, 0x3B, 0x0E,
                   "source element " + std::to_string(source) + " is empty");
  }
  if (source == destination) {
    return std::nullopt;  // SMC: a move to where the medium is succeeds and does nothing
  }
  if (to->barcode) {
    return refusal(SenseKey::illegal_request, 0x3B, 0x0D,
                   "destination element " + std::to_string(destination) + " is full");
  }
  if (from->threaded) {
    return refusal(SenseKey::illegal_request, 0x53, 0x02,
                   "the drive at element " + std::to_string(source) +
                       " has its tape loaded; unload it first");
  }
  to->barcode = std::move(from->barcode);
  from->barcode.reset();
  to->source = from->type == ElementType::storage ? std::optional{source} : from->source;
  from->source.reset();
  return std::nullopt;
}

std::vector<std::uint8_t> LibraryModel::descriptor(const Element& e, bool volume_tags,
                                                   bool device_ids) const {
  std::vector<std::uint8_t> d(descriptor_length(volume_tags, device_ids), 0);
  scsi::store_be(d, 0, e.address, 2);
  std::uint8_t flags = e.barcode ? 0x01 : 0x00;  // Full
  flags |= 0x08;                                  // Access: the robot reaches every element
  if (e.type == ElementType::import_export) {
    flags |= 0x30;  // ExEnab, InEnab
  }
  d[2] = flags;
  if (e.barcode && e.source) {
    d[9] = 0x80;  // SValid
    scsi::store_be(d, 10, *e.source, 2);
  }
  std::size_t at = descriptor_fixed;
  if (volume_tags) {
    std::fill_n(d.begin() + static_cast<std::ptrdiff_t>(at), barcode_size, std::uint8_t{' '});
    if (e.barcode) {
      const auto n = std::min(e.barcode->size(), barcode_size);
      std::copy_n(e.barcode->begin(), n, d.begin() + static_cast<std::ptrdiff_t>(at));
    }
    at += volume_tag_size;
  }
  if (device_ids && e.type == ElementType::data_transfer) {
    const auto& serial = _shape.drive_serials[e.address - LibraryShape::first_drive];
    const auto n = std::min(serial.size(), identifier_size);
    d[at] = 2;      // code set ASCII
    d[at + 1] = 0;  // vendor specific: the drive's serial number
    d[at + 3] = static_cast<std::uint8_t>(identifier_size);
    std::fill_n(d.begin() + static_cast<std::ptrdiff_t>(at + identification_header),
                identifier_size, std::uint8_t{' '});
    std::copy_n(serial.begin(), n,
                d.begin() + static_cast<std::ptrdiff_t>(at + identification_header));
  }
  return d;
}

std::vector<std::uint8_t> LibraryModel::element_status(ElementType type, std::uint16_t first,
                                                       std::uint16_t count, bool volume_tags,
                                                       bool device_ids,
                                                       std::uint32_t allocation) const {
  std::vector<std::uint8_t> report(report_header, 0);
  std::uint16_t reported = 0;
  std::optional<std::uint16_t> first_reported;
  for (const auto page_type : report_order) {
    if (type != ElementType::all && type != page_type) {
      continue;
    }
    // Volume tags are reported for every type that holds media; a device identifier only for
    // drives (other elements' descriptors keep the same length, as SMC asks).
    const bool tags = volume_tags && page_type != ElementType::medium_transport;
    const bool ids = device_ids && page_type == ElementType::data_transfer;
    std::vector<std::uint8_t> page(page_header, 0);
    for (const auto& e : _elements) {
      if (e.type != page_type || e.address < first || reported == count) {
        continue;
      }
      const auto d = descriptor(e, tags, ids);
      page.insert(page.end(), d.begin(), d.end());
      first_reported = first_reported.value_or(e.address);
      ++reported;
    }
    if (page.size() == page_header) {
      continue;
    }
    page[0] = static_cast<std::uint8_t>(page_type);
    page[1] = tags ? 0x80 : 0x00;  // PVolTag
    scsi::store_be(page, 2, descriptor_length(tags, ids), 2);
    scsi::store_be(page, 5, page.size() - page_header, 3);
    report.insert(report.end(), page.begin(), page.end());
  }
  scsi::store_be(report, 0, first_reported.value_or(first), 2);
  scsi::store_be(report, 2, reported, 2);
  scsi::store_be(report, 5, report.size() - report_header, 3);
  if (report.size() > allocation) {
    report.resize(allocation);
  }
  return report;
}

std::vector<std::uint8_t> LibraryModel::address_assignment_page() const {
  std::vector<std::uint8_t> p(20, 0);
  p[0] = scsi::ElementAddressAssignment::code;
  p[1] = static_cast<std::uint8_t>(p.size() - 2);
  scsi::store_be(p, 2, LibraryShape::transport_address, 2);
  scsi::store_be(p, 4, 1, 2);
  scsi::store_be(p, 6, LibraryShape::first_slot, 2);
  scsi::store_be(p, 8, _shape.slots, 2);
  scsi::store_be(p, 10, LibraryShape::first_mail_slot, 2);
  scsi::store_be(p, 12, _shape.mail_slots, 2);
  scsi::store_be(p, 14, LibraryShape::first_drive, 2);
  scsi::store_be(p, 16, _shape.drive_serials.size(), 2);
  return p;
}

// Storage, mail slots and drives hold media, and the robot moves between any two of them; it
// does not exchange (EXCHANGE MEDIUM is not emulated).
std::vector<std::uint8_t> LibraryModel::capabilities_page() const {
  std::vector<std::uint8_t> p(20, 0);
  p[0] = scsi::DeviceCapabilities::code;
  p[1] = static_cast<std::uint8_t>(p.size() - 2);
  constexpr std::uint8_t holders = 0x0E;  // ST, I/E, DT
  p[2] = holders;
  for (const auto type : report_order) {
    if (type != ElementType::medium_transport) {
      p[4 + type_index(type)] = holders;
    }
  }
  return p;
}

}  // namespace tapestream::emulated
