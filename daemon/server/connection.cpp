#include "server/connection.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/drive_slot.hpp"
#include "server/home.hpp"
#include "server/server.hpp"

namespace tapestream::server {
namespace {

constexpr std::size_t discard_chunk = 64 * 1024;

}  // namespace

Connection::Connection(Home& home, UniqueFd fd, std::uint64_t id, std::uint32_t uid)
    : _server{home.server()},
      _home{&home},
      _fd{std::move(fd)},
      _id{id},
      _uid{uid},
      _send{_fd.get(), home.ring(),
            {.peer_gone =
                 [this] {
                   _read_sending = false;
                   peer_gone();
                 },
             .sent = [this] { settle_pending_stream(); }}} {
  _input.connection = this;
  _hangup.connection = this;
  _arrival.connection = this;
}

Connection::~Connection() {
  if (_status_wait) {
    _status_wait->slot->drive().withdraw_state_waiter(_status_wait->ticket);
  }
}

void Connection::start() { read_more(); }

void Connection::collect() {
  _ended_writes.clear();
  _ended_reads.clear();
  std::erase_if(_ended_sources, [](const auto& s) { return s->idle(); });
  std::erase_if(_ended_sinks, [](const auto& s) { return s->idle(); });
}

bool Connection::fd_data_idle() const {
  auto idle = [](const auto& list) {
    return std::all_of(list.begin(), list.end(), [](const auto& s) { return s->idle(); });
  };
  return (!_source || _source->idle()) && (!_sink || _sink->idle()) && idle(_ended_sources) &&
         idle(_ended_sinks);
}

std::optional<UniqueFd> Connection::claim_passed_fd(bool wanted, bool for_reading) {
  if (!wanted) {
    return UniqueFd{};
  }
  if (!_fd_passing) {
    refuse(proto::Status::bad_request, "fd passing was not agreed in HELLO");
    return std::nullopt;
  }
  if (!_passed_fd) {
    refuse(proto::Status::bad_request,
           "the request asks for fd passing but no descriptor came with it (SCM_RIGHTS)");
    return std::nullopt;
  }
  if (auto checked = check_passed_fd(_passed_fd.get(), for_reading); !checked) {
    refuse(proto::Status::bad_request, checked.error().what());
    return std::nullopt;
  }
  return std::move(_passed_fd);
}

bool Connection::finished() const {
  return _input_closed && !_reading && !_watching_hangup && !_send.sending() && !_write && !_read &&
         _control_in_flight == 0 && !_lease.waiting() && fd_data_idle() && !_pending_outcome &&
         !_status_wait;
}

// --- input -----------------------------------------------------------------------------------

// Frames are read while no request runs, and during a write's data phase (DATA, END, ABORT);
// otherwise the next request stays in the socket until the running one has answered.
bool Connection::expecting_frames() const {
  return !_request_active || (_write && _stream_ready && !_end_received && !_parked);
}

void Connection::read_more() {
  if (_reading || _input_closed || _waiting_for_space || _destination != nullptr) {
    return;
  }
  if (!expecting_frames()) {
    if (!_watching_hangup &&
        ring().prepare(uring::Poll{_fd.get(), POLLRDHUP}, &_hangup)) {
      _watching_hangup = true;
    }
    return;
  }
  if (_watching_hangup) {  // its cancellation comes back through hung_up(), which reads on
    (void)ring().prepare(uring::Cancel{&_hangup}, nullptr);
    return;
  }
  uring::Request request = uring::Nop{};
  switch (_in) {
    case In::header:
    case In::body: {
      const auto into = _in == In::header ? std::span{_header_bytes}.subspan(_have)
                                          : std::span{_body}.subspan(_have);
      _iov = {into.data(), into.size()};
      _message = {};
      _message.msg_iov = &_iov;
      _message.msg_iovlen = 1;
      _message.msg_control = _control.data();
      _message.msg_controllen = _control.size();
      request = uring::RecvMsg{_fd.get(), &_message};
      break;
    }
    case In::payload: {
      if (!_write || _write->closed()) {
        _in = In::discard;
        read_more();
        return;
      }
      const auto space = _write->writable();
      if (space.empty()) {
        _waiting_for_space = true;  // every buffer is full: the client waits on the socket
        return;
      }
      // Straight into the registered buffer: the socket's bytes land where WRITE takes them.
      request = uring::ReadFixed{_fd.get(), space.first(std::min<std::size_t>(space.size(), _payload_left)),
                                 _write->writable_buffer(), 0};
      break;
    }
    case In::discard:
      _discard.resize(discard_chunk);
      request = uring::Recv{_fd.get(), std::span{_discard}.first(
                                           std::min<std::size_t>(discard_chunk, _payload_left))};
      break;
  }
  if (ring().prepare(request, &_input)) {
    _reading = true;
  } else {
    peer_gone();
  }
}

void Connection::hung_up(int result) {
  _watching_hangup = false;
  if (result > 0) {  // POLLRDHUP or POLLHUP: the client closed its end
    peer_gone();
    return;
  }
  read_more();  // cancelled because frames are wanted again
}

void Connection::received(int result) {
  frame_bytes_in(result);
  settle_pending_stream();
}

void Connection::frame_bytes_in(int result) {
  _reading = false;
  // The kernel writes msg_controllen back only for a recvmsg that succeeded: after a failed
  // one, the control buffer still holds an earlier frame's descriptor numbers.
  if ((_in == In::header || _in == In::body) && result > 0) {
    take_passed_fds();
  }
  _message.msg_controllen = 0;
  if (result == -ECANCELED && _destination != nullptr) {
    return;  // withdrawn because the connection moves; it reads on in its new home
  }
  if (_input_closed) {
    return;
  }
  if (result <= 0) {
    peer_gone();
    return;
  }
  const auto n = static_cast<std::size_t>(result);
  switch (_in) {
    case In::header:
      _have += n;
      if (_have == _header_bytes.size()) {
        frame_in();
      }
      break;
    case In::body:
      _have += n;
      if (_have == _body.size()) {
        auto message = proto::decode_body(_header, _body);
        _in = In::header;
        _have = 0;
        if (!message) {
          refuse(static_cast<proto::Status>(message.error().value()),
                 "the body of the message does not decode: " + message.error().message(), true);
          return;
        }
        dispatch(message.value());
      }
      break;
    case In::payload:
      _write->commit(n);
      _payload_left -= static_cast<std::uint32_t>(n);
      if (_payload_left == 0) {
        _in = In::header;
      }
      break;
    case In::discard:
      _payload_left -= static_cast<std::uint32_t>(n);
      if (_payload_left == 0) {
        _in = In::header;
      }
      break;
  }
  read_more();
}

// Keeps the first descriptor that came with the frame being read (a WRITE or READ with fd
// passing claims it) and closes any other: a client cannot make the daemon hold descriptors.
void Connection::take_passed_fds() {
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

// Buffers of the stream still in use by an I/O: a read from the socket or a passed descriptor
// into them, or a write (or send) out of them.
bool Connection::filling_buffers() const {
  return (_reading && _in == In::payload) || (_source && !_source->idle()) ||
         (_sink && !_sink->idle()) || _read_sending;
}

// The outcome a stream reported while its buffers were still in an I/O, now that they are not.
void Connection::settle_pending_stream() {
  if (!_pending_outcome || filling_buffers()) {
    return;
  }
  const auto outcome = *_pending_outcome;
  _pending_outcome.reset();
  if (_read) {
    read_done(outcome);
  } else {
    write_done(outcome);
  }
}

void Connection::frame_in() {
  _have = 0;
  auto header = proto::decode_header(_header_bytes, proto::Receiver::daemon,
                                     _server.options().max_data);
  if (!header) {
    refuse(static_cast<proto::Status>(header.error().value()),
           "malformed frame header: " + header.error().message(), true);
    return;
  }
  _header = header.value();
  if (!_hello_done && _header.type != proto::Type::hello) {
    refuse(proto::Status::out_of_sequence, "the first message must be HELLO", true);
    return;
  }
  if (_header.type == proto::Type::data) {
    if (!_write || !_stream_ready || _end_received || _source) {
      refuse(proto::Status::out_of_sequence, "DATA outside a write stream", true);
      return;
    }
    _payload_left = _header.length;
    _in = _write->closed() ? In::discard : In::payload;
    return;
  }
  if (_header.length == 0) {
    auto message = proto::decode_body(_header, {});
    if (message) {
      dispatch(message.value());
    }
    return;
  }
  _body.assign(_header.length, 0);
  _in = In::body;
}

void Connection::dispatch(const proto::Message& message) {
  if (_destination != nullptr && !_carried) {
    // Read by a receive that was under way when the connection began to move (the frames of a
    // write by fd passing are read for ABORT): it is served where the connection goes.
    _carried = Parked{_header.request_id, message, std::move(_passed_fd)};
    return;
  }
  dispatch_request(message);
  _passed_fd.reset();  // a descriptor no request claimed
}

void Connection::dispatch_request(const proto::Message& message) {
  if (const auto* end = std::get_if<proto::End>(&message)) {
    end_of_write(*end);
    return;
  }
  if (const auto* abort = std::get_if<proto::Abort>(&message)) {
    abort_write(*abort);
    return;
  }
  if (_request_active && _source && !_parked) {
    // The client of a write by fd passing sends nothing but maybe ABORT; the frames are read
    // only for that. A request it pipelined waits, with its descriptor, for the stream's end.
    _parked = Parked{_header.request_id, message, std::move(_passed_fd)};
    return;
  }
  if (_request_active) {
    refuse(proto::Status::out_of_sequence,
           "only DATA, END or ABORT may come while a write stream runs", true);
    return;
  }
  if (auto* slot = drive_named_in(message); slot != nullptr && &slot->home() != _home) {
    move_to(slot->home(), Parked{_header.request_id, message, std::move(_passed_fd)});
    return;
  }
  _request_id = _header.request_id;
  std::visit(
      [this](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, proto::Hello>) {
          hello(m);
        } else if constexpr (std::is_same_v<T, proto::ListDrives>) {
          list_drives();
        } else if constexpr (std::is_same_v<T, proto::StatusRequest>) {
          status(m);
        } else if constexpr (std::is_same_v<T, proto::WriteRequest>) {
          write(m);
        } else if constexpr (std::is_same_v<T, proto::ReadRequest>) {
          read(m);
        } else if constexpr (std::is_same_v<T, proto::ControlRequest>) {
          control(m);
        } else {
          refuse(proto::Status::bad_type, "not a request", true);
        }
      },
      message);
}

void Connection::peer_gone() {
  if (_input_closed) {
    return;
  }
  stop_input();
  // Also wakes a send or a hang-up poll that waits on the socket.
  ::shutdown(_fd.get(), SHUT_RDWR);
}

// Nothing more is read from this client: what it waits for or runs is withdrawn or abandoned
// (a stream settles through its done handler, which releases the drive).
void Connection::stop_input() {
  _input_closed = true;
  _waiting_for_space = false;
  if (_watching_hangup) {
    (void)ring().prepare(uring::Cancel{&_hangup}, nullptr);
  }
  if (_lease.waiting()) {
    (void)_lease.end();
    _slot = nullptr;
    _request_active = false;
  }
  if (_write && _write_reported) {
    // The stream already ended and said so; the client leaves without sending END.
    _ended_writes.push_back(std::move(_write));
    _write_reported = false;
    _request_active = false;
  } else if (_write) {
    _write->abandon();
  }
  if (_source) {
    _source->stop([this] { settle_pending_stream(); });
  }
  if (_sink) {
    _sink->stop([this] { settle_pending_stream(); });
  }
  if (_read) {
    _read->abandon();
  }
}

void Connection::tick(Clock::time_point now) {
  if (_input_closed) {
    return;
  }
  status_deadline(now);
  check_stall(now);
  const auto& options = _server.options();
  if (!_request_active && options.idle_timeout.count() > 0 &&
      now - _idle_since > options.idle_timeout) {
    spdlog::info("connection {} (uid {}): no complete request for {} s; closing it", _id, _uid,
                 options.idle_timeout.count());
    peer_gone();
  }
}

void Connection::reply(const proto::Message& message) {
  auto frame = proto::encode(message, _request_id);
  if (!frame) {
    spdlog::error("connection {}: cannot encode a reply: {}", _id, frame.error().message());
    return;
  }
  _send.push(std::move(frame.value()));
}

void Connection::refuse(proto::Status status, std::string message, bool close) {
  spdlog::warn("connection {} (uid {}): {}: {}", _id, _uid, proto::status_name(status), message);
  reply(proto::Error{status, message.substr(0, TS_MAX_MESSAGE)});
  if (close) {
    stop_input();  // read nothing more: the next frame cannot be found
    _send.close_when_sent();
  } else {
    finish_request();
  }
}

void Connection::finish_request() {
  _request_active = false;
  _progress_wanted = false;
  _stream_ready = false;
  _end_received = false;
  _idle_since = Clock::now();
  // A request refused before its stream began leaves its passed descriptor unused.
  if (_source && !_write) {
    _source->stop();
    _ended_sources.push_back(std::move(_source));
  }
  if (_sink && !_read) {
    _sink->stop();
    _ended_sinks.push_back(std::move(_sink));
  }
  if (_close_when_reported) {
    _close_when_reported = false;
    _input_closed = true;
    _send.close_when_sent();
    return;
  }
  if (!_home->is_control() && !_input_closed) {
    // Sessions live on the control thread between requests; a pipelined request goes with it.
    auto parked = std::move(_parked);
    _parked.reset();
    move_to(_server.control_home(), std::move(parked));
    return;
  }
  if (_parked && !_input_closed) {
    auto parked = std::move(*_parked);
    _parked.reset();
    _header.request_id = parked.request_id;
    _passed_fd = std::move(parked.fd);
    dispatch(parked.message);
    return;
  }
  read_more();  // the next pipelined request, if one waits
}

}  // namespace tapestream::server
