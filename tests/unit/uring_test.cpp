// The ring and the registered buffer pool against the running kernel.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/startup_error.hpp"
#include "common/unique_fd.hpp"
#include "uring/buffer_pool.hpp"
#include "uring/ring.hpp"

using namespace tapestream;
using namespace std::chrono_literals;

namespace {

struct Recorder final : uring::Completion {
  int calls = 0;
  int result = 0;
  void on_complete(const io_uring_cqe& cqe) override {
    ++calls;
    result = cqe.res;
  }
};

void run_until(uring::Ring& ring, const Recorder& r, int calls = 1) {
  for (int i = 0; i < 100 && r.calls < calls; ++i) {
    ASSERT_TRUE(ring.run_once(100ms));
  }
}

TEST(Ring, BigEntriesAndNewestSetupFlags) {
  auto ring = uring::Ring::create({});
  EXPECT_TRUE(ring.features().big_entries);
  // Kernel 6.18 accepts both; an older kernel would fall back, not fail.
  EXPECT_TRUE(ring.features().single_issuer);
  EXPECT_TRUE(ring.features().defer_taskrun);
}

TEST(Ring, CompletionGoesToItsObject) {
  auto ring = uring::Ring::create({});
  Recorder a;
  Recorder b;
  ASSERT_TRUE(ring.prepare(uring::Nop{}, &a));
  ASSERT_TRUE(ring.prepare(uring::Nop{}, &b));
  EXPECT_EQ(ring.in_flight(), 2U);
  run_until(ring, b);
  run_until(ring, a);
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(b.calls, 1);
  EXPECT_EQ(ring.in_flight(), 0U);
}

// Each thread creates and turns its own ring (SINGLE_ISSUER binds a ring to its creator), as
// the drive workers do; a MsgRing from one is delivered on the other's thread, and neither
// ring counts the delivery as its own request.
TEST(Ring, MsgRingDeliversToAnotherThreadsRing) {
  std::atomic<int> target_fd{-1};
  std::atomic<bool> delivered{false};
  std::atomic<std::size_t> target_in_flight{99};
  Recorder delivery;
  std::thread target{[&] {
    auto ring = uring::Ring::create({});
    target_fd = ring.fd();
    run_until(ring, delivery);
    delivered = delivery.calls == 1 && delivery.result == 7;
    target_in_flight = ring.in_flight();
  }};
  while (target_fd.load() < 0) {
    std::this_thread::yield();
  }
  auto ring = uring::Ring::create({});
  Recorder sent;
  ASSERT_TRUE(ring.prepare(uring::MsgRing{target_fd.load(), &delivery, 7}, &sent));
  run_until(ring, sent);
  target.join();
  EXPECT_EQ(sent.result, 0);
  EXPECT_TRUE(delivered.load());
  EXPECT_EQ(target_in_flight.load(), 0U);
  EXPECT_EQ(ring.in_flight(), 0U);
}

TEST(Ring, MsgRingToAClosedRingFailsOnTheSender) {
  int closed_fd = -1;
  {
    auto gone = uring::Ring::create({});
    closed_fd = ::dup(gone.fd());
  }
  ::close(closed_fd);  // now no ring at all behind the number
  auto ring = uring::Ring::create({});
  Recorder never;
  Recorder sent;
  ASSERT_TRUE(ring.prepare(uring::MsgRing{closed_fd, &never, 1}, &sent));
  run_until(ring, sent);
  EXPECT_LT(sent.result, 0);
  EXPECT_EQ(never.calls, 0);
}

TEST(Ring, TimeoutFiresAndCancelStopsIt) {
  auto ring = uring::Ring::create({});
  Recorder fired;
  __kernel_timespec short_wait{0, 30'000'000};
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(ring.prepare(uring::Timeout{&short_wait}, &fired));
  run_until(ring, fired);
  EXPECT_EQ(fired.result, -ETIME);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 25ms);

  Recorder cancelled;
  __kernel_timespec long_wait{60, 0};
  ASSERT_TRUE(ring.prepare(uring::Timeout{&long_wait}, &cancelled));
  ASSERT_TRUE(ring.prepare(uring::Cancel{&cancelled}, nullptr));
  run_until(ring, cancelled);
  EXPECT_EQ(cancelled.result, -ECANCELED);
}

TEST(Ring, RunOnceReturnsOnTimeoutWithNothingToDo) {
  auto ring = uring::Ring::create({});
  const auto start = std::chrono::steady_clock::now();
  const auto n = ring.run_once(20ms);
  ASSERT_TRUE(n);
  EXPECT_EQ(n.value(), 0U);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 15ms);
}

TEST(BufferPool, RegisteredBuffersMoveFileDataBothWays) {
  auto ring = uring::Ring::create({});
  auto pool = uring::BufferPool::create(ring, 4, 1 << 20);
  EXPECT_EQ(pool.count(), 4U);
  EXPECT_EQ(pool.buffer_size(), 1U << 20);
  const auto path = std::filesystem::temp_directory_path() / ("tapestream-pool-" + std::to_string(getpid()));
  UniqueFd fd{::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600)};
  ASSERT_TRUE(fd);
  auto out = pool.buffer(1);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(i * 7);
  }
  Recorder wrote;
  ASSERT_TRUE(ring.prepare(uring::WriteFixed{fd.get(), out, 1, 4096}, &wrote));
  run_until(ring, wrote);
  EXPECT_EQ(wrote.result, 1 << 20);
  Recorder read;
  auto in = pool.buffer(3);
  ASSERT_TRUE(ring.prepare(uring::ReadFixed{fd.get(), in, 3, 4096}, &read));
  run_until(ring, read);
  EXPECT_EQ(read.result, 1 << 20);
  EXPECT_EQ(std::memcmp(in.data(), out.data(), out.size()), 0);
  std::filesystem::remove(path);
}

TEST(BufferPool, RejectsImpossibleSizes) {
  auto ring = uring::Ring::create({});
  EXPECT_THROW(uring::BufferPool::create(ring, 0, 4096), StartupError);
  EXPECT_THROW(uring::BufferPool::create(ring, 70000, 4096), StartupError);
}

// Regression guard for the message users see when the memory lock limit is too small: run as
// an unprivileged user (no CAP_IPC_LOCK) with an 8 MiB limit and ask for 64 MiB.
TEST(BufferPool, MemlockLimitErrorSaysWhatToDo) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to drop to an unprivileged user";
  }
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    const rlimit limit{8 << 20, 8 << 20};
    if (setrlimit(RLIMIT_MEMLOCK, &limit) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
      _exit(2);
    }
    std::string message = "no error";
    try {
      auto ring = uring::Ring::create({});
      auto pool = uring::BufferPool::create(ring, 4, 16 << 20);
    } catch (const StartupError& e) {
      message = e.what();
    }
    (void)!write(pipe_fds[1], message.data(), message.size());
    _exit(0);
  }
  close(pipe_fds[1]);
  std::string message;
  char chunk[512];
  ssize_t n;
  while ((n = read(pipe_fds[0], chunk, sizeof chunk)) > 0) {
    message.append(chunk, static_cast<std::size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(message.find("RLIMIT_MEMLOCK is 8 MiB"), std::string::npos) << message;
  EXPECT_NE(message.find("64 MiB"), std::string::npos) << message;
  EXPECT_NE(message.find("LimitMEMLOCK="), std::string::npos) << message;
  EXPECT_NE(message.find("CAP_IPC_LOCK"), std::string::npos) << message;
}

}  // namespace
