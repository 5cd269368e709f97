#include "uring/ring.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <type_traits>

#include "base/startup_error.hpp"

#if defined(__SANITIZE_THREAD__)
#define TAPESTREAM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TAPESTREAM_TSAN 1
#endif
#endif
#ifdef TAPESTREAM_TSAN
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
#endif

namespace tapestream::uring {
namespace {

// The kernel orders what a MsgRing's sender did before it against what its receiver does after
// the delivery (the CQ tail is written with release and read with acquire), which
// ThreadSanitizer cannot see; a TSan build is told here, on the delivered object's address.
void handing_over([[maybe_unused]] const void* delivered) {
#ifdef TAPESTREAM_TSAN
  __tsan_release(const_cast<void*>(delivered));
#endif
}
void taking_over([[maybe_unused]] const void* delivered) {
#ifdef TAPESTREAM_TSAN
  __tsan_acquire(const_cast<void*>(delivered));
#endif
}

std::error_code errno_code(int negative_errno) {
  return {-negative_errno, std::system_category()};
}

// Opcodes every part of the daemon relies on; the bsg transport checks URING_CMD itself.
struct RequiredOp {
  int opcode;
  const char* name;
};
constexpr RequiredOp required_ops[] = {
    {IORING_OP_READ_FIXED, "IORING_OP_READ_FIXED"}, {IORING_OP_WRITE_FIXED, "IORING_OP_WRITE_FIXED"},
    {IORING_OP_WRITE, "IORING_OP_WRITE"},           {IORING_OP_FSYNC, "IORING_OP_FSYNC"},
    {IORING_OP_NOP, "IORING_OP_NOP"},               {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT"},
    {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"}, {IORING_OP_ACCEPT, "IORING_OP_ACCEPT"},
    {IORING_OP_RECV, "IORING_OP_RECV"},             {IORING_OP_SEND, "IORING_OP_SEND"},
    {IORING_OP_MSG_RING, "IORING_OP_MSG_RING"},
};

// Marks the user_data of a completion posted by another ring: this ring never counted it as
// in flight. Completion objects are aligned, so the lowest bit of their address is free.
constexpr std::uintptr_t delivered_tag = 1;

void check_opcodes(io_uring* ring) {
  std::unique_ptr<io_uring_probe, decltype(&io_uring_free_probe)> probe{
      io_uring_get_probe_ring(ring), io_uring_free_probe};
  if (!probe) {
    throw StartupError{"io_uring: the kernel cannot report which operations it supports "
                       "(IORING_REGISTER_PROBE needs Linux 5.6 or later)"};
  }
  std::string missing;
  for (const auto& op : required_ops) {
    if (!io_uring_opcode_supported(probe.get(), op.opcode)) {
      missing += missing.empty() ? op.name : std::string{", "} + op.name;
    }
  }
  if (!missing.empty()) {
    throw StartupError{"io_uring: this kernel lacks " + missing};
  }
}

// The command area of a 128-byte SQE starts at `cmd` and runs to the end of the entry.
void prepare_uring_cmd(io_uring_sqe* sqe, const UringCmd& r) {
  std::memset(sqe, 0, 2 * sizeof(io_uring_sqe));
  sqe->opcode = IORING_OP_URING_CMD;
  sqe->fd = r.fd;
  sqe->cmd_op = 0;
  if (r.fixed_buffer) {
    sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
    sqe->buf_index = *r.fixed_buffer;
  }
  std::memcpy(sqe->cmd, r.payload.data(), std::min(r.payload.size(), uring_cmd_payload_size));
}

}  // namespace

bool Ring::supports(int opcode) const {
  std::unique_ptr<io_uring_probe, decltype(&io_uring_free_probe)> probe{
      io_uring_get_probe_ring(_ring.get()), io_uring_free_probe};
  return probe && io_uring_opcode_supported(probe.get(), opcode);
}

Ring Ring::create(const Options& options) {
  auto ring = std::make_unique<io_uring>();
  RingFeatures features;
  const unsigned big = options.big_entries ? (IORING_SETUP_SQE128 | IORING_SETUP_CQE32) : 0;
  // Newest flags first; each fallback drops what an older kernel rejects with EINVAL.
  const unsigned attempts[] = {
      big | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
      big | IORING_SETUP_SINGLE_ISSUER,
      big,
  };
  int rc = -EINVAL;
  for (unsigned flags : attempts) {
    rc = io_uring_queue_init(options.entries, ring.get(), flags);
    if (rc == 0) {
      features.big_entries = options.big_entries;
      features.single_issuer = (flags & IORING_SETUP_SINGLE_ISSUER) != 0;
      features.defer_taskrun = (flags & IORING_SETUP_DEFER_TASKRUN) != 0;
      break;
    }
    if (rc != -EINVAL) {
      break;
    }
  }
  if (rc == -EINVAL && options.big_entries) {
    throw StartupError{"io_uring: the kernel rejects IORING_SETUP_SQE128|IORING_SETUP_CQE32 "
                       "(needs Linux 5.19 or later)"};
  }
  if (rc == -ENOSYS) {
    throw StartupError{"io_uring: not available in this kernel (io_uring_setup: ENOSYS)"};
  }
  if (rc == -EPERM) {
    throw StartupError{"io_uring: not permitted (io_uring_setup: EPERM; check the "
                       "kernel.io_uring_disabled sysctl and the service's seccomp filter)"};
  }
  if (rc < 0) {
    throw StartupError{std::string{"io_uring: io_uring_queue_init failed: "} + std::strerror(-rc)};
  }
  try {
    check_opcodes(ring.get());
  } catch (...) {
    io_uring_queue_exit(ring.get());
    throw;
  }
  return Ring{std::move(ring), features};
}

Ring::Ring(std::unique_ptr<io_uring> ring, RingFeatures features)
    : _ring{std::move(ring)}, _features{features} {}

Ring::Ring(Ring&& other) noexcept
    : _ring{std::move(other._ring)}, _features{other._features}, _in_flight{other._in_flight} {
  other._in_flight = 0;
}

Ring::~Ring() {
  if (_ring) {
    io_uring_queue_exit(_ring.get());
  }
}

Result<void> Ring::prepare(const Request& request, Completion* completion, std::uint8_t flags) {
  if (const auto* cmd = std::get_if<UringCmd>(&request);
      cmd != nullptr && (!_features.big_entries || cmd->payload.size() > uring_cmd_payload_size)) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  io_uring_sqe* sqe = io_uring_get_sqe(_ring.get());
  if (sqe == nullptr) {
    BOOST_OUTCOME_TRY(submit());
    sqe = io_uring_get_sqe(_ring.get());
    if (sqe == nullptr) {
      return std::make_error_code(std::errc::resource_unavailable_try_again);
    }
  }
  std::visit(
      [sqe](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, ReadFixed>) {
          io_uring_prep_read_fixed(sqe, r.fd, r.into.data(), static_cast<unsigned>(r.into.size()),
                                   r.offset, r.buffer_index);
        } else if constexpr (std::is_same_v<T, WriteFixed>) {
          io_uring_prep_write_fixed(sqe, r.fd, r.from.data(), static_cast<unsigned>(r.from.size()),
                                    r.offset, r.buffer_index);
        } else if constexpr (std::is_same_v<T, Write>) {
          io_uring_prep_write(sqe, r.fd, r.from.data(), static_cast<unsigned>(r.from.size()),
                              r.offset);
        } else if constexpr (std::is_same_v<T, Read>) {
          io_uring_prep_read(sqe, r.fd, r.into.data(), static_cast<unsigned>(r.into.size()),
                             r.offset);
        } else if constexpr (std::is_same_v<T, UringCmd>) {
          prepare_uring_cmd(sqe, r);
        } else if constexpr (std::is_same_v<T, Fsync>) {
          io_uring_prep_fsync(sqe, r.fd, r.data_only ? IORING_FSYNC_DATASYNC : 0);
        } else if constexpr (std::is_same_v<T, Nop>) {
          io_uring_prep_nop(sqe);
        } else if constexpr (std::is_same_v<T, Timeout>) {
          io_uring_prep_timeout(sqe, r.when, 0, 0);
        } else if constexpr (std::is_same_v<T, Cancel>) {
          io_uring_prep_cancel64(sqe, reinterpret_cast<std::uintptr_t>(r.target),
                                 IORING_ASYNC_CANCEL_ALL);
        } else if constexpr (std::is_same_v<T, Accept>) {
          io_uring_prep_accept(sqe, r.fd, nullptr, nullptr, SOCK_CLOEXEC);
        } else if constexpr (std::is_same_v<T, Recv>) {
          io_uring_prep_recv(sqe, r.fd, r.into.data(), r.into.size(), 0);
        } else if constexpr (std::is_same_v<T, RecvMsg>) {
          io_uring_prep_recvmsg(sqe, r.fd, r.message, MSG_CMSG_CLOEXEC);
        } else if constexpr (std::is_same_v<T, Poll>) {
          io_uring_prep_poll_add(sqe, r.fd, r.events);
        } else if constexpr (std::is_same_v<T, Send>) {
          io_uring_prep_send(sqe, r.fd, r.from.data(), r.from.size(), MSG_NOSIGNAL);
        } else if constexpr (std::is_same_v<T, SendMsg>) {
          io_uring_prep_sendmsg(sqe, r.fd, r.message, MSG_NOSIGNAL);
        } else if constexpr (std::is_same_v<T, MsgRing>) {
          handing_over(r.deliver);
          io_uring_prep_msg_ring(sqe, r.ring_fd, r.value,
                                 reinterpret_cast<std::uintptr_t>(r.deliver) | delivered_tag, 0);
        }
      },
      request);
  sqe->flags = flags;
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uintptr_t>(completion));
  ++_in_flight;
  return outcome::success();
}

Result<unsigned> Ring::submit() {
  const int rc = io_uring_submit(_ring.get());
  if (rc < 0) {
    return errno_code(rc);
  }
  return static_cast<unsigned>(rc);
}

unsigned Ring::dispatch_ready() {
  unsigned count = 0;
  io_uring_cqe* cqe = nullptr;
  // One CQE at a time: a completion may queue new requests, which must not disturb the walk.
  while (io_uring_peek_cqe(_ring.get(), &cqe) == 0 && cqe != nullptr) {
    const auto data = static_cast<std::uintptr_t>(cqe->user_data);
    auto* completion = reinterpret_cast<Completion*>(data & ~delivered_tag);
    if ((data & delivered_tag) == 0) {
      --_in_flight;
    } else {
      taking_over(completion);
    }
    // The handler gets the ring's own CQE: with CQE32 its big_cqe words follow it there.
    if (completion != nullptr) {
      completion->on_complete(*cqe);
    }
    io_uring_cqe_seen(_ring.get(), cqe);
    ++count;
  }
  return count;
}

Result<unsigned> Ring::run_once(std::optional<std::chrono::nanoseconds> timeout) {
  io_uring_cqe* cqe = nullptr;
  int rc;
  if (timeout) {
    __kernel_timespec ts{};
    ts.tv_sec = static_cast<long long>(timeout->count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long long>(timeout->count() % 1'000'000'000);
    rc = io_uring_submit_and_wait_timeout(_ring.get(), &cqe, 1, &ts, nullptr);
  } else {
    rc = io_uring_submit_and_wait(_ring.get(), 1);
  }
  if (rc == -ETIME || rc == -EINTR) {
    return dispatch_ready();
  }
  if (rc < 0) {
    return errno_code(rc);
  }
  return dispatch_ready();
}

}  // namespace tapestream::uring
