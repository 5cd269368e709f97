// An emulated library's changer on its own thread and ring, as a drive has its worker
// (drive_worker.hpp): the robot runs one command at a time there, and its moves, which take the
// spec's time, never hold up a drive's ring or the control thread. The library's drives are
// ordinary drives of the daemon, each on its own worker; the changer reaches them only through
// the LibraryDrive hand-over (emulated/library_drive.hpp), which is safe across threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "emulated/library_drive.hpp"
#include "emulated/library_spec.hpp"
#include "server/startup.hpp"
#include "transport/transport.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

// Throws StartupError naming what is wrong.
LibraryConfig parse_library_option(const std::string& option);

// The drives a library brings, as the daemon's drives: empty emulated drives named by the
// spec's drives=, sized by its capacity= and ew=, each handing its LibraryDrive out through its
// DriveConfig::library_drive once its worker built it.
std::vector<DriveConfig> library_drive_configs(const LibraryConfig& library);

class ChangerWorker {
 public:
  // Work for the changer's thread: the changer and the ring it completes on. Run one at a time.
  using Job = std::function<void(transport::ScsiTransport& changer, uring::Ring& ring)>;

  // Starts the thread, which restores the library from its directory and puts the cartridges
  // its record places in drives into `drives` (the spec's order, built and identified already).
  // Throws StartupError when the library cannot be opened.
  ChangerWorker(const LibraryConfig& config, std::vector<emulated::LibraryDrive*> drives);
  // Ends the thread once the job in hand is done; jobs not started are dropped.
  ~ChangerWorker();
  ChangerWorker(const ChangerWorker&) = delete;
  ChangerWorker& operator=(const ChangerWorker&) = delete;

  const std::string& name() const { return _name; }
  const emulated::LibrarySpec& spec() const { return _spec; }
  // From any thread; the job runs on the changer's thread, after the ones posted before it.
  void post(Job job);

 private:
  void run(std::vector<emulated::LibraryDrive*> drives);

  std::string _name;
  emulated::LibrarySpec _spec;
  std::promise<void> _started;
  std::mutex _mutex;
  std::condition_variable _wake;
  std::deque<Job> _jobs;
  bool _quit = false;
  std::thread _thread;
};

}  // namespace tapestream::server
