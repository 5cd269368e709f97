// The slots of one write stream with shared buffers: a fresh memfd (so no byte of another
// stream or client is ever in it), sized once and sealed against shrinking and further seals,
// mapped by the daemon and registered with the drive's ring for the stream's lifetime (its
// pool's spare table entries). The client maps the same memfd, fills a slot it owns, and hands
// it over with SUBMIT; whose each slot is right now is kept here, never taken from the client.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "uring/buffer_pool.hpp"

namespace tapestream::server {

class SharedSlots {
 public:
  // `capacity`: bytes of stream data a slot holds (the block size); each slot has room for a
  // block's CRC32C after it and starts on a page. Fails with a message (memfd, mapping, the
  // memory lock limit, a kernel without sparse buffer tables).
  static Result<std::unique_ptr<SharedSlots>, Failure> create(uring::BufferPool& pool,
                                                              std::uint32_t slots,
                                                              std::uint32_t capacity);
  // The slots of one stream of `capacity`-byte blocks: as many as the pool has buffers but
  // one, at most 16 MiB of them, and fewer (down to 2) when the memory lock limit leaves less.
  static Result<std::unique_ptr<SharedSlots>, Failure> for_stream(uring::BufferPool& pool,
                                                                  std::uint32_t capacity);
  SharedSlots(const SharedSlots&) = delete;
  SharedSlots& operator=(const SharedSlots&) = delete;
  ~SharedSlots();

  std::uint32_t count() const { return _count; }
  std::uint32_t stride() const { return _stride; }
  std::uint32_t capacity() const { return _capacity; }
  // The descriptor for the client (READY carries it); the daemon's mapping stays either way.
  UniqueFd take_fd() { return std::move(_fd); }
  // The pool index a WRITE of slot `slot` names.
  std::uint16_t buffer_of(std::uint32_t slot) const {
    return static_cast<std::uint16_t>(_pool.count() + slot);
  }
  std::uint32_t slot_of(std::uint16_t buffer) const {
    return static_cast<std::uint32_t>(buffer - _pool.count());
  }
  bool is_slot_buffer(std::uint16_t buffer) const {
    return buffer >= _pool.count() && buffer < _pool.count() + _count;
  }
  std::vector<std::uint16_t> buffers() const;

  // Why a SUBMIT of `slot` with `length` bytes is refused (nothing: it is taken, and the slot
  // is the daemon's until given back()).
  std::optional<std::string> take(std::uint32_t slot, std::uint32_t length);
  // The slot is the client's again.
  void give_back(std::uint32_t slot) { _clients[slot] = true; }
  // A read's slots start as the daemon's: it fills them, the client returns them.
  void hold_all() { _clients.assign(_count, false); }
  // Why a RETURN of `slot` is refused (nothing: it is the daemon's again).
  std::optional<std::string> take_back(std::uint32_t slot);
  // Slots the daemon holds (submitted, not yet freed).
  std::uint32_t held() const;

 private:
  SharedSlots(uring::BufferPool& pool, UniqueFd fd, std::uint8_t* mapping, std::size_t mapped,
              std::uint32_t count, std::uint32_t stride, std::uint32_t capacity);

  uring::BufferPool& _pool;
  UniqueFd _fd;
  std::uint8_t* _mapping;
  std::size_t _mapped;
  std::uint32_t _count;
  std::uint32_t _stride;
  std::uint32_t _capacity;
  std::vector<bool> _clients;  // true: the client's to fill
};

}  // namespace tapestream::server
