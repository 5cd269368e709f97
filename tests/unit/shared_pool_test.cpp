// The pool's spare table entries for shared buffers: a memfd's pages registered behind the pool's
// buffers move file data by index like a pool buffer, are emptied at the end of a stream, and
// take the next stream's memfd (registration per stream, never per command).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

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

}  // namespace
