#include "transport/changer_discovery.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <system_error>

namespace tapestream::transport {
namespace {

namespace fs = std::filesystem;

// sysfs files are small, but this tree is untrusted input too (a test's, or a broken driver's):
// nothing longer than a page is read.
constexpr std::size_t max_sysfs_file = 4096;

std::string read_file(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  std::string text(max_sysfs_file, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  return text;
}

std::string read_trimmed(const fs::path& file) {
  auto text = read_file(file);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\0')) {
    text.pop_back();
  }
  return text;
}

// vpd_pg80 holds the page as the device sent it: a 4-byte header, then the serial number.
std::string serial_from_vpd(const fs::path& file) {
  const auto page = read_file(file);
  if (page.size() < 4) {
    return {};
  }
  const std::size_t length =
      std::min<std::size_t>(static_cast<std::uint8_t>(page[3]), page.size() - 4);
  std::string serial;
  for (char c : page.substr(4, length)) {
    if (c > ' ' && c < 0x7F) {
      serial += c;
    }
  }
  return serial;
}

// The entries of `dir`, sorted, so that the first of several is always the same one.
std::vector<std::string> sorted_entries(const fs::path& dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator{dir, ec}) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool all_digits(const std::string& s, std::size_t from) {
  return s.size() > from &&
         std::all_of(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// The serial number an element's identifier carries, or nothing. A T10 vendor identification
// is 8 bytes of vendor, 16 of product, then the serial (SPC-4 7.8.6.5); changers send it as
// ASCII with the fields padded by spaces.
struct CarriedSerial {
  std::string vendor;  // empty: the identifier does not say
  std::string serial;
};

std::optional<CarriedSerial> carried_serial(const scsi::DeviceIdentifier& id) {
  if (id.code_set != 2 && id.code_set != 3) {
    return std::nullopt;  // a binary identifier (an NAA name) is no serial number
  }
  const std::string raw(id.identifier.begin(), id.identifier.end());
  const auto trim = [](std::string s) {
    const auto first = s.find_first_not_of(" \0", 0, 2);
    const auto last = s.find_last_not_of(" \0", std::string::npos, 2);
    return first == std::string::npos ? std::string{} : s.substr(first, last - first + 1);
  };
  if (id.identifier_type == 1) {
    if (raw.size() <= 24) {
      return std::nullopt;
    }
    return CarriedSerial{trim(raw.substr(0, 8)), trim(raw.substr(24))};
  }
  if (id.identifier_type == 0) {
    return CarriedSerial{{}, trim(raw)};
  }
  return std::nullopt;
}

}  // namespace

std::vector<ChangerDevice> discover_changers(const fs::path& sysfs) {
  std::vector<ChangerDevice> changers;
  for (const auto& name : sorted_entries(sysfs / "bus/scsi/devices")) {
    const auto dir = sysfs / "bus/scsi/devices" / name;
    if (read_trimmed(dir / "type") != "8") {
      continue;
    }
    ChangerDevice changer;
    changer.address = name;
    changer.vendor = read_trimmed(dir / "vendor");
    changer.model = read_trimmed(dir / "model");
    changer.serial = serial_from_vpd(dir / "vpd_pg80");
    for (const auto& ch : sorted_entries(dir / "scsi_changer")) {
      if (ch.rfind("ch", 0) == 0 && all_digits(ch, 2)) {
        changer.ch_node = "/dev/s" + ch;  // the ch driver's node is /dev/schN
        break;
      }
    }
    for (const auto& sg : sorted_entries(dir / "scsi_generic")) {
      if (sg.rfind("sg", 0) == 0 && all_digits(sg, 2)) {
        changer.sg_node = "/dev/" + sg;
        break;
      }
    }
    std::error_code ec;
    if (fs::exists(sysfs / "class/bsg" / name, ec)) {
      changer.bsg_node = "/dev/bsg/" + name;
    }
    changers.push_back(std::move(changer));
  }
  return changers;
}

std::optional<ChangerDevice> find_changer(const std::vector<ChangerDevice>& changers,
                                          const std::string& name) {
  if (name.empty()) {
    return std::nullopt;
  }
  for (const auto& changer : changers) {
    // Nodes a driver did not create are empty, and an empty name was refused above.
    for (const auto* known : {&changer.address, &changer.ch_node, &changer.bsg_node,
                              &changer.sg_node, &changer.serial}) {
      if (name == *known) {
        return changer;
      }
    }
  }
  return std::nullopt;
}

std::vector<std::optional<std::size_t>> match_drives(const std::vector<DriveElement>& elements,
                                                     const std::vector<TapeDevice>& tapes) {
  const auto drives_with = [&](const CarriedSerial& carried) {
    std::vector<std::size_t> found;
    for (std::size_t i = 0; i < tapes.size(); ++i) {
      if (!tapes[i].serial.empty() && tapes[i].serial == carried.serial &&
          (carried.vendor.empty() || carried.vendor == tapes[i].vendor)) {
        found.push_back(i);
      }
    }
    return found;
  };
  std::vector<std::optional<CarriedSerial>> serials;
  for (const auto& e : elements) {
    serials.push_back(e.device ? carried_serial(*e.device) : std::nullopt);
  }
  std::vector<std::optional<std::size_t>> matched(elements.size());
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (!serials[i] || serials[i]->serial.empty()) {
      continue;
    }
    const auto same = std::count_if(serials.begin(), serials.end(), [&](const auto& s) {
      return s && s->serial == serials[i]->serial;
    });
    const auto drives = drives_with(*serials[i]);
    if (same == 1 && drives.size() == 1) {
      matched[i] = drives.front();
    }
  }
  return matched;
}

Result<OpenedTransport, Failure> open_changer_transport(uring::Ring& ring,
                                                        const ChangerDevice& changer,
                                                        TransportChoice choice) {
  TapeDevice nodes;
  nodes.address = changer.address;
  nodes.bsg_node = changer.bsg_node;
  nodes.sg_node = changer.sg_node;
  return open_tape_transport(ring, nodes, choice);
}

}  // namespace tapestream::transport
