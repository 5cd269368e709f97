#include "emulated/medium_serial.hpp"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "base/startup_error.hpp"

namespace tapestream::emulated {
namespace {

constexpr std::size_t max_serial = 32;  // MAM 0401h is 32 bytes of ASCII

bool is_serial(std::string_view text) {
  if (text.empty() || text.size() > max_serial) {
    return false;
  }
  for (const char c : text) {
    if (c < 0x21 || c > 0x7E) {
      return false;
    }
  }
  return true;
}

std::string random_serial() {
  std::array<std::uint8_t, 6> random{};
  if (getrandom(random.data(), random.size(), 0) != static_cast<ssize_t>(random.size())) {
    throw StartupError{std::string{"emulated drive: no random bytes for a medium serial: "} +
                       std::strerror(errno)};
  }
  std::string serial = "EMU";
  for (const auto byte : random) {
    std::array<char, 3> hex{};
    std::snprintf(hex.data(), hex.size(), "%02X", byte);
    serial += hex.data();
  }
  return serial;
}

std::string serial_from_inode(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    throw StartupError{std::string{"emulated drive: fstat of the image: "} + std::strerror(errno)};
  }
  std::array<char, max_serial + 1> text{};
  std::snprintf(text.data(), text.size(), "EMUI%X-%llX", static_cast<unsigned>(st.st_dev),
                static_cast<unsigned long long>(st.st_ino));
  return text.data();
}

}  // namespace

std::string medium_serial_of(int fd, const DriveSpec& spec) {
  if (!spec.medium_serial.empty()) {
    return spec.medium_serial;
  }
  std::array<char, max_serial + 1> stored{};
  const auto length = fgetxattr(fd, medium_serial_attribute, stored.data(), max_serial);
  // ERANGE: an attribute longer than any serial, which must be refused as a bad one is, never
  // passed over for the derived serial (the cartridge would change its serial unseen).
  if (length >= 0 || errno == ERANGE) {
    const std::string_view text{stored.data(), length >= 0 ? static_cast<std::size_t>(length) : 0};
    if (!is_serial(text)) {
      throw StartupError{"emulated drive: image " + spec.image.string() + " has attribute " +
                         medium_serial_attribute + " that is not 1 to 32 printable characters; "
                         "remove it (setfattr -x) or give medium_serial= in the drive's spec"};
    }
    return std::string{text};
  }
  if (errno == ENOTSUP || spec.write_protected) {
    return serial_from_inode(fd);
  }
  if (errno != ENODATA) {
    throw StartupError{"emulated drive: reading attribute " + std::string{medium_serial_attribute} +
                       " of " + spec.image.string() + ": " + std::strerror(errno)};
  }
  auto serial = random_serial();
  // XATTR_CREATE: a second opener racing us (the image lock makes that impossible, but the
  // attribute must never change once made) keeps the first serial, which we then read.
  if (fsetxattr(fd, medium_serial_attribute, serial.data(), serial.size(), XATTR_CREATE) != 0) {
    if (errno == EEXIST) {
      const auto raced = fgetxattr(fd, medium_serial_attribute, stored.data(), max_serial);
      if (raced > 0 && is_serial({stored.data(), static_cast<std::size_t>(raced)})) {
        return std::string(stored.data(), static_cast<std::size_t>(raced));
      }
    }
    if (errno == ENOTSUP || errno == EPERM || errno == EROFS) {
      return serial_from_inode(fd);
    }
    throw StartupError{"emulated drive: setting attribute " + std::string{medium_serial_attribute} +
                       " of " + spec.image.string() + ": " + std::strerror(errno)};
  }
  return serial;
}

bool is_medium_serial_text(std::string_view text) { return is_serial(text); }

}  // namespace tapestream::emulated
