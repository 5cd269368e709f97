// Sense normalisation and classification of whatever sense a drive sends, for the commands
// whose classification depends on the residue.
#include <cstddef>
#include <cstdint>

#include "scsi/asc_table.hpp"
#include "scsi/cdb.hpp"
#include "scsi/condition.hpp"

using namespace tapestream::scsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView bytes{data, size};
  if (auto sense = normalise_sense(bytes)) {
    (void)describe_asc(sense.value().asc, sense.value().ascq);
    if (sense.value().key_specific) {
      (void)sense.value().key_specific->field_pointer();
    }
  }
  const Command commands[] = {
      cdb::read6_variable(Count24::from(262144).value(), true),
      cdb::read6_fixed(Count24::from(16).value(), 512),
      cdb::write6_variable(Count24::from(1).value()),
      cdb::space6(cdb::SpaceCode::filemarks, SignedCount24::from(-3).value()),
      cdb::test_unit_ready(),
  };
  for (const auto& command : commands) {
    CompletionStatus status;
    status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::check_condition);
    status.sense = bytes;
    const auto c = classify(command, status);
    (void)is_expected(command.opcode(), c.condition);
    (void)condition_name(c.condition);
  }
  return 0;
}
