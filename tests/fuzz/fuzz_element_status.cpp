// A changer's READ ELEMENT STATUS data and its two mode pages, as untrusted bytes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "scsi/smc.hpp"

using namespace tapestream::scsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView bytes{data, size};
  if (auto report = parse_element_status(bytes)) {
    std::size_t described = 0;
    for (const auto& e : report.value().elements) {
      (void)element_type_name(e.type);
      if (e.device) {
        described += e.device->text().size();
      }
      if (e.primary_tag) {
        described += e.primary_tag->identifier.size();
      }
    }
    if (described > size * 2) {
      __builtin_trap();  // text never grows beyond what arrived (hex doubles binary identifiers)
    }
  }
  for (const std::uint8_t code : {ElementAddressAssignment::code, DeviceCapabilities::code}) {
    const ModePage page{code, std::nullopt, false, std::vector<std::uint8_t>(data, data + size)};
    if (auto a = ElementAddressAssignment::from(page)) {
      (void)a.value().type_of(size > 1 ? static_cast<std::uint16_t>(data[0] << 8 | data[1]) : 0);
    }
    if (auto c = DeviceCapabilities::from(page)) {
      (void)c.value().can_move(ElementType::storage, ElementType::data_transfer);
    }
  }
  return 0;
}
