// The emulated cartridge's medium serial number (MAM attribute 0401h). A real cartridge carries
// its serial in the memory chip of the cassette, so it travels with the cartridge and a new
// cartridge has a new one; the catalog tells volumes apart by it. The emulated cartridge is its
// image file, so the serial is kept with the file, in the extended attribute
// user.tapestream.medium_serial, made when the image is first opened. A copy that drops the
// attribute (cp without --preserve=xattr) is a new cartridge, as a duplicated tape is.
#pragma once

#include <string>
#include <string_view>

#include "emulated/drive_spec.hpp"

namespace tapestream::emulated {

inline constexpr const char* medium_serial_attribute = "user.tapestream.medium_serial";

// The serial of the image open on `fd`: the spec's medium_serial= when given; otherwise the
// image's attribute, made (random) when absent and the image is writable; where the file system
// keeps no user attributes, or the image is write protected and has none, one derived from
// the file's device and inode numbers ("EMUI" and hex), stable while the file stays in place.
std::string medium_serial_of(int fd, const DriveSpec& spec);
// Whether `text` may be a medium serial: 1 to 32 printable ASCII characters, no spaces.
bool is_medium_serial_text(std::string_view text);

}  // namespace tapestream::emulated
