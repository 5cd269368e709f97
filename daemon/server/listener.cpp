#include "server/listener.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/exclusive_lock.hpp"
#include "base/startup_error.hpp"

namespace tapestream::server {
namespace {

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    throw StartupError{"socket path too long (at most " +
                       std::to_string(sizeof address.sun_path - 1) + " bytes): " + path};
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// Removes what a daemon that died left at the path, and nothing else.
void clear_stale_socket(const std::string& path, const sockaddr_un& address) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return;
    }
    throw StartupError{"cannot examine " + path + ": " + std::strerror(errno)};
  }
  if (!S_ISSOCK(st.st_mode)) {
    throw StartupError{path + " exists and is not a socket; not removing it (choose another "
                              "--socket, or remove it yourself)"};
  }
  // The lock is ours, so no tapestreamd serves here — but one that was just killed releases
  // its lock before the kernel has closed its listening socket: give such a socket a moment.
  for (int attempt = 0;; ++attempt) {
    UniqueFd probe{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (!probe) {
      throw StartupError{std::string{"socket: "} + std::strerror(errno)};
    }
    if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      if (errno != ECONNREFUSED) {
        throw StartupError{"cannot tell whether " + path + " is in use: " + std::strerror(errno)};
      }
      break;
    }
    if (attempt == 20) {
      throw StartupError{"something answers on " + path + " (another tapestreamd?); not replacing it"};
    }
    ::usleep(100'000);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw StartupError{"cannot remove the stale socket " + path + ": " + std::strerror(errno)};
  }
}

}  // namespace

Listener bind_listener(const std::filesystem::path& path) {
  const auto text = path.string();
  const auto address = address_of(text);
  Listener l;
  l.lock = take_lock_file(text + ".lock", "the socket " + text);
  clear_stale_socket(text, address);
  l.socket = UniqueFd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!l.socket) {
    throw StartupError{std::string{"socket: "} + std::strerror(errno)};
  }
  const auto old_mask = ::umask(0117);  // the socket comes to life 0660
  const int bound = ::bind(l.socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  ::umask(old_mask);
  if (bound != 0) {
    throw StartupError{"cannot bind " + text + ": " + std::strerror(errno)};
  }
  if (::listen(l.socket.get(), 128) != 0) {
    throw StartupError{"cannot listen on " + text + ": " + std::strerror(errno)};
  }
  l.path = path;
  return l;
}

}  // namespace tapestream::server
