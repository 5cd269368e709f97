// What the C API's opaque handles hold, and the one way a C API function fails: the message
// kept on the handle, the code returned. Internal: never installed.
#pragma once

#include <pthread.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <type_traits>
#include <string>
#include <vector>

#include "connection.hpp"
#include "tapestream/tapestream.h"

struct ts_client {
  explicit ts_client(tapestream::client::Connection c) : connection{std::move(c)} {}

  tapestream::client::Connection connection;
  std::string last_error;
  std::string daemon_message;  // of the last failure, when the daemon said it (ts_daemon_message)
  ts_progress_fn progress = nullptr;
  void* progress_context = nullptr;
  ts_part_fn part_callback = nullptr;
  void* part_context = nullptr;
  // The connection is lost or out of step (a failed stream left frames unread): every later
  // call fails at once rather than misreading the daemon's next frame.
  bool broken = false;
  ts_stream* stream = nullptr;  // at most one open stream per handle
};

struct ts_stream {
  ts_client* client = nullptr;
  bool write = false;
  bool by_fd = false;          // the daemon holds the data descriptor
  std::uint32_t ready_flags = 0;  // TS_READY_* of the daemon's READY
  std::string drive;
  std::uint64_t sent = 0;      // bytes of a socket write so far
  std::uint64_t received = 0;  // bytes of a socket read so far
  std::uint32_t data_left = 0; // of the DATA frame being read
  bool at_end = false;         // a read met its END (or the daemon ended the stream)
  bool waited_out = false;     // a shared read's last ts_shared_next timed out
  bool span = false;                 // a write with TS_WRITE_SPAN: PARTs may come
  std::uint32_t parts = 0;           // PARTs of a spanning write so far
  std::uint64_t parts_bytes = 0;     // the stream's bytes in them (the last PART's total)
  // The frame that ended the stream while the client still sent or read: COMMITTED, END,
  // STREAM_FAILED or ERROR.
  std::optional<tapestream::proto::Message> final_reply;

  // Shared buffers: the daemon's memfd, mapped; which slot is where. A write's slot is free
  // (the producer may acquire it), acquired (being filled) or submitted (the daemon's until
  // SLOT_FREE); a read's is submitted (the daemon's: it reads a block into it) or acquired (a
  // block FILLED it; the caller's until ts_shared_return).
  enum class Slot : std::uint8_t { free, acquired, submitted };
  std::uint8_t* map = nullptr;
  std::size_t map_size = 0;
  std::uint32_t stride = 0;
  std::uint32_t capacity = 0;
  std::vector<Slot> slots;
  std::deque<std::uint32_t> free_slots;
  ts_stream() = default;
  ts_stream(const ts_stream&) = delete;
  ts_stream& operator=(const ts_stream&) = delete;
  ~ts_stream();
  // A SLOT_FREE for a slot the daemon held: the producer's again (anything else is ignored).
  void slot_freed(std::uint32_t slot) {
    if (slot < slots.size() && slots[slot] == Slot::submitted) {
      slots[slot] = Slot::free;
      free_slots.push_back(slot);
    }
  }
};

namespace tapestream::lib {

// TS_ERROR(status) for the codec's Status.
constexpr int code(proto::Status status) { return -(TS_ERROR_BASE + static_cast<int>(status)); }

// Records the failure on the handle and returns its code: TS_ERROR(status), or -errno for a
// system call's refusal. A lost connection marks the handle broken.
int fail(ts_client* client, const client::Failure& failure);
int fail(ts_client* client, proto::Status status, std::string message);
int fail_errno(ts_client* client, int error, std::string message);

// The checks every call on a handle starts with: not NULL, not broken, no stream open.
// Returns 0 or the code to return.
int usable(ts_client* client);

// A C string argument: NULL becomes "", anything longer than `limit` bytes is refused.
std::optional<std::string> text_argument(const char* text, std::size_t limit);

// The drive `wanted` names, or with NULL or "" the only drive the daemon serves.
client::Result<std::string> pick_drive(ts_client* client, const char* wanted);

// The Failure a reply other than the expected one stands for.
client::Failure unexpected(const proto::Message& reply, const char* what);

// Copies `text` into a fixed C array, always NUL-terminated, cut at the array's size.
template <std::size_t N>
void copy_text(char (&into)[N], const std::string& text) {
  const auto n = text.size() < N - 1 ? text.size() : N - 1;
  text.copy(into, n);
  into[n] = '\0';
}

// Whether a caller's struct holds at least the fields of the library's first version
// (`minimum`): a program built against an older header passes a smaller struct_size and gets
// only what that holds (deliver), one built against a newer one a larger size.
template <class T>
bool sized(const T* s, std::size_t minimum = sizeof(T)) {
  return s != nullptr && s->struct_size >= minimum;
}

// Copies what the library filled into the caller's struct, no further than its struct_size.
template <class T>
void deliver(T* out, const T& filled) {
  const auto size = out->struct_size;
  std::memcpy(static_cast<void*>(out), &filled, size < sizeof(T) ? size : sizeof(T));
  out->struct_size = size;
}

// What a progress callback is given: its ts_progress first, so that ts_progress_telemetry
// finds the rest from the pointer the callback has.
struct ProgressReport {
  ts_progress progress;
  bool has_telemetry;
  ts_telemetry telemetry;
};
static_assert(std::is_standard_layout_v<ProgressReport>);
void report_progress(ts_client* client, const proto::Progress& p);

// A PART of the handle's spanning write: counted on its stream and given to the part callback
// (span.cpp). Returns false for any other frame, which the caller handles.
bool take_part(ts_client* client, const proto::Message& message);

// The next frame that is not PROGRESS (which goes to the callback).
client::Result<client::Received> receive_final(ts_client* client, bool leave_data = false);

// When a wait of `timeout_ms` (as poll(2); negative: none) begun now ends, and the wait until a
// frame can be read or that time has come: 0, -ETIMEDOUT, or the failure's code (shared.cpp).
using Deadline = std::optional<std::chrono::steady_clock::time_point>;
Deadline deadline_after(int timeout_ms);
int wait_for_frame(ts_client* client, const Deadline& deadline);
// A shared-buffer stream's READY: the memfd that came with it mapped into `stream` (shared.cpp).
int map_slots(ts_client* client, ts_stream& stream, const proto::Ready& ready, bool write);
// A shared-buffer read's end from ts_stream_finish: every slot the caller holds given back,
// every block still coming given back as it comes, until END or the failure (shared_read.cpp).
int drain_shared_read(ts_stream* stream);

// A library must not let SIGPIPE kill the program that called it when the reader of what it
// writes has gone (a pipe; a socket spliced into, which has no MSG_NOSIGNAL): the signal is
// blocked in this thread for `call`, and one `call` raised is taken back before the mask is
// restored, so that the caller sees EPIPE and nothing else. errno is `call`'s.
template <class Call>
auto without_sigpipe(Call&& call) {
  sigset_t pipe_only;
  sigset_t before;
  sigset_t pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigpending(&pending);
  const bool already_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &before);
  auto result = call();
  const int saved = errno;
  sigpending(&pending);
  if (!already_pending && sigismember(&pending, SIGPIPE) == 1) {
    const timespec now{};
    while (sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  errno = saved;
  return result;
}

// Takes the frames waiting on the socket during a socket write: PROGRESS, or the daemon ending
// the stream early (kept for ts_stream_commit, and its code returned).
int take_early_replies(ts_stream* stream);
// While the socket takes no more of a DATA body, the daemon reads nothing: it may be changing
// volumes, for as long as the next cartridge takes to come. Waits until it takes more, taking
// the daemon's frames meanwhile (PART, PROGRESS reach the caller then, not after the next part
// began): 0, or the code of a frame that ended the stream or of a lost connection.
int wait_for_room(ts_stream* stream);
// A DATA frame's header or body (or END) onto the socket, waiting as wait_for_room does: 0 or
// a code.
int send_body(ts_stream* stream, std::span<const std::uint8_t> bytes);
// Stream helpers of stream.cpp that read_stream.cpp shares: the ts_result a caller passed is
// large enough; the stream's handle and direction are right and its connection usable; the
// stream ended with `reply` (into `out`, the stream freed, the code returned).
bool result_sized(const ts_result* out);
int check_stream(ts_stream* stream, bool write);
int finish(ts_stream* stream, const proto::Message& reply, ts_result* out, const char* what);

// A read whose data nobody wants any more (its output failed): the connection is shut down,
// which stops the daemon's read at once instead of draining the rest of the file from the tape,
// and the handle is done for.
void abandon_read(ts_stream* stream);

// Runs `body`, turning any exception (a bad_alloc, a bug) into a code: nothing is thrown
// across the C boundary.
template <class F>
int guarded(ts_client* client, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    if (client != nullptr) {
      client->broken = true;
    }
    return -ENOMEM;
  } catch (...) {
    if (client != nullptr) {
      client->broken = true;
      client->last_error = "internal error in libtapestream";
    }
    return code(proto::Status::internal);
  }
}

}  // namespace tapestream::lib
