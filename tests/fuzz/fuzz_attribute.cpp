#include <cstddef>
#include <cstdint>

#include "scsi/attribute.hpp"

using namespace tapestream::scsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto attributes = parse_attribute_values(ByteView{data, size});
  if (!attributes) {
    return 0;
  }
  for (const auto& a : attributes.value()) {
    (void)a.as_integer();
    (void)a.as_text();
    (void)attribute_name(a.id);
  }
  (void)find_attribute(attributes.value(), attribute_id::medium_serial_number);
  return 0;
}
