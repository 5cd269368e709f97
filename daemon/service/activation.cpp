#include "service/activation.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "base/startup_error.hpp"

namespace tapestream::service {
namespace {

// The path a Unix socket is bound to ("" for an unnamed or abstract one).
std::string bound_path(int fd) {
  sockaddr_un address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      address.sun_family != AF_UNIX || length <= offsetof(sockaddr_un, sun_path) ||
      address.sun_path[0] == '\0') {
    return {};
  }
  return std::string{address.sun_path, strnlen(address.sun_path, sizeof address.sun_path)};
}

bool same_file_path(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ec;
  const auto ca = std::filesystem::weakly_canonical(a, ec);
  if (ec) {
    return false;
  }
  const auto cb = std::filesystem::weakly_canonical(b, ec);
  return !ec && ca == cb;
}

}  // namespace

UniqueFd activated_socket(const std::filesystem::path& configured) {
  const int count = sd_listen_fds(1);
  if (count < 0) {
    throw StartupError{std::string{"socket activation: LISTEN_FDS/LISTEN_PID: "} +
                       std::strerror(-count)};
  }
  if (count == 0) {
    return {};
  }
  // Every passed descriptor is the daemon's now, to close if it is refused.
  UniqueFd socket{SD_LISTEN_FDS_START};
  for (int extra = 1; extra < count; ++extra) {
    ::close(SD_LISTEN_FDS_START + extra);
  }
  if (count > 1) {
    throw StartupError{"socket activation passed " + std::to_string(count) +
                       " sockets; tapestreamd serves one: give tapestreamd.socket exactly one "
                       "ListenStream= (the socket path, " + configured.string() + ")"};
  }
  const int fd = socket.get();
  const auto text = configured.string();
  if (sd_is_socket_unix(fd, SOCK_STREAM, 1, text.c_str(), 0) > 0) {
    spdlog::info("socket activation: serving on the socket passed, {}", text);
    return socket;
  }
  if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0) {
    throw StartupError{"socket activation passed a descriptor that is not a listening Unix stream "
                       "socket: tapestreamd.socket must have ListenStream=" + text +
                       " (a path), and no ListenDatagram=, ListenFIFO= or Accept=yes"};
  }
  const auto actual = bound_path(fd);
  if (!actual.empty() && same_file_path(actual, configured)) {
    spdlog::info("socket activation: serving on the socket passed, {} (the --socket {})", actual,
                 text);
    return socket;
  }
  throw StartupError{"socket activation passed the socket " +
                     (actual.empty() ? std::string{"(unnamed)"} : actual) +
                     " but the configured socket is " + text +
                     ": make ListenStream= in tapestreamd.socket and socket= in the configuration "
                     "(or --socket) the same path"};
}

}  // namespace tapestream::service
