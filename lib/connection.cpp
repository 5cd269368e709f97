#include "connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tapestream::client {
namespace {

Failure connection_lost(int error) {
  return Failure{proto::Status::unreachable,
                 std::string{"lost the connection to tapestreamd: "} + std::strerror(error)};
}

Result<proto::Frame> encode_request(const proto::Message& message, std::uint32_t request_id) {
  auto frame = proto::encode(message, request_id);
  if (!frame) {
    return Failure{proto::Status::bad_request,
                   "cannot encode the request: " + frame.error().message()};
  }
  return std::move(frame).value();
}

}  // namespace

Result<Connection> Connection::open(const std::string& socket_path,
                                    const std::string& client_name) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof address.sun_path) {
    return Failure{proto::Status::unreachable, "socket path too long: " + socket_path};
  }
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  Connection c{UniqueFd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)}};
  if (!c._fd ||
      ::connect(c.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    Failure f{proto::Status::unreachable,
                   "cannot reach tapestreamd at " + socket_path + ": " + std::strerror(error) +
                       (error == ENOENT || error == ECONNREFUSED
                            ? " (is the daemon running? --socket or TAPESTREAM_SOCKET names "
                              "another socket)"
                            : error == EACCES ? " (the socket is for members of group tape)" : "")};
    f.system_error = error;
    return f;
  }
  // `digest` only changes COMMITTED and END, which write and read print; `health` only
  // DRIVE_STATUS, which status prints; `span` only a write with TS_WRITE_SPAN; `span_list` only FILE_LIST, which the
  // library decodes: asked for always.
  BOOST_OUTCOME_TRY(c.send(proto::Hello{TS_PROTO_VERSION, TS_PROTO_VERSION,
                                        TS_FEATURE_FD_PASSING | TS_FEATURE_DIGEST | TS_FEATURE_HEALTH |
                                            TS_FEATURE_SHARED_BUFFERS | TS_FEATURE_NO_DIGEST |
                                            TS_FEATURE_SPAN | TS_FEATURE_SPAN_LIST |
                                            TS_FEATURE_TELEMETRY,
                                        client_name}));
  BOOST_OUTCOME_TRY(reply, c.receive());
  if (const auto* ok = std::get_if<proto::HelloOk>(&reply.message)) {
    c._max_data = ok->max_data;
    c._features = ok->features;
    c._server = ok->server;
    return c;
  }
  if (const auto* error = std::get_if<proto::Error>(&reply.message)) {
    return Failure{error->status, "tapestreamd refused the connection: " + error->message};
  }
  return Failure{proto::Status::bad_type, "tapestreamd answered HELLO with something else"};
}

Result<void> Connection::write_all(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return connection_lost(errno);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return outcome::success();
}

Result<void> Connection::read_exact(std::span<std::uint8_t> into) {
  while (!into.empty()) {
    // recvmsg, so that a descriptor the daemon passes (SCM_RIGHTS) is kept, not lost.
    iovec iov{into.data(), into.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    const auto n = ::recvmsg(fd(), &m, MSG_CMSG_CLOEXEC);
    for (auto* c = CMSG_FIRSTHDR(&m); n > 0 && c != nullptr; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
        continue;
      }
      const auto count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int passed = -1;
        std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
        _passed_fd = UniqueFd{passed};  // the first is kept only if it is the last: one per frame
      }
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return Failure{proto::Status::unreachable, "tapestreamd closed the connection"};
    }
    into = into.subspan(static_cast<std::size_t>(n));
  }
  return outcome::success();
}

Result<void> Connection::send(const proto::Message& message) {
  BOOST_OUTCOME_TRY(frame, next_frame(message));
  return write_all(frame);
}

Result<proto::Frame> Connection::next_frame(const proto::Message& message) {
  _current_request = _next_request++;
  return encode_request(message, _current_request);
}

Result<void> Connection::send_with_fd(const proto::Message& message, int fd) {
  _current_request = _next_request++;
  BOOST_OUTCOME_TRY(frame, encode_request(message, _current_request));
  // The whole frame in one sendmsg, so the descriptor travels with its first byte.
  iovec iov{frame.data(), frame.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  auto* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do {
    n = ::sendmsg(this->fd(), &m, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return connection_lost(errno);
  }
  return write_all(std::span{frame}.subspan(static_cast<std::size_t>(n)));
}


Result<Received> Connection::receive(bool leave_data) {
  std::array<std::uint8_t, TS_PROTO_HEADER_SIZE> header{};
  BOOST_OUTCOME_TRY(read_exact(header));
  auto h = proto::decode_header(header, proto::Receiver::client,
                                _max_data != 0 ? _max_data : TS_MAX_DATA);
  if (!h) {
    _out_of_step = true;
    return Failure{static_cast<proto::Status>(h.error().value()),
                   "tapestreamd sent a malformed frame: " + h.error().message()};
  }
  Received r;
  r.header = h.value();
  if (leave_data && r.header.type == proto::Type::data) {
    r.message = proto::Data{};
    return r;
  }
  r.body.resize(r.header.length);
  BOOST_OUTCOME_TRY(read_exact(r.body));
  auto m = proto::decode_body(r.header, r.body);
  if (!m) {
    return Failure{static_cast<proto::Status>(m.error().value()),
                   "tapestreamd sent a message that does not decode: " + m.error().message()};
  }
  r.message = m.value();
  return r;
}

bool Connection::readable() {
  pollfd p{fd(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

int exit_code(proto::Status status) {
  switch (status) {
    case proto::Status::ok:
      return 0;
    case proto::Status::bad_request:
    case proto::Status::unknown_drive:
      return 64;
    case proto::Status::no_medium:
    case proto::Status::write_protected:
    case proto::Status::end_of_data:
      return 66;
    case proto::Status::unreachable:
      return 69;
    case proto::Status::volume_full:
      return 73;
    case proto::Status::medium_error:
    case proto::Status::drive_error:
    case proto::Status::timeout:
    case proto::Status::medium_changed:
      return 74;
    case proto::Status::busy:
    case proto::Status::shutting_down:
    case proto::Status::stalled:
      return 75;
    case proto::Status::incomplete:
      return 65;
    case proto::Status::not_permitted:
      return 77;
    default:
      return 70;
  }
}

}  // namespace tapestream::client
