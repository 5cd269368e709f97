#include "emulated/cartridge.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "base/startup_error.hpp"
#include "emulated/image_file.hpp"
#include "emulated/medium_serial.hpp"

namespace tapestream::emulated {

Cartridge open_cartridge(const DriveSpec& spec) {
  auto image = open_image(spec);
  Cartridge c;
  c.image = spec.image;
  c.fd = std::move(image.fd);
  c.index = std::move(image.index);
  c.tail = std::move(image.tail);
  c.tail_on_disk = image.tail_on_disk;
  c.reserved = image.file_size;
  c.write_protected = image.write_protected;
  auto serial_spec = spec;
  serial_spec.write_protected = c.write_protected;
  c.medium_serial = medium_serial_of(c.fd.get(), serial_spec);
  c.early_warning = spec.early_warning_offset();
  if (c.write_protected) {
    return c;  // nothing is ever appended
  }
  c.append_fd = reopen_image(c.fd.get(), spec, O_RDWR | O_DIRECT);
  c.direct = static_cast<bool>(c.append_fd);
  if (!c.append_fd) {  // some file systems refuse O_DIRECT: appends go through the page cache
    c.append_fd = reopen_image(c.fd.get(), spec, O_RDWR);
  }
  if (!c.append_fd) {
    throw StartupError{"emulated drive: image " + spec.image.string() +
                       " cannot be opened for appending: " + std::strerror(errno)};
  }
  return c;
}

}  // namespace tapestream::emulated
