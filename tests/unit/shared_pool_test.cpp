// The pool's spare table entries for shared buffers: a memfd's pages registered behind the pool's
// buffers move file data by index like a pool buffer, are emptied at the end of a stream, and
// take the next stream's memfd (registration per stream, never per command).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>

#include <gtest/gtest.h>

#include "common/unique_fd.hpp"
#include "uring/buffer_pool.hpp"
#include "uring/ring.hpp"

using namespace tapestream;

namespace {

struct Recorder final : uring::Completion {
  int result = 0;
  bool done = false;
  void on_complete(const io_uring_cqe& cqe) override {
    result = cqe.res;
    done = true;
  }
};

void run_until(uring::Ring& ring, const Recorder& r) {
  while (!r.done) {
    ASSERT_TRUE(ring.run_once());
  }
}

struct Memfd {
  UniqueFd fd;
  std::uint8_t* map = nullptr;
  std::size_t size = 0;
  explicit Memfd(std::size_t bytes) : fd{::memfd_create("shared-pool-test", MFD_CLOEXEC)}, size{bytes} {
    EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(bytes)), 0);
    map = static_cast<std::uint8_t*>(::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
  }
  ~Memfd() { ::munmap(map, size); }
};

TEST(SharedSlots, AttachWriteDetachAndAttachAgain) {
  auto ring = uring::Ring::create({});
  auto pool = uring::BufferPool::create(ring, 2, 64 * 1024, 4);
  if (pool.shared_capacity() == 0) {
    GTEST_SKIP() << "this kernel registers no sparse buffer tables";
  }
  EXPECT_EQ(pool.shared_capacity(), 4U);
  const auto path = std::filesystem::temp_directory_path() / ("tapestream-shared-" + std::to_string(getpid()));
  UniqueFd file{::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600)};
  ASSERT_TRUE(file);
  for (int stream = 0; stream < 2; ++stream) {
    Memfd slots{4 * 8192};
    ASSERT_EQ(pool.attach_shared(slots.map, 4, 8192, 8192), 0);
    EXPECT_EQ(pool.attach_shared(slots.map, 4, 8192, 8192), -EBUSY) << "one stream's slots at a time";
    const auto index = static_cast<std::uint16_t>(pool.count() + 3);
    auto slot = pool.buffer(index);
    ASSERT_EQ(slot.data(), slots.map + 3 * 8192);
    std::memset(slot.data(), 'a' + stream, 8192);
    Recorder wrote;
    ASSERT_TRUE(ring.prepare(uring::WriteFixed{file.get(), slot.first(8192), index, 0}, &wrote));
    run_until(ring, wrote);
    EXPECT_EQ(wrote.result, 8192) << "stream " << stream;
    char back[8192];
    ASSERT_EQ(::pread(file.get(), back, sizeof back, 0), 8192);
    EXPECT_EQ(back[0], 'a' + stream);
    EXPECT_EQ(back[8191], 'a' + stream);
    pool.detach_shared();
    // An emptied entry moves nothing: a stale index cannot reach the old stream's pages.
    Recorder stale;
    ASSERT_TRUE(ring.prepare(uring::WriteFixed{file.get(), slot.first(8192), index, 0}, &stale));
    run_until(ring, stale);
    EXPECT_LT(stale.result, 0);
  }
  EXPECT_EQ(pool.attach_shared(nullptr, 5, 8192, 8192), -EINVAL) << "more slots than kept";
  std::filesystem::remove(path);
}

// What the child below found: 0 as expected, else the step that went wrong.
int attach_beyond_the_limit() {
  // io_uring accounts pinned pages per user against RLIMIT_MEMLOCK only for a ring made
  // without CAP_IPC_LOCK, and per user: the child becomes a user of its own (which drops every
  // capability), so that no other test's pinned pages count against its limit.
  const rlimit limit{4U << 20, 4U << 20};
  if (setrlimit(RLIMIT_MEMLOCK, &limit) != 0) {
    return errno == EPERM ? 77 : 12;  // a hard limit below 4 MiB cannot be met
  }
  constexpr uid_t nobody_else = 3999123;
  if (getuid() != 0) {
    return 77;  // no user to become; the limit check needs a user's own account
  }
  if (setresgid(nobody_else, nobody_else, nobody_else) != 0 ||
      setresuid(nobody_else, nobody_else, nobody_else) != 0) {
    return 13;
  }
  auto ring = uring::Ring::create({});
  auto pool = uring::BufferPool::create(ring, 2, 64 * 1024, 16);
  if (pool.shared_capacity() == 0) {
    return 77;
  }
  // 16 MiB of slots where about 2 MiB is left: io_uring takes the first few and says how many.
  Memfd big{16U << 20};
  if (pool.attach_shared(big.map, 16, 1U << 20, 1U << 20) != -ENOMEM) {
    return 1;
  }
  if (pool.shared_attached()) {
    return 2;
  }
  // The part it took went back: the first slot's entry moves nothing.
  const auto path = std::filesystem::temp_directory_path() / ("tapestream-limit-" + std::to_string(getpid()));
  UniqueFd file{::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600)};
  Recorder stale;
  const auto index = static_cast<std::uint16_t>(pool.count());
  if (!file || !ring.prepare(uring::WriteFixed{file.get(), std::span{big.map, 4096}, index, 0}, &stale)) {
    return 3;
  }
  while (!stale.done) {
    if (!ring.run_once()) {
      return 4;
    }
  }
  std::filesystem::remove(path);
  return stale.result < 0 ? 0 : 5;
}

// A part of the slots registered is a refusal (-ENOMEM), with the part given back: taken for
// the whole, a WRITE from a slot past it found no buffer (the pool test under prlimit).
TEST(SharedSlots, SlotsBeyondTheMemoryLockLimitAreRefusedWhole) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int result = 99;
    try {
      result = attach_beyond_the_limit();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
    }
    _exit(result);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    GTEST_SKIP() << "no sparse buffer tables, not root, or a hard memory lock limit below 4 MiB";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the step that failed (see attach_beyond_the_limit)";
}

}  // namespace
