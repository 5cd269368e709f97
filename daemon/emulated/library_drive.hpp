// A drive of an emulated library, as the changer sees it (emulated_library.hpp): whether its
// tape is threaded (a cartridge cannot be taken from a drive that has not unloaded it), and the
// cartridge arriving or leaving. The changer calls these from its own thread, not the drive's.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace tapestream::emulated {

class LibraryDrive {
 public:
  virtual bool tape_threaded() const = 0;
  // The cartridge whose image this is arrives in the drive (which loads it, as a real drive
  // does when the robot inserts one); an error string when the drive cannot take it.
  virtual std::optional<std::string> insert(const std::filesystem::path& image) = 0;
  // The cartridge leaves the drive (its image is closed, and its lock released, before this
  // returns: the robot may put it into another drive next). Refused (the reason returned, the
  // cartridge stays) while the tape is threaded or the drive's I/O on the image is in flight: a
  // LOAD may come between the changer's tape_threaded() and this, and an I/O not yet issued
  // would reach whatever file reuses the image's descriptor number.
  virtual std::optional<std::string> remove() = 0;
  // Undoes an insert() the robot cannot record: the cartridge leaves even though inserting it
  // threaded its tape (no command can have used it: the changer still holds the move).
  virtual void take_back() = 0;

 protected:
  ~LibraryDrive() = default;
};

}  // namespace tapestream::emulated
