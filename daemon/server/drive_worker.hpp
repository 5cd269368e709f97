// A drive's own thread (ublksrv's model: one ring per queue thread). The thread creates its
// ring (SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them, so it must be the thread that
// turns it), registers the drive's buffer pool with it, opens the transport and identifies the
// drive; then its home (server/home.hpp) serves the requests the control thread hands it. Two
// drives never share a ring, a pool or a thread, so a drive that stalls or hangs in a command
// stalls nothing but its own requests.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "drive/drive.hpp"
#include "drive/tape_state.hpp"
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
  using Clock = std::chrono::steady_clock;

  // What the worker last published of its drive (a few times a second), for the daemon's
  // status line on the control thread.
  struct Glance {
    drive::DriveState state = drive::DriveState::loaded;
    bool streaming = false;
    std::optional<std::uint64_t> file;  // of the stream: the file it writes or reads
    std::uint64_t bytes = 0;            // of the stream: on the tape, or read from it
  };

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
  // Closes the connections it serves, ends the thread, and frees the drive, pool and ring. A
  // serving thread that does not end within a few seconds (stuck in the kernel, as a driver in
  // D state holds it) is left behind, with what it uses, for the process's exit to end; if it
  // ever came back it would find this object gone, so quit() is for the daemon's last moments.
  void quit();
  // Its ring failed and it stopped serving: the daemon cannot go on with the drive.
  bool failed() const { return _failed.load(); }
  Home* home() { return _home; }

  // The heartbeat: when the worker's loop last turned (after each turn of its ring; commands run
  // asynchronously on the ring, so a long ERASE or LOCATE does not stop it). The epoch before
  // the worker serves. Any thread may read it.
  Clock::time_point last_turn() const {
    return Clock::time_point{Clock::duration{_last_turn.load(std::memory_order_relaxed)}};
  }
  // Any thread may read it.
  Glance glance() const;

 private:
  void publish(Clock::time_point now);

  void run(const DriveFactory& factory);

  std::string _name;
  std::promise<void> _identified;
  std::future<void> _identified_result;
  std::promise<Server*> _server;  // nullptr: quit before serving
  std::promise<void> _home_ready;
  std::promise<void> _ended;
  std::future<void> _ended_result;
  bool _serve_given = false;
  bool _serving = false;  // serve() was called: the thread runs its loop (or will at once)
  std::atomic<bool> _quit{false};
  std::atomic<bool> _failed{false};
  DriveSlot* _slot = nullptr;
  Home* _home = nullptr;
  std::atomic<Clock::rep> _last_turn{0};
  Clock::time_point _published{};
  // The glance, a field per atomic: a reader may see a mix of two turns, which the status line
  // can bear; the worker never waits for a reader.
  std::atomic<std::uint8_t> _state{static_cast<std::uint8_t>(drive::DriveState::loaded)};
  std::atomic<bool> _streaming{false};
  std::atomic<std::uint64_t> _file{no_file};
  std::atomic<std::uint64_t> _bytes{0};
  static constexpr std::uint64_t no_file = ~std::uint64_t{0};
  std::thread _thread;
};

}  // namespace tapestream::server
