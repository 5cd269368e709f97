// A drive's own thread (ublksrv's model: one ring per queue thread). The thread creates its
// ring (SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them, so it must be the thread that
// turns it), registers the drive's buffer pool with it, opens the transport and identifies the
// drive; then its home (server/home.hpp) serves the requests the control thread hands it. Two
// drives never share a ring, a pool or a thread, so a drive that stalls or hangs in a command
// stalls nothing but its own requests.
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "drive/drive.hpp"
#include "uring/buffer_pool.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class DriveSlot;
class Home;
class Server;

// What a worker builds on its own ring: the drive's registered buffers and the drive on them,
// identified (the pool is declared first, so that the drive goes before its buffers).
struct DriveKit {
  std::unique_ptr<uring::BufferPool> pool;
  std::unique_ptr<drive::Drive> drive;
};
// Throws StartupError naming the drive and what is wrong with it.
using DriveFactory = std::function<DriveKit(uring::Ring&)>;

class DriveWorker {
 public:
  // Starts the thread, which builds the drive; wait_identified() says how that went.
  DriveWorker(std::string name, DriveFactory factory);
  ~DriveWorker();
  DriveWorker(const DriveWorker&) = delete;
  DriveWorker& operator=(const DriveWorker&) = delete;

  const std::string& name() const { return _name; }
  // Blocks until the drive is identified; rethrows the StartupError that stopped it.
  void wait_identified();
  // After wait_identified().
  DriveSlot& slot() { return *_slot; }
  // Its home starts serving what `server`'s control thread hands it; returns once the home
  // exists (the slot knows it), so that requests can be routed to it.
  void serve(Server& server);
  // Closes the connections it serves, ends the thread, and frees the drive, pool and ring.
  void quit();
  // Its ring failed and it stopped serving: the daemon cannot go on with the drive.
  bool failed() const { return _failed.load(); }
  Home* home() { return _home; }

 private:
  void run(const DriveFactory& factory);

  std::string _name;
  std::promise<void> _identified;
  std::future<void> _identified_result;
  std::promise<Server*> _server;  // nullptr: quit before serving
  std::promise<void> _home_ready;
  bool _serve_given = false;
  std::atomic<bool> _quit{false};
  std::atomic<bool> _failed{false};
  DriveSlot* _slot = nullptr;
  Home* _home = nullptr;
  std::thread _thread;
};

}  // namespace tapestream::server
