// REPORT SUPPORTED OPERATION CODES, and adopting whatever timeouts it claims.
#include <cstddef>
#include <cstdint>

#include "scsi/cdb.hpp"
#include "scsi/timeouts.hpp"

using namespace tapestream::scsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto commands = parse_supported_operation_codes(ByteView{data, size});
  if (!commands) {
    return 0;
  }
  auto table = TimeoutTable::lto_defaults();
  (void)table.adopt_drive_timeouts(commands.value());
  (void)table.timeout_for(cdb::read_position(cdb::ReadPositionForm::long_form));
  (void)table.timeout_for(cdb::rewind(false));
  return 0;
}
