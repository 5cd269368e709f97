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
// How often the glance is published: the status line is refreshed every few seconds.
constexpr std::chrono::milliseconds publish_interval{250};
// How long quit() waits for the thread to end: its home's close_all() gives its connections 2 s.
constexpr std::chrono::seconds end_patience{5};

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
    : _name{std::move(name)},
      _identified_result{_identified.get_future()},
      _ended_result{_ended.get_future()} {
  _thread = std::thread{[this, factory = std::move(factory)] { run(factory); }};
}

DriveWorker::~DriveWorker() { quit(); }

void DriveWorker::wait_identified() { _identified_result.get(); }

void DriveWorker::serve(Server& server) {
  auto ready = _home_ready.get_future();
  _serve_given = true;
  _serving = true;
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
  // Only a serving worker is given up on: one still identifying its drive runs the factory,
  // which would touch this object when it returns, and start-up is waited for as it always was.
  if (_serving && _ended_result.wait_for(end_patience) != std::future_status::ready) {
    spdlog::error("drive {}: its worker thread does not end (stuck in a command in the kernel?); "
                  "leaving it to the process's exit", _name);
    _thread.detach();
    return;
  }
  _thread.join();
}

DriveWorker::Glance DriveWorker::glance() const {
  Glance g;
  g.state = static_cast<drive::DriveState>(_state.load(std::memory_order_relaxed));
  g.streaming = _streaming.load(std::memory_order_relaxed);
  if (const auto file = _file.load(std::memory_order_relaxed); file != no_file) {
    g.file = file;
  }
  g.bytes = _bytes.load(std::memory_order_relaxed);
  return g;
}

void DriveWorker::publish(Clock::time_point now) {
  _last_turn.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  if (now - _published < publish_interval) {
    return;
  }
  _published = now;
  _state.store(static_cast<std::uint8_t>(_slot->drive().state()), std::memory_order_relaxed);
  const auto stream = _slot->stream_glance();
  _streaming.store(stream.has_value(), std::memory_order_relaxed);
  _file.store(stream && stream->file ? *stream->file : no_file, std::memory_order_relaxed);
  _bytes.store(stream ? stream->bytes : 0, std::memory_order_relaxed);
}

void DriveWorker::run(const DriveFactory& factory) {
  // Set however the thread ends (the promise's destructor would otherwise break it).
  struct Ended {
    std::promise<void>& ended;
    ~Ended() { ended.set_value(); }
  } ended{_ended};
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
  publish(Clock::now());
  _home_ready.set_value();
  while (!_quit.load()) {
    if (!home.turn(turn_wait)) {
      _failed.store(true);
      spdlog::error("drive {}: its worker's ring failed; the drive is no longer served", _name);
      break;
    }
    publish(Clock::now());
  }
  if (!home.close_all()) {
    // A request is still with the drive, whose buffers the kernel may yet complete into.
    (void)slot.release();
    (void)kit.pool.release();
  }
}

}  // namespace tapestream::server
