// What an emulated tape library is, as one string from the configuration:
//   emulated-library:/var/lib/tapestream/lib0?slots=24&ie=2&drives=lto1,lto2&capacity=64M
// The directory holds the cartridges, one SIMH image per cartridge named by its barcode
// (VOL001L9.tap), and the library's record of where each one is. The drives are emulated drives
// the library creates (empty until a move loads a cartridge), served by the daemon under those
// names. Sizes take K, M, G or T (powers of 1024); durations ms or s.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tapestream::emulated {

struct LibrarySpec {
  std::filesystem::path directory;
  std::uint16_t slots = 24;
  std::uint16_t mail_slots = 2;
  std::vector<std::string> drives;
  // Every cartridge's size and early warning, as a drive spec's capacity and ew.
  std::uint64_t capacity = std::uint64_t{16} << 30;
  std::optional<std::uint64_t> early_warning;
  // How long the robot takes for a move; real libraries take seconds.
  std::chrono::milliseconds move_time{200};
  // How long a drive takes to thread a cartridge the robot put in: until then its commands are
  // answered NOT READY, BECOMING READY, as a real drive's are for seconds to a minute.
  std::chrono::milliseconds load_time{0};
  // Faults: the Nth MOVE MEDIUM (counted from 1) fails with a HARDWARE ERROR and the cartridge
  // stays where it was; this drive never gives its cartridge back (its unload fails).
  std::optional<std::uint64_t> move_fails;
  std::optional<std::string> stuck_drive;
  // Each drive's Nth WRITE since the daemon started (counted from 1, over every cartridge it
  // loaded) fails with MEDIUM ERROR, as a drive spec's medium_error_write.
  std::optional<std::uint64_t> medium_error_write;
  std::string serial = "EMULIB0001";
};

// Parses "emulated-library:DIR[?OPTIONS]". Throws StartupError naming the option at fault and
// what it accepts.
LibrarySpec parse_library_spec(std::string_view spec);
bool is_library_spec(std::string_view spec);

// A barcode the library takes as a cartridge's name (and its image's file name): 1 to 32 of
// A-Z, a-z, 0-9, '-' and '_', so that it is safe as a file name and as a volume tag.
bool valid_barcode(std::string_view barcode);

}  // namespace tapestream::emulated
