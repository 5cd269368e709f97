#include "server/frame_reader.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tapestream::server {
namespace {

constexpr std::size_t discard_chunk = 64 * 1024;

}  // namespace

FrameReader::FrameReader(int fd, uring::Ring& ring, std::uint32_t max_data, Handlers handlers)
    : _fd{fd}, _ring{&ring}, _max_data{max_data}, _handlers{std::move(handlers)} {
  _input.reader = this;
  _hangup.reader = this;
}

bool FrameReader::issue(const uring::Request& request, uring::Completion* completion) {
  return static_cast<bool>(_ring->prepare(request, completion));
}

void FrameReader::read_more() {
  if (closed() || _in_flight == InFlight::receive) {
    return;
  }
  const auto want = _handlers.want();
  if (want == Want::nothing) {
    return;
  }
  if (want == Want::hangup) {
    if (_in_flight == InFlight::nothing && issue(uring::Poll{_fd, POLLRDHUP}, &_hangup)) {
      _in_flight = InFlight::hangup_poll;
    }
    return;
  }
  if (_in_flight == InFlight::hangup_poll) {  // its cancellation comes back through hung_up(),
    (void)issue(uring::Cancel{&_hangup}, nullptr);  // which reads on
    return;
  }
  uring::Request request = uring::Nop{};
  switch (_phase) {
    case Phase::header:
    case Phase::body: {
      const auto into = _phase == Phase::header ? std::span{_header_bytes}.subspan(_have)
                                                : std::span{_body}.subspan(_have);
      _iov = {into.data(), into.size()};
      _message = {};
      _message.msg_iov = &_iov;
      _message.msg_iovlen = 1;
      _message.msg_control = _control.data();
      _message.msg_controllen = _control.size();
      request = uring::RecvMsg{_fd, &_message};
      break;
    }
    case Phase::payload: {
      auto* target = _handlers.payload_target();
      if (target == nullptr || !target->accepting()) {
        _phase = Phase::discard;
        read_more();
        return;
      }
      const auto space = target->space();
      if (space.empty()) {
        // Every buffer is full: the client waits on the socket until there is room.
        if (target->no_room_for_long() && _in_flight == InFlight::nothing &&
            issue(uring::Poll{_fd, POLLRDHUP}, &_hangup)) {
          _in_flight = InFlight::hangup_poll;
        }
        return;
      }
      // Straight into the registered buffer: the socket's bytes land where WRITE takes them.
      request = uring::ReadFixed{_fd, space.first(std::min<std::size_t>(space.size(), _payload_left)),
                                 target->space_buffer(), 0};
      break;
    }
    case Phase::discard:
      _discard.resize(discard_chunk);
      request = uring::Recv{_fd, std::span{_discard}.first(
                                     std::min<std::size_t>(discard_chunk, _payload_left))};
      break;
    case Phase::closed:
      return;
  }
  if (issue(request, &_input)) {
    _in_flight = InFlight::receive;
    _receiving = _phase;
  } else {
    _handlers.gone();
  }
}

void FrameReader::close() {
  if (_in_flight == InFlight::hangup_poll) {
    (void)issue(uring::Cancel{&_hangup}, nullptr);
  }
  _phase = Phase::closed;
}

void FrameReader::withdraw() {
  if (_in_flight == InFlight::hangup_poll ||
      (_in_flight == InFlight::receive &&
       (_receiving == Phase::header || _receiving == Phase::body))) {
    (void)issue(uring::Cancel{_in_flight == InFlight::receive
                                  ? static_cast<uring::Completion*>(&_input)
                                  : &_hangup},
                nullptr);
  }
}

void FrameReader::hung_up(int result) {
  _in_flight = InFlight::nothing;
  // A client that shut only its sending side counts as gone, as the end of its input does
  // when frames are read (PROTOCOL.md, "Transport").
  if (result > 0) {  // POLLRDHUP or POLLHUP: the client closed its end
    _handlers.gone();
    return;
  }
  read_more();  // cancelled because frames are wanted again, or because the connection moves
}

void FrameReader::completed(int result) {
  _in_flight = InFlight::nothing;
  // The kernel writes msg_controllen back only for a recvmsg that succeeded: after a failed
  // one, the control buffer still holds an earlier frame's descriptor numbers.
  if ((_receiving == Phase::header || _receiving == Phase::body) && result > 0) {
    take_passed_fds();
  }
  _message.msg_controllen = 0;
  const bool withdrawn = result == -ECANCELED && _handlers.want() == Want::nothing;
  if (!closed() && !withdrawn) {  // a withdrawn receive reads on in the connection's new home
    if (result <= 0) {
      _handlers.gone();
    } else {
      bytes_in(static_cast<std::size_t>(result));
    }
  }
  _handlers.received();
}

void FrameReader::bytes_in(std::size_t bytes) {
  switch (_phase) {
    case Phase::header:
      _have += bytes;
      if (_have == _header_bytes.size()) {
        header_in();
      }
      break;
    case Phase::body:
      _have += bytes;
      if (_have == _body.size()) {
        body_in();
      }
      break;
    case Phase::payload:
    case Phase::discard: {
      const bool into_target = _phase == Phase::payload;
      // Accounted before the target hears of the bytes: taking them may end its stream, which
      // asks for input again (read_more) from inside this call.
      _payload_left -= static_cast<std::uint32_t>(bytes);
      if (_payload_left == 0) {
        _phase = Phase::header;
      }
      if (auto* target = _handlers.payload_target(); into_target && target != nullptr) {
        target->took(bytes);
      }
      break;
    }
    case Phase::closed:
      return;
  }
  read_more();
}

void FrameReader::header_in() {
  _have = 0;
  auto header = proto::decode_header(_header_bytes, proto::Receiver::daemon, _max_data);
  if (!header) {
    _handlers.malformed(static_cast<proto::Status>(header.error().value()),
                        "malformed frame header: " + header.error().message());
    return;
  }
  _header = header.value();
  if (!_handlers.header(_header)) {
    return;
  }
  if (_header.type == proto::Type::data) {
    _passed_fd.reset();  // nothing claims a descriptor sent with DATA
    _payload_left = _header.length;
    _phase = Phase::payload;
    return;
  }
  _body.assign(_header.length, 0);
  if (_header.length == 0) {
    body_in();
    return;
  }
  _phase = Phase::body;
}

void FrameReader::body_in() {
  auto message = proto::decode_body(_header, _body);
  _phase = Phase::header;
  _have = 0;
  if (!message) {
    _passed_fd.reset();
    _handlers.malformed(static_cast<proto::Status>(message.error().value()),
                        "the body of the message does not decode: " + message.error().message());
    return;
  }
  _handlers.frame(_header.request_id, message.value(), std::move(_passed_fd));
}

// Keeps the first descriptor that came with the frame being read and closes any other: a
// client cannot make the daemon hold descriptors.
void FrameReader::take_passed_fds() {
  if (_message.msg_controllen == 0) {
    return;
  }
  for (auto* c = CMSG_FIRSTHDR(&_message); c != nullptr; c = CMSG_NXTHDR(&_message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    const auto count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      UniqueFd owned{fd};
      if (!_passed_fd) {
        _passed_fd = std::move(owned);
      }
    }
  }
  _message.msg_controllen = 0;
}

}  // namespace tapestream::server
