// The client side of a connection to tapestreamd: connect, HELLO, and whole frames in and out,
// blocking. libtapestream's C API builds on it; it is not installed. Every I/O operation returns a Result
// whose error is a client::Failure; nothing here throws.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "codec.hpp"
#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace tapestream::client {

// What failed, as the CLI reports it: the protocol status its exit code comes from, the message
// for standard error, and for a stream the daemon's account of what of it is on the tape.
struct Failure {
  proto::Status status = proto::Status::internal;
  std::string message;
  std::optional<proto::StreamFailed> stream;
  int system_error = 0;  // the errno of a connect that failed, for the library's -errno
  // The daemon's own words (ERROR's or STREAM_FAILED's message) when it said no, without the
  // prefix `message` adds: a caller that words its failures itself (the CLI) starts from it.
  std::string daemon_message;

  Failure() = default;
  Failure(proto::Status s, std::string m, std::optional<proto::StreamFailed> f = std::nullopt)
      : status{s}, message{std::move(m)}, stream{std::move(f)} {}
  const std::string& what() const { return message; }
};

// Outcome treats a Failure as an error code (its status): value() on a failed Result throws
// std::system_error carrying the message.
inline std::error_code make_error_code(const Failure& f) { return proto::make_error_code(f.status); }
[[noreturn]] inline void outcome_throw_as_system_error_with_payload(const Failure& f) {
  throw std::system_error{make_error_code(f), f.message};
}

// The result of everything the CLI does: a value, or the Failure it exits with.
template <class T>
using Result = tapestream::Result<T, Failure>;

struct Received {
  proto::Header header;
  std::vector<std::uint8_t> body;  // the message decodes from this
  proto::Message message;
};

class Connection {
 public:
  // Connects and says HELLO, as `client_name` (what the daemon logs). Fails with unreachable,
  // bad_version, ...
  static Result<Connection> open(const std::string& socket_path,
                                 const std::string& client_name = "tapestream " TAPESTREAM_VERSION);

  int fd() const { return _fd.get(); }
  std::uint32_t max_data() const { return _max_data; }
  std::uint32_t features() const { return _features; }
  const std::string& server() const { return _server; }

  Result<void> send(const proto::Message& message);
  // The frame send() would put on the socket (the next request id taken), for a caller that
  // sends it itself (lib::send_body).
  Result<proto::Frame> next_frame(const proto::Message& message);
  // The message with a descriptor attached (SCM_RIGHTS): the fd-passing data path.
  Result<void> send_with_fd(const proto::Message& message, int fd);
  // The daemon agreed to fd passing in HELLO_OK.
  bool fd_passing() const { return (_features & TS_FEATURE_FD_PASSING) != 0; }
  // The header of a DATA frame of the request under way, which the caller puts on the socket
  // itself with its body (lib::send_body: a daemon changing volumes may not read either).
  std::array<std::uint8_t, TS_PROTO_HEADER_SIZE> data_header(std::uint32_t length) const {
    return proto::data_header(_current_request, length);
  }
  // Blocks for the next frame; DATA bodies are left on the socket for the caller when
  // `leave_data` is set (then `body` is empty and header.length says how much follows).
  Result<Received> receive(bool leave_data = false);
  // True when a frame is waiting to be read.
  bool readable();
  // The daemon sent a header that does not decode: where its frames begin is no longer known,
  // so nothing more can be read from this connection.
  bool out_of_step() const { return _out_of_step; }
  Result<void> write_all(std::span<const std::uint8_t> bytes);
  // The descriptor the daemon passed with a frame read since (READY of a shared-buffer write);
  // an unclaimed one is closed when the next arrives.
  UniqueFd take_passed_fd() { return std::move(_passed_fd); }
  Result<void> read_exact(std::span<std::uint8_t> into);

 private:
  explicit Connection(UniqueFd fd) : _fd{std::move(fd)} {}

  UniqueFd _fd;
  std::uint32_t _max_data = 0;
  std::uint32_t _features = 0;
  std::string _server;
  std::uint32_t _next_request = 1;
  std::uint32_t _current_request = 0;
  bool _out_of_step = false;
  UniqueFd _passed_fd;
};

// Exit codes of the CLI (PROTOCOL.md, "Status codes").
int exit_code(proto::Status status);

}  // namespace tapestream::client
