// What a connection sends: replies and read-stream data go out in order, one send in flight on
// the ring of the home the connection is in. A send that fails means the peer is gone.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <vector>

#include "common/unique_fd.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class SendQueue {
 public:
  struct Handlers {
    std::function<void()> peer_gone;  // a send failed, or could not be queued: nothing more goes out
    std::function<void()> sent;       // after each completed send (its `after` has run)
  };

  SendQueue(int fd, uring::Ring& ring, Handlers handlers);
  SendQueue(const SendQueue&) = delete;
  SendQueue& operator=(const SendQueue&) = delete;

  // The connection moved to another home; only while idle().
  void use_ring(uring::Ring& ring) { _ring = &ring; }
  // Bytes the queue keeps; `after` runs once they are out.
  void push(std::vector<std::uint8_t> bytes, std::function<void()> after = {});
  // Bytes with a descriptor passed along (SCM_RIGHTS, with their first byte); the queue closes
  // its copy once they are out.
  void push_with_fd(std::vector<std::uint8_t> bytes, UniqueFd fd);
  // Bytes that must stay valid until `after` runs (a block in a registered buffer).
  void push_view(std::span<const std::uint8_t> view, std::function<void()> after);
  // Shuts the socket down once everything queued is out (the client is sent away).
  void close_when_sent();
  bool idle() const { return !_sending && _items.empty(); }
  bool sending() const { return _sending; }

 private:
  struct Item {
    std::vector<std::uint8_t> owned;
    std::span<const std::uint8_t> view;  // used when `owned` is empty
    std::function<void()> after;
    std::size_t done = 0;
    UniqueFd fd;  // goes with the first send of the item
    std::span<const std::uint8_t> bytes() const { return owned.empty() ? view : owned; }
  };
  struct Completion final : uring::Completion {
    SendQueue* queue = nullptr;
    void on_complete(const io_uring_cqe& cqe) override { queue->completed(cqe.res); }
  };
  void flush();
  void completed(int result);

  int _fd;
  uring::Ring* _ring;
  Handlers _handlers;
  Completion _completion;
  std::deque<Item> _items;
  bool _sending = false;
  bool _close_when_sent = false;
  // The message of a send that passes a descriptor, kept while it is in flight.
  msghdr _message{};
  iovec _iov{};
  alignas(cmsghdr) std::array<std::uint8_t, CMSG_SPACE(sizeof(int))> _control{};
};

}  // namespace tapestream::server
