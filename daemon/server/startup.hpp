// The daemon's configuration, and setting up what it serves from it: the state directory, the
// control thread's ring, and a worker per drive, which opens the drive's transport on its own
// ring, registers the drive's buffer pool there and identifies the drive.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "drive/block_protection.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/library_drive.hpp"
#include "scsi/timeouts.hpp"
#include "server/drive_slot.hpp"
#include "server/server.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

struct DriveConfig {
  std::string name;
  std::string spec;  // "emulated:/path/img.tap?..."
  drive::Protection protection = drive::Protection::automatic;
  // A library's drive (changer_worker.hpp): an empty emulated drive of this spec, which its
  // worker hands out here for the changer once built.
  std::optional<emulated::DriveSpec> library_drive_spec;
  std::shared_ptr<emulated::LibraryDrive*> library_drive;
};

// One --library option: NAME=emulated-library:DIR?...&drives=a,b.
struct LibraryConfig {
  std::string name;
  std::string spec;
};

class ChangerWorker;

struct DaemonConfig {
  std::filesystem::path socket_path = "/run/tapestream/tapestreamd.sock";
  std::filesystem::path state_dir = "/var/lib/tapestream";
  // The catalog's SQLite file; empty: catalog.sqlite in the state directory; "none": no catalog.
  std::string catalog;
  std::vector<DriveConfig> drives;  // empty (and no library): the embedded default, emu0
  std::vector<LibraryConfig> libraries;  // each brings its drives (changer_worker.hpp)
  // Each drive's buffer pool: pool_size bytes in buffers of buffer_size (docs/PERFORMANCE.md,
  // "Buffer pools", says why these defaults), unless the drive has its own below.
  std::uint64_t pool_size = std::uint64_t{256} << 20;
  std::uint32_t buffer_size = 256 * 1024;
  std::map<std::string, std::uint64_t> drive_pool_size;
  std::map<std::string, std::uint32_t> drive_buffer_size;
  // Write streams' start and restart watermarks in percent of the pool (write_stream.hpp), by
  // drive name; "" is every drive's.
  std::map<std::string, unsigned> start_mark;
  std::map<std::string, unsigned> restart_mark;
  // The drive's lowest streaming speed in bytes/s, by drive name ("" every drive's; 0: no
  // pacing): write streams feed the drive at their producer's pace, at least this
  // (drive/feed_pacer.hpp). Unset: an emulated drive has its model's min_rate (0 without a
  // model), a real drive the lowest speed of the medium it holds (min_rate_of_medium).
  std::map<std::string, std::uint64_t> min_rate;
  // --buffers N: N buffers per drive whatever the pool size (the option of earlier versions).
  std::optional<std::uint32_t> buffers_per_drive;
  std::uint32_t block_size = 256 * 1024;
  ServerOptions server;  // timeouts and connection caps; the socket path is set from above
  // Replaces the default timeout of a class of commands on every drive.
  std::vector<std::pair<scsi::TimeoutClass, std::chrono::seconds>> command_timeouts;
  // Logical Block Protection, applied in order: an empty name is every drive.
  std::vector<std::pair<std::string, drive::Protection>> protection;
};

// "MODE" or "NAME=MODE" of --protection (auto, off, on); throws StartupError.
std::pair<std::string, drive::Protection> parse_protection_option(const std::string& option);

// "CLASS=SECONDS" of --command-timeout; throws StartupError naming the classes.
std::pair<scsi::TimeoutClass, std::chrono::seconds> parse_command_timeout(const std::string& option);

// "SIZE" or "NAME=SIZE" of --pool-size and --buffer-size (`option` names it in messages), from
// `min` to `max` bytes; throws StartupError.
std::pair<std::string, std::uint64_t> parse_sized_option(const std::string& option,
                                                         std::string_view name, std::uint64_t min,
                                                         std::uint64_t max,
                                                         std::string_view unit = "bytes (K, M, G allowed)");

// "NAME=SPEC"; throws StartupError naming what is wrong.
DriveConfig parse_drive_option(const std::string& option);

// Everything the server needs, set up in order (and torn down in reverse).
struct Daemon {
  UniqueFd state_lock;  // one daemon per state directory
  std::shared_ptr<catalog::Catalog> catalog;  // also the server's; outlives it
  uring::Ring ring;     // the control thread's
  std::unique_ptr<Server> server;
  // After the server, so gone before the drives they move cartridges into.
  std::vector<std::shared_ptr<ChangerWorker>> changers;
};

// Returns once every drive is identified (in parallel, on its worker) and the socket is bound,
// or `activated` (the listening socket the service manager passed) adopted. Throws
// StartupError.
std::unique_ptr<Daemon> start_daemon(const DaemonConfig& config, UniqueFd activated = {});

}  // namespace tapestream::server
