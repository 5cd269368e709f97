#include "server/send_queue.hpp"

#include <sys/socket.h>

#include <cstring>

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

void SendQueue::push_with_fd(std::vector<std::uint8_t> bytes, UniqueFd fd) {
  Item item;
  item.owned = std::move(bytes);
  item.fd = std::move(fd);
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
  const auto rest = item.bytes().subspan(item.done);
  bool queued = false;
  if (item.fd) {
    _iov = iovec{const_cast<std::uint8_t*>(rest.data()), rest.size()};
    _message = msghdr{};
    _message.msg_iov = &_iov;
    _message.msg_iovlen = 1;
    _message.msg_control = _control.data();
    _message.msg_controllen = _control.size();
    auto* header = CMSG_FIRSTHDR(&_message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    const int passed = item.fd.get();
    std::memcpy(CMSG_DATA(header), &passed, sizeof passed);
    queued = static_cast<bool>(_ring->prepare(uring::SendMsg{_fd, &_message}, &_completion));
  } else {
    queued = static_cast<bool>(_ring->prepare(uring::Send{_fd, rest}, &_completion));
  }
  if (queued) {
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
  item.fd.reset();  // it went with the first byte
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
