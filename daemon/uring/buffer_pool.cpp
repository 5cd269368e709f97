#include "uring/buffer_pool.hpp"

#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "base/startup_error.hpp"

namespace tapestream::uring {
namespace {

constexpr std::size_t huge_page = 2 * 1024 * 1024;

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

std::string mib(std::size_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

std::string limit_text(rlim_t limit) {
  return limit == RLIM_INFINITY ? std::string{"unlimited"} : mib(static_cast<std::size_t>(limit));
}

// A refusal that a smaller pool may not meet: the memory lock limit, or memory itself.
struct LockRefused : StartupError {
  using StartupError::StartupError;
};

// The buffers of `size` bytes this drive may take of what the memory lock limit still leaves
// (the process's locked memory counted), at most `fallback` (all of it when unlimited).
std::size_t buffers_within_limit(std::size_t size, std::size_t fallback) {
  rlimit limit{};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return fallback;
  }
  std::size_t locked_kib = 0;
  std::ifstream status{"/proc/self/status"};
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmLck:")) {
      locked_kib = std::strtoull(line.c_str() + 6, nullptr, 10);
    }
  }
  const std::size_t locked = locked_kib * 1024;
  const auto allowed = static_cast<std::size_t>(limit.rlim_cur);
  // A MiB stays for the rings (io_uring counts them against the limit too), and half of the
  // rest for the drives that come after this one: the first to start must not take it all.
  constexpr std::size_t rings = std::size_t{1} << 20;
  const std::size_t room = allowed > locked + rings ? (allowed - locked - rings) / 2 : 0;
  // The mapping is rounded up to a huge page.
  return std::min(fallback, room / huge_page * huge_page / size);
}

}  // namespace

std::string memlock_advice(std::size_t needed) {
  rlimit limit{};
  getrlimit(RLIMIT_MEMLOCK, &limit);
  return "cannot lock " + mib(needed) + " of I/O buffers in memory: RLIMIT_MEMLOCK is " +
         limit_text(limit.rlim_cur) + " (hard limit " + limit_text(limit.rlim_max) +
         ") and the process lacks CAP_IPC_LOCK. Raise the limit to at least " + mib(needed) +
         " (LimitMEMLOCK=" + std::to_string((needed >> 20) + 1) +
         "M or LimitMEMLOCK=infinity in tapestreamd.service, or `ulimit -l` for a manual run), "
         "grant CAP_IPC_LOCK (AmbientCapabilities=CAP_IPC_LOCK), or configure fewer or smaller "
         "buffers";
}

BufferPool BufferPool::create(Ring& ring, std::size_t count, std::size_t size,
                              std::size_t shared_slots) {
  if (count == 0 || size == 0 || count + shared_slots > UINT16_MAX || size > (std::size_t{1} << 30)) {
    throw StartupError{"buffer pool: need 1 to 65535 buffers of 1 byte to 1 GiB each"};
  }
  const std::size_t wanted = count * size;
  // Huge pages first: they need vm.nr_hugepages reserved, so this often fails.
  std::size_t mapped = round_up(wanted, huge_page);
  PageKind kind = PageKind::huge_pages;
  void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
  if (base == MAP_FAILED) {
    kind = PageKind::transparent_huge_pages;
    base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
      throw StartupError{"buffer pool: cannot map " + mib(mapped) + ": " + std::strerror(errno)};
    }
    if (madvise(base, mapped, MADV_HUGEPAGE) != 0) {
      kind = PageKind::normal_pages;  // THP disabled; the buffers still work
    }
  }
  if (mlock(base, mapped) != 0) {
    const int error = errno;
    munmap(base, mapped);
    if (error == ENOMEM || error == EPERM || error == EAGAIN) {
      throw LockRefused{memlock_advice(mapped)};
    }
    throw StartupError{std::string{"buffer pool: mlock: "} + std::strerror(error)};
  }
  auto* bytes = static_cast<std::uint8_t*>(base);
  std::vector<iovec> iovecs(count);
  for (std::size_t i = 0; i < count; ++i) {
    iovecs[i] = iovec{bytes + i * size, size};
  }
  int rc = -EINVAL;
  std::size_t shared_capacity = 0;
  if (shared_slots > 0) {
    // A sparse table (Linux 5.19) whose first entries are the pool's: the rest wait for a
    // stream's shared slots. A kernel without it serves every stream but shared ones.
    rc = io_uring_register_buffers_sparse(ring.raw(), static_cast<unsigned>(count + shared_slots));
    if (rc == 0) {
      rc = io_uring_register_buffers_update_tag(ring.raw(), 0, iovecs.data(), nullptr,
                                                static_cast<unsigned>(count));
      // The update stops where io_uring's own accounting of pinned pages (per user, against
      // RLIMIT_MEMLOCK) runs out and returns how many it took: a part is a refusal.
      if (rc == static_cast<int>(count)) {
        rc = 0;
        shared_capacity = shared_slots;
      } else {
        io_uring_unregister_buffers(ring.raw());
        if (rc >= 0) {
          rc = -ENOMEM;
        }
      }
    }
  }
  if (shared_capacity == 0 && rc != -ENOMEM) {
    rc = io_uring_register_buffers(ring.raw(), iovecs.data(), static_cast<unsigned>(count));
  }
  if (rc < 0) {
    munlock(base, mapped);
    munmap(base, mapped);
    if (rc == -ENOMEM || rc == -EPERM) {
      throw LockRefused{memlock_advice(mapped)};
    }
    throw StartupError{std::string{"buffer pool: io_uring_register_buffers: "} +
                       std::strerror(-rc)};
  }
  return BufferPool{ring, bytes, mapped, count, size, kind, shared_capacity};
}

BufferPool BufferPool::create_fitting(Ring& ring, std::size_t count, std::size_t size,
                                      std::size_t min_count, std::size_t shared_slots) {
  std::string refusal;
  std::size_t attempt = count;
  for (;;) {
    try {
      auto pool = create(ring, attempt, size, shared_slots);
      pool._requested = count;
      pool._shortfall = std::move(refusal);
      return pool;
    } catch (const LockRefused& e) {
      if (refusal.empty()) {
        refusal = e.what();  // the message for the size configured, not for a retry
      }
      if (attempt <= min_count) {
        throw StartupError{refusal};
      }
      // Straight to what the limit allows, then halving: other drives lock theirs at the same
      // time, and io_uring counts its pinned pages apart from mlock's.
      attempt = std::max(min_count, buffers_within_limit(size, attempt / 2));
    }
  }
}

BufferPool::BufferPool(Ring& ring, std::uint8_t* base, std::size_t mapped, std::size_t count,
                       std::size_t size, PageKind kind, std::size_t shared_capacity)
    : _uring{ring.raw()},
      _base{base},
      _mapped{mapped},
      _count{count},
      _size{size},
      _page_kind{kind},
      _shared_capacity{shared_capacity},
      _requested{count} {}

int BufferPool::attach_shared(std::uint8_t* base, std::size_t slots, std::size_t stride,
                              std::size_t size) {
  if (_shared_base != nullptr) {
    return -EBUSY;
  }
  if (slots == 0 || slots > _shared_capacity || size > stride) {
    return -EINVAL;
  }
  std::vector<iovec> iovecs(slots);
  for (std::size_t i = 0; i < slots; ++i) {
    iovecs[i] = iovec{base + i * stride, size};
  }
  const int rc = io_uring_register_buffers_update_tag(_uring, static_cast<unsigned>(_count),
                                                      iovecs.data(), nullptr,
                                                      static_cast<unsigned>(slots));
  if (rc < 0) {
    return rc;
  }
  if (static_cast<std::size_t>(rc) < slots) {
    // io_uring's accounting of pinned pages ran out part of the way: the slots it took go back,
    // or a WRITE from a slot past them would find no buffer.
    std::vector<iovec> empty(static_cast<std::size_t>(rc), iovec{nullptr, 0});
    (void)io_uring_register_buffers_update_tag(_uring, static_cast<unsigned>(_count),
                                               empty.data(), nullptr, static_cast<unsigned>(rc));
    return -ENOMEM;
  }
  _shared_base = base;
  _shared_slots = slots;
  _shared_stride = stride;
  _shared_size = size;
  return 0;
}

void BufferPool::detach_shared() {
  if (_shared_base == nullptr) {
    return;
  }
  // Empty entries (a null base) are what a sparse table starts with.
  std::vector<iovec> empty(_shared_slots, iovec{nullptr, 0});
  (void)io_uring_register_buffers_update_tag(_uring, static_cast<unsigned>(_count), empty.data(),
                                             nullptr, static_cast<unsigned>(_shared_slots));
  _shared_base = nullptr;
  _shared_slots = 0;
  _shared_stride = 0;
  _shared_size = 0;
}

BufferPool::BufferPool(BufferPool&& other) noexcept
    : _uring{other._uring},
      _base{other._base},
      _mapped{other._mapped},
      _count{other._count},
      _size{other._size},
      _page_kind{other._page_kind},
      _shared_capacity{other._shared_capacity},
      _shared_base{other._shared_base},
      _shared_slots{other._shared_slots},
      _shared_stride{other._shared_stride},
      _shared_size{other._shared_size},
      _requested{other._requested},
      _shortfall{std::move(other._shortfall)} {
  other._base = nullptr;
  other._shared_base = nullptr;
}

BufferPool::~BufferPool() {
  if (_base == nullptr) {
    return;
  }
  io_uring_unregister_buffers(_uring);
  munlock(_base, _mapped);
  munmap(_base, _mapped);
}

}  // namespace tapestream::uring
