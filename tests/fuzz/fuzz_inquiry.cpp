#include <cstddef>
#include <cstdint>

#include "scsi/inquiry.hpp"

using namespace tapestream::scsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView bytes{data, size};
  if (auto i = parse_standard_inquiry(bytes)) {
    (void)i.value().is_tape();
  }
  (void)parse_supported_vpd_pages(bytes);
  (void)parse_unit_serial_number(bytes);
  if (auto ids = parse_device_identification(bytes)) {
    for (const auto& d : ids.value()) {
      (void)d.to_string();
    }
  }
  return 0;
}
