// Whole streams in one call: a descriptor's data to tape, or a tape file to a descriptor, by fd
// passing where the daemon granted it and through the socket otherwise.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "handle.hpp"

using namespace tapestream;

namespace {

// Copies `fd` to the stream until its end; returns 0 or the code of what failed.
int copy_to_stream(ts_stream* stream, int fd) {
  std::vector<unsigned char> buffer(1U << 20);
  for (;;) {
    const auto n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int error = errno;
      ts_stream_abort(stream, "libtapestream: reading the data descriptor failed");
      return -error;
    }
    if (n == 0) {
      return 0;
    }
    if (const int r = ts_stream_write(stream, buffer.data(), static_cast<size_t>(n)); r != 0) {
      return r;
    }
  }
}

int write_all_unguarded(int fd, const unsigned char* data, size_t length) {
  while (length > 0) {
    const auto w = ::write(fd, data, length);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w < 0) {
      return -errno;
    }
    data += w;
    length -= static_cast<size_t>(w);
  }
  return 0;
}

int write_all_fd(int fd, const unsigned char* data, size_t length) {
  return lib::without_sigpipe([&] { return write_all_unguarded(fd, data, length); });
}

}  // namespace

extern "C" {

int ts_write_fd(ts_client* client, const char* drive, const struct ts_write_options* options,
                int fd, struct ts_result* out) {
  if (fd < 0) {
    return -EBADF;
  }
  // A spanning stream takes its data through the socket only (PROTOCOL.md, WRITE flags).
  const bool span = options != nullptr && options->struct_size >= sizeof *options &&
                    (options->flags & TS_WRITE_SPAN) != 0;
  const bool by_fd = (ts_features(client) & TS_FEATURE_FD_PASSING) != 0 && !span;
  ts_stream* stream = nullptr;
  if (const int r = ts_write_begin(client, drive, options, by_fd ? fd : -1, &stream); r != 0) {
    return r;
  }
  if (!by_fd) {
    if (const int r = copy_to_stream(stream, fd); r != 0) {
      if (client->stream == stream) {
        // The daemon ended the stream early: its account is the result.
        const int final = ts_stream_commit(stream, out);
        return final != 0 ? final : r;
      }
      return r;
    }
  }
  return ts_stream_commit(stream, out);
}

int ts_read_fd(ts_client* client, const char* drive, uint64_t file_number, int fd,
               struct ts_result* out) {
  if (fd < 0) {
    return -EBADF;
  }
  const bool by_fd = (ts_features(client) & TS_FEATURE_FD_PASSING) != 0;
  ts_stream* stream = nullptr;
  if (const int r = ts_read_begin(client, drive, file_number, by_fd ? fd : -1, &stream); r != 0) {
    return r;
  }
  if (!by_fd) {
    std::vector<unsigned char> buffer(1U << 20);
    for (;;) {
      const long n = ts_stream_read(stream, buffer.data(), buffer.size());
      if (n < 0) {
        return static_cast<int>(n);
      }
      if (n == 0) {
        break;
      }
      if (const int w = write_all_fd(fd, buffer.data(), static_cast<size_t>(n)); w != 0) {
        // The rest of the file is not wanted: reading it from the tape only to drop it could
        // hold the drive for hours, so the connection goes and the daemon stops the read.
        lib::abandon_read(stream);
        client->last_error = "writing the data descriptor failed; the read was stopped and the "
                             "connection closed";
        return w;
      }
    }
  }
  return ts_stream_finish(stream, out);
}

}  // extern "C"
