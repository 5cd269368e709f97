#include "server/send_queue.hpp"

#include <sys/socket.h>

namespace tapestream::server {

SendQueue::SendQueue(int fd, uring::Ring& ring, Handlers handlers)
    : _fd{fd}, _ring{&ring}, _handlers{std::move(handlers)} {
  _completion.queue = this;
}

void SendQueue::push(std::vector<std::uint8_t> bytes, std::function<void()> after) {
  Item item;
  item.owned = std::move(bytes);
  item.after = std::move(after);
  _items.push_back(std::move(item));
  flush();
}

void SendQueue::push_view(std::span<const std::uint8_t> view, std::function<void()> after) {
  Item item;
  item.view = view;
  item.after = std::move(after);
  _items.push_back(std::move(item));
  flush();
}

void SendQueue::close_when_sent() {
  _close_when_sent = true;
  flush();
}

void SendQueue::flush() {
  if (_sending || _items.empty()) {
    if (!_sending && _items.empty() && _close_when_sent) {
      ::shutdown(_fd, SHUT_RDWR);
    }
    return;
  }
  const auto& item = _items.front();
  if (_ring->prepare(uring::Send{_fd, item.bytes().subspan(item.done)}, &_completion)) {
    _sending = true;
  } else {
    _items.clear();
    _handlers.peer_gone();
  }
}

void SendQueue::completed(int result) {
  _sending = false;
  if (result <= 0) {
    _items.clear();  // the peer is gone; what was queued for it goes nowhere
    _handlers.peer_gone();
    _handlers.sent();
    return;
  }
  auto& item = _items.front();
  item.done += static_cast<std::size_t>(result);
  if (item.done == item.bytes().size()) {
    auto after = std::move(item.after);
    _items.pop_front();
    if (after) {
      after();
    }
  }
  flush();
  _handlers.sent();
}

}  // namespace tapestream::server
