// Human-readable reports of sense data and of what the drive layer makes of a completion.
#pragma once

#include <string>

#include "scsi/condition.hpp"
#include "scsi/sense.hpp"

namespace tapestream::tools {

std::string describe_sense(const scsi::Sense& sense);

// One line: the condition, whether it is expected for this command, retryable, the residue.
std::string describe_classification(scsi::Opcode opcode, const scsi::Classification& c);

}  // namespace tapestream::tools
