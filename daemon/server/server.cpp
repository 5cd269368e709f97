#include "server/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/startup_error.hpp"
#include "server/connection.hpp"

namespace tapestream::server {

Server::Server(uring::Ring& ring, uring::BufferPool& pool, scsi::TimeoutTable timeouts,
               std::map<std::string, std::unique_ptr<DriveSlot>> drives, ServerOptions options)
    : _ring{ring},
      _pool{pool},
      _timeouts{std::move(timeouts)},
      _commands{pool, _timeouts},
      _drives{std::move(drives)},
      _options{std::move(options)} {
  _acceptor.server = this;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const auto path = _options.socket_path.string();
  if (path.size() >= sizeof address.sun_path) {
    throw StartupError{"socket path too long (at most " +
                       std::to_string(sizeof address.sun_path - 1) + " bytes): " + path};
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  _listener = UniqueFd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!_listener) {
    throw StartupError{std::string{"socket: "} + std::strerror(errno)};
  }
  // A socket file left by a daemon that died is stale: nothing can be listening on it, since
  // connecting to it fails.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw StartupError{"cannot remove the old socket " + path + ": " + std::strerror(errno)};
  }
  const auto old_mask = ::umask(0117);  // the socket comes to life 0660
  const int bound = ::bind(_listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  ::umask(old_mask);
  if (bound != 0) {
    throw StartupError{"cannot bind " + path + ": " + std::strerror(errno)};
  }
  if (::listen(_listener.get(), 64) != 0) {
    throw StartupError{"cannot listen on " + path + ": " + std::strerror(errno)};
  }
}

Server::~Server() {
  // Nothing may be destroyed while the ring still holds a request of it: close every
  // connection, cancel the accept, and turn the ring until they have all come back.
  stop();
  for (auto& c : _connections) {
    c->close_now();
  }
  for (int turns = 0; turns < 600 && (!_connections.empty() || _accepting); ++turns) {
    if (!_ring.run_once(std::chrono::milliseconds{100})) {
      break;
    }
    reap();
  }
  if (!_options.socket_path.empty()) {
    ::unlink(_options.socket_path.c_str());
  }
}

DriveSlot* Server::drive(const std::string& name) {
  const auto it = _drives.find(name);
  return it == _drives.end() ? nullptr : it->second.get();
}

void Server::accept_next() {
  if (_accepting || _stopping) {
    return;
  }
  if (_ring.prepare(uring::Accept{_listener.get()}, &_acceptor)) {
    _accepting = true;
  }
}

void Server::accepted(int fd) {
  _accepting = false;
  if (fd >= 0) {
    auto& c = _connections.emplace_back(
        std::make_unique<Connection>(*this, UniqueFd{fd}, ++_next_connection));
    c->start();
  } else if (fd != -ECANCELED) {
    spdlog::warn("accept failed: {}, continuing", std::strerror(-fd));
  }
  accept_next();
}

void Server::reap() {
  for (auto it = _connections.begin(); it != _connections.end();) {
    (*it)->collect();
    if ((*it)->finished()) {
      it = _connections.erase(it);
    } else {
      ++it;
    }
  }
}

void Server::stop() {
  if (_stopping) {
    return;
  }
  _stopping = true;
  spdlog::info("stopping: no new streams; waiting for the ones running to end");
  if (_accepting) {
    (void)_ring.prepare(uring::Cancel{&_acceptor}, nullptr);
  }
}

void Server::run(const std::function<bool()>& stop_requested) {
  accept_next();
  while (true) {
    if (stop_requested()) {
      stop();
    }
    if (auto turned = _ring.run_once(std::chrono::milliseconds{500}); !turned) {
      spdlog::error("ring: {}", turned.error().message());
      break;
    }
    reap();
    if (_stopping && !_accepting) {
      const bool streams = std::any_of(_connections.begin(), _connections.end(),
                                       [](const auto& c) { return c->busy(); });
      if (!streams) {
        break;
      }
    }
  }
}

}  // namespace tapestream::server
