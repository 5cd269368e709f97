#include <cstddef>
#include <cstdint>

#include "scsi/density.hpp"

using namespace tapestream::scsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView bytes{data, size};
  (void)parse_density_support(bytes);
  (void)parse_medium_type_support(bytes);
  return 0;
}
