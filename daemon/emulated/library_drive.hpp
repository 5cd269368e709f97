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
  // returns: the robot may put it into another drive next).
  virtual void remove() = 0;

 protected:
  ~LibraryDrive() = default;
};

}  // namespace tapestream::emulated
