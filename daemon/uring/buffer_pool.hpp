// The daemon's data buffers: one large mapping (huge pages where the system has them), locked
// in memory and registered with the ring once, split into `count` buffers of `size` bytes.
// Every data transfer, to the tape or the image file, uses these buffers by index, so the
// kernel pins and maps them once instead of on every command.
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
  static BufferPool create(Ring& ring, std::size_t count, std::size_t size);
  // Like create(), but when the memory lock limit (or the memory) refuses `count` buffers, it
  // takes as many as are allowed, down to `min_count`, so that a daemon whose limit was not
  // raised still serves its drives; requested_count() then differs from count() and
  // shortfall() says why. Throws as create() below `min_count`.
  static BufferPool create_fitting(Ring& ring, std::size_t count, std::size_t size,
                                   std::size_t min_count);

  BufferPool(BufferPool&& other) noexcept;
  BufferPool& operator=(BufferPool&&) = delete;
  BufferPool(const BufferPool&) = delete;
  ~BufferPool();

  std::size_t count() const { return _count; }
  std::size_t buffer_size() const { return _size; }
  std::span<std::uint8_t> buffer(std::size_t index) const {
    return {_base + index * _size, _size};
  }
  PageKind page_kind() const { return _page_kind; }
  std::size_t requested_count() const { return _requested; }
  const std::string& shortfall() const { return _shortfall; }

 private:
  BufferPool(Ring& ring, std::uint8_t* base, std::size_t mapped, std::size_t count,
             std::size_t size, PageKind kind);

  // The io_uring instance itself, which stays put when the Ring object is moved.
  io_uring* _uring;
  std::uint8_t* _base;
  std::size_t _mapped;
  std::size_t _count;
  std::size_t _size;
  PageKind _page_kind;
  std::size_t _requested;
  std::string _shortfall;  // the memory lock message that made the pool smaller
};

// The message for a memory lock failure, for `needed` bytes (exposed for tests).
std::string memlock_advice(std::size_t needed);

}  // namespace tapestream::uring
