// The C API's streams: a write or a read of one tape file, by fd passing or through the
// socket (tapestream.h): their beginning, a write's data and end (a read's: read_stream.cpp).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "handle.hpp"

namespace tapestream::lib {
namespace {

constexpr std::uint32_t write_flags_allowed =
    TS_WRITE_FIXED | TS_WRITE_NO_WAIT | TS_WRITE_APPEND | TS_WRITE_SHARED | TS_WRITE_NO_DIGEST |
    TS_WRITE_SPAN;

void fill_result(ts_result* caller, const proto::Message& reply, const ts_stream& stream) {
  if (caller == nullptr) {
    return;
  }
  ts_result filled;
  std::memset(&filled, 0, sizeof filled);
  auto* out = &filled;
  out->parts = stream.parts;
  auto digest = [out](const std::optional<proto::Digest>& d) {
    // All zeros is the protocol's "not known" (a stream written with TS_WRITE_NO_DIGEST).
    if (d && std::any_of(d->begin(), d->end(), [](std::uint8_t b) { return b != 0; })) {
      out->has_digest = 1;
      std::memcpy(out->sha256, d->data(), d->size());
    }
  };
  if (const auto* c = std::get_if<proto::Committed>(&reply)) {
    out->flags = c->flags;
    out->bytes = c->bytes;
    out->blocks = c->blocks;
    out->file_number = c->file_number;
    out->block_size = c->block_size;
    digest(c->digest);
  } else if (const auto* e = std::get_if<proto::End>(&reply)) {
    out->bytes = e->bytes;
    out->blocks = e->blocks;
    digest(e->digest);
  } else if (const auto* f = std::get_if<proto::StreamFailed>(&reply)) {
    out->status = static_cast<std::uint32_t>(f->status);
    out->flags = f->flags;
    out->bytes = f->bytes;
    out->blocks = f->blocks;
    out->file_number = f->file_number;
    out->stream_failed = 1;
  } else if (const auto* err = std::get_if<proto::Error>(&reply)) {
    out->status = static_cast<std::uint32_t>(err->status);
  }
  out->stream_bytes = stream.parts_bytes + out->bytes;
  lib::deliver(caller, filled);
}

}  // namespace

// A ts_result of the library's first version is enough (the rest is 1.1's).
bool result_sized(const ts_result* out) { return lib::sized(out, offsetof(ts_result, stream_failed)); }

client::Result<client::Received> receive_final(ts_client* client, bool leave_data) {
  for (;;) {
    BOOST_OUTCOME_TRY(r, client->connection.receive(leave_data));
    if (const auto* p = std::get_if<proto::Progress>(&r.message)) {
      report_progress(client, *p);
      continue;
    }
    if (const auto* f = std::get_if<proto::SlotFree>(&r.message)) {
      if (client->stream != nullptr) {
        client->stream->slot_freed(f->slot);
      }
      continue;
    }
    if (take_part(client, r.message)) {
      continue;
    }
    return r;
  }
}

namespace {

// Whether `fd` may go to the daemon as a stream's data (fd passing) in the stream's direction.
int passable_fd(ts_client* client, int fd, int wanted_mode) {
  if ((client->connection.features() & TS_FEATURE_FD_PASSING) == 0) {
    client->last_error = "the daemon did not grant fd passing";
    return -EOPNOTSUPP;
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) {
    return fail_errno(client, errno, "the data descriptor");
  }
  if ((flags & O_ACCMODE) != wanted_mode && (flags & O_ACCMODE) != O_RDWR) {
    return fail_errno(client, EBADF, "the data descriptor is not open for the stream's direction");
  }
  return 0;
}

// Sends the request (with the descriptor when `fd` >= 0) and waits for READY. The stream is
// the handle's from then on.
int begin(ts_client* client, const proto::Message& request, int fd, bool write, std::string drive,
          ts_stream** out) {
  auto& c = client->connection;
  auto sent = fd >= 0 ? c.send_with_fd(request, fd) : c.send(request);
  if (!sent) {
    return fail(client, sent.error());
  }
  auto ready = receive_final(client);
  if (!ready) {
    // An answer that does not decode (READY naming more slots than the protocol allows, say)
    // may still be the daemon's READY: its stream's frames would follow, out of step with
    // whatever this handle asks next.
    client->broken = true;
    return fail(client, ready.error());
  }
  if (!std::holds_alternative<proto::Ready>(ready.value().message)) {
    return fail(client, unexpected(ready.value().message, write ? "write" : "read"));
  }
  auto stream = std::make_unique<ts_stream>();
  const auto& accepted = std::get<proto::Ready>(ready.value().message);
  stream->ready_flags = accepted.flags;
  if ((accepted.flags & TS_READY_SHARED) != 0) {
    if (const int r = map_slots(client, *stream, accepted, write); r != 0) {
      return r;
    }
  }
  stream->client = client;
  stream->write = write;
  stream->by_fd = fd >= 0;
  stream->drive = std::move(drive);
  client->stream = stream.get();
  *out = stream.release();
  return 0;
}

// The request for the drive named `drive` (or the only one), then begin().
template <class Request>
int begin_on_drive(ts_client* client, const char* drive, Request request, int fd, bool write,
                   ts_stream** out) {
  auto name = pick_drive(client, drive);
  if (!name) {
    return fail(client, name.error());
  }
  request.drive = name.value();
  return begin(client, request, fd, write, name.value(), out);
}

}  // namespace

// Ends a stream: its final reply into `out`, the stream freed, the code returned.
int finish(ts_stream* stream, const proto::Message& reply, ts_result* out, const char* what) {
  std::unique_ptr<ts_stream> owned{stream};
  ts_client* client = stream->client;
  client->stream = nullptr;
  fill_result(out, reply, *stream);
  if (std::holds_alternative<proto::Committed>(reply) || std::holds_alternative<proto::End>(reply)) {
    return 0;
  }
  return fail(client, unexpected(reply, what));
}

int check_stream(ts_stream* stream, bool write) {
  if (stream == nullptr || stream->write != write) {
    return -EINVAL;
  }
  // A stream the daemon ended early still gives its account, though the handle is done for.
  if (stream->client->broken && !stream->final_reply) {
    return fail(stream->client, proto::Status::unreachable, "the connection to tapestreamd is lost");
  }
  return 0;
}

int take_early_replies(ts_stream* stream) {
  ts_client* client = stream->client;
  while (!stream->final_reply && client->connection.readable()) {
    auto r = client->connection.receive();
    if (!r) {
      return fail(client, r.error());
    }
    if (const auto* p = std::get_if<proto::Progress>(&r.value().message)) {
      report_progress(client, *p);
      continue;
    }
    if (const auto* f = std::get_if<proto::SlotFree>(&r.value().message)) {
      stream->slot_freed(f->slot);
      continue;
    }
    if (lib::take_part(client, r.value().message)) {
      continue;
    }
    stream->final_reply = std::move(r.value().message);
  }
  if (stream->final_reply) {
    // The daemon ended the stream while DATA may still be in flight: the connection is out of
    // step with it, so later requests need a new connection.
    client->broken = true;
    const auto failure = unexpected(*stream->final_reply, "write");
    client->last_error = failure.message;
    client->daemon_message = failure.daemon_message;
    return lib::code(failure.status == proto::Status::unreachable ? proto::Status::out_of_sequence
                                                                  : failure.status);
  }
  return 0;
}

}  // namespace tapestream::lib

using namespace tapestream;
using lib::fail;
using lib::guarded;

extern "C" {

int ts_write_begin(ts_client* client, const char* drive, const struct ts_write_options* options,
                   int fd, ts_stream** out) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    if (out == nullptr) {
      return fail(client, proto::Status::bad_request, "ts_write_begin: no place for the stream");
    }
    *out = nullptr;
    if (options != nullptr && !lib::sized(options, offsetof(ts_write_options, start_mark))) {
      return fail(client, proto::Status::bad_request, "ts_write_begin: set struct_size with TS_INIT");
    }
    proto::WriteRequest request;
    if (options != nullptr) {
      if ((options->flags & ~lib::write_flags_allowed) != 0) {
        return fail(client, proto::Status::bad_request,
                    "ts_write_begin: flags are TS_WRITE_FIXED, TS_WRITE_NO_WAIT, TS_WRITE_APPEND, "
                    "TS_WRITE_SHARED, TS_WRITE_NO_DIGEST, TS_WRITE_SPAN");
      }
      if ((options->flags & TS_WRITE_NO_DIGEST) != 0 &&
          (client->connection.features() & TS_FEATURE_NO_DIGEST) == 0) {
        client->last_error =
            "this tapestreamd does not know streams without digest (TS_WRITE_NO_DIGEST, "
            "tapestream write --no-digest): it is older than libtapestream 1.3; write with the "
            "digest, or update the daemon";
        return -EOPNOTSUPP;
      }
      if ((options->flags & TS_WRITE_SPAN) != 0) {
        if ((client->connection.features() & TS_FEATURE_SPAN) == 0) {
          client->last_error = "the daemon did not grant spanning volumes";
          return -EOPNOTSUPP;
        }
        if ((options->flags & TS_WRITE_SHARED) != 0 || fd >= 0) {
          return fail(client, proto::Status::bad_request,
                      "ts_write_begin: a spanning write takes its data through the socket: not "
                      "with shared buffers or a data descriptor");
        }
      }
      if ((options->flags & TS_WRITE_SHARED) != 0) {
        if ((client->connection.features() & TS_FEATURE_SHARED_BUFFERS) == 0) {
          client->last_error = "the daemon did not grant shared buffers";
          return -EOPNOTSUPP;
        }
        if (fd >= 0) {
          return fail(client, proto::Status::bad_request,
                      "ts_write_begin: shared buffers and a data descriptor exclude each other");
        }
      }
      const auto label = lib::text_argument(options->label, TS_MAX_LABEL);
      if (!label || !proto::valid_utf8(*label)) {
        return fail(client, proto::Status::bad_request, "the label is at most 255 bytes of UTF-8");
      }
      if (options->block_size > 0xFF'FFFF) {
        return fail(client, proto::Status::bad_request, "the block size is at most 16M-1");
      }
      request.flags = options->flags;
      request.block_size = options->block_size;
      request.expected_length = options->expected_length;
      request.label = *label;
      if (options->struct_size >= sizeof(ts_write_options) &&
          (options->start_mark != 0 || options->restart_mark != 0)) {
        if (options->start_mark > TS_MAX_MARK_PERCENT || options->restart_mark > TS_MAX_MARK_PERCENT) {
          return fail(client, proto::Status::bad_request, "the marks are percentages, 0 to 100");
        }
        if ((client->connection.features() & TS_FEATURE_TELEMETRY) == 0) {
          client->last_error = "the daemon does not take a stream's own marks";
          return -EOPNOTSUPP;
        }
        request.start_mark = static_cast<std::uint16_t>(options->start_mark);
        request.restart_mark = static_cast<std::uint16_t>(options->restart_mark);
      }
    }
    if (fd >= 0) {
      if (const int r = lib::passable_fd(client, fd, O_RDONLY); r != 0) {
        return r;
      }
      request.flags |= TS_WRITE_FD;
    }
    if (client->progress != nullptr) {
      request.flags |= TS_WRITE_PROGRESS;
    }
    const bool span = (request.flags & TS_WRITE_SPAN) != 0;
    const int begun = lib::begin_on_drive(client, drive, std::move(request), fd, true, out);
    if (begun == 0) {
      (*out)->span = span;
    }
    return begun;
  });
}

int ts_stream_write(ts_stream* stream, const void* data, size_t length) {
  if (const int r = lib::check_stream(stream, true); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&] {
    if (stream->by_fd) {
      client->last_error = "the daemon reads this stream's descriptor itself";
      return -EINVAL;
    }
    if (stream->map != nullptr) {
      client->last_error = "a shared-buffer stream takes its data by ts_shared_submit";
      return -EINVAL;
    }
    if (data == nullptr && length != 0) {
      return -EINVAL;
    }
    auto& c = client->connection;
    const auto chunk = std::min<std::size_t>(c.max_data() != 0 ? c.max_data() : TS_MAX_DATA, 1U << 20);
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    while (length > 0) {
      if (const int r = lib::take_early_replies(stream); r != 0) {
        return r;
      }
      const auto n = std::min(length, chunk);
      if (const int h = lib::send_body(stream, c.data_header(static_cast<std::uint32_t>(n))); h != 0) {
        return h;
      }
      if (const int w = lib::send_body(stream, {bytes, n}); w != 0) {
        return w;
      }
      stream->sent += n;
      bytes += n;
      length -= n;
    }
    return 0;
  });
}

int ts_stream_commit(ts_stream* stream, struct ts_result* out) {
  if (const int r = lib::check_stream(stream, true); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&] {
    if (out != nullptr && !lib::result_sized(out)) {
      return fail(client, proto::Status::bad_request, "ts_stream_commit: set struct_size with TS_INIT");
    }
    if (!stream->final_reply && !stream->by_fd) {
      // END may wait behind DATA while the daemon changes volumes: PART is heard meanwhile.
      auto end = client->connection.next_frame(proto::End{stream->sent, 0, {}});
      const int sent = end ? lib::send_body(stream, end.value()) : fail(client, end.error());
      if (sent != 0 && !stream->final_reply) {
        delete stream;
        client->stream = nullptr;
        return sent;
      }
    }
    if (!stream->final_reply) {
      auto reply = lib::receive_final(client);
      if (!reply) {
        delete stream;
        client->stream = nullptr;
        return fail(client, reply.error());
      }
      stream->final_reply = std::move(reply.value().message);
    }
    const auto reply = *stream->final_reply;
    return lib::finish(stream, reply, out, "write");
  });
}

int ts_stream_abort(ts_stream* stream, const char* reason) {
  return ts_stream_abort_result(stream, reason, nullptr);
}

int ts_stream_abort_result(ts_stream* stream, const char* reason, struct ts_result* out) {
  if (const int r = lib::check_stream(stream, true); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&] {
    if (out != nullptr && !lib::result_sized(out)) {
      return fail(client, proto::Status::bad_request, "ts_stream_abort_result: set struct_size with TS_INIT");
    }
    if (stream->final_reply) {
      const auto reply = *stream->final_reply;
      lib::finish(stream, reply, out, "write");
      return 0;  // already ended, not committed
    }
    auto why = lib::text_argument(reason, TS_MAX_MESSAGE);
    if (!why || !proto::valid_utf8(*why)) {
      why = "aborted by the client";
    }
    if (auto sent = client->connection.send(proto::Abort{*why}); !sent) {
      delete stream;
      client->stream = nullptr;
      return fail(client, sent.error());
    }
    auto reply = lib::receive_final(client);
    if (!reply) {
      delete stream;
      client->stream = nullptr;
      return fail(client, reply.error());
    }
    const auto message = std::move(reply.value().message);
    const int code = lib::finish(stream, message, out, "write");
    // ABORT's answer is STREAM_FAILED `incomplete`: what was asked for, so not a failure.
    const auto* f = std::get_if<proto::StreamFailed>(&message);
    return f != nullptr && f->status == proto::Status::incomplete ? 0 : code;
  });
}

int ts_read_begin(ts_client* client, const char* drive, uint64_t file_number, int fd,
                  ts_stream** out) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    if (out == nullptr) {
      return fail(client, proto::Status::bad_request, "ts_read_begin: no place for the stream");
    }
    *out = nullptr;
    proto::ReadRequest request;
    request.file_number = file_number;
    if (fd >= 0) {
      if (const int r = lib::passable_fd(client, fd, O_WRONLY); r != 0) {
        return r;
      }
      request.flags |= TS_READ_FD;
    }
    if (client->progress != nullptr) {
      request.flags |= TS_READ_PROGRESS;
    }
    return lib::begin_on_drive(client, drive, std::move(request), fd, false, out);
  });
}

int ts_read_shared_begin(ts_client* client, const char* drive, uint64_t file_number, ts_stream** out) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    if (out == nullptr) {
      return fail(client, proto::Status::bad_request, "ts_read_shared_begin: no place for the stream");
    }
    *out = nullptr;
    if ((client->connection.features() & TS_FEATURE_SHARED_BUFFERS) == 0) {
      client->last_error = "the daemon did not grant shared buffers";
      return -EOPNOTSUPP;
    }
    proto::ReadRequest request;
    request.file_number = file_number;
    request.flags = TS_READ_SHARED | (client->progress != nullptr ? TS_READ_PROGRESS : 0U);
    const int begun = lib::begin_on_drive(client, drive, std::move(request), -1, false, out);
    if (begun == 0 && (*out)->map == nullptr) {  // READY without its slots: nothing to read with
      lib::abandon_read(*out);
      *out = nullptr;
      return fail(client, proto::Status::internal, "the daemon's READY of a shared read came without its slots");
    }
    return begun;
  });
}

}  // extern "C"
