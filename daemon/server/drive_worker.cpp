#include "server/drive_worker.hpp"

#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>

#include "server/drive_slot.hpp"
#include "server/home.hpp"
#include "server/server.hpp"

namespace tapestream::server {
namespace {

constexpr std::chrono::milliseconds turn_wait{100};

// Signals are the control thread's (SIGTERM, SIGINT): a worker waiting in io_uring_enter must
// not be the thread the kernel picks to run the handler.
void block_signals() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

// "ts:lto1" in ps -L, top -H and /proc/PID/task/*/comm (at most 15 bytes).
void name_thread(const std::string& drive) {
  const auto name = ("ts:" + drive).substr(0, 15);
  pthread_setname_np(pthread_self(), name.c_str());
}

}  // namespace

DriveWorker::DriveWorker(std::string name, DriveFactory factory)
    : _name{std::move(name)}, _identified_result{_identified.get_future()} {
  _thread = std::thread{[this, factory = std::move(factory)] { run(factory); }};
}

DriveWorker::~DriveWorker() { quit(); }

void DriveWorker::wait_identified() { _identified_result.get(); }

void DriveWorker::serve(Server& server) {
  auto ready = _home_ready.get_future();
  _serve_given = true;
  _server.set_value(&server);
  ready.wait();
}

void DriveWorker::quit() {
  if (!_thread.joinable()) {
    return;
  }
  _quit.store(true);
  if (!_serve_given) {
    _serve_given = true;
    _server.set_value(nullptr);
  }
  _thread.join();
}

void DriveWorker::run(const DriveFactory& factory) {
  block_signals();
  name_thread(_name);
  std::optional<uring::Ring> ring;
  DriveKit kit;
  std::unique_ptr<DriveSlot> slot;
  try {
    ring.emplace(uring::Ring::create({}));
    kit = factory(*ring);
    slot = std::make_unique<DriveSlot>(std::move(kit.drive));
    _slot = slot.get();
  } catch (...) {
    _identified.set_exception(std::current_exception());
    return;
  }
  _identified.set_value();
  auto* server = _server.get_future().get();
  if (server == nullptr) {
    return;
  }
  Home home{*server, *ring, _name};
  slot->set_home(home);
  _home = &home;
  _home_ready.set_value();
  while (!_quit.load()) {
    if (!home.turn(turn_wait)) {
      _failed.store(true);
      spdlog::error("drive {}: its worker's ring failed; the drive is no longer served", _name);
      break;
    }
  }
  if (!home.close_all()) {
    // A request is still with the drive, whose buffers the kernel may yet complete into.
    (void)slot.release();
    (void)kit.pool.release();
  }
}

}  // namespace tapestream::server
