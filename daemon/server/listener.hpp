// The daemon's listening socket. Binding it never takes a socket from a daemon that serves on
// it, and never removes anything but a stale socket: a lock file beside the socket
// (PATH.lock) makes daemons that share the path take turns, a socket that answers is left
// alone, and a regular file or directory at the path is refused, not unlinked.
#pragma once

#include <filesystem>

#include "common/unique_fd.hpp"

namespace tapestream::server {

struct Listener {
  UniqueFd socket;
  UniqueFd lock;  // held while the daemon serves
  std::filesystem::path path;
};

// Binds (mode 0660) and listens. Throws StartupError with what is in the way.
Listener bind_listener(const std::filesystem::path& path);

}  // namespace tapestream::server
