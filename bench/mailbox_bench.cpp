// The mailbox between the control thread and a drive worker (docs/ARCHITECTURE.md, issue 10):
// which wakes the other ring faster and cheaper, an eventfd read kept armed on the receiving
// ring (with the message in a single-producer queue), or IORING_OP_MSG_RING (the message is
// the CQE the receiving ring gets)? Two threads, each with its own ring (SINGLE_ISSUER |
// DEFER_TASKRUN, as the workers will have), send a message back and forth N times; the
// program prints round trips per second and CPU microseconds per round trip (both threads).
//
//   mailbox_bench [ROUND_TRIPS]     (default 200000)
#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

constexpr unsigned ring_flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;

void die(const char* what, int error) {
  std::fprintf(stderr, "mailbox_bench: %s: %s\n", what, std::strerror(error));
  std::exit(1);
}

void init_ring(io_uring& ring) {
  io_uring_params params{};
  params.flags = ring_flags;
  if (const int r = io_uring_queue_init_params(64, &ring, &params); r < 0) {
    die("io_uring_queue_init_params", -r);
  }
}

io_uring_sqe* sqe_of(io_uring& ring) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (sqe == nullptr) {
    die("io_uring_get_sqe", EBUSY);
  }
  return sqe;
}

// One waits for a CQE and returns its user_data.
std::uint64_t wait_one(io_uring& ring) {
  io_uring_cqe* cqe = nullptr;
  if (const int r = io_uring_submit_and_wait(&ring, 1); r < 0) {
    die("io_uring_submit_and_wait", -r);
  }
  if (const int r = io_uring_peek_cqe(&ring, &cqe); r < 0) {
    die("io_uring_peek_cqe", -r);
  }
  if (cqe->res < 0) {
    die("completion", -cqe->res);
  }
  const auto data = cqe->user_data;
  io_uring_cqe_seen(&ring, cqe);
  return data;
}

// --- eventfd + a single-slot queue --------------------------------------------------------

struct EventfdSide {
  io_uring ring{};
  int event = -1;
  std::uint64_t counter = 0;              // the eventfd read lands here
  std::atomic<std::uint64_t> slot{0};     // the message; written by the other side
};

void arm(EventfdSide& side) {
  io_uring_prep_read(sqe_of(side.ring), side.event, &side.counter, sizeof side.counter, 0);
}

void post(EventfdSide& to, std::uint64_t message) {
  to.slot.store(message, std::memory_order_release);
  const std::uint64_t one = 1;
  if (::write(to.event, &one, sizeof one) != sizeof one) {
    die("write eventfd", errno);
  }
}

std::uint64_t take(EventfdSide& side) {
  (void)wait_one(side.ring);
  const auto message = side.slot.load(std::memory_order_acquire);
  arm(side);
  return message;
}

void run_eventfd(std::uint64_t round_trips) {
  EventfdSide control;
  EventfdSide worker;
  for (auto* side : {&control, &worker}) {
    side->event = ::eventfd(0, EFD_CLOEXEC);
    if (side->event < 0) {
      die("eventfd", errno);
    }
  }
  std::atomic<bool> worker_ready{false};
  std::thread thread{[&] {
    init_ring(worker.ring);  // SINGLE_ISSUER: the ring belongs to the thread that made it
    arm(worker);
    io_uring_submit(&worker.ring);
    worker_ready = true;
    for (std::uint64_t i = 0; i < round_trips; ++i) {
      post(control, take(worker) + 1);
    }
    io_uring_queue_exit(&worker.ring);
  }};
  while (!worker_ready) {
    std::this_thread::yield();
  }
  init_ring(control.ring);
  arm(control);
  for (std::uint64_t i = 0; i < round_trips; ++i) {
    post(worker, i);
    if (take(control) != i + 1) {
      die("eventfd: wrong reply", EPROTO);
    }
  }
  thread.join();
  io_uring_queue_exit(&control.ring);
  ::close(control.event);
  ::close(worker.event);
}

// --- IORING_OP_MSG_RING ------------------------------------------------------------------

void send_msg(io_uring& from, int to_ring_fd, std::uint64_t message) {
  auto* sqe = sqe_of(from);
  io_uring_prep_msg_ring(sqe, to_ring_fd, 0, message, 0);
  // The sender's own CQE for the MSG_RING is not wanted.
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  if (const int r = io_uring_submit(&from); r < 0) {
    die("io_uring_submit", -r);
  }
}

void run_msg_ring(std::uint64_t round_trips) {
  io_uring control{};
  std::atomic<int> worker_fd{-1};
  std::atomic<int> control_fd{-1};
  std::thread thread{[&] {
    io_uring worker{};
    init_ring(worker);
    worker_fd = worker.ring_fd;
    while (control_fd < 0) {
      std::this_thread::yield();
    }
    for (std::uint64_t i = 0; i < round_trips; ++i) {
      send_msg(worker, control_fd, wait_one(worker) + 1);
    }
    // Wait until the last reply is reaped before the ring goes away.
    while (control_fd >= 0) {
      std::this_thread::yield();
    }
    io_uring_queue_exit(&worker);
  }};
  init_ring(control);
  control_fd = control.ring_fd;
  while (worker_fd < 0) {
    std::this_thread::yield();
  }
  for (std::uint64_t i = 0; i < round_trips; ++i) {
    send_msg(control, worker_fd, i);
    if (wait_one(control) != i + 1) {
      die("msg_ring: wrong reply", EPROTO);
    }
  }
  control_fd = -1;
  thread.join();
  io_uring_queue_exit(&control);
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);  // every thread of the process
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

template <class Run>
void measure(const char* name, std::uint64_t round_trips, Run run) {
  const double cpu_before = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  run(round_trips);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_before;
  std::printf("%-9s %9.0f round trips/s  %6.2f us wall  %6.2f us cpu per round trip\n", name,
              static_cast<double>(round_trips) / wall, wall * 1e6 / static_cast<double>(round_trips),
              cpu * 1e6 / static_cast<double>(round_trips));
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t round_trips = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  if (round_trips == 0) {
    std::fprintf(stderr, "usage: mailbox_bench [ROUND_TRIPS]\n");
    return 64;
  }
  for (int round = 0; round < 3; ++round) {  // alternate, so that noise hits both alike
    measure("eventfd", round_trips, run_eventfd);
    measure("msg_ring", round_trips, run_msg_ring);
  }
  return 0;
}
