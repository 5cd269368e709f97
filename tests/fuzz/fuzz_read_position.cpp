#include <cstddef>
#include <cstdint>

#include "scsi/position.hpp"

using namespace tapestream::scsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView bytes{data, size};
  for (auto form : {cdb::ReadPositionForm::short_block_id, cdb::ReadPositionForm::long_form,
                    cdb::ReadPositionForm::extended}) {
    (void)parse_read_position(form, bytes);
  }
  return 0;
}
