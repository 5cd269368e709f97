// One io_uring instance, used by one thread. Requests are values, turned into SQEs in exactly
// one place (Ring::prepare); each completion goes to the Completion object whose address is
// its user_data, so no switch grows with the kinds of work in flight.
#pragma once

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <variant>

#include "common/result.hpp"

namespace tapestream::uring {

// Receives the CQE of a request it was named in. `res` is io_uring's: >= 0, or -errno.
class Completion {
 public:
  virtual void on_complete(const io_uring_cqe& cqe) = 0;

 protected:
  ~Completion() = default;
};

struct ReadFixed {
  int fd;
  std::span<std::uint8_t> into;  // must lie inside registered buffer `buffer_index`
  std::uint16_t buffer_index;
  std::uint64_t offset;
};
struct WriteFixed {
  int fd;
  std::span<const std::uint8_t> from;  // must lie inside registered buffer `buffer_index`
  std::uint16_t buffer_index;
  std::uint64_t offset;
};
// Plain write of a small, unregistered buffer (record headers); it must outlive the request.
struct Write {
  int fd;
  std::span<const std::uint8_t> from;
  std::uint64_t offset;
};
// Plain read into a small, unregistered buffer (the sg driver's completion headers).
struct Read {
  int fd;
  std::span<std::uint8_t> into;
  std::uint64_t offset;  // kCurrentPosition for character devices
};
inline constexpr std::uint64_t kCurrentPosition = ~std::uint64_t{0};
// A driver command (IORING_OP_URING_CMD, cmd_op 0) whose payload fills the SQE's command
// area; needs a ring with big entries. The CQE's big_cqe[0] carries the driver's second result.
struct UringCmd {
  int fd;
  std::span<const std::uint8_t> payload;  // at most uring_cmd_payload_size bytes, copied
  std::optional<std::uint16_t> fixed_buffer;  // registered buffer the payload's addresses use
};
inline constexpr std::size_t uring_cmd_payload_size = 80;
struct Fsync {
  int fd;
  bool data_only;
};
struct Nop {};
struct Timeout {
  // Referenced by the kernel until the timeout completes: it must outlive the request.
  __kernel_timespec* when;
};
// Cancels every request whose Completion is `target`.
struct Cancel {
  const Completion* target;
};
// A connection on a listening socket; the CQE's res is the new descriptor.
struct Accept {
  int fd;
};
// At most `into.size()` bytes from a socket; res 0 is end of stream.
struct Recv {
  int fd;
  std::span<std::uint8_t> into;
};
// A message from a socket with its ancillary data (descriptors passed with SCM_RIGHTS); the
// kernel writes msg_controllen and msg_flags back. `message` must outlive the request.
struct RecvMsg {
  int fd;
  msghdr* message;
};
// Completes when `fd` is ready for `events` (POLLIN, POLLOUT): for descriptors opened
// O_NONBLOCK, on which reads and writes through the ring answer -EAGAIN instead of waiting.
struct Poll {
  int fd;
  unsigned events;
};
// Bytes to a socket (MSG_NOSIGNAL: a vanished peer is an error, not a signal).
struct Send {
  int fd;
  std::span<const std::uint8_t> from;
};

// A message to a socket with ancillary data (a descriptor passed with SCM_RIGHTS), MSG_NOSIGNAL.
// `message` and what it points to must outlive the request.
struct SendMsg {
  int fd;
  const msghdr* message;
};

// Posts a completion on another ring (IORING_OP_MSG_RING): `deliver` receives it on the thread
// that turns that ring, with `value` as its res. The CQE of the request itself, on this ring,
// says whether it was posted (res < 0: it was not, and `deliver` hears nothing).
struct MsgRing {
  int ring_fd;
  Completion* deliver;
  std::uint32_t value;
};

using Request = std::variant<ReadFixed, WriteFixed, Write, Read, UringCmd, Fsync, Nop, Timeout,
                             Cancel, Accept, Recv, RecvMsg, Poll, Send, SendMsg, MsgRing>;

struct RingFeatures {
  bool big_entries = false;    // SQE128 | CQE32, needed for bsg URING_CMD
  bool single_issuer = false;  // SINGLE_ISSUER
  bool defer_taskrun = false;  // DEFER_TASKRUN
};

class Ring {
 public:
  struct Options {
    unsigned entries = 256;
    bool big_entries = true;
  };

  // Throws StartupError naming what the kernel lacks.
  static Ring create(const Options& options);

  Ring(Ring&&) noexcept;
  Ring& operator=(Ring&&) = delete;
  Ring(const Ring&) = delete;
  ~Ring();

  const RingFeatures& features() const { return _features; }
  // Whether the kernel knows an io_uring opcode (IORING_REGISTER_PROBE).
  bool supports(int opcode) const;
  // For registration calls (BufferPool); not for preparing SQEs.
  io_uring* raw() { return _ring.get(); }
  // The target of another ring's MsgRing.
  int fd() const { return _ring->ring_fd; }

  // Queues a request; `flags` are SQE flags such as IOSQE_IO_LINK (never IOSQE_ASYNC for tape
  // commands: it reorders them). Submits what is queued first if the SQ is full.
  Result<void> prepare(const Request& request, Completion* completion, std::uint8_t flags = 0);

  Result<unsigned> submit();

  // Submits, waits for at least one completion or the timeout, and dispatches every completion
  // that is ready. Returns how many it dispatched (0 on timeout).
  Result<unsigned> run_once(std::optional<std::chrono::nanoseconds> timeout = std::nullopt);

  // Requests queued or in flight that have not completed yet.
  std::size_t in_flight() const { return _in_flight; }

 private:
  Ring(std::unique_ptr<io_uring> ring, RingFeatures features);
  unsigned dispatch_ready();

  std::unique_ptr<io_uring> _ring;
  RingFeatures _features;
  std::size_t _in_flight = 0;
};

}  // namespace tapestream::uring
