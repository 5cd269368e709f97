// The C API's calls for a write whose data comes from a pipe (tapestream.h, 1.1): waiting for
// the producer and the daemon at once, and splice(2) from the pipe to the socket, so that a
// caller keeps a zero-copy path and hears at once when the daemon ends the stream.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "handle.hpp"

using namespace tapestream;
using lib::fail;
using lib::guarded;

namespace {

int check_write_stream(ts_stream* stream) {
  if (stream == nullptr || !stream->write) {
    return -EINVAL;
  }
  if (stream->client->broken && !stream->final_reply) {
    return fail(stream->client, proto::Status::unreachable, "the connection to tapestreamd is lost");
  }
  return 0;
}

}  // namespace

extern "C" {

int ts_stream_wait(ts_stream* stream, int fd, int timeout_ms) {
  if (const int r = check_write_stream(stream); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&] {
    for (;;) {
      if (stream->final_reply) {
        return static_cast<int>(TS_WAIT_ENDED);
      }
      pollfd ready[2] = {{client->connection.fd(), POLLIN, 0}, {fd, POLLIN, 0}};
      const int n = ::poll(ready, fd >= 0 ? 2 : 1, timeout_ms);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return lib::fail_errno(client, errno, "poll");
      }
      if (n == 0) {
        return 0;
      }
      unsigned seen = 0;
      if ((ready[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        // One frame: PROGRESS goes to the callback (and the wait goes on); anything else ends
        // the stream (kept for commit). Never more than one, or a PROGRESS would block here
        // for the next frame while the data should flow.
        auto r = client->connection.receive();
        if (!r) {
          return fail(client, r.error());
        }
        if (const auto* p = std::get_if<proto::Progress>(&r.value().message)) {
          lib::report_progress(client, *p);
          if (fd >= 0 && (ready[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0) {
            return static_cast<int>(TS_WAIT_FD);
          }
          continue;
        }
        if (lib::take_part(client, r.value().message)) {
          if (fd >= 0 && (ready[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0) {
            return static_cast<int>(TS_WAIT_FD);
          }
          continue;
        }
        stream->final_reply = std::move(r.value().message);
        if (!stream->by_fd) {
          client->broken = true;  // DATA may be in flight: out of step, as take_early_replies
        }
        seen |= TS_WAIT_ENDED;
      }
      if (fd >= 0 && (ready[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0) {
        seen |= TS_WAIT_FD;
      }
      if (seen != 0) {
        return static_cast<int>(seen);
      }
    }
  });
}

long ts_stream_splice(ts_stream* stream, int fd, size_t max) {
  if (const int r = check_write_stream(stream); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&] {
    if (stream->by_fd) {
      client->last_error = "the daemon reads this stream's descriptor itself";
      return -EINVAL;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
      client->last_error = "ts_stream_splice: the descriptor is not a pipe";
      return -EINVAL;
    }
    if (const int r = lib::take_early_replies(stream); r != 0) {
      return r;
    }
    int available = 0;
    if (::ioctl(fd, FIONREAD, &available) != 0 || available <= 0 || max == 0) {
      return 0;
    }
    auto& c = client->connection;
    const std::size_t chunk = std::min<std::size_t>(c.max_data() != 0 ? c.max_data() : TS_MAX_DATA, 1U << 20);
    const auto n = static_cast<std::uint32_t>(
        std::min({static_cast<std::size_t>(available), chunk, max}));
    if (const int h = lib::send_body(stream, c.data_header(n)); h != 0) {
      return h;
    }
    // The socket is made non-blocking for the splices alone (receive() reads it blocking): a
    // daemon that reads nothing while it changes volumes must not hold its PART back.
    const int flags = ::fcntl(c.fd(), F_GETFL);
    const auto splice_once = [&](std::uint32_t length) {
      if (flags >= 0 && (flags & O_NONBLOCK) == 0) {
        (void)::fcntl(c.fd(), F_SETFL, flags | O_NONBLOCK);
      }
      const auto r = lib::without_sigpipe(
          [&] { return ::splice(fd, nullptr, c.fd(), nullptr, length, SPLICE_F_MOVE); });
      const int failure = errno;
      if (flags >= 0 && (flags & O_NONBLOCK) == 0) {
        (void)::fcntl(c.fd(), F_SETFL, flags);
      }
      errno = failure;
      return r;
    };
    std::uint32_t moved = 0;
    while (moved < n) {
      const auto r = splice_once(n - moved);
      const int failure = errno;
      if (r < 0 && failure == EINTR) {
        continue;
      }
      if (r < 0 && (failure == EAGAIN || failure == EWOULDBLOCK)) {
        if (const int w = lib::wait_for_room(stream); w != 0) {
          client->broken = true;  // the frame's body is not all out
          return w;
        }
        continue;
      }
      if (r <= 0) {
        // A frame's header is out without all its body: the connection is out of step.
        const int error = r < 0 ? failure : EPIPE;
        client->broken = true;
        return fail(client, proto::Status::unreachable,
                    std::string{"splice to the daemon failed: "} + std::strerror(error));
      }
      moved += static_cast<std::uint32_t>(r);
    }
    stream->sent += n;
    return static_cast<int>(n);
  });
}

uint32_t ts_stream_ready_flags(const ts_stream* stream) {
  return stream == nullptr ? 0 : stream->ready_flags;
}

}  // extern "C"
