// The client side of a connection to tapestreamd: connect, HELLO, and whole frames in and out,
// blocking. The CLI builds on it; other C++ tools may too.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "codec.hpp"

namespace tapestream::client {

// A failure with the protocol status the CLI turns into its exit code.
class Failure : public std::runtime_error {
 public:
  Failure(proto::Status status, const std::string& message,
          std::optional<proto::StreamFailed> stream = std::nullopt)
      : std::runtime_error{message}, _status{status}, _stream{std::move(stream)} {}
  proto::Status status() const { return _status; }
  // The daemon's account of a stream that failed: what of it is on the tape.
  const std::optional<proto::StreamFailed>& stream() const { return _stream; }

 private:
  proto::Status _status;
  std::optional<proto::StreamFailed> _stream;
};

struct Received {
  proto::Header header;
  std::vector<std::uint8_t> body;  // the message decodes from this
  proto::Message message;
};

class Connection {
 public:
  // Connects and says HELLO. Throws Failure (unreachable, bad_version, ...).
  explicit Connection(const std::string& socket_path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return _fd; }
  std::uint32_t max_data() const { return _max_data; }

  void send(const proto::Message& message);
  // The message with a descriptor attached (SCM_RIGHTS): the fd-passing data path.
  void send_with_fd(const proto::Message& message, int fd);
  // The daemon agreed to fd passing in HELLO_OK.
  bool fd_passing() const { return (_features & TS_FEATURE_FD_PASSING) != 0; }
  // The header of a DATA frame whose body the caller then puts on the socket itself.
  void send_data_header(std::uint32_t length);
  // Blocks for the next frame; DATA bodies are left on the socket for the caller when
  // `leave_data` is set (then `body` is empty and header.length says how much follows).
  Received receive(bool leave_data = false);
  // True when a frame is waiting to be read.
  bool readable();
  void write_all(std::span<const std::uint8_t> bytes);
  void read_exact(std::span<std::uint8_t> into);

 private:
  int _fd = -1;
  std::uint32_t _max_data = 0;
  std::uint32_t _features = 0;
  std::uint32_t _next_request = 1;
  std::uint32_t _current_request = 0;
};

// Exit codes of the CLI (PROTOCOL.md, "Status codes").
int exit_code(proto::Status status);

}  // namespace tapestream::client
