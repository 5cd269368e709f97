// The C API's shared-buffer reads (tapestream.h, PROTOCOL.md "Shared buffers"): the drive reads
// each block into a slot of the daemon's memfd, FILLED hands it over, RETURN gives it back. The
// library keeps whose each slot is: the caller's mistakes are refused here, never sent, and a
// daemon that names a slot it does not hold, or a length beyond a slot, is not believed.
#include <cerrno>

#include "handle.hpp"

using namespace tapestream;
using lib::fail;
using lib::guarded;

namespace {

int check_shared_read(ts_stream* stream) {
  if (stream == nullptr || stream->write || stream->map == nullptr) {
    return -EINVAL;
  }
  if (stream->client->broken && !stream->final_reply) {
    return fail(stream->client, proto::Status::unreachable, "the connection to tapestreamd is lost");
  }
  return 0;
}

// The next frame of the read that is not PROGRESS: FILLED (the slot becomes the caller's, 1),
// or the read's end (kept for ts_stream_finish: 0 for END, the failure's code otherwise).
// `timeout_ms` as poll(2); -ETIMEDOUT when nothing came.
int next_filled(ts_stream* stream, ts_block* block, int timeout_ms) {
  ts_client* client = stream->client;
  const auto deadline = lib::deadline_after(timeout_ms);  // PROGRESS meanwhile does not extend it
  for (;;) {
    if (const int waited = lib::wait_for_frame(client, deadline); waited != 0) {
      return waited;
    }
    auto r = client->connection.receive();
    if (!r) {
      return fail(client, r.error());
    }
    auto& message = r.value().message;
    if (const auto* p = std::get_if<proto::Progress>(&message)) {
      lib::report_progress(client, *p);
      continue;
    }
    if (const auto* f = std::get_if<proto::Filled>(&message)) {
      if (f->slot >= stream->slots.size() || stream->slots[f->slot] != ts_stream::Slot::submitted ||
          f->length == 0 || f->length > stream->stride) {
        client->broken = true;
        return fail(client, proto::Status::internal,
                    "the daemon filled slot " + std::to_string(f->slot) + " with " +
                        std::to_string(f->length) + " bytes, which it does not hold or which do not fit");
      }
      stream->slots[f->slot] = ts_stream::Slot::acquired;
      stream->received += f->length;
      if (block != nullptr) {
        ts_block filled{};
        filled.struct_size = sizeof filled;
        filled.index = f->slot;
        filled.data = stream->map + std::size_t{f->slot} * stream->stride;
        filled.length = f->length;
        lib::deliver(block, filled);
      }
      return 1;
    }
    stream->at_end = true;
    stream->final_reply = std::move(message);
    if (std::holds_alternative<proto::End>(*stream->final_reply)) {
      return 0;
    }
    const auto failure = lib::unexpected(*stream->final_reply, "read");
    client->last_error = failure.message;
    client->daemon_message = failure.daemon_message;
    return lib::code(failure.status);
  }
}

int return_slot(ts_stream* stream, std::uint32_t index) {
  stream->slots[index] = ts_stream::Slot::submitted;
  if (stream->at_end) {  // the daemon ignores it after the end: nothing to send
    return 0;
  }
  if (auto sent = stream->client->connection.send(proto::SlotReturn{index}); !sent) {
    return fail(stream->client, sent.error());
  }
  return 0;
}

}  // namespace

namespace tapestream::lib {

int drain_shared_read(ts_stream* stream) {
  for (std::uint32_t i = 0; i < stream->slots.size(); ++i) {
    if (stream->slots[i] == ts_stream::Slot::acquired) {
      if (const int r = return_slot(stream, i); r != 0) {
        return r;
      }
    }
  }
  while (!stream->at_end) {
    ts_block block{};
    block.struct_size = sizeof block;
    const int r = next_filled(stream, &block, -1);
    if (r == 1) {
      if (const int returned = return_slot(stream, block.index); returned != 0) {
        return returned;
      }
    } else if (r < 0 && !stream->at_end) {
      return r;
    }
  }
  return 0;
}

}  // namespace tapestream::lib

extern "C" {

int ts_shared_next(ts_stream* stream, struct ts_block* block, int timeout_ms) {
  if (const int r = check_shared_read(stream); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&]() -> int {
    if (!lib::sized(block)) {
      return fail(client, proto::Status::bad_request, "ts_shared_next: set struct_size with TS_INIT");
    }
    if (stream->at_end) {
      return std::holds_alternative<proto::End>(*stream->final_reply)
                 ? 0
                 : lib::code(lib::unexpected(*stream->final_reply, "read").status);
    }
    const int r = next_filled(stream, block, timeout_ms);
    stream->waited_out = r == -ETIMEDOUT;
    return r;
  });
}

int ts_shared_return(ts_stream* stream, uint32_t index) {
  if (const int r = check_shared_read(stream); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&] {
    if (index >= stream->slots.size() || stream->slots[index] != ts_stream::Slot::acquired) {
      client->last_error = "ts_shared_return: not a slot this caller holds";
      return -EINVAL;
    }
    return return_slot(stream, index);
  });
}

}  // extern "C"
