#include <cstddef>
#include <cstdint>

#include "scsi/position.hpp"

using namespace tapestream::scsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (auto limits = parse_block_limits(ByteView{data, size})) {
    (void)limits.value().fixed_only();
  }
  return 0;
}
