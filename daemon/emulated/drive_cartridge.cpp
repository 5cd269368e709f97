// The emulated drive as a library's drive: cartridges arriving from and leaving for the robot,
// which runs on the changer's thread (emulated_drive.hpp says how the hand-over is guarded).
#include <spdlog/spdlog.h>

#include "base/startup_error.hpp"
#include "emulated/emulated_drive.hpp"

namespace tapestream::emulated {

void EmulatedDrive::install(Cartridge cartridge) {
  _spec.image = std::move(cartridge.image);
  _fd = std::move(cartridge.fd);
  _append_fd = std::move(cartridge.append_fd);
  _direct = cartridge.direct;
  _reserved = cartridge.reserved;
  _index = std::move(cartridge.index);
  _tail = std::move(cartridge.tail);
  _tail_on_disk = cartridge.tail_on_disk;
  _spec.write_protected = cartridge.write_protected;
  _spec.medium_serial = std::move(cartridge.medium_serial);
  _early_warning = cartridge.early_warning;
}

Cartridge EmulatedDrive::take_out() {
  link_batch_now();  // an unload wrote it already; a cartridge pulled otherwise takes it along
  Cartridge c;
  c.image = std::exchange(_spec.image, {});
  c.fd = std::move(_fd);
  c.append_fd = std::move(_append_fd);
  c.direct = std::exchange(_direct, false);
  c.reserved = std::exchange(_reserved, 0);
  c.index = std::exchange(_index, {});
  c.tail = std::exchange(_tail, {});
  c.tail_on_disk = std::exchange(_tail_on_disk, false);
  c.write_protected = std::exchange(_spec.write_protected, _blank_spec.write_protected);
  c.medium_serial = std::exchange(_spec.medium_serial, _blank_spec.medium_serial);
  c.early_warning = _early_warning;
  return c;
}

void EmulatedDrive::thread_tape() {
  if (!_loaded) {
    _unit_attention = 0x2800;  // NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED
    ++_loads;
    _bytes_written_load = 0;
    _bytes_read_load = 0;
    _tape_alerts = 0;  // a drive's flags are its cartridge's
  }
  _loaded = true;
  _position = 0;
}

// A sequential autoloader (or an operator) takes the unloaded cartridge back and puts the next
// one in, which threads as any inserted cartridge does (load_time); after the last, the drive
// stays empty. Under the cartridge mutex, which the command that unloaded holds.
void EmulatedDrive::change_from_magazine() {
  if (_blank_spec.magazine.empty() || !_present) {
    return;
  }
  if (_io_outstanding > 0) {
    spdlog::warn("emulated drive {}: the unloaded cartridge stays: its I/O is still in flight",
                 _spec.serial);
    return;
  }
  {
    const Cartridge leaving = take_out();  // closed, and its lock released, before the next
    _present = false;
  }
  // One that does not load (damaged, in use) is passed over, as an autoloader skips
  // a cartridge it cannot thread. Opening indexes the image on the drive's thread, which an
  // emulated autoloader may take: a real one takes longer.
  auto spec = _blank_spec;
  for (;;) {
    if (_magazine_next >= _blank_spec.magazine.size()) {
      spdlog::info("emulated drive {}: its magazine has no more cartridges", _spec.serial);
      return;
    }
    spec.image = _blank_spec.image.parent_path() / _blank_spec.magazine[_magazine_next++];
    try {
      install(open_cartridge(spec));
      break;
    } catch (const StartupError& e) {
      spdlog::warn("emulated drive {}: the magazine's cartridge {} does not load, passed over: {}",
                   _spec.serial, spec.image.string(), e.what());
    }
  }
  _present = true;
  _prevent_removal = false;
  thread_tape();
  _threaded_at = std::chrono::steady_clock::now() + _blank_spec.load_time;
  spdlog::debug("emulated drive {}: cartridge {} loaded from the magazine", _spec.serial,
                spec.image.string());
}

bool EmulatedDrive::still_threading() const {
  return _present && _loaded && std::chrono::steady_clock::now() < _threaded_at;
}

bool EmulatedDrive::tape_threaded() const {
  const std::lock_guard hand_over{_cartridge_mutex};
  return _present && _loaded;
}

std::optional<std::string> EmulatedDrive::insert(const std::filesystem::path& image) {
  {
    const std::lock_guard hand_over{_cartridge_mutex};
    if (_present) {
      return "the drive holds a cartridge already";
    }
  }
  auto spec = _blank_spec;
  spec.image = image;
  std::optional<Cartridge> cartridge;
  try {
    cartridge.emplace(open_cartridge(spec));  // outside the lock: opening indexes the image
  } catch (const StartupError& e) {
    return e.what();
  }
  const std::lock_guard hand_over{_cartridge_mutex};
  if (_present) {
    return "the drive holds a cartridge already";
  }
  install(std::move(*cartridge));
  _present = true;
  _prevent_removal = false;
  thread_tape();
  _threaded_at = std::chrono::steady_clock::now() + _blank_spec.load_time;
  spdlog::debug("emulated drive {}: cartridge {} loaded", _spec.serial, _spec.image.string());
  return std::nullopt;
}

std::optional<std::string> EmulatedDrive::remove() {
  Cartridge leaving;
  {
    const std::lock_guard hand_over{_cartridge_mutex};
    if (!_present) {
      return std::nullopt;
    }
    if (_loaded) {
      return "its tape is threaded";
    }
    if (_io_outstanding > 0) {
      // An unload that timed out leaves its I/O to the ring; the image's descriptors must
      // outlive it.
      return "its I/O on the image is still in flight";
    }
    leaving = take_out();
    _present = false;
    _position = 0;
  }
  // `leaving` closes the image, and releases its lock, as it goes out of scope here.
  return std::nullopt;
}

void EmulatedDrive::take_back() {
  Cartridge leaving;
  const std::lock_guard hand_over{_cartridge_mutex};
  if (!_present) {
    return;
  }
  leaving = take_out();
  _present = false;
  _loaded = false;
  _position = 0;
}

}  // namespace tapestream::emulated
