#include "server/listener.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

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

std::optional<gid_t> resolve_socket_group(const SocketAccess& access) {
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  const int rc = ::getgrnam_r(access.group.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    const std::string why = rc != 0 ? std::strerror(rc) : "no such group";
    if (access.group_is_default) {
      spdlog::info("socket-group {}: {}; the socket keeps the daemon's own group", access.group,
                   why);
      return std::nullopt;
    }
    throw StartupError{"socket-group " + access.group + ": " + why +
                       " (create the group, or set socket-group to one that exists)"};
  }
  const gid_t gid = found->gr_gid;
  if (::geteuid() == 0 || gid == ::getegid()) {
    return gid;
  }
  std::vector<gid_t> groups(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)));
  const int count = ::getgroups(static_cast<int>(groups.size()), groups.data());
  if (count >= 0 && std::find(groups.begin(), groups.begin() + count, gid) != groups.begin() + count) {
    return gid;
  }
  // Only root may give a file to a group its owner is not in (chown fails with EPERM).
  if (access.group_is_default) {
    spdlog::info("the daemon (uid {}) is not in group {}: the socket keeps the daemon's group {} "
                 "(add the daemon's user to {}, e.g. SupplementaryGroups={}, or set socket-group)",
                 ::geteuid(), access.group, ::getegid(), access.group, access.group);
    return std::nullopt;
  }
  throw StartupError{"socket-group " + access.group + ": the daemon (uid " +
                     std::to_string(::geteuid()) + ") is neither root nor in that group, so it "
                     "cannot give the socket to it; add the daemon's user to " + access.group +
                     " (SupplementaryGroups=" + access.group + " in the unit) or choose another "
                     "socket-group"};
}

mode_t parse_socket_mode(std::string_view text) {
  const bool octal = !text.empty() && text.size() <= 4 &&
                     std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
  mode_t mode = 0;
  for (const char c : text) {
    mode = mode * 8 + static_cast<mode_t>(c - '0');
  }
  if (!octal || mode > 0777) {
    throw StartupError{"socket-mode " + std::string{text} +
                       ": expected octal permission bits from 0000 to 0777, e.g. 0660 (owner and "
                       "group may connect)"};
  }
  return mode;
}

Listener bind_listener(const std::filesystem::path& path, const SocketAccess& access) {
  const auto text = path.string();
  const auto address = address_of(text);
  // Decided before anything is bound, so that a configuration error leaves nothing behind.
  const auto gid = access.gid ? *access.gid : resolve_socket_group(access);
  Listener l;
  l.lock = take_lock_file(text + ".lock", "the socket " + text);
  clear_stale_socket(text, address);
  l.socket = UniqueFd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!l.socket) {
    throw StartupError{std::string{"socket: "} + std::strerror(errno)};
  }
  // The socket comes to life 0600, and is opened up only once it has its group, so that nobody
  // outside the group can connect in between.
  const auto old_mask = ::umask(0177);
  const int bound = ::bind(l.socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  ::umask(old_mask);
  if (bound != 0) {
    throw StartupError{"cannot bind " + text + ": " + std::strerror(errno)};
  }
  l.path = path;
  l.bound_here = true;
  auto undo = [&](const std::string& what) {
    const int error = errno;
    ::unlink(text.c_str());
    return StartupError{what + " " + text + ": " + std::strerror(error)};
  };
  if (gid && ::fchownat(AT_FDCWD, text.c_str(), static_cast<uid_t>(-1), *gid, AT_SYMLINK_NOFOLLOW) != 0) {
    throw undo("cannot give group " + access.group + " to");
  }
  if (::fchmodat(AT_FDCWD, text.c_str(), access.mode, 0) != 0) {
    throw undo(fmt::format("cannot set mode {:04o} on", access.mode));
  }
  if (::listen(l.socket.get(), 128) != 0) {
    throw undo("cannot listen on");
  }
  return l;
}

Listener adopt_listener(UniqueFd socket, const std::filesystem::path& path) {
  Listener l;
  l.lock = take_lock_file(path.string() + ".lock", "the socket " + path.string());
  l.socket = std::move(socket);
  l.path = path;
  return l;
}

}  // namespace tapestream::server
