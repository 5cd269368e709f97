// Socket activation (sd_listen_fds(3)): the listening socket the service manager bound
// (tapestreamd.socket, or systemd-socket-activate) and passed to the daemon.
#pragma once

#include <filesystem>

#include "common/unique_fd.hpp"

namespace tapestream::service {

// The one passed socket, checked to be a listening AF_UNIX stream socket on `configured` (the
// --socket path); empty when the daemon was not activated (LISTEN_FDS and LISTEN_PID are not
// for this process) and must bind the socket itself. The LISTEN_* variables are removed.
// Throws StartupError (a configuration error) for more than one socket, a socket of another
// kind, or one on another path, saying which and how to make unit and configuration agree.
UniqueFd activated_socket(const std::filesystem::path& configured);

}  // namespace tapestream::service
