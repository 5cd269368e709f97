// A library's changer on its own thread and ring, as a drive has its worker (drive_worker.hpp):
// the robot runs one command at a time there, and its moves, which take seconds, never hold up
// a drive's ring or the control thread. The changer is an emulated library
// (emulated-library:DIR) or a real one (scsi:, bsg: or sg: and a device, opened as a drive's
// transport is). The library's drives are ordinary drives of the daemon, each on its own
// worker: which one sits in which data transfer element is read once at start, by serial
// number (the identifier the changer reports for each element, DVCID, against the one each
// drive reports itself), never by order. An emulated library's drives are reached by the
// changer only through the LibraryDrive hand-over (emulated/library_drive.hpp), which is safe
// across threads; a real library's robot needs no help from them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.hpp"

#include "emulated/library_drive.hpp"
#include "server/changer_ops.hpp"
#include "server/startup.hpp"
#include "transport/transport.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

// Throws StartupError naming what is wrong.
LibraryConfig parse_library_option(const std::string& option);

// Whether the library is a real changer (scsi:, bsg:, sg:), whose drives are the daemon's own
// --drive drives, rather than an emulated library that brings its own.
bool is_real_library(const LibraryConfig& library);

// The drives an emulated library brings, as the daemon's drives: empty emulated drives named by
// the spec's drives=, sized by its capacity= and ew=, each handing its LibraryDrive out through
// its DriveConfig::library_drive once its worker built it. None for a real library.
std::vector<DriveConfig> library_drive_configs(const LibraryConfig& library);

// A drive of the daemon that may sit in the library, as it identified itself.
struct LibraryCandidate {
  std::string name;
  std::string vendor;
  std::string serial;
  emulated::LibraryDrive* emulated = nullptr;  // an emulated library's own drive
};

class ChangerWorker {
 public:
  // Work for the changer's thread, with the changer, its ring and buffer. Run one at a time.
  using Job = std::function<void(const ChangerContext& context)>;

  // Starts the thread, which opens the changer (an emulated library is restored from its
  // directory, and the cartridges its record places in drives are put there), reads its
  // elements and finds which of `candidates` (built and identified already) sits in which
  // element. Throws StartupError when the changer cannot be opened or read, or when a drive an
  // emulated library names is not found in it.
  ChangerWorker(const LibraryConfig& config, std::vector<LibraryCandidate> candidates);
  // Ends the thread once the job in hand is done; jobs not started are dropped.
  ~ChangerWorker();
  ChangerWorker(const ChangerWorker&) = delete;
  ChangerWorker& operator=(const ChangerWorker&) = delete;

  const std::string& name() const { return _name; }
  // The daemon's drive in each data transfer element that holds one, by element address. Fixed
  // once the constructor returned; read from any thread.
  const std::map<std::uint16_t, std::string>& drive_at() const { return _drive_at; }
  bool holds_drive(const std::string& drive) const;
  // From any thread; the job runs on the changer's thread, after the ones posted before it.
  void post(Job job);

 private:
  void run(std::vector<LibraryCandidate> candidates);
  std::unique_ptr<transport::ScsiTransport> open_changer(uring::Ring& ring,
                                                         const std::vector<LibraryCandidate>& candidates);
  void find_drives(const ChangerContext& context, const std::vector<LibraryCandidate>& candidates);

  std::string _name;
  std::string _spec;
  std::map<std::uint16_t, std::string> _drive_at;
  std::vector<UniqueFd> _locks;  // a real changer's nodes: one daemon commands it
  std::promise<void> _started;
  std::mutex _mutex;
  std::condition_variable _wake;
  std::deque<Job> _jobs;
  bool _quit = false;
  std::thread _thread;
};

}  // namespace tapestream::server
