// The daemon's data buffers: one large mapping (huge pages where the system has them), locked
// in memory and registered with the ring once, split into `count` buffers of `size` bytes.
// Every data transfer, to the tape or the image file, uses these buffers by index, so the
// kernel pins and maps them once instead of on every command.
//
// Behind the pool's own buffers the ring's table keeps `shared_slots` empty (sparse) entries:
// a stream with shared buffers registers the slots of its client's memfd there when it begins
// and empties them when it ends (once per stream, never per command), so that WRITEs from the
// client's slots go out by index like any pool buffer's. Indices from count() on are those slots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "uring/ring.hpp"

namespace tapestream::uring {

class BufferPool {
 public:
  enum class PageKind { huge_pages, transparent_huge_pages, normal_pages };

  // Throws StartupError; when the memory lock limit is the problem, the message gives the
  // limit, what is needed, and how to raise it.
  // `shared_slots`: table entries kept for one stream's shared slots at a time (0: none; also
  // 0 when the kernel cannot register a sparse table, which shared_capacity() then says).
  static BufferPool create(Ring& ring, std::size_t count, std::size_t size,
                           std::size_t shared_slots = 0);
  // Like create(), but when the memory lock limit (or the memory) refuses `count` buffers, it
  // takes as many as are allowed, down to `min_count`, so that a daemon whose limit was not
  // raised still serves its drives; requested_count() then differs from count() and
  // shortfall() says why. Throws as create() below `min_count`.
  static BufferPool create_fitting(Ring& ring, std::size_t count, std::size_t size,
                                   std::size_t min_count, std::size_t shared_slots = 0);

  BufferPool(BufferPool&& other) noexcept;
  BufferPool& operator=(BufferPool&&) = delete;
  BufferPool(const BufferPool&) = delete;
  ~BufferPool();

  std::size_t count() const { return _count; }
  std::size_t buffer_size() const { return _size; }
  // A pool buffer (index < count()), or a shared slot while they are attached.
  std::span<std::uint8_t> buffer(std::size_t index) const {
    if (index >= _count) {
      if (_shared_base == nullptr || index - _count >= _shared_slots) {
        return {};  // no slot there (none attached, or past the stream's slots)
      }
      return {_shared_base + (index - _count) * _shared_stride, _shared_size};
    }
    return {_base + index * _size, _size};
  }
  std::size_t shared_capacity() const { return _shared_capacity; }
  // Registers `slots` slots of `size` bytes, `stride` apart from `base` (a mapping that must
  // stay until detach_shared()), at indices count() .. count() + slots - 1. -errno on failure
  // (ENOMEM: the memory lock limit; EBUSY: slots are attached already).
  int attach_shared(std::uint8_t* base, std::size_t slots, std::size_t stride, std::size_t size);
  // Empties those entries again; the kernel lets go of the pages once no request uses them.
  void detach_shared();
  bool shared_attached() const { return _shared_base != nullptr; }
  PageKind page_kind() const { return _page_kind; }
  std::size_t requested_count() const { return _requested; }
  const std::string& shortfall() const { return _shortfall; }

 private:
  BufferPool(Ring& ring, std::uint8_t* base, std::size_t mapped, std::size_t count,
             std::size_t size, PageKind kind, std::size_t shared_capacity);

  // The io_uring instance itself, which stays put when the Ring object is moved.
  io_uring* _uring;
  std::uint8_t* _base;
  std::size_t _mapped;
  std::size_t _count;
  std::size_t _size;
  PageKind _page_kind;
  std::size_t _shared_capacity;
  std::uint8_t* _shared_base = nullptr;
  std::size_t _shared_slots = 0;
  std::size_t _shared_stride = 0;
  std::size_t _shared_size = 0;
  std::size_t _requested;
  std::string _shortfall;  // the memory lock message that made the pool smaller
};

// The message for a memory lock failure, for `needed` bytes (exposed for tests).
std::string memlock_advice(std::size_t needed);

}  // namespace tapestream::uring
