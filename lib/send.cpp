// The bytes of a write stream's DATA frames onto the socket. The daemon stops reading while a
// stream that spans volumes changes them, for as long as the next cartridge takes to come;
// the caller must hear PART then (an operator is asked to put a cartridge in), so nothing here
// blocks in send(): while the socket takes nothing, the daemon's frames are read instead.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "handle.hpp"

namespace tapestream::lib {

int wait_for_room(ts_stream* stream) {
  ts_client* client = stream->client;
  pollfd p{client->connection.fd(), POLLOUT | POLLIN | POLLERR, 0};
  while (::poll(&p, 1, -1) < 0) {
    if (errno != EINTR) {
      return fail(client, proto::Status::unreachable,
                  std::string{"waiting for the daemon to read: "} + std::strerror(errno));
    }
  }
  if ((p.revents & (POLLIN | POLLHUP)) != 0) {
    return take_early_replies(stream);
  }
  return 0;  // room, or an error the next send reports
}

int send_body(ts_stream* stream, std::span<const std::uint8_t> bytes) {
  ts_client* client = stream->client;
  while (!bytes.empty()) {
    const auto n = ::send(client->connection.fd(), bytes.data(), bytes.size(),
                          MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (const int r = wait_for_room(stream); r != 0) {
        client->broken = true;  // a frame is not all out: nothing more may go on this socket
        return r;
      }
    } else if (errno != EINTR) {
      const int error = errno;
      client->broken = true;
      // A daemon that ended the stream and closed: its account may be waiting to be read.
      if (const int r = take_early_replies(stream); r != 0 || stream->final_reply) {
        return r;
      }
      return fail(client, proto::Status::unreachable,
                  std::string{"lost the connection to tapestreamd: "} + std::strerror(error));
    }
  }
  return 0;
}

}  // namespace tapestream::lib
