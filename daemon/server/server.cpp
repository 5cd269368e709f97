#include "server/server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "codec.hpp"
#include "server/connection.hpp"

namespace tapestream::server {
namespace {

// How long accepting pauses when the daemon has run out of descriptors or memory: the failed
// accept would otherwise come straight back, a busy loop that starves every client.
constexpr std::chrono::milliseconds accept_pause{100};
constexpr std::chrono::seconds log_interval{10};
// After the stop timeout cut the streams, how long their accounting may take before the daemon
// exits anyway (a drive hung in a command cannot answer).
constexpr std::chrono::seconds stop_grace{10};

bool out_of_resources(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

Server::Server(uring::Ring& ring, std::vector<std::unique_ptr<DriveWorker>> workers,
               ServerOptions options, UniqueFd activated)
    : _ring{ring}, _options{std::move(options)}, _control{*this, ring, "control"},
      _workers{std::move(workers)} {
  _acceptor.server = this;
  for (auto& worker : _workers) {
    _drives.emplace(worker->name(), &worker->slot());
  }
  if (activated) {
    _listener = adopt_listener(std::move(activated), _options.socket_path);
  } else if (!_options.socket_path.empty()) {
    _listener = bind_listener(_options.socket_path, _options.socket_access);
  }
  open_catalog_answers();
  for (auto& worker : _workers) {
    worker->serve(*this);
  }
}

void Server::open_catalog_answers() {
  if (_options.catalog) {
    _catalog_answers = std::make_shared<Mailbox>(_ring);
    _catalog_answers->open();
  }
}

Server::Server(uring::Ring& ring, std::map<std::string, std::unique_ptr<DriveSlot>> drives,
               ServerOptions options)
    : _ring{ring}, _options{std::move(options)}, _control{*this, ring, "control"},
      _inline_drives{std::move(drives)} {
  _acceptor.server = this;
  for (auto& [name, slot] : _inline_drives) {
    slot->set_home(_control);
    _drives.emplace(name, slot.get());
  }
  if (!_options.socket_path.empty()) {
    _listener = bind_listener(_options.socket_path, _options.socket_access);
  }
  open_catalog_answers();
}

Server::~Server() {
  // Nothing may be destroyed while a ring still holds a request of it: each worker closes the
  // connections it serves and waits for their I/O before its thread ends; then the control
  // thread does the same with the rest (and with those the workers sent back), and its accept.
  stop();
  (void)_ring.submit();  // moves to workers already prepared reach them, which close them
  for (auto& worker : _workers) {
    worker->quit();
  }
  const bool all_back = _control.close_all();
  const auto give_up = Clock::now() + std::chrono::seconds{2};
  while (_accepting && Clock::now() < give_up) {
    if (!_ring.run_once(std::chrono::milliseconds{100})) {
      break;
    }
  }
  if (!all_back) {
    // An inline drive hung in a command still holds their buffers.
    for (auto& [name, slot] : _inline_drives) {
      (void)slot.release();
    }
  }
  // An adopted socket's file is the service manager's: it keeps it (and the connections
  // waiting on it) for the next start.
  if (_listener.socket && _listener.bound_here) {
    ::unlink(_listener.path.c_str());
  }
}

DriveSlot* Server::drive(const std::string& name) const {
  const auto it = _drives.find(name);
  return it == _drives.end() ? nullptr : it->second;
}

void Server::accept_next() {
  if (_accepting || stopping() || !_listener.socket || _accept_paused_until) {
    return;
  }
  if (_ring.prepare(uring::Accept{_listener.socket.get()}, &_acceptor)) {
    _accepting = true;
  }
}

void Server::accepted(int fd) {
  _accepting = false;
  if (fd >= 0) {
    UniqueFd owned{fd};
    // Who may do what is decided from these alone (access.hpp): a client whose credentials
    // the kernel does not give is not served.
    if (auto peer = peer_of(fd); !peer) {
      log_limited(std::string{"cannot read a client's credentials: "} + std::strerror(errno),
                  Clock::now());
    } else if (admit(owned, peer->uid)) {
      serve(std::move(owned), std::move(*peer));
    }
  } else if (out_of_resources(-fd)) {
    _accept_paused_until = Clock::now() + accept_pause;
    log_limited("accept failed: " + std::string{std::strerror(-fd)} + " (" +
                    std::to_string(_open_connections) +
                    " connections open); pausing new connections for 100 ms at a time",
                Clock::now());
    return;
  } else if (fd != -ECANCELED) {
    log_limited("accept failed: " + std::string{std::strerror(-fd)} + ", continuing",
                Clock::now());
  }
  accept_next();
}

// Connection caps, so that one user (or everyone together) cannot take all descriptors. A
// refused client hears why in an ERROR before its connection closes.
bool Server::admit(UniqueFd& fd, std::uint32_t uid) {
  std::string why;
  if (_open_connections >= _options.max_connections) {
    why = "too many connections (" + std::to_string(_options.max_connections) + ")";
  } else if (_per_user[uid] >= _options.max_connections_per_user) {
    why = "too many connections of uid " + std::to_string(uid) + " (" +
          std::to_string(_options.max_connections_per_user) + ")";
  }
  if (why.empty()) {
    return true;
  }
  log_limited("refusing a connection: " + why, Clock::now());
  if (auto frame = proto::encode(proto::Error{proto::Status::busy, why}, 0)) {
    (void)::send(fd.get(), frame.value().data(), frame.value().size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  return false;
}

void Server::serve(UniqueFd fd, Peer peer) {
  ++_per_user[peer.uid];
  ++_open_connections;
  _control.host(
      std::make_unique<Connection>(_control, std::move(fd), ++_next_connection, std::move(peer)));
}

void Server::adopt(UniqueFd fd, Peer peer) { serve(std::move(fd), std::move(peer)); }

void Server::connection_closed(std::uint32_t uid) {
  --_open_connections;
  if (auto count = _per_user.find(uid); count != _per_user.end() && --count->second == 0) {
    _per_user.erase(count);
  }
}

void Server::log_limited(const std::string& what, Clock::time_point now) {
  auto& [last, suppressed] = _log_limits[what.substr(0, what.find(':'))];
  if (last != Clock::time_point{} && now - last < log_interval) {
    ++suppressed;
    return;
  }
  if (suppressed > 0) {
    spdlog::warn("{} ({} more times in the last {} s)", what, suppressed, log_interval.count());
  } else {
    spdlog::warn("{}", what);
  }
  last = now;
  suppressed = 0;
}

void Server::stop() {
  if (stopping()) {
    return;
  }
  _stop_deadline = Clock::now() + _options.stop_timeout;
  _stopping.store(true, std::memory_order_release);  // publishes the deadline with it
  spdlog::info("stopping: no new streams; waiting up to {} s for the ones running to end",
               _options.stop_timeout.count());
  if (_accepting) {
    (void)_ring.prepare(uring::Cancel{&_acceptor}, nullptr);
  }
}

bool Server::all_drained() const {
  auto drained = [](const Home& home) { return home.incoming() == 0 && home.drained(); };
  return drained(_control) && std::all_of(_workers.begin(), _workers.end(), [&](const auto& w) {
           return w->home() != nullptr && drained(*w->home());
         });
}

bool Server::turn(std::chrono::milliseconds wait) {
  if (!_control.turn(wait)) {
    return false;
  }
  if (_accept_paused_until && Clock::now() >= *_accept_paused_until) {
    _accept_paused_until.reset();
    accept_next();
  }
  return true;
}

bool Server::run(const std::function<bool()>& stop_requested,
                 const std::function<void()>& each_turn) {
  accept_next();
  while (true) {
    if (stop_requested()) {
      stop();
    }
    if (!turn(std::chrono::milliseconds{100})) {
      return false;
    }
    if (each_turn) {
      each_turn();
    }
    for (const auto& worker : _workers) {
      if (worker->failed()) {
        spdlog::error("drive {}: its worker stopped; the daemon exits", worker->name());
        return false;
      }
    }
    if (stopping() && !_accepting) {
      if (all_drained()) {
        return true;
      }
      if (Clock::now() >= _stop_deadline + stop_grace) {
        spdlog::error("the streams cut at the stop timeout did not end within {} s (a drive "
                      "hung in a command); exiting without their accounting",
                      stop_grace.count());
        return false;
      }
    }
  }
}

}  // namespace tapestream::server
