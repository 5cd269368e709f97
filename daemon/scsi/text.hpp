// Text fields from a drive (vendor, serial, names) as safe, trimmed ASCII: they end up in
// logs, JSON and terminals, so nothing but printable characters passes.
#pragma once

#include <string>

#include "scsi/bytes.hpp"

namespace tapestream::scsi {

// Non-printable bytes become '.'; leading and trailing spaces and NULs are dropped.
std::string printable_ascii(ByteView field);

// A binary identifier as lowercase hex, two digits per byte: one spelling, so that a changer's
// device identifier and the drive's own designator compare equal as text.
std::string hex_text(ByteView bytes);

}  // namespace tapestream::scsi
