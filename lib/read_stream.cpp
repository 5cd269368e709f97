// The C API's read side after READY: a read's data through the socket, its END, and a read
// stopped because nobody wants its data (tapestream.h). The streams begin in stream.cpp.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "handle.hpp"

namespace tapestream::lib {

void abandon_read(ts_stream* stream) {
  ts_client* client = stream->client;
  ::shutdown(client->connection.fd(), SHUT_RDWR);
  client->broken = true;
  client->stream = nullptr;
  delete stream;
}

}  // namespace tapestream::lib

using namespace tapestream;
using lib::fail;
using lib::guarded;

extern "C" {

long ts_stream_read(ts_stream* stream, void* into, size_t capacity) {
  if (const int r = lib::check_stream(stream, false); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&] {
    if (into == nullptr || capacity == 0 || stream->by_fd || stream->map != nullptr) {
      return -EINVAL;  // a shared-buffer read's blocks come by ts_shared_next
    }
    if (stream->at_end) {
      return 0;
    }
    while (stream->data_left == 0) {
      auto frame = lib::receive_final(client, true);
      if (!frame) {
        return fail(client, frame.error());
      }
      if (frame.value().header.type != proto::Type::data) {
        stream->at_end = true;
        stream->final_reply = std::move(frame.value().message);
        return 0;
      }
      stream->data_left = frame.value().header.length;
    }
    const auto n = std::min<std::size_t>({capacity, stream->data_left, 1U << 30});
    auto* bytes = static_cast<std::uint8_t*>(into);
    if (auto r = client->connection.read_exact({bytes, n}); !r) {
      return fail(client, r.error());
    }
    stream->data_left -= static_cast<std::uint32_t>(n);
    stream->received += n;
    return static_cast<int>(n);
  });
}

int ts_stream_finish(ts_stream* stream, struct ts_result* out) {
  if (const int r = lib::check_stream(stream, false); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&] {
    if (out != nullptr && !lib::result_sized(out)) {
      return fail(client, proto::Status::bad_request, "ts_stream_finish: set struct_size with TS_INIT");
    }
    if (stream->map != nullptr && !stream->at_end) {
      // A caller whose wait for the next block timed out gave up on the drive: the rest of the
      // file is not waited for (it could take as long as the drive's own timeouts), the
      // connection is closed, which stops the daemon's read. A drain that fails leaves the
      // daemon's frames unread: the connection is out of step, and closed too.
      if (stream->waited_out) {
        lib::abandon_read(stream);
        return fail(client, proto::Status::unreachable,
                    "the shared read was given up after its wait for a block timed out; the "
                    "connection is closed: connect again");
      }
      if (const int r = lib::drain_shared_read(stream); r != 0 && !stream->at_end) {
        lib::abandon_read(stream);
        return r;
      }
    }
    // Data the caller left unread is skipped: the stream's END follows it.
    std::vector<std::uint8_t> sink(64 * 1024);
    while (!stream->at_end && stream->by_fd) {
      // The daemon wrote the descriptor itself: what comes is END or STREAM_FAILED.
      auto frame = lib::receive_final(client, true);
      if (!frame || frame.value().header.type == proto::Type::data) {
        delete stream;
        client->stream = nullptr;
        return fail(client, frame ? client::Failure{proto::Status::unreachable,
                                                    "the daemon sent DATA to a passed descriptor's read"}
                                  : frame.error());
      }
      stream->at_end = true;
      stream->final_reply = std::move(frame.value().message);
    }
    while (!stream->at_end) {
      const long n = ts_stream_read(stream, sink.data(), sink.size());
      if (n < 0) {
        delete stream;
        client->stream = nullptr;
        return static_cast<int>(n);
      }
    }
    const auto reply = *stream->final_reply;
    if (const auto* end = std::get_if<proto::End>(&reply);
        end != nullptr && !stream->by_fd && end->bytes != stream->received) {
      lib::finish(stream, reply, out, "read");
      return fail(client, proto::Status::internal, "the daemon's END counts other bytes than arrived");
    }
    return lib::finish(stream, reply, out, "read");
  });
}

}  // extern "C"
