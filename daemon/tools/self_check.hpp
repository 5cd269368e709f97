// `tapestreamd --self-check`: builds every command the daemon sends and classifies a set of
// reference sense samples, printing both, so an installed binary can show that its SCSI layer
// works before it is pointed at a drive.
#pragma once

#include <iosfwd>

namespace tapestream::tools {

// Returns false if any sample is not classified as the standard says.
bool run_self_check(std::ostream& out);

// Sets up what serving needs on this machine (an io_uring with the features the daemon uses,
// locked and registered buffers) and runs the emulated drive through it: writes blocks and a
// filemark to a scratch image, reads them back and compares. Returns false on any failure,
// after saying what failed.
bool run_drive_check(std::ostream& out);

}  // namespace tapestream::tools
