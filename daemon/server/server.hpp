// The daemon's server: the listening Unix socket, the client connections, and the drives they
// share, all driven by one ring on one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "common/unique_fd.hpp"
#include "server/drive_slot.hpp"
#include "server/listener.hpp"
#include "uring/buffer_pool.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class Connection;

struct ServerOptions {
  std::filesystem::path socket_path;  // empty: no listener (connections come through adopt())
  std::uint32_t max_data = 1 << 20;  // largest DATA body, announced in HELLO_OK
  std::uint32_t default_block_size = 256 * 1024;
  // A connection must send a complete request within this long of connecting or of its last
  // request ending (0: no limit).
  std::chrono::seconds idle_timeout{300};
  // A stream whose client moves no data for this long is ended (0: no limit).
  std::chrono::seconds stream_timeout{600};
  // After SIGTERM, how long running streams may take before they are cut.
  std::chrono::seconds stop_timeout{60};
  std::size_t max_connections = 256;
  std::size_t max_connections_per_user = 32;
};

class Server {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes the ring, the pool and the drives (with their buffers) the daemon set up; binds the
  // socket (see listener.hpp). Throws StartupError.
  Server(uring::Ring& ring, uring::BufferPool& pool,
         std::map<std::string, std::unique_ptr<DriveSlot>> drives, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until stop() is called; then refuses new streams and returns once every stream has
  // ended (a stream in progress finishes, so acknowledged data is never dropped), or once the
  // stop timeout has passed and the streams still running were cut and accounted for. False
  // when a stream could not be accounted for (a drive hung in a command) or the ring failed.
  bool run(const std::function<bool()>& stop_requested);
  void stop();
  // Serves a connection that did not come through the listener (the protocol fuzzer's).
  void adopt(UniqueFd fd, std::uint32_t uid);
  // One turn of the ring, then the connections' deadlines; false if the ring failed.
  bool turn(std::chrono::milliseconds wait);
  std::size_t connection_count() const { return _connections.size(); }

  uring::Ring& ring() { return _ring; }
  uring::BufferPool& pool() { return _pool; }
  const ServerOptions& options() const { return _options; }
  DriveSlot* drive(const std::string& name);
  const std::map<std::string, std::unique_ptr<DriveSlot>>& drives() const { return _drives; }
  bool stopping() const { return _stopping; }

 private:
  struct Acceptor final : uring::Completion {
    Server* server = nullptr;
    void on_complete(const io_uring_cqe& cqe) override { server->accepted(cqe.res); }
  };
  void accept_next();
  void accepted(int fd);
  bool admit(UniqueFd& fd, std::uint32_t uid);
  void serve(UniqueFd fd, std::uint32_t uid);
  void reap();
  void tick(Clock::time_point now);
  bool any_busy() const;
  // Logs a condition that may repeat thousands of times a second once per interval, with
  // how often it happened.
  void log_limited(const std::string& what, Clock::time_point now);

  uring::Ring& _ring;
  uring::BufferPool& _pool;
  std::map<std::string, std::unique_ptr<DriveSlot>> _drives;
  ServerOptions _options;
  Listener _listener;
  Acceptor _acceptor;
  bool _accepting = false;
  std::optional<Clock::time_point> _accept_paused_until;
  bool _stopping = false;
  bool _streams_cut = false;
  Clock::time_point _stop_deadline{};
  std::uint64_t _next_connection = 0;
  std::list<std::unique_ptr<Connection>> _connections;
  std::map<std::uint32_t, std::size_t> _per_user;
  std::map<std::string, std::pair<Clock::time_point, std::uint64_t>> _log_limits;
};

}  // namespace tapestream::server
