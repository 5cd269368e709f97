#include "server/shared_slots.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace tapestream::server {
namespace {

constexpr std::uint32_t page = 4096;
// A protected block's CRC32C goes after its data, in the slot (block_protection.hpp).
constexpr std::uint32_t crc_room = 4;

Failure system_failure(int error, const std::string& what) {
  return Failure{{error, std::generic_category()}, what + ": " + std::strerror(error)};
}

// Bytes this process has locked or pinned already (the pools, other streams' slots): what the
// memory lock limit must hold besides the new slots.
std::size_t locked_now() {
  std::size_t kib = 0;
  std::ifstream status{"/proc/self/status"};
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmLck:") || line.starts_with("VmPin:")) {
      kib += std::strtoull(line.c_str() + 6, nullptr, 10);
    }
  }
  return kib * 1024;
}

std::string mib_text(std::size_t bytes) { return std::to_string((bytes + (1U << 20) - 1) >> 20) + " MiB"; }

}  // namespace

Result<std::unique_ptr<SharedSlots>, Failure> SharedSlots::create(uring::BufferPool& pool,
                                                                  std::uint32_t slots,
                                                                  std::uint32_t capacity) {
  if (pool.shared_capacity() == 0) {
    return Failure{std::make_error_code(std::errc::operation_not_supported),
                   "shared buffers need a kernel that registers sparse buffer tables (Linux 5.19)"};
  }
  slots = std::min<std::uint32_t>(slots, static_cast<std::uint32_t>(pool.shared_capacity()));
  if (slots == 0 || capacity == 0 || capacity > (1U << 30)) {
    return Failure{std::make_error_code(std::errc::invalid_argument), "no room for shared slots"};
  }
  const std::uint32_t stride = (capacity + crc_room + page - 1) / page * page;
  const std::size_t size = std::size_t{slots} * stride;
  UniqueFd fd{::memfd_create("tapestream-slots", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
  if (!fd) {
    return system_failure(errno, "memfd_create");
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    return system_failure(errno, "sizing the shared slots");
  }
  // The client can neither shrink the file under the daemon's mapping (SIGBUS) nor grow it,
  // nor lift these seals: F_SEAL_SEAL comes last.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return system_failure(errno, "sealing the shared slots");
  }
  void* mapping = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (mapping == MAP_FAILED) {
    return system_failure(errno, "mapping the shared slots");
  }
  auto* bytes = static_cast<std::uint8_t*>(mapping);
  const int rc = pool.attach_shared(bytes, slots, stride, stride);
  if (rc == -ENOMEM) {
    // The operator needs the count and the limit that would do, not just "ENOMEM".
    const auto locked = locked_now();
    ::munmap(mapping, size);
    return Failure{std::make_error_code(std::errc::not_enough_memory),
                   std::to_string(slots) + " shared slots of " + std::to_string(stride) + " bytes (" +
                       mib_text(size) + ") beside the " +
                       mib_text(locked) + " the daemon holds locked already: " +
                       uring::memlock_advice(locked + size)};
  }
  if (rc < 0) {
    ::munmap(mapping, size);
    return system_failure(-rc, "registering the shared slots");
  }
  return std::unique_ptr<SharedSlots>{
      new SharedSlots{pool, std::move(fd), bytes, size, slots, stride, capacity}};
}

Result<std::unique_ptr<SharedSlots>, Failure> SharedSlots::for_stream(uring::BufferPool& pool,
                                                                      std::uint32_t capacity) {
  // As many slots as the stream would have pool buffers (the same depth of queue to the drive),
  // but no more than 16 MiB of them, for reads as for writes. A slot table as large as the
  // 256 MiB default pool cost more than the SHA-256 it was meant to spare (PERFORMANCE.md,
  // shared buffers): every stream's fresh memfd zeroed and faulted in on both sides, a producer
  // writing far beyond its caches, and 256 MiB more pinned beside the pools, which the
  // service's LimitMEMLOCK does not hold. A producer that makes its data in place rides out
  // little that a deeper queue would.
  constexpr std::uint64_t slot_bytes = std::uint64_t{16} << 20;
  const std::uint64_t by_bytes =
      std::max<std::uint64_t>(2, slot_bytes / std::max<std::uint32_t>(capacity, 1));
  auto wanted = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(pool.count() > 1 ? pool.count() - 1 : 1, by_bytes));
  auto slots = create(pool, wanted, capacity);
  // Under a limit the pools nearly fill, a shallower queue is better than no shared stream.
  while (!slots && slots.error().code == std::errc::not_enough_memory && wanted > 2) {
    wanted = std::max<std::uint32_t>(2, wanted / 2);
    slots = create(pool, wanted, capacity);
  }
  return slots;
}

SharedSlots::SharedSlots(uring::BufferPool& pool, UniqueFd fd, std::uint8_t* mapping,
                         std::size_t mapped, std::uint32_t count, std::uint32_t stride,
                         std::uint32_t capacity)
    : _pool{pool},
      _fd{std::move(fd)},
      _mapping{mapping},
      _mapped{mapped},
      _count{count},
      _stride{stride},
      _capacity{capacity},
      _clients(count, true) {}

SharedSlots::~SharedSlots() {
  _pool.detach_shared();
  ::munmap(_mapping, _mapped);
}

std::vector<std::uint16_t> SharedSlots::buffers() const {
  std::vector<std::uint16_t> out;
  for (std::uint32_t i = 0; i < _count; ++i) {
    out.push_back(buffer_of(i));
  }
  return out;
}

std::optional<std::string> SharedSlots::take(std::uint32_t slot, std::uint32_t length) {
  if (slot >= _count) {
    return "SUBMIT names slot " + std::to_string(slot) + " of " + std::to_string(_count);
  }
  if (!_clients[slot]) {
    return "SUBMIT names slot " + std::to_string(slot) +
           ", which the daemon holds (submitted and not yet freed)";
  }
  if (length == 0 || length > _capacity) {
    return "SUBMIT of " + std::to_string(length) + " bytes in slot " + std::to_string(slot) +
           ": a slot holds 1 to " + std::to_string(_capacity) + " bytes";
  }
  _clients[slot] = false;
  return std::nullopt;
}

std::optional<std::string> SharedSlots::take_back(std::uint32_t slot) {
  if (slot >= _count) {
    return "RETURN names slot " + std::to_string(slot) + " of " + std::to_string(_count);
  }
  if (!_clients[slot]) {
    return "RETURN names slot " + std::to_string(slot) + ", which the client does not hold";
  }
  _clients[slot] = false;
  return std::nullopt;
}

std::uint32_t SharedSlots::held() const {
  return static_cast<std::uint32_t>(std::count(_clients.begin(), _clients.end(), false));
}

}  // namespace tapestream::server
