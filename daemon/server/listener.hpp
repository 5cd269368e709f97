// The daemon's listening socket, bound by the daemon or passed by the service manager (socket
// activation). Binding it never takes a socket from a daemon that serves on it, and never
// removes anything but a stale socket: a lock file beside the socket (PATH.lock) makes daemons
// that share the path take turns, a socket that answers is left alone, and a regular file or
// directory at the path is refused, not unlinked. An adopted socket takes the same lock (one
// daemon per socket) and is never unlinked: its file belongs to the manager.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/unique_fd.hpp"

namespace tapestream::server {

// Who may connect to a socket the daemon binds itself (socket-group, socket-mode); with socket
// activation the .socket unit decides (SocketGroup=, SocketMode=).
struct SocketAccess {
  std::string group = "tape";
  // Not configured: a daemon that cannot give the socket to the group (not root and not in it,
  // or no such group) keeps its own group and says so, instead of refusing to start.
  bool group_is_default = true;
  mode_t mode = 0660;
  // The group once looked up (resolve_socket_group): none when the daemon keeps its own.
  // Not looked up yet: bind_listener does it.
  std::optional<std::optional<gid_t>> gid;
};

// Looks the group up and decides whether this daemon can give the socket to it: the group's
// id, or none when the default group is not to be had (said at info). Throws StartupError for a
// configured group that does not exist or that a daemon not running as root is not in.
std::optional<gid_t> resolve_socket_group(const SocketAccess& access);

struct Listener {
  UniqueFd socket;
  UniqueFd lock;  // held while the daemon serves
  std::filesystem::path path;
  bool bound_here = false;  // the daemon made the socket file, so it removes it at exit
};

// Binds and listens, the socket file given `access`'s group and mode. Throws StartupError with
// what is in the way, or what is wrong with the group or mode and how to fix it.
Listener bind_listener(const std::filesystem::path& path, const SocketAccess& access);

// Takes `socket`, a listening AF_UNIX stream socket on `path` that the service manager bound
// and passed (the caller checked that), and the lock beside it. Throws StartupError when
// another daemon holds the lock.
Listener adopt_listener(UniqueFd socket, const std::filesystem::path& path);

// socket-mode: octal permission bits ("0660", "660"); throws StartupError for anything else
// (set-id and sticky bits included: they mean nothing on a socket).
mode_t parse_socket_mode(std::string_view text);

}  // namespace tapestream::server
