// What the session fuzzer (fuzz_session.cpp) runs against: one server with two emulated drives
// on images in /dev/shm, set up once for the whole run, and the client side of its connections
// (non-blocking sockets whose replies are read and checked as they come). A finding is an
// abort with a message, so that libFuzzer keeps the input.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "codec.hpp"
#include "common/unique_fd.hpp"
#include "server/server.hpp"
#include "uring/buffer_pool.hpp"
#include "uring/ring.hpp"

namespace tapestream::fuzz {

using Bytes = std::vector<std::uint8_t>;
using Clock = std::chrono::steady_clock;

[[noreturn]] void finding(const std::string& what);
// strerror(errno), for a finding's message.
std::string errno_text();

// Bytes to send, and the descriptors that go with the first of them (SCM_RIGHTS).
struct Chunk {
  Bytes bytes;
  std::vector<UniqueFd> fds;
  std::size_t done = 0;
};

struct Client {
  UniqueFd fd;  // non-blocking; the daemon has the other end
  std::deque<Chunk> out;
  Bytes in;              // received, not yet a whole frame
  bool reading = true;   // the harness takes what the daemon sends as it comes
  bool shut_after_out = false;  // SHUT_WR once `out` is empty
  bool keep_replies = false;
  std::deque<proto::Type> replies;  // the types of whole frames, when keep_replies
  std::uint32_t next_id = 1;
  std::uint64_t data_since_write = 0;  // DATA body bytes sent since the last WRITE
  // Bytes this client may still send. A WRITE of blocks under 512 bytes sets it low: each byte
  // can be a block of its own, one drive command each, and the daemon rightly works through
  // all that a client sent before it left.
  std::size_t budget = SIZE_MAX;
};

// A descriptor whose other end the daemon got; read and thrown away when `drain`.
struct Held {
  UniqueFd fd;
  bool drain = false;
};

// The client side (session_client.cpp). sendmsg of `bytes` with `fds` (SCM_RIGHTS) and MSG_NOSIGNAL. Only system calls: the socket
// factory's child uses it after a fork.
ssize_t send_with_fds(int socket, std::span<const std::uint8_t> bytes, std::span<const int> fds,
                      int flags);
// Sends what is queued without blocking; a peer that is gone drops the rest.
void flush(Client& c);
// Takes what the daemon sent (when the client reads, or `force`) and checks that each whole
// frame decodes.
void drain(Client& c, bool force = false);

std::span<const std::uint8_t> pattern(std::size_t n);
std::pair<UniqueFd, UniqueFd> make_pipe();  // {read end, write end}
// Writes up to `n` pattern bytes without blocking (a pipe or socket takes what fits).
void fill(int fd, std::size_t n);
UniqueFd open_or_die(const std::filesystem::path& path, int flags);
UniqueFd memfd_with(std::size_t n);

class World {
 public:
  World();
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  const std::filesystem::path& dir() const { return _dir; }
  // A connection the server adopted; the client end is returned.
  Client connect();
  // The other end of a fresh connection the server adopted (for passing as a descriptor).
  UniqueFd adopted_peer();
  // Two ends of a stream socket made by another process: the daemon refuses sockets whose peer
  // is itself, and every socketpair this process made has it as its peer.
  std::pair<UniqueFd, UniqueFd> foreign_socket_pair();
  // A regular file with `n` pattern bytes; open for reading and writing (offset 4096 when it
  // holds more than 8 KiB) or read-only at 0.
  UniqueFd file_with(std::size_t n, bool read_write);

  // One ring turn, with the clients' queues sent and their replies (and the held descriptors
  // that are drained) read.
  void pump(std::deque<Client>& clients, std::vector<Held>& held, std::chrono::milliseconds wait);
  // Turns until no connection is left and no drive is held; a finding if that takes longer
  // than `bound`.
  void wait_released(std::chrono::milliseconds bound, const std::string& when);
  // Brings both tapes back to one state through the daemon, as a client would: loaded, at the
  // beginning, variable blocks, no compression, erased. So each input starts alike.
  void reset_tape();
  // The process's open descriptors, one "number -> target" line each.
  std::vector<std::string> descriptors() const;
  // A finding if the process holds more descriptors now than `before`.
  void check_descriptors(const std::vector<std::string>& before) const;

 private:
  class SocketFactory;
  void control(Client& c, proto::ControlOp op, std::int64_t argument, const std::string& drive);
  void await_reply(Client& c, const std::string& what);

  std::unique_ptr<SocketFactory> _sockets;  // first: forked before the ring exists
  std::filesystem::path _dir;
  uring::Ring _ring;
  uring::BufferPool _pool;
  std::unique_ptr<server::Server> _server;
  int _patience = 1;
};

}  // namespace tapestream::fuzz
