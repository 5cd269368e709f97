// A connection's send queue: replies and read-stream data go out in order, one send in flight;
// a send that fails means the peer is gone.
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include "server/connection.hpp"
#include "server/server.hpp"

namespace tapestream::server {

void Connection::reply(const proto::Message& message) {
  auto frame = proto::encode(message, _request_id);
  if (!frame) {
    spdlog::error("connection {}: cannot encode a reply: {}", _id, frame.error().message());
    return;
  }
  send_bytes(std::move(frame.value()));
}

void Connection::send_bytes(std::vector<std::uint8_t> bytes, std::function<void()> after) {
  OutItem item;
  item.owned = std::move(bytes);
  item.after = std::move(after);
  _out.push_back(std::move(item));
  flush();
}

void Connection::send_view(std::span<const std::uint8_t> view, std::function<void()> after) {
  OutItem item;
  item.view = view;
  item.after = std::move(after);
  _out.push_back(std::move(item));
  flush();
}

void Connection::flush() {
  if (_sending || _out.empty()) {
    if (!_sending && _out.empty() && _close_after_send) {
      ::shutdown(_fd.get(), SHUT_RDWR);
    }
    return;
  }
  const auto& item = _out.front();
  if (ring().prepare(uring::Send{_fd.get(), item.bytes().subspan(item.done)}, &_output)) {
    _sending = true;
  } else {
    _out.clear();
    _read_sending = false;
    peer_gone();
  }
}

void Connection::sent(int result) {
  _sending = false;
  if (result <= 0) {
    _out.clear();  // the peer is gone; what was queued for it goes nowhere
    _read_sending = false;
    peer_gone();
    settle_pending_stream();
    return;
  }
  auto& item = _out.front();
  item.done += static_cast<std::size_t>(result);
  if (item.done == item.bytes().size()) {
    auto after = std::move(item.after);
    _out.pop_front();
    if (after) {
      after();
    }
  }
  flush();
  settle_pending_stream();
}

}  // namespace tapestream::server
