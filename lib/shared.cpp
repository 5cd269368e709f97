// The C API's shared buffers (tapestream.h, PROTOCOL.md "Shared buffers"): a write whose
// producer fills the daemon's slots in place. The library keeps whose each slot is, so that a
// caller's mistake (a slot it does not hold, a bad length) is refused here, never sent.
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>

#include "handle.hpp"

ts_stream::~ts_stream() {
  if (map != nullptr) {
    ::munmap(map, map_size);
  }
}

namespace tapestream::lib {

// A shared-buffer stream's READY: the memfd that came with it, mapped. The daemon's numbers are
// checked against PROTOCOL.md's bounds and the memfd's own size and seals before anything is
// touched: a memfd that could still shrink would let its maker turn the caller's next touch of
// a slot into SIGBUS. A write's slots start as the producer's; a read's as the daemon's (its
// READY names no block size: a block fills at most its slot's stride).
int map_slots(ts_client* client, ts_stream& stream, const proto::Ready& ready, bool write) {
  auto memfd = client->connection.take_passed_fd();
  client->broken = true;  // until the slots are mapped: the daemon's stream cannot be used
  if (!memfd) {
    return fail(client, proto::Status::internal, "READY of a shared-buffer stream came without its memfd");
  }
  if (ready.slot_count == 0 || ready.slot_count > TS_MAX_SHARED_SLOTS || ready.slot_stride == 0 ||
      ready.slot_stride % 4096 != 0 ||
      (write && (ready.block_size == 0 || ready.block_size > ready.slot_stride))) {
    return fail(client, proto::Status::internal, "READY names slots outside the protocol's bounds");
  }
  struct stat st {};
  const auto size = std::uint64_t{ready.slot_count} * ready.slot_stride;
  const int seals = ::fcntl(memfd.get(), F_GET_SEALS);
  if (::fstat(memfd.get(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) < size ||
      seals < 0 || (seals & F_SEAL_SHRINK) == 0) {
    return fail(client, proto::Status::internal,
                "the shared-buffer memfd does not hold the slots READY names, or may shrink");
  }
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.get(), 0);
  if (map == MAP_FAILED) {
    return fail_errno(client, errno, "mapping the shared buffers");
  }
  stream.map = static_cast<std::uint8_t*>(map);
  stream.map_size = size;
  stream.stride = ready.slot_stride;
  stream.capacity = write ? ready.block_size : ready.slot_stride;
  stream.slots.assign(ready.slot_count, write ? ts_stream::Slot::free : ts_stream::Slot::submitted);
  for (std::uint32_t i = 0; write && i < ready.slot_count; ++i) {
    stream.free_slots.push_back(i);
  }
  client->broken = false;
  return 0;
}

Deadline deadline_after(int timeout_ms) {
  if (timeout_ms < 0) {
    return std::nullopt;
  }
  return std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
}

// Any event but a timeout lets the caller receive: an error or a hang-up is then its failure.
int wait_for_frame(ts_client* client, const Deadline& deadline) {
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            *deadline - std::chrono::steady_clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<long long>(left, 0, std::numeric_limits<int>::max()));
    }
    pollfd ready{client->connection.fd(), POLLIN, 0};
    const int n = ::poll(&ready, 1, wait_ms);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return lib::fail_errno(client, errno, "poll");
    }
    return n == 0 ? -ETIMEDOUT : 0;
  }
}

}  // namespace tapestream::lib

using namespace tapestream;
using lib::fail;
using lib::guarded;

namespace {

int check_shared(ts_stream* stream) {
  if (stream == nullptr || !stream->write || stream->map == nullptr) {
    return -EINVAL;
  }
  if (stream->client->broken && !stream->final_reply) {
    return fail(stream->client, proto::Status::unreachable, "the connection to tapestreamd is lost");
  }
  return 0;
}

// The daemon ended the stream early: its code (ts_stream_commit gives the account).
int ended(ts_stream* stream) {
  const auto failure = lib::unexpected(*stream->final_reply, "write");
  stream->client->last_error = failure.message;
  stream->client->daemon_message = failure.daemon_message;
  return lib::code(failure.status == proto::Status::unreachable ? proto::Status::out_of_sequence
                                                                : failure.status);
}

}  // namespace

extern "C" {

int ts_shared_acquire(ts_stream* stream, struct ts_slot* out, int timeout_ms) {
  if (const int r = check_shared(stream); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&] {
    if (!lib::sized(out)) {
      return fail(client, proto::Status::bad_request, "ts_shared_acquire: set struct_size with TS_INIT");
    }
    // Frames already here first (SLOT_FREE, PROGRESS, an early end), without waiting.
    if (const int r = lib::take_early_replies(stream); r != 0) {
      return r;
    }
    const auto deadline = lib::deadline_after(timeout_ms);  // PROGRESS meanwhile does not extend it
    while (stream->free_slots.empty()) {
      if (const int waited = lib::wait_for_frame(client, deadline); waited != 0) {
        return waited;
      }
      auto r = client->connection.receive();
      if (!r) {
        return fail(client, r.error());
      }
      if (const auto* p = std::get_if<proto::Progress>(&r.value().message)) {
        lib::report_progress(client, *p);
      } else if (const auto* f = std::get_if<proto::SlotFree>(&r.value().message)) {
        stream->slot_freed(f->slot);
      } else {
        stream->final_reply = std::move(r.value().message);
        return ended(stream);
      }
    }
    const auto slot = stream->free_slots.front();
    stream->free_slots.pop_front();
    stream->slots[slot] = ts_stream::Slot::acquired;
    ts_slot filled{};
    filled.struct_size = sizeof filled;
    filled.index = slot;
    filled.data = stream->map + std::size_t{slot} * stream->stride;
    filled.capacity = stream->capacity;
    lib::deliver(out, filled);
    return 0;
  });
}

int ts_shared_submit(ts_stream* stream, uint32_t index, size_t length) {
  if (const int r = check_shared(stream); r != 0) {
    return r;
  }
  ts_client* client = stream->client;
  return guarded(client, [&] {
    if (index >= stream->slots.size() || stream->slots[index] != ts_stream::Slot::acquired) {
      client->last_error = "ts_shared_submit: not a slot this caller acquired";
      return -EINVAL;
    }
    if (length == 0 || length > stream->capacity) {
      client->last_error = "ts_shared_submit: a slot holds 1 byte to its capacity";
      return -EINVAL;
    }
    if (const int r = lib::take_early_replies(stream); r != 0) {
      return r;
    }
    if (auto sent = client->connection.send(proto::Submit{index, static_cast<std::uint32_t>(length)});
        !sent) {
      return fail(client, sent.error());
    }
    stream->slots[index] = ts_stream::Slot::submitted;
    stream->sent += length;
    return 0;
  });
}

uint32_t ts_shared_slot_count(const ts_stream* stream) {
  return stream == nullptr ? 0 : static_cast<uint32_t>(stream->slots.size());
}

}  // extern "C"
