// Text fields from a drive (vendor, serial, names) as safe, trimmed ASCII: they end up in
// logs, JSON and terminals, so nothing but printable characters passes.
#pragma once

#include <string>

#include "scsi/bytes.hpp"

namespace tapestream::scsi {

// Non-printable bytes become '.'; leading and trailing spaces and NULs are dropped.
std::string printable_ascii(ByteView field);

}  // namespace tapestream::scsi
